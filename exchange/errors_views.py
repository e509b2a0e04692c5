"""JSON answers for unknown paths and unexpected failures, in Binance's shape."""

from django.core.exceptions import DisallowedHost
from django.http import JsonResponse

from exchange import errors


def not_found(request, exception=None):
    return JsonResponse(
        {
            "code": errors.UNSUPPORTED_OPERATION,
            "msg": "This operation is not supported.",
        },
        status=404,
    )


def server_error(request):
    return JsonResponse(
        {
            "code": errors.UNKNOWN,
            "msg": "An unknown error occurred while processing the request.",
        },
        status=500,
    )


def bad_request(request, exception=None):
    """Django's 400s (a Host not allowed, a suspicious request) in Binance's shape."""
    message = (
        "Invalid Host header."
        if isinstance(exception, DisallowedHost)
        else "Malformed request."
    )
    return JsonResponse({"code": errors.ILLEGAL_CHARS, "msg": message}, status=400)
