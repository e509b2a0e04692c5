"""Every Binance error code the /api/v3 endpoints return, each produced through HTTP,
with its HTTP status. Refusals on the order path leave balances, orders, the ledger
and the book exactly as they were."""

from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

from accounts import services as account_services
from tests.trading.api.conftest import API_DB, make_trader, now_ms, public, snapshot
from trading.models import Symbol
from trading.symbols import services as symbol_services

pytestmark = API_DB

LIMIT = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "50000",
}


@pytest.fixture
def alice(trader):
    """A funded trader with one resting order, so that the book is warm and a
    refusal has something to leave alone."""
    alice = trader(BTC="1", USDT="10000")
    resting = alice.order(side="SELL", quantity="0.01", price="70000")
    assert resting.status == 200, resting.body
    return alice


def refused(api_call, code: int, status: int = 400, msg: str | None = None):
    """Run ``api_call`` and check it was refused with ``code`` and changed nothing."""
    before = snapshot()
    response = api_call()
    assert response.status == status, response.body
    assert response.body["code"] == code, response.body
    assert set(response.body) == {"code", "msg"}
    if msg is not None:
        assert response.body["msg"] == msg
    assert snapshot() == before
    return response


# --- -11xx: request issues -----------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("quantity", "-1"),
        ("quantity", "1e5"),
        ("quantity", "0,01"),
        ("price", "50000.0.0"),
        ("price", " 50000"),
        ("symbol", "btcusdt"),
        ("newClientOrderId", "has space"),
    ],
)
def test_illegal_characters_are_1100(alice, name, value):
    response = refused(lambda: alice.api.post("order", {**LIMIT, name: value}), -1100)
    assert f"parameter '{name}'" in response.body["msg"]


def test_illegal_characters_in_integers_are_1100(alice):
    refused(
        lambda: alice.api.get("order", {"symbol": "BTCUSDT", "orderId": "1x"}), -1100
    )
    response = public("depth", {"symbol": "BTCUSDT", "limit": "ten"})
    assert (response.status, response.body["code"]) == (400, -1100)


def test_a_parameter_sent_twice_is_1101(alice):
    query = "&".join(f"{k}={v}" for k, v in LIMIT.items()) + "&quantity=0.02"
    refused(
        lambda: alice.api.post("order", query),
        -1101,
        msg="Duplicate values for a parameter detected.",
    )
    response = public("depth", "symbol=BTCUSDT&symbol=ETHUSDT")
    assert (response.status, response.body["code"]) == (400, -1101)


@pytest.mark.parametrize("name", ["symbol", "side", "type", "quantity", "price"])
def test_a_missing_mandatory_parameter_is_1102(alice, name):
    params = {k: v for k, v in LIMIT.items() if k != name}
    refused(
        lambda: alice.api.post("order", params),
        -1102,
        msg=f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def test_an_empty_mandatory_parameter_is_1102(alice):
    refused(lambda: alice.api.post("order", {**LIMIT, "price": ""}), -1102)


def test_market_without_quantity_or_quote_amount_is_1102(alice):
    refused(
        lambda: alice.api.post(
            "order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}
        ),
        -1102,
        msg="Param 'quantity' or 'quoteOrderQty' must be sent, but both were "
        "empty/null!",
    )


def test_lookups_without_an_order_id_are_1102(alice):
    refused(lambda: alice.api.get("order", {"symbol": "BTCUSDT"}), -1102)
    refused(lambda: alice.api.delete("order", {"symbol": "BTCUSDT"}), -1102)


def test_a_missing_timestamp_is_1102(alice):
    response = refused(
        lambda: alice.api.get("account", "timestamp=", signed=False, key=alice.key),
        -1102,
    )
    assert "'timestamp'" in response.body["msg"]


@pytest.mark.parametrize(
    "params, name",
    [
        ({"type": "MARKET", "quantity": "0.01", "price": "50000"}, "price"),
        ({"type": "MARKET", "quantity": "0.01", "timeInForce": "GTC"}, "timeInForce"),
        (
            {
                "type": "LIMIT_MAKER",
                "quantity": "0.01",
                "price": "1",
                "timeInForce": "GTC",
            },
            "timeInForce",
        ),
        (
            {"type": "MARKET", "quantity": "0.01", "quoteOrderQty": "100"},
            "quoteOrderQty",
        ),
        ({**LIMIT, "quoteOrderQty": "100"}, "quoteOrderQty"),
        ({**LIMIT, "stopPrice": "49000"}, "stopPrice"),
    ],
)
def test_a_parameter_sent_when_not_required_is_1106(alice, params, name):
    order = {"symbol": "BTCUSDT", "side": "BUY", **params}
    refused(
        lambda: alice.api.post("order", order),
        -1106,
        msg=f"Parameter '{name}' sent when not required.",
    )


def test_a_bad_time_in_force_is_1115(alice):
    refused(
        lambda: alice.api.post("order", {**LIMIT, "timeInForce": "GTX"}),
        -1115,
        msg="Invalid timeInForce.",
    )


def test_a_bad_order_type_is_1116(alice):
    refused(
        lambda: alice.api.post("order", {**LIMIT, "type": "OCO"}),
        -1116,
        msg="Invalid orderType.",
    )


def test_a_bad_side_is_1117(alice):
    refused(
        lambda: alice.api.post("order", {**LIMIT, "side": "HOLD"}),
        -1117,
        msg="Invalid side.",
    )


def test_an_empty_new_client_order_id_is_1118(alice):
    refused(
        lambda: alice.api.post("order", {**LIMIT, "newClientOrderId": ""}),
        -1118,
        msg="New client order ID was empty.",
    )


def test_an_empty_orig_client_order_id_is_1119(alice):
    msg = "Original client order ID was empty."
    lookup = {"symbol": "BTCUSDT", "origClientOrderId": ""}
    refused(lambda: alice.api.get("order", lookup), -1119, msg=msg)
    refused(lambda: alice.api.delete("order", lookup), -1119, msg=msg)


def test_a_bad_interval_is_1120(symbols):
    for interval in ("2m", "1H", "1y", ""):
        response = public("klines", {"symbol": "BTCUSDT", "interval": interval})
        expected = -1102 if interval == "" else -1120
        assert (response.status, response.body["code"]) == (400, expected)


def test_an_unknown_symbol_is_1121(alice):
    refused(
        lambda: alice.api.post("order", {**LIMIT, "symbol": "DOGEUSDT"}),
        -1121,
        msg="Invalid symbol.",
    )
    refused(lambda: alice.api.get("order", {"symbol": "NOPE", "orderId": 1}), -1121)
    refused(lambda: alice.api.get("openOrders", {"symbol": "NOPE"}), -1121)
    for path, extra in [
        ("depth", {}),
        ("trades", {}),
        ("klines", {"interval": "1m"}),
        ("ticker/24hr", {}),
        ("ticker/price", {}),
        ("exchangeInfo", {}),
    ]:
        response = public(path, {"symbol": "NOPE", **extra})
        assert (response.status, response.body["code"]) == (400, -1121), path
    response = public("ticker/price", {"symbols": '["BTCUSDT","NOPE"]'})
    assert (response.status, response.body["code"]) == (400, -1121)


def test_a_too_long_lookup_window_is_1127(alice):
    day = 24 * 3600 * 1000
    window = {"symbol": "BTCUSDT", "startTime": 0, "endTime": day + 1}
    response = refused(lambda: alice.api.get("allOrders", window), -1127)
    assert response.body["msg"] == "More than 24 hours between startTime and endTime."
    refused(lambda: alice.api.get("myTrades", window), -1127)
    response = public(
        "aggTrades", {"symbol": "BTCUSDT", "startTime": 0, "endTime": 3600 * 1000 + 1}
    )
    assert (response.status, response.body["code"]) == (400, -1127)


def test_a_bad_combination_of_optional_parameters_is_1128(alice):
    refused(
        lambda: alice.api.get(
            "myTrades", {"symbol": "BTCUSDT", "fromId": 1, "startTime": now_ms()}
        ),
        -1128,
        msg="Combination of optional parameters invalid.",
    )
    for path in ("ticker/24hr", "ticker/price", "ticker/bookTicker", "ticker"):
        response = public(path, {"symbol": "BTCUSDT", "symbols": '["ETHUSDT"]'})
        assert (response.status, response.body["code"]) == (400, -1128), path


@pytest.mark.parametrize(
    "path, params",
    [
        ("depth", {"limit": "0"}),
        ("trades", {"limit": "-1"}),
        ("historicalTrades", {"fromId": "-5"}),
        ("ticker", {"windowSize": "8d"}),
        ("ticker", {"windowSize": "1d2h"}),
        ("ticker/24hr", {"type": "SMALL"}),
        ("ticker/24hr", {"symbols": "[]"}),
        ("klines", {"interval": "1m", "timeZone": "8"}),
    ],
)
def test_invalid_parameter_data_is_1130(symbols, path, params):
    query = {**params}
    if "symbols" not in params:
        query["symbol"] = "BTCUSDT"
    response = public(path, query)
    assert (response.status, response.body["code"]) == (400, -1130), response.body


def test_invalid_order_parameter_data_is_1130(alice):
    for extra in (
        {"newOrderRespType": "ALL"},
        {"selfTradePreventionMode": "DECREMENT"},
    ):
        refused(lambda extra=extra: alice.api.post("order", {**LIMIT, **extra}), -1130)
    refused(
        lambda: alice.api.get("allOrders", {"symbol": "BTCUSDT", "limit": "0"}), -1130
    )
    refused(lambda: alice.api.get("account", {"omitZeroBalances": "yes"}), -1130)


def test_an_order_more_precise_than_the_step_is_a_lot_size_failure(alice):
    """Binance answers -1111 when a quantity has more places than the asset keeps;
    here it fails the LOT_SIZE step (-1013), which covers the same case."""
    refused(
        lambda: alice.api.post("order", {**LIMIT, "quantity": "0.000000001"}),
        -1013,
        msg="Filter failure: LOT_SIZE",
    )


# --- -1013: filters ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, name",
    [
        ({"price": "50000.001"}, "PRICE_FILTER"),
        ({"price": "0"}, "PRICE_FILTER"),
        ({"quantity": "0.000001"}, "LOT_SIZE"),
        ({"quantity": "0.000015"}, "LOT_SIZE"),
        ({"quantity": "9000.00001"}, "LOT_SIZE"),
        ({"quantity": "0.00001", "price": "100"}, "NOTIONAL"),
    ],
)
def test_filter_failures_are_1013(alice, params, name):
    refused(
        lambda: alice.api.post("order", {**LIMIT, **params}),
        -1013,
        msg=f"Filter failure: {name}",
    )


def test_price_filter_bounds_are_1013(alice):
    Symbol.objects.filter(symbol="BTCUSDT").update(min_price="1000", max_price="100000")
    for price in ("999.99", "100000.01"):
        refused(
            lambda price=price: alice.api.post("order", {**LIMIT, "price": price}),
            -1013,
            msg="Filter failure: PRICE_FILTER",
        )


def test_market_lot_size_is_1013(alice):
    Symbol.objects.filter(symbol="BTCUSDT").update(market_max_qty="0.5")
    market = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET"}
    refused(
        lambda: alice.api.post("order", {**market, "quantity": "0.6"}),
        -1013,
        msg="Filter failure: MARKET_LOT_SIZE",
    )
    refused(
        lambda: alice.api.post("order", {**market, "quantity": "0.000001"}),
        -1013,
        msg="Filter failure: MARKET_LOT_SIZE",
    )


def test_max_num_orders_is_1013(alice):
    Symbol.objects.filter(symbol="BTCUSDT").update(max_num_orders=2)
    assert alice.order(side="SELL", quantity="0.01", price="70001").status == 200
    refused(
        lambda: alice.order(side="SELL", quantity="0.01", price="70002"),
        -1013,
        msg="Filter failure: MAX_NUM_ORDERS",
    )


# --- -2010, -2011, -2013: the engine's refusals -------------------------------------


def test_insufficient_balance_is_2010(alice):
    msg = "Account has insufficient balance for requested action."
    refused(lambda: alice.order(quantity="0.21", price="50000"), -2010, msg=msg)
    refused(
        lambda: alice.order(side="SELL", quantity="0.995", price="80000"),
        -2010,
        msg=msg,
    )
    refused(
        lambda: alice.api.post(
            "order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quoteOrderQty": "1e4",
            },
        ),
        -1100,
    )
    refused(
        lambda: alice.api.post(
            "order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quoteOrderQty": "10000.01",
            },
        ),
        -2010,
        msg=msg,
    )


def test_a_closed_market_is_2010(alice):
    symbol_services.symbol_set_status(symbol="BTCUSDT", status="HALT")
    refused(lambda: alice.order(), -2010, msg="Market is closed.")
    refused(
        lambda: alice.api.post("order/test", {**LIMIT}), -2010, msg="Market is closed."
    )


def test_a_duplicate_open_client_order_id_is_2010(alice):
    first = alice.order(newClientOrderId="my-order-1")
    assert first.status == 200
    refused(
        lambda: alice.order(newClientOrderId="my-order-1", price="49000"),
        -2010,
        msg="Duplicate order sent.",
    )


def test_a_limit_maker_that_would_take_is_2010(alice, trader):
    bob = trader(USDT="10000")
    refused(
        lambda: bob.api.post(
            "order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT_MAKER",
                "quantity": "0.01",
                "price": "70000",
            },
        ),
        -2010,
        msg="Order would immediately match and take.",
    )


@pytest.mark.parametrize(
    "extra, msg",
    [
        (
            {"icebergQty": "0.001"},
            "Iceberg orders are not supported for this symbol.",
        ),
    ],
)
def test_unsupported_order_kinds_are_2010(alice, extra, msg):
    refused(lambda: alice.api.post("order", {**LIMIT, **extra}), -2010, msg=msg)


def test_cancelling_an_unknown_or_anothers_order_is_2011(alice, trader):
    msg = "Unknown order sent."
    mallory = trader(USDT="100")
    refused(
        lambda: alice.api.delete("order", {"symbol": "BTCUSDT", "orderId": 999}),
        -2011,
        msg=msg,
    )
    refused(
        lambda: mallory.api.delete("order", {"symbol": "BTCUSDT", "orderId": 1}),
        -2011,
        msg=msg,
    )
    refused(
        lambda: mallory.api.delete("openOrders", {"symbol": "BTCUSDT"}), -2011, msg=msg
    )


def test_cancelling_a_finished_order_is_2011(alice):
    placed = alice.order(side="SELL", quantity="0.01", price="71000").body
    lookup = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    assert alice.api.delete("order", lookup).status == 200
    refused(lambda: alice.api.delete("order", lookup), -2011)


def test_querying_an_unknown_or_anothers_order_is_2013(alice, trader):
    msg = "Order does not exist."
    mallory = trader()
    refused(
        lambda: alice.api.get("order", {"symbol": "BTCUSDT", "orderId": 999}),
        -2013,
        msg=msg,
    )
    refused(
        lambda: mallory.api.get("order", {"symbol": "BTCUSDT", "orderId": 1}),
        -2013,
        msg=msg,
    )
    refused(
        lambda: alice.api.get(
            "order", {"symbol": "BTCUSDT", "origClientOrderId": "never-sent"}
        ),
        -2013,
        msg=msg,
    )


# --- -1003, -1015: rate limits ------------------------------------------------------

FROZEN_CLOCK = SimpleNamespace(time=lambda: 1_800_000_030.0)


@pytest.fixture
def frozen_rate_clock():
    """Rate-limit windows are buckets of the clock; freeze it so that no window
    boundary falls inside a test."""
    with mock.patch("trading.api.ratelimit.time", FROZEN_CLOCK):
        yield


@override_settings(
    RATE_LIMITS={
        "enabled": True,
        "weight_per_minute": 30,
        "orders_per_10s": 100,
        "orders_per_day": 1000,
    }
)
def test_request_weight_over_the_limit_is_1003_with_429(symbols, frozen_rate_clock):
    first = public("exchangeInfo")
    assert first.status == 200
    assert first.headers["X-MBX-USED-WEIGHT-1M"] == "20"
    assert public("ping").headers["X-MBX-USED-WEIGHT-1M"] == "21"
    response = public("exchangeInfo")
    assert response.status == 429
    assert response.body["code"] == -1003
    assert response.body["msg"].startswith(
        "Too much request weight used; current limit is 30 request weight per 1 MINUTE."
    )
    # 30 s into the frozen minute: the window ends in 30 s (rounded up).
    assert response.headers["Retry-After"] == "31"
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "41"


@override_settings(
    RATE_LIMITS={
        "enabled": True,
        "weight_per_minute": 6000,
        "orders_per_10s": 2,
        "orders_per_day": 1000,
    }
)
def test_orders_over_the_limit_are_1015_with_429(alice, frozen_rate_clock):
    first = alice.order(price="40000")
    assert first.status == 200
    assert first.headers["X-MBX-ORDER-COUNT-10S"] == "1"
    assert first.headers["X-MBX-ORDER-COUNT-1D"] == "1"
    assert alice.order(price="40001").status == 200
    response = refused(lambda: alice.order(price="40002"), -1015, status=429)
    assert response.body["msg"] == (
        "Too many new orders; current limit is 2 orders per 10 SECOND."
    )
    assert "Retry-After" in response.headers
    # Reads and cancels are not orders.
    assert alice.api.get("openOrders", {"symbol": "BTCUSDT"}).status == 200
    cancel = alice.api.delete("order", {"symbol": "BTCUSDT", "orderId": 2})
    assert cancel.status == 200


# --- -1021, -1022, -2014, -2015: authentication -------------------------------------


def test_a_stale_or_future_timestamp_is_1021(alice):
    refused(
        lambda: alice.api.get("account", timestamp=now_ms() - 10_000),
        -1021,
        msg="Timestamp for this request is outside of the recvWindow.",
    )
    refused(
        lambda: alice.order(timestamp=now_ms() + 60_000),
        -1021,
        msg="Timestamp for this request was 1000ms ahead of the server's time.",
    )
    # A wider recvWindow lets the same old request through.
    assert (
        alice.api.get(
            "account", {"recvWindow": 60000}, timestamp=now_ms() - 10_000
        ).status
        == 200
    )


def test_a_bad_signature_is_1022(alice, trader):
    msg = "Signature for this request is not valid."
    refused(lambda: alice.order(signature="0" * 64), -1022, msg=msg)
    refused(lambda: alice.api.get("account", signature="not-hex"), -1022, msg=msg)
    # Signed with another key's secret.
    bob = trader()
    alice.api.secret, saved = bob.secret, alice.api.secret
    try:
        refused(lambda: alice.order(), -1022, msg=msg)
    finally:
        alice.api.secret = saved


def test_a_malformed_api_key_is_2014(alice):
    refused(
        lambda: alice.api.get("account", key="not a key!"),
        -2014,
        status=401,
        msg="API-key format invalid.",
    )


def test_unknown_revoked_read_only_and_wrong_ip_keys_are_2015(alice, trader):
    msg = "Invalid API-key, IP, or permissions for action."
    unknown = make_trader()
    unknown.api.key = "A" * 64
    refused(lambda: unknown.order(), -2015, status=401, msg=msg)

    revoked = trader(USDT="1000")
    assert revoked.api.get("account").status == 200  # now in the key cache
    account_services.apikey_revoke(
        user_id=revoked.user.id, key_id=revoked.user.api_keys.get().id
    )
    refused(lambda: revoked.order(), -2015, status=401, msg=msg)
    refused(lambda: revoked.api.get("account"), -2015, status=401, msg=msg)

    reader = trader(permissions=("read",), USDT="1000")
    assert reader.api.get("account").status == 200
    refused(lambda: reader.order(), -2015, status=401, msg=msg)
    refused(
        lambda: reader.api.delete("openOrders", {"symbol": "BTCUSDT"}),
        -2015,
        status=401,
    )

    elsewhere = trader(ips=("10.1.2.0/24",), USDT="1000")
    refused(lambda: elsewhere.order(), -2015, status=401, msg=msg)
    elsewhere.api.ip = "10.1.2.7"
    assert elsewhere.order().status == 200


def test_signed_endpoints_without_credentials_are_401(alice):
    for method, path in [
        ("GET", "account"),
        ("POST", "order"),
        ("GET", "openOrders"),
        ("DELETE", "order"),
    ]:
        response = public(path, LIMIT, method=method)
        assert (response.status, response.body["code"]) == (401, -1002), path


# --- HTTP-level refusals ----------------------------------------------------------


def test_unknown_paths_are_404_in_binance_shape(symbols):
    for path in (
        "nope",
        "orderList/opo",
        "sor/order",
        "userDataStream",
        "ticker/tradingDay",
        "myPreventedMatches",
        "account/commission",
        "myFilters",
    ):
        response = public(path)
        assert response.status == 404
        assert response.body == {
            "code": -1020,
            "msg": "This operation is not supported.",
        }


def test_an_unsupported_method_is_405_in_binance_shape(alice):
    response = alice.api.call("PUT", "order", LIMIT)
    assert (response.status, response.body["code"]) == (405, -1020)


def test_the_database_unavailable_is_503(alice):
    down = OperationalError("could not connect to server")
    with mock.patch("trading.symbols.selectors.symbols_list", side_effect=down):
        response = public("exchangeInfo")
    assert response.status == 503
    assert response.body == {
        "code": -1001,
        "msg": "Internal error; unable to process your request. Please try again.",
    }
    with mock.patch("trading.orders.selectors.orders_open", side_effect=down):
        response = alice.api.get("openOrders", {"symbol": "BTCUSDT"})
    assert (response.status, response.body["code"]) == (503, -1001)
    before = snapshot()
    with mock.patch("trading.orders.services.order_place", side_effect=down):
        response = alice.order()
    assert (response.status, response.body["code"]) == (503, -1001)
    assert snapshot() == before
