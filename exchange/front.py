"""The WSGI entry point's front: /api/v3 answered without Django's handler.

Django's handler, URL resolver and middleware chain cost more than a ping or a
cached market-data read does itself (docs/performance.md). For a request to a
known /api/v3 path, the front does what that chain does for the API, and no
more: the host check (ALLOWED_HOSTS), the request id, the security headers and
``Vary: origin`` (computed once by Django's and django-cors-headers' own
middleware, see :meth:`ApiFront.framing`), ``Cache-Control: no-store``, the
request signals (database connections are closed and checked as Django does;
while only Django's own receivers listen, their work is done without the
dispatch, see :meth:`ApiFront.request_started`),
the request histogram and the access log line; then it calls ``serve`` for the
route (``trading.api.lean``, wired in ``exchange/wsgi.py``), which runs the
endpoint's view class.

Anything else goes to Django unchanged: other paths, methods the view does not
define (HEAD, OPTIONS and so CORS preflights, 405s), requests with an
``Origin`` header (CORS), a host Django would refuse, plain HTTP when HTTPS is
required (Django redirects), and a configuration the front does not reproduce
(user-agent blocking, PREPEND_WWW).
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from http.client import responses

from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.core import signals
from django.core.cache import caches, close_caches
from django.core.cache.backends.base import BaseCache
from django.core.handlers.base import reset_urlconf
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.db import close_old_connections, connections, reset_queries
from django.dispatch.dispatcher import _make_id
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.module_loading import import_string
from django_redis.cache import RedisCache
from django_redis.client import DefaultClient

from exchange import errors_views
from exchange.logging import request_id_var
from exchange.metrics import REQUEST_SECONDS
from exchange.middleware import REQUEST_ID, method_label
from exchange.middleware import logger as request_logger

django_request_logger = logging.getLogger("django.request")
_MAX_HOSTS = 256


class ApiFront:
    """WSGI application: the lean /api/v3 path, and Django for everything else."""

    def __init__(self, django_app, *, routes: dict, serve) -> None:
        """``routes`` maps a path to its route (``.methods`` it answers,
        ``.route`` its metrics label); ``serve(route, environ, method)`` answers
        one request with (status, headers, body)."""
        self.django_app = django_app
        self.routes = routes
        self.serve = serve
        self._framing: dict[tuple[str, bool], list | None] = {}
        self._hosts: set[str] = set()
        self._histograms: dict = {}
        self._caches_close: bool | None = None
        setting_changed.connect(self._settings_changed)

    def __call__(self, environ, start_response):
        answer = self.answer(environ)
        if answer is None:
            return self.django_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def answer(self, environ) -> tuple[str, list, bytes] | None:
        """The answer to a request the front takes, or None for Django."""
        route = self.routes.get(environ.get("PATH_INFO"))
        if route is None:
            return None
        method = environ.get("REQUEST_METHOD", "")
        if method not in route.methods or "HTTP_ORIGIN" in environ:
            return None
        path = environ["PATH_INFO"]
        framing = self.framing(path, _secure(environ))
        if framing is None or not self.host_allowed(environ):
            return None

        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else os.urandom(16).hex()
        token = request_id_var.set(request_id)
        try:
            started = time.perf_counter()
            databases = self.request_started(environ)
            try:
                status, headers, body = self.serve(route, environ, method)
            except Exception:  # noqa: BLE001 - a bug: answered 500 and logged
                status, headers, body = self.server_error(environ)
            finally:
                self.request_finished(databases)
            elapsed = time.perf_counter() - started
            self.observe(method, route.route, status, elapsed)
            level = logging.ERROR if status >= 500 else logging.INFO
            if request_logger.isEnabledFor(level):
                request_logger.log(
                    level,
                    "request",
                    extra={
                        "method": method_label(method),
                        "path": path,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
        finally:
            request_id_var.reset(token)
        headers.append(("Content-Type", "application/json"))
        if any(name == "Cache-Control" for name, _ in headers):
            # The view chose its own caching, as RequestContextMiddleware allows.
            headers.extend(h for h in framing if h[0] != "Cache-Control")
        else:
            headers.extend(framing)
        headers.append(("X-Request-ID", request_id))
        headers.append(("Content-Length", str(len(body))))
        return f"{status} {responses.get(status, 'Unknown Status Code')}", headers, body

    def request_started(self, environ) -> list:
        """``request_started``. While its receivers are Django's own, what they
        do is done here: each database connection's query log cleared, and the
        connection closed if it errored or is past CONN_MAX_AGE. Any other
        receiver gets the signal sent. Returns the database wrappers, every
        alias's, for :meth:`request_finished`: one look-up of them a request
        (each goes through asgiref's Local, microseconds apiece)."""
        databases = connections.all()
        if _receivers(signals.request_started) != _STARTED:
            signals.request_started.send(sender=ApiFront, environ=environ)
            return databases
        for conn in databases:
            conn.queries_log.clear()
            conn.close_if_unusable_or_obsolete()
        return databases

    def request_finished(self, databases: list | None = None) -> None:
        """``request_finished``, likewise: connections closed if errored or
        old, the caches closed (unless closing them does nothing).

        Django's third receiver, ``reset_urlconf``, undoes the URLconf that
        Django's handler sets at the start of each request it handles; the
        front sets none, so there is nothing to undo (and finding that out
        costs more than the rest of this method)."""
        if _receivers(signals.request_finished) != _FINISHED:
            signals.request_finished.send(sender=ApiFront)
            return
        if databases is None:
            databases = connections.all(initialized_only=True)
        for conn in databases:
            conn.close_if_unusable_or_obsolete()
        if self._caches_close is None:
            self._caches_close = not all(
                _cache_close_is_noop(config) for config in settings.CACHES.values()
            )
        if self._caches_close:
            caches.close_all()

    def framing(self, path: str, secure: bool) -> list | None:
        """The headers Django's middleware adds to every /api/v3 answer, or None
        when Django must answer (a redirect to HTTPS, or settings the front does
        not reproduce). Computed once per setting, by the middleware itself."""
        key = (path, secure)
        if key not in self._framing:
            self._framing[key] = self._framing_build(path, secure)
        return self._framing[key]

    def _framing_build(self, path: str, secure: bool) -> list | None:
        if settings.DISALLOWED_USER_AGENTS or settings.PREPEND_WWW:
            return None
        probe = WSGIRequest(
            {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": path,
                "wsgi.url_scheme": "https" if secure else "http",
                "wsgi.input": io.BytesIO(),
                "SERVER_NAME": "probe",
                "SERVER_PORT": "443" if secure else "80",
            }
        )
        security = SecurityMiddleware(lambda request: None)
        if security.process_request(probe) is not None:
            return None  # Django answers with its redirect
        response = HttpResponse(b"", content_type="application/json")
        security.process_response(probe, response)
        CorsMiddleware(lambda request: response).add_response_headers(probe, response)
        XFrameOptionsMiddleware(lambda request: response).process_response(
            probe, response
        )
        # RequestContextMiddleware: API answers never sit in a shared cache.
        response.headers.setdefault("Cache-Control", "no-store")
        return [
            (name, value)
            for name, value in response.items()
            if name not in ("Content-Type", "Content-Length")
        ]

    def host_allowed(self, environ) -> bool:
        """Django's ``get_host()`` check; refused hosts go to Django's answer."""
        if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
            host = environ["HTTP_X_FORWARDED_HOST"]
        elif "HTTP_HOST" in environ:
            host = environ["HTTP_HOST"]
        else:  # no Host header: Django's get_host() from the server's name and port
            host = environ.get("SERVER_NAME", "")
            if settings.USE_X_FORWARDED_PORT and "HTTP_X_FORWARDED_PORT" in environ:
                port = environ["HTTP_X_FORWARDED_PORT"]
            else:
                port = str(environ.get("SERVER_PORT", ""))
            if port != ("443" if _secure(environ) else "80"):
                host = f"{host}:{port}"
        if host in self._hosts:
            return True
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        domain, _ = split_domain_port(host)
        if not (domain and validate_host(domain, allowed)):
            return False
        if len(self._hosts) < _MAX_HOSTS:
            self._hosts.add(host)
        return True

    def observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        histogram = self._histograms.get(key)
        if histogram is None:
            histogram = REQUEST_SECONDS.labels(method_label(method), route, str(status))
            self._histograms[key] = histogram
        histogram.observe(elapsed)

    def server_error(self, environ) -> tuple[int, list, bytes]:
        """Django's answer to an exception escaping a view: the signal, the
        ``django.request`` error log with the trace, and handler500's body."""
        request = WSGIRequest(environ)
        signals.got_request_exception.send(sender=None, request=request)
        django_request_logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=sys.exc_info(),
            extra={"status_code": 500},
        )
        response = errors_views.server_error(request)
        return 500, [], response.content

    def _settings_changed(self, **kwargs) -> None:
        self._framing.clear()
        self._hosts.clear()
        self._caches_close = None


def _receivers(signal) -> frozenset:
    return frozenset(receiver[0] for receiver in signal.receivers)


def _django_receivers(*receivers) -> frozenset:
    """The keys Django's dispatcher files ``receivers`` under (any sender)."""
    return frozenset((_make_id(receiver), _make_id(None)) for receiver in receivers)


# Django's own receivers of the request signals (django.db, django.core.cache,
# django.core.handlers.base). Each does its own work, so their order is free.
_STARTED = _django_receivers(reset_queries, close_old_connections)
_FINISHED = _django_receivers(close_old_connections, close_caches, reset_urlconf)


def _cache_close_is_noop(config: dict) -> bool:
    """Whether closing a cache of this configuration at the end of a request does
    nothing: a backend that keeps Django's empty ``close`` (local memory), or
    django-redis with its default client, which keeps its connections unless
    told to close them (CLOSE_CONNECTION)."""
    backend = import_string(config["BACKEND"])
    if backend.close is BaseCache.close:
        return True
    if not issubclass(backend, RedisCache) or backend.close is not RedisCache.close:
        return False
    options = config.get("OPTIONS", {})
    client = import_string(
        options.get("CLIENT_CLASS", "django_redis.client.DefaultClient")
    )
    if client.close is not DefaultClient.close:
        return False
    default = getattr(settings, "DJANGO_REDIS_CLOSE_CONNECTION", False)
    return not options.get("CLOSE_CONNECTION", default)


def _secure(environ) -> bool:
    """Django's ``HttpRequest.is_secure()`` on the environ."""
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name, secure_value = header
        value = environ.get(name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"
