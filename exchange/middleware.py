"""Per-request context: request id, timing, request metrics, Binance-shaped failures."""

import logging
import re
import time
import uuid

from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse, UnreadablePostError

from exchange.errors import ExchangeError, service_unavailable
from exchange.exception_handler import body_not_read
from exchange.logging import request_id_var
from exchange.metrics import REQUEST_SECONDS

logger = logging.getLogger("exchange.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Metric labels take known values only: a label value per method name a client
# invents would be a new time series (and, with several workers, new files).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str | None) -> str:
    return method if method in _METHODS else "other"


class RequestContextMiddleware:
    """Tags the request with an id (``X-Request-ID``), times it and logs one line.

    Errors that escape a view outside DRF (the database going away, a refusal raised
    from middleware) are answered in Binance's shape rather than as an HTML 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            started = time.perf_counter()
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            if request.path.startswith("/api/") and not response.has_header(
                "Cache-Control"
            ):
                # Account answers must never sit in a shared cache.
                response["Cache-Control"] = "no-store"
            match = getattr(request, "resolver_match", None)
            route = match.route if match is not None else "unmatched"
            REQUEST_SECONDS.labels(
                method_label(request.method), route, str(response.status_code)
            ).observe(elapsed)
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            if logger.isEnabledFor(level):
                logger.log(
                    level,
                    "request",
                    extra={
                        "method": method_label(request.method),
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
            return response
        finally:
            request_id_var.reset(token)

    def process_exception(self, request, exception):
        if isinstance(exception, ExchangeError):
            error = exception
        elif isinstance(exception, UnreadablePostError):
            error = body_not_read()
        elif isinstance(exception, (OperationalError, InterfaceError)):
            logger.warning("database unavailable: %s", exception)
            error = service_unavailable()
        else:
            return None
        response = JsonResponse(error.as_dict(), status=error.http_status)
        for name, value in error.headers.items():
            response[name] = value
        return response


# The API authenticates every request itself (an API key's signature or a JWT)
# and keeps no session, so the site's session, user and message machinery only
# costs it time. These run as Django's own for the admin and the docs and step
# aside for the API. (CSRF stays Django's own: its views are csrf_exempt, and
# `check --deploy` looks for that class by name.)
API_PATHS = ("/api/v1/", "/api/v3/")


class _SiteOnly:
    def __call__(self, request):
        if request.path_info.startswith(API_PATHS):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_SiteOnly, sessions_middleware.SessionMiddleware):
    pass


class AuthenticationMiddleware(_SiteOnly, auth_middleware.AuthenticationMiddleware):
    pass


class MessageMiddleware(_SiteOnly, messages_middleware.MessageMiddleware):
    pass
