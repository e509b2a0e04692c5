"""JSON answers for unknown paths and unexpected failures, in Binance's shape."""

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
