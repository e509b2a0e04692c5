"""The /api/v3 views run without DRF's request and response machinery.

Each endpoint is defined once, by its view class in ``trading/api/market.py`` or
``trading/api/orders.py``: its parameters, weight, authentication, permissions,
handler and OpenAPI schema. DRF's dispatch around a handler (wrapping the
request, content negotiation, rendering through ``HttpResponse``), with
Django's URL resolution, middleware and response classes around that, costs
several times what a ping or a cached depth read does itself
(docs/performance.md). :func:`serve` runs the same class the same way, in the
same order (authenticate, check permissions, read the parameters and count the
weight, run the handler, map a refusal through the one exception handler), on
a small request object read straight from the WSGI environ, and returns the
answer as bytes. ``exchange/front.py`` calls it for every request it can
answer without Django; what it cannot (CORS, redirects, odd methods) goes
through Django to the same classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import UnreadablePostError
from django.urls import URLPattern
from rest_framework.exceptions import APIException

from trading.api import urls
from trading.api.base import BinanceApi
from trading.api.rendering import LeanAnswer, json_bytes

PREFIX = "/api/v3/"


class LeanRequest:
    """What a BinanceApi view, its authenticators and permissions read of a
    request (``META``, ``method``, ``body``, ``user``, ``auth``), without
    building Django's or DRF's request objects. Authentication runs on first
    access to ``user`` or ``auth``, as on DRF's Request, and in the same way."""

    __slots__ = (
        "META",
        "method",
        "path",
        "authenticators",
        "_body",
        "_user",
        "_auth",
        "_authenticator",
        "accepted_renderer",
        "accepted_media_type",
    )

    _UNSET = object()

    def __init__(self, environ: dict, method: str, authenticators) -> None:
        self.META = environ
        self.method = method
        self.path = environ.get("PATH_INFO", "")
        self.authenticators = authenticators
        self._body = None
        self._user = self._auth = self._authenticator = LeanRequest._UNSET
        self.accepted_renderer = None
        self.accepted_media_type = None

    @property
    def _request(self) -> LeanRequest:
        # Code written for DRF reaches the Django request through ``_request``.
        return self

    @property
    def body(self) -> bytes:
        """The body, refused past DATA_UPLOAD_MAX_MEMORY_SIZE and unreadable
        (OSError) as Django's ``HttpRequest.body`` does."""
        if self._body is None:
            try:
                length = int(self.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and length > limit:
                raise RequestDataTooBig(
                    "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
                )
            try:
                self._body = self.META["wsgi.input"].read(length) if length > 0 else b""
            except OSError as exc:  # the client stopped sending (read timeout)
                raise UnreadablePostError(*exc.args) from exc
        return self._body

    @property
    def user(self):
        if self._user is LeanRequest._UNSET:
            self._authenticate()
        return self._user

    @property
    def auth(self):
        if self._auth is LeanRequest._UNSET:
            self._authenticate()
        return self._auth

    @property
    def successful_authenticator(self):
        if self._authenticator is LeanRequest._UNSET:
            self._authenticate()
        return self._authenticator

    def _authenticate(self) -> None:
        """DRF's Request._authenticate: the first authenticator that answers wins;
        none answering leaves an anonymous request (user None)."""
        for authenticator in self.authenticators:
            try:
                found = authenticator.authenticate(self)
            except APIException:
                self._user = self._auth = self._authenticator = None
                raise
            if found is not None:
                self._authenticator = authenticator
                self._user, self._auth = found
                return
        self._user = self._auth = self._authenticator = None

    def force_plaintext_errors(self, value) -> None:
        """DRF calls this under DEBUG before re-raising an unexpected error."""


@dataclass(frozen=True, slots=True)
class Route:
    """One /api/v3 path: its view class and what does not change per request."""

    route: str  # the URL pattern, as Django's resolver names it (metrics label)
    view_class: type
    initkwargs: dict
    methods: frozenset  # the methods the class defines (HEAD goes to Django)
    allow: str  # DRF's Allow header for the class


def _routes() -> dict[str, Route]:
    table = {}
    for pattern in urls.urlpatterns:
        if not isinstance(pattern, URLPattern):
            continue
        callback = pattern.callback
        view_class = getattr(callback, "cls", None)
        if view_class is None or not issubclass(view_class, BinanceApi):
            continue
        initkwargs = getattr(callback, "initkwargs", {}) or {}
        sample = view_class(**initkwargs)
        if hasattr(sample, "get") and not hasattr(sample, "head"):
            sample.head = sample.get  # as Django's View.setup does
        methods = frozenset(
            m.upper()
            for m in sample.http_method_names
            if m not in ("head", "options") and hasattr(sample, m)
        )
        route = str(pattern.pattern)
        table[PREFIX + route] = Route(
            route="api/v3/" + route,
            view_class=view_class,
            initkwargs=initkwargs,
            methods=methods,
            allow=", ".join(sample.allowed_methods),
        )
    return table


ROUTES = _routes()


def serve(route: Route, environ: dict, method: str) -> tuple[int, list, bytes]:
    """Answer one request with ``route``'s view: (status, headers, body).

    The caller has checked that the class defines ``method``. A refusal is
    answered in Binance's shape by the view's exception handler; any other
    exception propagates (the caller answers 500), as it would from DRF."""
    view = route.view_class(**route.initkwargs)
    view.lean = True
    request = LeanRequest(environ, method, view.get_authenticators())
    view.setup(request)
    view.format_kwarg = None
    try:
        view.initial_lean(request)
        response = getattr(view, method.lower())(request)
    except Exception as exc:  # noqa: BLE001 - DRF's handle_exception decides
        response = view.handle_exception(exc)
    if type(response) is LeanAnswer:
        headers = dict(response.headers or ())
    else:  # a refusal, answered by DRF's exception handler
        headers = {name: value for name, value in response.items()}
        del headers["Content-Type"]
    headers["Allow"] = route.allow
    headers.update(getattr(view, "rate_headers", None) or {})
    return response.status_code, list(headers.items()), json_bytes(response.data)
