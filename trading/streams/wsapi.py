"""The WebSocket API (``/ws-api/v3``): Binance's request/response envelope over
the very views that serve ``/api/v3``, and the user-data subscriptions.

A request ``{"id", "method", "params"}`` is answered with
``{"id", "status", "result" | "error", "rateLimits"}``; ``rateLimits`` is left out
when the connection was opened with ``?returnRateLimits=false`` or the request
says ``"returnRateLimits": false`` (as a boolean or the string ``"false"``).

Signed methods carry ``apiKey``, ``timestamp`` and ``signature`` in ``params``.
The signature is checked here, with the REST code in ``accounts``, over the
parameters sorted by name, as clients sign them: ccxt over the raw JSON tokens
(``recvWindow=10000``, ``returnRateLimits=false``), python-binance and Binance's
SDK over ``urlencode()`` (percent-encoded); both forms are accepted. The method
then runs the REST view with that identity, through a thread (Django's ORM is
sync), so parameters, refusals and weights are REST's.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, QueryDict

from accounts.authentication import (
    apikey_record_check,
    signature_check,
    signed_identity,
    timestamp_check,
)
from exchange import errors
from exchange.errors import ExchangeError
from trading.api import market, orders
from trading.streams.connection import Connection, serve
from trading.streams.hub import Hub, UserSubscription

logger = logging.getLogger(__name__)

NONE, SIGNED = "NONE", "SIGNED"
MAX_ID_STRING = 36
MAX_SUBSCRIPTIONS = 1000


@dataclass(frozen=True, slots=True)
class Method:
    view: type
    http: str
    security: str
    path: str


METHODS: dict[str, Method] = {
    "ping": Method(market.PingApi, "GET", NONE, "ping"),
    "time": Method(market.TimeApi, "GET", NONE, "time"),
    "exchangeInfo": Method(market.ExchangeInfoApi, "GET", NONE, "exchangeInfo"),
    "depth": Method(market.DepthApi, "GET", NONE, "depth"),
    "trades.recent": Method(market.TradesApi, "GET", NONE, "trades"),
    "trades.historical": Method(
        market.HistoricalTradesApi, "GET", NONE, "historicalTrades"
    ),
    "trades.aggregate": Method(market.AggTradesApi, "GET", NONE, "aggTrades"),
    "klines": Method(market.KlinesApi, "GET", NONE, "klines"),
    "uiKlines": Method(market.KlinesApi, "GET", NONE, "uiKlines"),
    "avgPrice": Method(market.AvgPriceApi, "GET", NONE, "avgPrice"),
    "ticker.24hr": Method(market.Ticker24hrApi, "GET", NONE, "ticker/24hr"),
    "ticker": Method(market.TickerApi, "GET", NONE, "ticker"),
    "ticker.price": Method(market.TickerPriceApi, "GET", NONE, "ticker/price"),
    "ticker.book": Method(market.BookTickerApi, "GET", NONE, "ticker/bookTicker"),
    "order.place": Method(orders.OrderApi, "POST", SIGNED, "order"),
    "order.test": Method(orders.OrderTestApi, "POST", SIGNED, "order/test"),
    "order.status": Method(orders.OrderApi, "GET", SIGNED, "order"),
    "order.cancel": Method(orders.OrderApi, "DELETE", SIGNED, "order"),
    "order.cancelReplace": Method(
        orders.CancelReplaceApi, "POST", SIGNED, "order/cancelReplace"
    ),
    "openOrders.status": Method(orders.OpenOrdersApi, "GET", SIGNED, "openOrders"),
    "openOrders.cancelAll": Method(
        orders.OpenOrdersApi, "DELETE", SIGNED, "openOrders"
    ),
    "allOrders": Method(orders.AllOrdersApi, "GET", SIGNED, "allOrders"),
    "myTrades": Method(orders.MyTradesApi, "GET", SIGNED, "myTrades"),
    "account.status": Method(orders.AccountApi, "GET", SIGNED, "account"),
    "account.rateLimits.orders": Method(
        orders.RateLimitOrderApi, "GET", SIGNED, "rateLimit/order"
    ),
}
USER_STREAM_METHODS = (
    "userDataStream.subscribe.signature",
    "userDataStream.unsubscribe",
)
_VIEWS = {}
# Parameters of the envelope (signed, when signed), not of the REST method.
_NOT_FOR_VIEWS = ("apiKey", "signature", "returnRateLimits")


def _view(method: Method):
    view = _VIEWS.get(method.view)
    if view is None:
        view = _VIEWS[method.view] = method.view.as_view()
    return view


class WsApiError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def token(value) -> str:
    """A parameter as the client wrote it: JSON numbers arrive as their text
    (parsed with ``parse_int=str``), booleans as ``true``/``false``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def signature_payloads(params: dict[str, str]) -> list[str]:
    """The raw and the percent-encoded forms of the signed payload."""
    items = sorted((k, v) for k, v in params.items() if k != "signature")
    raw = "&".join(f"{k}={v}" for k, v in items)
    encoded = urlencode(items)
    return [raw] if raw == encoded else [raw, encoded]


def request_parse(text: str) -> tuple[object, str, dict[str, str]]:
    """(id, method, params as text tokens), or WsApiError."""
    try:
        message = json.loads(text)
        tokens = json.loads(text, parse_int=str, parse_float=str)
    except (json.JSONDecodeError, RecursionError):
        raise WsApiError(errors.INVALID_JSON, "Invalid JSON Request.") from None
    if not isinstance(message, dict):
        raise WsApiError(errors.INVALID_JSON, "Invalid JSON Request.")
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int | str | None):
        raise errors.invalid_parameter("id")
    if isinstance(request_id, str) and len(request_id) > MAX_ID_STRING:
        raise errors.invalid_parameter("id")
    method = message.get("method")
    if not isinstance(method, str) or not method:
        raise WsApiError(
            errors.MANDATORY_PARAM,
            "Mandatory parameter 'method' was not sent, was empty/null, or malformed.",
        )
    params = tokens.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise WsApiError(
            errors.UNKNOWN, "Malformed request: 'params' is not an object."
        )
    return request_id, method, {k: token(v) for k, v in params.items()}


class ApiSession:
    """One WebSocket API connection."""

    def __init__(self, conn: Connection, hub: Hub, ip: str, rate_limits: bool) -> None:
        self.conn = conn
        self.hub = hub
        self.ip = ip
        self.rate_limits = rate_limits
        self.subscriptions: dict[int, UserSubscription] = {}
        self.next_subscription = 0

    async def handle(self, text: str | None) -> None:
        request_id = None
        rate_limits = self.rate_limits
        try:
            if text is None:
                raise WsApiError(
                    errors.INVALID_JSON, "Invalid JSON Request: too large."
                )
            request_id, name, params = request_parse(text)
            flag = params.get("returnRateLimits")
            if flag is not None:
                rate_limits = flag.lower() != "false"
            if name.startswith("v3/"):
                name = name[3:]
            if name in USER_STREAM_METHODS:
                result, ended = await self._user_stream(name, params)
                self._reply(request_id, 200, result, None, rate_limits)
                for sid in ended:
                    # After the answer, as Binance sends it.
                    self.conn.deliver_user(
                        sid,
                        {"e": "eventStreamTerminated", "E": int(time.time() * 1000)},
                    )
                return
            method = METHODS.get(name)
            if method is None:
                raise WsApiError(
                    errors.UNSUPPORTED_OPERATION, "This operation is not supported."
                )
            status, body, headers = await sync_to_async(_call, thread_sensitive=True)(
                method, params, self.ip
            )
            self._reply(request_id, status, body, headers, rate_limits)
        except WsApiError as exc:
            self._reply(
                request_id,
                exc.status,
                {"code": exc.code, "msg": exc.msg},
                None,
                rate_limits,
            )
        except ExchangeError as exc:
            self._reply(
                request_id, exc.http_status, exc.as_dict(), exc.headers, rate_limits
            )

    def _reply(self, request_id, status, body, headers, rate_limits: bool) -> None:
        reply: dict = {"id": request_id, "status": status}
        if status == 200:
            reply["result"] = body
        else:
            reply["error"] = body
        if rate_limits:
            reply["rateLimits"] = rate_limits_of(headers or {})
        self.conn.put_json(reply)

    async def _user_stream(
        self, name: str, params: dict[str, str]
    ) -> tuple[dict, list[int]]:
        """The method's result, and the subscriptions it ended."""
        if name == "userDataStream.unsubscribe":
            wanted = params.get("subscriptionId")
            ended = []
            for sid, sub in list(self.subscriptions.items()):
                if wanted in (None, "", str(sid)):
                    self.subscriptions.pop(sid, None)
                    self.hub.user_unsubscribe(sub)
                    ended.append(sid)
            return {}, ended
        identity = await sync_to_async(_identity, thread_sensitive=True)(
            params, self.ip
        )
        user, auth = identity
        # Subscriptions the hub ended (a revoked key) no longer count.
        for sid, sub in list(self.subscriptions.items()):
            if sub not in self.hub.users.get(sub.user_id, []):
                del self.subscriptions[sid]
        if any(sub.user_id == user.id for sub in self.subscriptions.values()):
            raise WsApiError(
                errors.SUBSCRIPTION_ACTIVE,
                "User Data Stream subscription already active.",
            )
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise WsApiError(
                errors.TOO_MANY_REQUESTS,
                "Too many User Data Stream subscriptions.",
                429,
            )
        sid = self.next_subscription
        self.next_subscription += 1
        sub = UserSubscription(self.conn, sid, user.id, auth.key_id)
        self.subscriptions[sid] = sub
        self.hub.user_subscribe(sub)
        return {"subscriptionId": sid}, []

    def close(self) -> None:
        for sub in self.subscriptions.values():
            self.hub.user_unsubscribe(sub)
        self.subscriptions.clear()


def _identity(params: dict[str, str], ip: str):
    """Check a signed request's key, timestamp and signature; (user, auth)."""
    close_old_connections()
    key = params.get("apiKey")
    if not key:
        raise errors.mandatory_missing("apiKey")
    signature = params.get("signature")
    if not signature:
        raise errors.mandatory_missing("signature")
    record = apikey_record_check(key=key, ip=ip)
    stamp = {k: params[k] for k in ("timestamp", "recvWindow") if k in params}
    timestamp_check("&".join(f"{k}={v}" for k, v in stamp.items()))
    signature_check(record, signature_payloads(params), signature)
    return signed_identity(record)


def _call(method: Method, params: dict[str, str], ip: str):
    """Run the REST view for ``method``: (status, body, headers)."""
    close_old_connections()
    user = auth = None
    if method.security == SIGNED:
        user, auth = _identity(params, ip)
    params = {k: v for k, v in params.items() if k not in _NOT_FOR_VIEWS}
    query = urlencode(params)
    request = HttpRequest()
    request.method = method.http
    request.path = request.path_info = "/api/v3/" + method.path
    request.META = {
        "QUERY_STRING": query,
        "REMOTE_ADDR": ip,
        "REQUEST_METHOD": method.http,
        "SERVER_NAME": "ws-api",
        "SERVER_PORT": "443",
    }
    request.GET = QueryDict(query)
    if user is not None:
        request._force_auth_user = user
        request._force_auth_token = auth
    try:
        response = _view(method)(request)
    except ExchangeError:
        raise
    except Exception:  # noqa: BLE001 - a bug must not take the connection down
        logger.exception("WebSocket API method %s failed", method.path)
        return 500, {"code": errors.UNKNOWN, "msg": "An unknown error occurred."}, {}
    return response.status_code, response.data, dict(response.items())


def rate_limits_of(headers: dict) -> list[dict]:
    """Binance's ``rateLimits`` from the REST usage headers."""
    limits = settings.RATE_LIMITS
    out = [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": limits["weight_per_minute"],
            "count": int(headers.get("X-MBX-USED-WEIGHT-1M", 0)),
        }
    ]
    if "X-MBX-ORDER-COUNT-10S" in headers:
        out += [
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": limits["orders_per_10s"],
                "count": int(headers["X-MBX-ORDER-COUNT-10S"]),
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "DAY",
                "intervalNum": 1,
                "limit": limits["orders_per_day"],
                "count": int(headers["X-MBX-ORDER-COUNT-1D"]),
            },
        ]
    return out


def client_ip(scope) -> str:
    """The peer's address, or the one the trusted proxies saw (``NUM_PROXIES``)."""
    proxies = getattr(settings, "NUM_PROXIES", 0)
    if proxies:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                hops = [h.strip() for h in value.decode("latin-1").split(",")]
                hops = [h for h in hops if h]
                if len(hops) >= proxies:
                    return hops[-proxies]
    client = scope.get("client")
    return client[0] if client else ""


async def serve_api(scope, receive, send, hub: Hub, *, micro: bool) -> None:
    query = scope.get("query_string", b"").decode("latin-1")
    rate_limits = "returnratelimits=false" not in query.lower()
    conn = Connection(send, micro=micro, api=True)
    session = ApiSession(conn, hub, client_ip(scope), rate_limits)

    async def on_open() -> None:
        return None

    await serve(scope, receive, send, conn, on_open, session.handle, session.close)
