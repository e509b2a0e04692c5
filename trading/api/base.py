"""The /api/v3 view classes every endpoint builds on: Binance's JSON-only answers,
request weight per IP, the signed read and trade variants, and the OpenAPI
parameter helpers."""

from __future__ import annotations

import time

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import APIException
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import SIGNED_AUTHENTICATION, CanRead, CanTrade, client_ip
from exchange.errors import ExchangeError
from trading.api.params import Params
from trading.api.ratelimit import rate_limit_check
from trading.api.rendering import JsonRenderer, LeanAnswer


def now_ms() -> int:
    return int(time.time() * 1000)


def query_param(name: str, kind=OpenApiTypes.STR, required: bool = False, **kw):
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=required, **kw)


SIGNED_PARAMS = [
    query_param("timestamp", OpenApiTypes.INT64, description="ms; with an API key"),
    query_param("recvWindow", OpenApiTypes.INT64),
    query_param("signature", description="hex HMAC-SHA256; with an API key"),
]
SYMBOL = query_param("symbol", required=True)


class JsonOnly(BaseContentNegotiation):
    """Binance answers JSON whatever the Accept header says; skipping the media-type
    matching also spares every request parsing that header."""

    def select_parser(self, request, parsers):
        content_type = request.content_type or ""
        for parser in parsers:
            if content_type.startswith(parser.media_type):
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BinanceApi(APIView):
    """Public by default; counts request weight per IP."""

    content_negotiation_class = JsonOnly
    renderer_classes = [JsonRenderer]
    authentication_classes: list = []
    permission_classes = [AllowAny]
    weight = 1
    counts_orders = False
    lean = False  # set by trading.api.lean on the views it runs

    def request_weight(self, request, params: Params) -> int:
        return self.weight

    def answer(self, data, status: int = 200, headers: dict | None = None):
        """The handler's answer: DRF's Response when DRF dispatches the view, on
        the lean path only what it reads of one (building a Response, with
        Django's HttpResponse under it, was 6% of a served ping's samples)."""
        if self.lean:
            return LeanAnswer(data, status, headers)
        return Response(data, status=status, headers=headers)

    def initial(self, request, *args, **kwargs):
        try:
            super().initial(request, *args, **kwargs)
        except (ExchangeError, APIException):
            self.count_refused(request)
            raise
        self.admit(request)

    def initial_lean(self, request) -> None:
        """``initial()`` for the lean path (trading/api/lean.py): DRF's checks
        without content negotiation and versioning, which cannot change the
        answer here (JSON only, one version)."""
        try:
            self.perform_authentication(request)
            self.check_permissions(request)
            self.check_throttles(request)
        except (ExchangeError, APIException):
            self.count_refused(request)
            raise
        self.admit(request)

    def admit(self, request) -> None:
        """Read the parameters and count the request's weight (429 past the
        limit); the caller has authenticated the request."""
        try:
            self.params = Params.from_request(request)
        except ExchangeError:
            self.count_refused(request)
            raise
        user = getattr(request, "user", None)
        self.rate_headers = rate_limit_check(
            ip=client_ip(request),
            weight=self.request_weight(request, self.params),
            user_id=user.id if user is not None and self.counts_orders else None,
            order=self.counts_orders and request.method == "POST",
        )

    def count_refused(self, request) -> None:
        """A request refused before it ran (bad key, signature, timestamp or
        parameters) still uses its weight, so that guessing is limited like any
        other traffic; past the limit the refusal becomes a 429."""
        try:
            weight = self.request_weight(request, Params.from_request(request))
        except ExchangeError:
            weight = self.weight
        self.rate_headers = rate_limit_check(
            ip=client_ip(request), weight=weight, user_id=None, order=False
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in getattr(self, "rate_headers", {}).items():
            response[name] = value
        return response


class SignedReadApi(BinanceApi):
    authentication_classes = SIGNED_AUTHENTICATION
    permission_classes = [CanRead]


class SignedTradeApi(BinanceApi):
    authentication_classes = SIGNED_AUTHENTICATION
    permission_classes = [CanTrade]
