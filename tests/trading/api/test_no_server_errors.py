"""No client input makes an endpoint answer 500: every parameter of every endpoint
is sent a list of hostile values, and each answer must be a Binance-shaped 2xx or
4xx."""

from django.test import override_settings

from tests.trading.api.conftest import API_DB, public

pytestmark = API_DB

VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1e5",
    "0.000000000000000000001",
    "99999999999999999999",
    "9223372036854775808",
    "253402300800000",
    "abc",
    "[]",
    '["BTCUSDT","BTCUSDT"]',
    '["' + "A" * 30 + '"]',
    "\u00e9\x00",
]
NO_LIMITS = {
    "enabled": False,
    "weight_per_minute": 6000,
    "orders_per_10s": 100,
    "orders_per_day": 200000,
}

PUBLIC = {
    "depth": ["symbol", "limit"],
    "trades": ["symbol", "limit"],
    "historicalTrades": ["symbol", "limit", "fromId"],
    "aggTrades": ["symbol", "fromId", "startTime", "endTime", "limit"],
    "klines": ["symbol", "interval", "startTime", "endTime", "limit", "timeZone"],
    "avgPrice": ["symbol"],
    "ticker/24hr": ["symbol", "symbols", "type"],
    "ticker/price": ["symbol", "symbols"],
    "ticker/bookTicker": ["symbol", "symbols"],
    "ticker": ["symbol", "symbols", "windowSize", "type"],
    "exchangeInfo": ["symbol", "symbols"],
}
BASE = {"symbol": "BTCUSDT", "interval": "1M"}

SIGNED = [
    ("POST", "order", ["quantity", "price", "quoteOrderQty", "newClientOrderId"]),
    ("POST", "order", ["side", "type", "timeInForce", "newOrderRespType"]),
    ("POST", "order/test", ["selfTradePreventionMode", "stopPrice"]),
    ("GET", "order", ["orderId", "origClientOrderId"]),
    ("DELETE", "order", ["orderId", "newClientOrderId"]),
    ("POST", "order/cancelReplace", ["cancelOrderId", "cancelReplaceMode"]),
    ("GET", "allOrders", ["startTime", "endTime", "limit"]),
    ("GET", "myTrades", ["fromId", "startTime"]),
    ("GET", "account", ["omitZeroBalances", "recvWindow"]),
]
ORDER = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "50000",
    "orderId": "1",
    "cancelOrderId": "1",
    "cancelReplaceMode": "ALLOW_FAILURE",
}


def assert_handled(response, where):
    assert response.status < 500, (where, response.status, response.body)
    if response.status >= 400:
        assert set(response.body) >= {"code", "msg"}, (where, response.body)


@override_settings(RATE_LIMITS=NO_LIMITS)
def test_public_endpoints_never_answer_500(symbols):
    for path, names in PUBLIC.items():
        for name in names:
            for value in VALUES:
                response = public(path, {**BASE, name: value})
                assert_handled(response, (path, name, value))


@override_settings(RATE_LIMITS=NO_LIMITS)
def test_signed_endpoints_never_answer_500(trader):
    alice = trader(BTC="1", USDT="100000")
    assert alice.order(price="40000").status == 200
    for method, path, names in SIGNED:
        for name in names:
            for value in VALUES:
                response = alice.api.call(method, path, {**ORDER, name: value})
                assert_handled(response, (method, path, name, value))
