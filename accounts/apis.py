"""The /api/v1 account endpoints: thin views over the accounts services."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import (
    recovery,
    securitylog,
    selectors,
    services,
    tokens,
    twofactor,
)
from accounts.authentication import BearerJWTAuthentication, client_ip
from accounts.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyInput,
    ApiKeyOutput,
    EnrolmentOutput,
    LoginInput,
    MeOutput,
    OtpInput,
    PasswordChangeInput,
    PasswordResetConfirmInput,
    PasswordResetInput,
    RecoveryCodesOutput,
    RefreshInput,
    RegisterInput,
    SecurityEventOutput,
    SecurityLogQuery,
    TokenInput,
    TokenPairOutput,
    UserOutput,
)
from accounts.throttling import attempt_throttle_check
from exchange import errors
from exchange.errors import ExchangeError


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=RegisterInput, responses={201: UserOutput})
    def post(self, request):
        attempt_throttle_check(scope="register", key=client_ip(request))
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                user = services.user_create(
                    username=data.validated_data["username"],
                    password=data.validated_data["password"],
                    email=data.validated_data["email"],
                )
        except (IntegrityError, DjangoValidationError):
            raise ExchangeError(
                errors.INVALID_PARAMETER,
                "Data sent for parameter 'username' is not valid: already taken.",
            ) from None
        recovery.email_verification_send(user=user)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=LoginInput, responses={200: TokenPairOutput})
    def post(self, request):
        data = LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.user_login(
            username=data.validated_data["username"],
            password=data.validated_data["password"],
            otp=data.validated_data["otp"],
            ip=client_ip(request),
        )
        return Response({"access": pair.access, "refresh": pair.refresh})


class RefreshApi(APIView):
    """Exchange a refresh token for a new pair; the old one is blacklisted, and
    presenting it again revokes every token rotated from the same login."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=RefreshInput, responses={200: TokenPairOutput})
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = tokens.refresh_rotate(token=data.validated_data["refresh"])
        return Response({"access": pair.access, "refresh": pair.refresh})


class LogoutApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=RefreshInput, responses={205: None})
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens.refresh_revoke(token=data.validated_data["refresh"])
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeApi(APIView):
    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeOutput})
    def get(self, request):
        body = UserOutput(request.user).data
        body["twoFactorEnabled"] = twofactor.twofactor_enabled(user_id=request.user.id)
        body["balances"] = [
            {"asset": b.asset_id, "free": f"{b.free:.8f}", "locked": f"{b.locked:.8f}"}
            for b in selectors.balance_list(user_id=request.user.id)
        ]
        return Response(body)


class PasswordChangeApi(APIView):
    """Change the password: every refresh token ends, and every API key is
    revoked unless ``keepApiKeys`` is true."""

    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeInput, responses={204: None})
    def post(self, request):
        attempt_throttle_check(scope="password", key=str(request.user.id))
        data = PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        if not user.check_password(data.validated_data["old_password"]):
            raise ExchangeError(
                errors.INVALID_PARAMETER,
                "Data sent for parameter 'old_password' is not valid.",
            )
        twofactor.twofactor_check(user=user, otp=data.validated_data["otp"])
        try:
            validate_password(data.validated_data["new_password"], user)
        except DjangoValidationError as exc:
            raise ExchangeError(
                errors.INVALID_PARAMETER,
                "Data sent for parameter 'new_password' is not valid: "
                + " ".join(exc.messages),
            ) from None
        services.user_password_set(
            user=user,
            password=data.validated_data["new_password"],
            keep_api_keys=data.validated_data["keepApiKeys"],
            ip=client_ip(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyListApi(APIView):
    """List and create API keys. Only a logged-in user (JWT) manages keys: a key
    cannot mint another key."""

    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ApiKeyOutput(many=True)})
    def get(self, request):
        keys = selectors.apikey_list(user_id=request.user.id)
        return Response(ApiKeyOutput(keys, many=True).data)

    @extend_schema(request=ApiKeyInput, responses={201: ApiKeyCreatedOutput})
    def post(self, request):
        data = ApiKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        twofactor.twofactor_check(user=request.user, otp=data.validated_data["otp"])
        key, secret = services.apikey_create(
            user_id=request.user.id,
            label=data.validated_data["label"],
            permissions=data.validated_data["permissions"],
            ip_allowlist=data.validated_data["ipAllowlist"],
            ip=client_ip(request),
        )
        key.secretKey = secret
        return Response(ApiKeyCreatedOutput(key).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, key_id: int):
        services.apikey_revoke(
            user_id=request.user.id, key_id=key_id, ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TwoFactorEnrolApi(APIView):
    """Start enrolment: a new secret, its otpauth:// URI and a QR code (SVG)."""

    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: EnrolmentOutput})
    def post(self, request):
        enrolment = twofactor.twofactor_enrol_start(user=request.user)
        return Response(EnrolmentOutput(enrolment).data)


class TwoFactorConfirmApi(APIView):
    """Turn two-factor on with a code; answers the recovery codes, shown once."""

    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=OtpInput, responses={200: RecoveryCodesOutput})
    def post(self, request):
        data = OtpInput(data=request.data)
        data.is_valid(raise_exception=True)
        codes = twofactor.twofactor_enrol_confirm(
            user=request.user, otp=data.validated_data["otp"], ip=client_ip(request)
        )
        return Response({"recoveryCodes": codes})


class TwoFactorRecoveryCodesApi(APIView):
    """Replace the recovery codes, behind a code."""

    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=OtpInput, responses={200: RecoveryCodesOutput})
    def post(self, request):
        data = OtpInput(data=request.data)
        data.is_valid(raise_exception=True)
        codes = twofactor.twofactor_recovery_codes_regenerate(
            user=request.user, otp=data.validated_data["otp"], ip=client_ip(request)
        )
        return Response({"recoveryCodes": codes})


class TwoFactorDisableApi(APIView):
    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=OtpInput, responses={204: None})
    def post(self, request):
        data = OtpInput(data=request.data)
        data.is_valid(raise_exception=True)
        twofactor.twofactor_disable(
            user=request.user, otp=data.validated_data["otp"], ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecurityLogApi(APIView):
    """The user's security log, newest first."""

    authentication_classes = [BearerJWTAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[SecurityLogQuery], responses={200: SecurityEventOutput(many=True)}
    )
    def get(self, request):
        query = SecurityLogQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = securitylog.security_event_list(
            user_id=request.user.id, limit=int(query.validated_data["limit"])
        )
        return Response(SecurityEventOutput(events, many=True).data)


RESET_ANSWER = {
    "msg": "If an account has this verified address, a reset link was sent to it."
}


class PasswordResetApi(APIView):
    """Ask for a reset link. The answer is the same for every address."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=PasswordResetInput, responses={202: None})
    def post(self, request):
        data = PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        recovery.password_reset_request(
            email=data.validated_data["email"], ip=client_ip(request)
        )
        return Response(RESET_ANSWER, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=PasswordResetConfirmInput, responses={204: None})
    def post(self, request):
        data = PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        recovery.password_reset_confirm(
            uid=data.validated_data["uid"],
            token=data.validated_data["token"],
            password=data.validated_data["new_password"],
            ip=client_ip(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenInput, responses={204: None})
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        recovery.email_verify(token=data.validated_data["token"], ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
