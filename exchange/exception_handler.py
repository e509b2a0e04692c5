"""The one DRF exception handler: every refusal in Binance's {"code", "msg"} shape."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import UnreadablePostError
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from exchange.errors import (
    ILLEGAL_CHARS,
    INVALID_PARAMETER,
    TOO_MANY_PARAMETERS,
    TOO_MANY_REQUESTS,
    UNAUTHORIZED,
    UNKNOWN,
    UNSUPPORTED_OPERATION,
    ExchangeError,
    mandatory_missing,
    service_unavailable,
)


def body_not_read() -> ExchangeError:
    """The client stopped sending its body (the worker's read timeout)."""
    return ExchangeError(ILLEGAL_CHARS, "Request body not received in time.")


def error_response(error: ExchangeError) -> Response:
    response = Response(error.as_dict(), status=error.http_status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Render every refusal in Binance's shape; DRF's own errors get Binance codes."""
    if isinstance(exc, ExchangeError):
        return error_response(exc)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return error_response(service_unavailable())
    # Django's upload limits, hit when a view or an authenticator reads the body.
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(
            ExchangeError(
                TOO_MANY_PARAMETERS,
                f"Request body too large: at most {limit} bytes.",
                413,
            )
        )
    if isinstance(exc, UnreadablePostError):
        return error_response(body_not_read())
    if isinstance(exc, TooManyFieldsSent):
        return error_response(
            ExchangeError(
                TOO_MANY_PARAMETERS, "Too many parameters sent for this endpoint."
            )
        )
    if isinstance(exc, drf_exceptions.Throttled):
        wait = int(exc.wait or 1)
        return error_response(
            ExchangeError(
                TOO_MANY_REQUESTS,
                f"Too many requests; retry after {wait} seconds.",
                429,
                headers={"Retry-After": str(wait)},
            )
        )
    if isinstance(
        exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)
    ):
        return error_response(
            ExchangeError(
                UNAUTHORIZED, "You are not authorized to execute this request.", 401
            )
        )
    if isinstance(exc, drf_exceptions.PermissionDenied):
        return error_response(
            ExchangeError(
                UNAUTHORIZED, "You are not authorized to execute this request.", 403
            )
        )
    if isinstance(exc, drf_exceptions.NotFound):
        return error_response(ExchangeError(UNKNOWN, "Not found.", 404))
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return error_response(
            ExchangeError(
                UNSUPPORTED_OPERATION, "This operation is not supported.", 405
            )
        )
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return error_response(
            ExchangeError(ILLEGAL_CHARS, "Unsupported media type.", 415)
        )
    if isinstance(exc, drf_exceptions.ParseError):
        return error_response(ExchangeError(ILLEGAL_CHARS, "Malformed request body."))
    if isinstance(exc, drf_exceptions.ValidationError):
        return error_response(_validation_error(exc))
    if isinstance(exc, DatabaseError):
        return None
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"code": UNKNOWN, "msg": str(getattr(exc, "detail", exc))}
    return response


def _validation_error(exc: drf_exceptions.ValidationError) -> ExchangeError:
    """Turn a serializer's errors into one Binance parameter error."""
    detail = exc.detail
    if isinstance(detail, dict) and detail:
        field, messages = next(iter(detail.items()))
        codes = exc.get_codes()
        field_codes = codes.get(field, []) if isinstance(codes, dict) else []
        if isinstance(field_codes, list) and "required" in field_codes:
            return mandatory_missing(field)
        if field == "non_field_errors":
            message = messages[0] if isinstance(messages, list) else messages
            return ExchangeError(INVALID_PARAMETER, str(message))
        message = messages[0] if isinstance(messages, list) and messages else messages
        return ExchangeError(
            INVALID_PARAMETER,
            f"Data sent for parameter '{field}' is not valid: {message}",
        )
    if isinstance(detail, list) and detail:
        return ExchangeError(INVALID_PARAMETER, str(detail[0]))
    return ExchangeError(INVALID_PARAMETER, "Invalid data sent for a parameter.")
