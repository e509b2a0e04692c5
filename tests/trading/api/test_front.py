"""The front (exchange/front.py) answers /api/v3 as Django and DRF do.

Every API test already goes through the front, as production does
(tests/front_client.py). These tests hold the two paths to one answer: the same
request through the front and through Django's handler alone (DRF's dispatch of
the same view class) gets the same status, body and headers, so the framing the
front reproduces cannot drift from the middleware it replaces."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

from tests.front_client import DjangoClientHandler
from tests.trading.api.conftest import API_DB, Signed
from trading.api import lean

pytestmark = API_DB

# Values that differ between two requests by design.
VOLATILE = {
    "serverTime",
    "transactTime",
    "updateTime",
    "workingTime",
    "time",
    "orderId",
    "clientOrderId",
    "tradeId",
}
# Counters: the second request counts on top of the first.
PER_REQUEST_HEADERS = {
    "X-Request-ID",
    "X-MBX-USED-WEIGHT-1M",
    "X-MBX-ORDER-COUNT-10S",
    "X-MBX-ORDER-COUNT-1D",
}


def masked(body):
    if isinstance(body, dict):
        return {k: None if k in VOLATILE else masked(v) for k, v in body.items()}
    if isinstance(body, list):
        return [masked(item) for item in body]
    return body


def django_only(api: Signed) -> Signed:
    client = Client(raise_request_exception=False)
    client.handler = DjangoClientHandler()
    twin = Signed(api.key, api.secret, api.ip)
    twin.client = client
    return twin


def assert_same(front, django):
    assert front.status == django.status
    assert masked(front.body) == masked(django.body)
    front_headers = {k: v for k, v in front.headers.items()}
    django_headers = {k: v for k, v in django.headers.items()}
    assert front_headers.keys() == django_headers.keys()
    for name, value in front_headers.items():
        if name not in PER_REQUEST_HEADERS:
            assert value == django_headers[name], name


REQUESTS = [
    ("GET", "ping", {}, None, False),
    ("GET", "time", {}, None, False),
    ("GET", "exchangeInfo", {"symbol": "BTCUSDT"}, None, False),
    ("GET", "depth", {"symbol": "BTCUSDT", "limit": "5"}, None, False),
    ("GET", "depth", {"symbol": "nope!"}, None, False),
    ("GET", "depth", {}, None, False),
    ("GET", "ticker/price", {"symbol": "BTCUSDT"}, None, False),
    ("GET", "ticker/bookTicker", {"symbols": '["BTCUSDT","ETHUSDT"]'}, None, False),
    ("GET", "ticker/24hr", {"symbol": "ETHBTC"}, None, False),
    ("GET", "klines", {"symbol": "BTCUSDT", "interval": "1m"}, None, False),
    ("GET", "account", {}, None, False),
    ("GET", "account", {}, None, True),
    ("GET", "openOrders", {"symbol": "BTCUSDT"}, None, True),
    ("GET", "myTrades", {"symbol": "BTCUSDT"}, None, True),
    ("GET", "order", {"symbol": "BTCUSDT", "orderId": "999"}, None, True),
    ("DELETE", "order", {"symbol": "BTCUSDT", "orderId": "999"}, None, True),
    ("POST", "order", None, {"symbol": "BTCUSDT", "side": "BUY"}, True),
    ("PUT", "order", None, {"symbol": "BTCUSDT"}, True),  # 405, through Django
    ("POST", "order/test", None, {"symbol": "BTCUSDT", "side": "BUY"}, True),
    (
        "POST",
        "order/test",
        None,
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"},
        True,
    ),
    ("GET", "rateLimit/order", {}, None, True),
    (
        "POST",
        "order",
        None,
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": "50000",
        },
        True,
    ),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "signed"), REQUESTS)
def test_front_and_django_give_the_same_answer(
    trader, method, path, query, body, signed
):
    alice = trader(BTC="1", USDT="100000")
    front = alice.api.call(method, path, query, body, signed=signed)
    django = django_only(alice.api).call(method, path, query, body, signed=signed)
    assert_same(front, django)


def test_a_refused_signature_is_answered_alike(trader):
    alice = trader(USDT="1000")
    query = {"symbol": "BTCUSDT"}
    front = alice.api.get("openOrders", query, signature="0" * 64)
    django = django_only(alice.api).get("openOrders", query, signature="0" * 64)
    assert front.status == 400 and front.body["code"] == -1022
    assert_same(front, django)


def test_the_test_client_goes_through_the_front(symbols):
    with mock.patch.object(lean, "serve", wraps=lean.serve) as serve:
        response = Client().get("/api/v3/ping")
    assert response.status_code == 200 and serve.call_count == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_ORIGIN": "https://app.example.com"},  # CORS: Django's middleware
        {"REQUEST_METHOD": "HEAD"},
    ],
)
def test_what_the_front_does_not_reproduce_goes_to_django(symbols, extra):
    method = extra.pop("REQUEST_METHOD", "GET")
    with mock.patch.object(lean, "serve", wraps=lean.serve) as serve:
        response = Client().generic(method, "/api/v3/ping", **extra)
    assert response.status_code == 200 and serve.call_count == 0


def test_a_host_django_refuses_is_refused_by_django(symbols, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    with mock.patch.object(lean, "serve", wraps=lean.serve) as serve:
        refused = Client().get("/api/v3/ping", HTTP_HOST="evil.example.net")
        allowed = Client().get("/api/v3/ping", HTTP_HOST="api.example.com")
    assert refused.status_code == 400 and allowed.status_code == 200
    assert serve.call_count == 1


def test_an_unexpected_error_is_a_binance_shaped_500(symbols):
    with mock.patch("trading.api.market.PingApi.get", side_effect=RuntimeError("bug")):
        response = Client(raise_request_exception=False).get("/api/v3/ping")
    assert response.status_code == 500
    assert response.json()["code"] == -1000
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def hooks(monkeypatch):
    """The front, with the database connection's and the cache's closing
    recorded instead of done (the test's transaction owns the connection)."""
    from django.core.cache import caches
    from django.db import connections

    from exchange.wsgi import application

    calls: list[str] = []
    conn = connections["default"]
    conn.ensure_connection()
    monkeypatch.setattr(
        conn, "close_if_unusable_or_obsolete", lambda: calls.append("db checked")
    )
    monkeypatch.setattr(caches["default"], "close", lambda **kw: calls.append("cache"))
    return application, conn, calls


def test_the_request_signals_work_is_done_without_the_dispatch(hooks):
    """Only Django's receivers listen in production, so the front does their
    work itself: the query log cleared and the connection checked at the start,
    the connection checked again at the end. Closing this project's caches does
    nothing (local memory; django-redis keeps its connections), so it is not
    done."""
    from django.core import signals

    from exchange import front

    front_app, conn, calls = hooks
    assert front._receivers(signals.request_started) == front._STARTED
    assert front._receivers(signals.request_finished) == front._FINISHED
    conn.queries_log.append({"sql": "SELECT 1", "time": "0.000"})
    with mock.patch.object(signals.request_started, "send") as started:
        databases = front_app.request_started({})
    assert started.call_count == 0
    assert not conn.queries_log and calls == ["db checked"]
    assert conn in databases
    with mock.patch.object(signals.request_finished, "send") as finished:
        front_app.request_finished(databases)
    assert finished.call_count == 0
    assert calls == ["db checked", "db checked"]


def test_no_request_leaves_a_urlconf_behind(symbols):
    """Django's handler sets the URLconf for each request it handles and resets
    it when the request finishes; the front sets none, so it resets none. Either
    way the thread is left with none set."""
    from django.urls import get_urlconf

    client = Client()
    client.handler = DjangoClientHandler()
    assert client.get("/api/v3/ping").status_code == 200
    assert get_urlconf() is None
    with mock.patch.object(lean, "serve", wraps=lean.serve) as serve:
        assert Client().get("/api/v3/ping").status_code == 200
    assert serve.call_count == 1
    assert get_urlconf() is None


def test_caches_whose_closing_does_something_are_closed(hooks):
    front_app, _, calls = hooks
    front_app._caches_close = True  # as for a configuration below
    front_app.request_finished()
    assert calls == ["db checked", "cache"]


@pytest.mark.parametrize(
    ("config", "redis_close_setting", "noop"),
    [
        ({"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, False, True),
        ({"BACKEND": "django.core.cache.backends.dummy.DummyCache"}, False, True),
        ({"BACKEND": "django_redis.cache.RedisCache"}, False, True),
        ({"BACKEND": "django_redis.cache.RedisCache"}, True, False),
        (
            {
                "BACKEND": "django_redis.cache.RedisCache",
                "OPTIONS": {"CLOSE_CONNECTION": True},
            },
            False,
            False,
        ),
        ({"BACKEND": "django.core.cache.backends.redis.RedisCache"}, False, True),
        (
            {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"},
            False,
            False,
        ),
    ],
)
def test_which_caches_closing_does_nothing(settings, config, redis_close_setting, noop):
    from exchange import front

    settings.DJANGO_REDIS_CLOSE_CONNECTION = redis_close_setting
    assert front._cache_close_is_noop(config) is noop


def test_another_receiver_gets_the_request_signals(hooks):
    from django.core import signals

    front_app, _, calls = hooks
    seen = []

    def receiver(sender, **kwargs):
        seen.append((sender.__name__, kwargs.get("environ")))

    signals.request_started.connect(receiver)
    signals.request_finished.connect(receiver)
    try:
        front_app.request_started({"PATH_INFO": "/api/v3/ping"})
        front_app.request_finished()
    finally:
        signals.request_started.disconnect(receiver)
        signals.request_finished.disconnect(receiver)
    assert seen == [("ApiFront", {"PATH_INFO": "/api/v3/ping"}), ("ApiFront", None)]
    # Django's receivers ran too, through the signal (in the order connected).
    assert sorted(calls) == ["cache", "db checked", "db checked"]
