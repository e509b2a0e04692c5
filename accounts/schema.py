"""How the OpenAPI schema describes our two ways to authenticate."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerJWTScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from POST /api/v1/auth/login.",
        }


class SignedRequestScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.SignedRequestAuthentication"
    name = "binanceSigned"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-MBX-APIKEY",
            "description": (
                "Binance-style signed request: send the API key in X-MBX-APIKEY and "
                "add `signature`, the hex HMAC-SHA256 of the query string followed by "
                "the form body (without `signature`) keyed by the secret, plus "
                "`timestamp` (ms since the epoch) and optionally `recvWindow` "
                "(ms, default 5000, at most 60000)."
            ),
        }
