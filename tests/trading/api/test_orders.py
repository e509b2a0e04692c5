"""The order endpoints through HTTP: where parameters may come from, client order
ids, response types, test orders, cancel-replace, open and past orders, trades."""

import pytest

from tests.trading.api.conftest import API_DB, snapshot

pytestmark = API_DB


def used_weight(response) -> int:
    return int(response.headers["X-MBX-USED-WEIGHT-1M"])


def cancel_replace(trader, **params):
    body = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": "51000",
        "cancelReplaceMode": "STOP_ON_FAILURE",
        **params,
    }
    return trader.api.post("order/cancelReplace", body=body)


def test_cancel_replace_success(trader):
    alice = trader(USDT="10000")
    old = alice.order(newClientOrderId="old").body
    response = cancel_replace(
        alice,
        cancelOrigClientOrderId="old",
        cancelNewClientOrderId="the-cancel",
        newClientOrderId="new",
        newOrderRespType="RESULT",
    )
    assert response.status == 200, response.body
    body = response.body
    assert (body["cancelResult"], body["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert body["cancelResponse"]["orderId"] == old["orderId"]
    assert body["cancelResponse"]["status"] == "CANCELED"
    assert body["cancelResponse"]["origClientOrderId"] == "old"
    assert body["cancelResponse"]["clientOrderId"] == "the-cancel"
    assert body["newOrderResponse"]["clientOrderId"] == "new"
    assert body["newOrderResponse"]["price"] == "51000.00000000"
    assert "fills" not in body["newOrderResponse"]
    assert alice.balance("USDT") == (9490, 510)


def test_cancel_replace_stop_on_failure_does_not_place(trader):
    alice = trader(USDT="10000")
    before = snapshot()
    response = cancel_replace(alice, cancelOrderId=999)
    assert response.status == 400
    assert response.body == {
        "code": -2022,
        "msg": "Order cancel-replace failed.",
        "data": {
            "cancelResult": "FAILURE",
            "newOrderResult": "NOT_ATTEMPTED",
            "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
            "newOrderResponse": None,
        },
    }
    assert snapshot() == before


def test_cancel_replace_allow_failure_places_anyway(trader):
    alice = trader(USDT="10000")
    response = cancel_replace(
        alice,
        cancelOrderId=999,
        cancelReplaceMode="ALLOW_FAILURE",
        newOrderRespType="ACK",
    )
    # Binance answers a partial success with 409.
    assert response.status == 409
    assert (response.body["code"], response.body["msg"]) == (
        -2021,
        "Order cancel-replace partially failed.",
    )
    data = response.body["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS")
    assert data["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    assert list(data["newOrderResponse"]) == [
        "symbol",
        "orderId",
        "orderListId",
        "clientOrderId",
        "transactTime",
    ]
    assert alice.api.get("openOrders", {"symbol": "BTCUSDT"}).body[0]["price"] == (
        "51000.00000000"
    )


def test_cancel_replace_cancelled_but_new_order_refused(trader):
    alice = trader(USDT="10000")
    old = alice.order().body
    response = cancel_replace(
        alice, cancelOrderId=old["orderId"], quantity="1", price="60000"
    )
    assert response.status == 409
    data = response.body["data"]
    assert response.body["code"] == -2021
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["cancelResponse"]["status"] == "CANCELED"
    assert data["newOrderResponse"] == {
        "code": -2010,
        "msg": "Account has insufficient balance for requested action.",
    }
    assert alice.balance("USDT") == (10000, 0)


def test_cancel_replace_both_failing(trader):
    alice = trader(USDT="10000")
    before = snapshot()
    response = cancel_replace(
        alice,
        cancelOrderId=999,
        cancelReplaceMode="ALLOW_FAILURE",
        quantity="1",
        price="60000",
    )
    assert response.status == 400
    assert response.body["code"] == -2022
    data = response.body["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "FAILURE")
    assert snapshot() == before


def test_my_trades_by_order_and_from_id(trader):
    seller = trader(BTC="1")
    buyer = trader(USDT="10000")
    for price in ("60000", "60001", "60002"):
        assert seller.order(side="SELL", price=price).status == 200
    taker = buyer.order(quantity="0.03", price="60002").body
    assert [f["tradeId"] for f in taker["fills"]] == [1, 2, 3]
    later = buyer.order(quantity="0.01", price="40000").body  # rests, no trade

    by_order = {"symbol": "BTCUSDT", "orderId": taker["orderId"]}
    every = buyer.api.get("myTrades", {"symbol": "BTCUSDT"})
    mine = buyer.api.get("myTrades", by_order)
    assert [t["id"] for t in mine.body] == [1, 2, 3]
    # Binance weighs a myTrades look-up by order at 5, others at 20.
    assert used_weight(mine) - used_weight(every) == 5
    assert [
        t["id"] for t in buyer.api.get("myTrades", {**by_order, "fromId": 2}).body
    ] == [2, 3]
    assert (
        buyer.api.get(
            "myTrades", {"symbol": "BTCUSDT", "orderId": later["orderId"]}
        ).body
        == []
    )
    assert [
        t["id"]
        for t in buyer.api.get("myTrades", {"symbol": "BTCUSDT", "fromId": 3}).body
    ] == [3]
    assert [
        t["orderId"] for t in seller.api.get("myTrades", {"symbol": "BTCUSDT"}).body
    ] == [1, 2, 3]


ORDER = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "50000",
}


@pytest.mark.parametrize(
    "query, body",
    [
        (ORDER, None),
        (None, ORDER),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"},
            {"timeInForce": "GTC", "quantity": "0.01", "price": "50000"},
        ),
    ],
    ids=["query", "body", "both"],
)
@pytest.mark.parametrize("signature_in", ["query", "body"])
def test_parameters_in_the_query_the_body_or_both(trader, query, body, signature_in):
    alice = trader(USDT="1000")
    response = alice.api.post("order", query, body, signature_in=signature_in)
    assert response.status == 200, response.body
    assert (response.body["price"], response.body["origQty"]) == (
        "50000.00000000",
        "0.01000000",
    )
    deleted = alice.api.delete(
        "order", None, {"symbol": "BTCUSDT", "orderId": response.body["orderId"]}
    )
    assert deleted.body["status"] == "CANCELED"


def test_a_parameter_in_both_query_and_body_takes_the_query_value(trader):
    """Binance: "If a parameter sent in both the query string and request body, the
    query string parameter will be used." Within one of them, twice is -1101."""
    alice = trader(USDT="1000")
    response = alice.api.post("order", ORDER, {"price": "40000", "quantity": "0.02"})
    assert response.status == 200, response.body
    assert (response.body["price"], response.body["origQty"]) == (
        "50000.00000000",
        "0.01000000",
    )
    twice = alice.api.post("order", ORDER, "price=40000&price=41000")
    assert (twice.status, twice.body["code"]) == (400, -1101)


def test_a_client_order_id_is_generated_when_absent(trader):
    alice = trader(USDT="10000")
    ids = {alice.order(price=str(40000 + i)).body["clientOrderId"] for i in range(3)}
    assert len(ids) == 3
    for client_id in ids:
        assert len(client_id) == 22
        assert all(c.isalnum() or c in "-_" for c in client_id)


def test_a_client_order_id_is_reusable_once_its_order_is_closed(trader, settings):
    """Binance's rule alone (the reuse window off)."""
    settings.CLIENT_ORDER_ID_REUSE_SECONDS = 0
    alice = trader(USDT="1000")
    first = alice.order(newClientOrderId="again").body
    refused = alice.order(newClientOrderId="again", price="49000")
    assert (refused.status, refused.body["code"]) == (400, -2010)
    cancel = alice.api.delete(
        "order", {"symbol": "BTCUSDT", "origClientOrderId": "again"}
    )
    assert cancel.body["orderId"] == first["orderId"]
    second = alice.order(newClientOrderId="again", price="49000")
    assert second.status == 200
    # origClientOrderId finds the newest order with that id.
    found = alice.api.get("order", {"symbol": "BTCUSDT", "origClientOrderId": "again"})
    assert (found.body["orderId"], found.body["status"]) == (
        second.body["orderId"],
        "NEW",
    )


def test_a_retried_order_is_placed_once_within_the_reuse_window(trader):
    """A client that lost the answer sends the order again with the same id:
    refused whether the first was filled, cancelled or is still open, on any
    symbol of the account, and the book and balances stay as the first left
    them."""
    alice = trader(USDT="1000")
    first = alice.order(newClientOrderId="retry-1", timeInForce="IOC")
    assert first.status == 200 and first.body["status"] == "EXPIRED"
    retried = alice.order(newClientOrderId="retry-1", timeInForce="IOC")
    assert (retried.status, retried.body) == (
        400,
        {"code": -2010, "msg": "Duplicate order sent."},
    )
    on_another_symbol = alice.order(
        symbol="ETHUSDT", newClientOrderId="retry-1", price="3000"
    )
    assert (on_another_symbol.status, on_another_symbol.body["code"]) == (400, -2010)
    placed = alice.order(newClientOrderId="retry-2").body
    alice.api.delete("order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
    again = alice.order(newClientOrderId="retry-2", price="49000")
    assert (again.status, again.body["code"]) == (400, -2010)
    other = trader(USDT="1000")
    assert other.order(newClientOrderId="retry-1").status == 200


def test_orig_client_order_id_on_query_cancel_and_cancel_replace(trader):
    alice = trader(USDT="10000")
    placed = alice.order(newClientOrderId="mine-1").body
    by_client_id = {"symbol": "BTCUSDT", "origClientOrderId": "mine-1"}
    query = alice.api.get("order", by_client_id)
    assert (query.status, query.body["orderId"]) == (200, placed["orderId"])
    both = alice.api.get("order", {**by_client_id, "orderId": placed["orderId"]})
    assert both.body["orderId"] == placed["orderId"]
    # With both, the order found by orderId must carry that client order id.
    mismatch = alice.api.get("order", {**by_client_id, "orderId": 999})
    assert (mismatch.status, mismatch.body["code"]) == (400, -2013)
    wrong_id = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    wrong = alice.api.delete("order", {**wrong_id, "origClientOrderId": "other"})
    assert (wrong.status, wrong.body["code"]) == (400, -2011)

    replaced = alice.api.post(
        "order/cancelReplace",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": "49000",
            "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrigClientOrderId": "mine-1",
            "newClientOrderId": "mine-2",
        },
    )
    assert replaced.status == 200
    assert replaced.body["cancelResponse"]["origClientOrderId"] == "mine-1"
    cancelled = alice.api.delete(
        "order",
        {"symbol": "BTCUSDT", "origClientOrderId": "mine-2", "newClientOrderId": "x"},
    )
    assert cancelled.status == 200
    assert (cancelled.body["origClientOrderId"], cancelled.body["clientOrderId"]) == (
        "mine-2",
        "x",
    )
    assert alice.balance("USDT") == (10000, 0)


def test_response_types_and_their_defaults(trader):
    seller = trader(BTC="1")
    buyer = trader(USDT="10000")
    ack = seller.order(side="SELL", price="60000", newOrderRespType="ACK").body
    assert set(ack) == {
        "symbol",
        "orderId",
        "orderListId",
        "clientOrderId",
        "transactTime",
    }
    result = seller.order(side="SELL", price="60001", newOrderRespType="RESULT").body
    assert result["status"] == "NEW" and "fills" not in result
    # LIMIT and MARKET default to FULL, LIMIT_MAKER to ACK.
    market = buyer.api.post(
        "order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.015"},
    ).body
    assert market["status"] == "FILLED"
    assert [(f["price"], f["qty"]) for f in market["fills"]] == [
        ("60000.00000000", "0.01000000"),
        ("60001.00000000", "0.00500000"),
    ]
    assert market["cummulativeQuoteQty"] == "900.00500000"
    maker = buyer.api.post(
        "order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT_MAKER",
            "quantity": "0.01",
            "price": "59000",
        },
    ).body
    assert "status" not in maker
    by_quote = buyer.api.post(
        "order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "MARKET",
            "quoteOrderQty": "120.0005",
            "newOrderRespType": "RESULT",
        },
    ).body
    # As much as 120.0005 USDT buys at 60001 in whole steps: 0.00199 BTC.
    assert (
        by_quote["origQuoteOrderQty"],
        by_quote["executedQty"],
        by_quote["cummulativeQuoteQty"],
    ) == ("120.00050000", "0.00199000", "119.40199000")


def test_a_test_order_validates_and_places_nothing(trader):
    alice = trader(USDT="10")
    before = snapshot()
    order = {**ORDER, "newClientOrderId": "dry-run"}
    # Funds are not checked by a test order, as on Binance.
    assert alice.api.post("order/test", order).body == {}
    assert snapshot() == before
    for bad, code in [
        ({"price": "50000.001"}, -1013),
        ({"symbol": "NOPE"}, -1121),
        ({"timeInForce": "DAY"}, -1115),
        ({"type": "MARKET"}, -1106),
    ]:
        response = alice.api.post("order/test", {**order, **bad})
        assert (response.status, response.body["code"]) == (400, code), bad
    assert snapshot() == before
    assert alice.api.get("allOrders", {"symbol": "BTCUSDT"}).body == []
    # A test order does not count against the order rate limit.
    counts = alice.api.get("rateLimit/order").body
    assert [c["count"] for c in counts] == [0, 0]


def test_open_orders_listed_and_cancelled_all_at_once(trader):
    alice = trader(USDT="10000", BTC="1", ETH="10")
    for price in ("49000", "48000"):
        assert alice.order(price=price).status == 200
    assert alice.order(side="SELL", price="70000").status == 200
    eth = alice.api.post(
        "order",
        {
            "symbol": "ETHUSDT",
            "side": "SELL",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "1",
            "price": "4000",
        },
    )
    assert eth.status == 200
    on_btc = alice.api.get("openOrders", {"symbol": "BTCUSDT"}).body
    assert [(o["side"], o["price"]) for o in on_btc] == [
        ("BUY", "49000.00000000"),
        ("BUY", "48000.00000000"),
        ("SELL", "70000.00000000"),
    ]
    everywhere = alice.api.get("openOrders").body
    assert [o["symbol"] for o in everywhere] == ["BTCUSDT"] * 3 + ["ETHUSDT"]

    cancelled = alice.api.delete("openOrders", {"symbol": "BTCUSDT"})
    assert cancelled.status == 200
    assert [o["status"] for o in cancelled.body] == ["CANCELED"] * 3
    assert [o["orderId"] for o in cancelled.body] == [o["orderId"] for o in on_btc]
    # One cancel request, one cancel id, as in Binance's example.
    assert len({o["clientOrderId"] for o in cancelled.body}) == 1
    assert [o["origClientOrderId"] for o in cancelled.body] == [
        o["clientOrderId"] for o in on_btc
    ]
    assert alice.api.get("openOrders", {"symbol": "BTCUSDT"}).body == []
    assert alice.balance("USDT") == (10000, 0)
    assert alice.balance("BTC") == (1, 0)
    assert alice.balance("ETH") == (9, 1)


def test_all_orders_by_order_id_time_and_limit(trader):
    alice = trader(USDT="10000")
    placed = [alice.order(price=str(40000 + i)).body for i in range(5)]
    alice.api.delete("order", {"symbol": "BTCUSDT", "orderId": placed[1]["orderId"]})
    every = alice.api.get("allOrders", {"symbol": "BTCUSDT"}).body
    assert [o["orderId"] for o in every] == [p["orderId"] for p in placed]
    assert [o["status"] for o in every] == ["NEW", "CANCELED", "NEW", "NEW", "NEW"]
    ids = [p["orderId"] for p in placed]

    def order_ids(**query):
        body = alice.api.get("allOrders", {"symbol": "BTCUSDT", **query}).body
        return [o["orderId"] for o in body]

    assert order_ids(orderId=ids[2]) == ids[2:]
    assert order_ids(orderId=ids[2], limit=2) == ids[2:4]
    assert order_ids(limit=2) == ids[3:]
    first, last = placed[0]["transactTime"], placed[-1]["transactTime"]
    assert order_ids(startTime=first, endTime=last) == ids
    assert order_ids(startTime=last + 1) == []
    assert order_ids(endTime=first - 1) == []
    assert alice.api.get("allOrders", {"symbol": "ETHUSDT"}).body == []


def test_order_counts_follow_orders_placed(trader):
    from types import SimpleNamespace
    from unittest import mock

    alice = trader(USDT="10000")
    with mock.patch(
        "trading.api.ratelimit.time", SimpleNamespace(time=lambda: 1_800_000_001.0)
    ):
        for i in range(3):
            placed = alice.order(price=str(40000 + i))
            assert placed.headers["X-MBX-ORDER-COUNT-10S"] == str(i + 1)
        refused = alice.order(price="0.001")  # a refused order still counts
        assert refused.status == 400
        alice.api.post("order/test", ORDER)
        alice.api.delete("order", {"symbol": "BTCUSDT", "orderId": 1})
        counts = alice.api.get("rateLimit/order").body
    assert [(c["interval"], c["count"]) for c in counts] == [
        ("SECOND", 4),
        ("DAY", 4),
    ]
    assert [c["limit"] for c in counts] == [100, 200000]


def test_timestamp_last_in_the_query_with_a_form_body(trader):
    alice = trader(USDT="1000")
    response = alice.api.post(
        "order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"},
        {"timeInForce": "GTC", "quantity": "0.01", "price": "50000"},
        timestamp_in="query",
    )
    assert response.status == 200, response.body


def test_client_order_ids_take_binances_characters(trader):
    """Client order ids take Binance's legal range, dots, colons and slashes
    included."""
    alice = trader(USDT="10000")
    for client_id in ("bot.v2:grid/7", "x-HNA2TXFJ" + "a" * 22, "A" * 36):
        placed = alice.order(newClientOrderId=client_id)
        assert placed.status == 200, placed.body
        found = alice.api.get(
            "order", {"symbol": "BTCUSDT", "origClientOrderId": client_id}
        )
        assert found.body["clientOrderId"] == client_id
    for client_id in ("A" * 37, "no spaces", "semi;colon"):
        refused = alice.order(newClientOrderId=client_id)
        assert (refused.status, refused.body["code"]) == (400, -1100)
        assert refused.body["msg"] == (
            "Illegal characters found in parameter 'newClientOrderId'; legal range "
            "is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'."
        )


def test_cancel_replace_checks_the_new_orders_filters_before_cancelling(trader):
    """Binance: "Filters and Order Count are evaluated before the processing of the
    cancellation and order placement occurs." """
    alice = trader(USDT="10000")
    old = alice.order().body
    before = snapshot()
    response = cancel_replace(alice, cancelOrderId=old["orderId"], price="50000.001")
    assert (response.status, response.body) == (
        400,
        {"code": -1013, "msg": "Filter failure: PRICE_FILTER"},
    )
    assert snapshot() == before


def test_a_jwt_works_where_a_signed_key_does(trader):
    from rest_framework_simplejwt.tokens import RefreshToken

    alice = trader(USDT="1000")
    token = str(RefreshToken.for_user(alice.user).access_token)
    client = alice.api.client
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    placed = client.post(
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000",
        content_type="application/x-www-form-urlencoded",
        **auth,
    )
    assert placed.status_code == 200, placed.json()
    listed = client.get("/api/v3/openOrders", {"symbol": "BTCUSDT"}, **auth)
    assert [o["orderId"] for o in listed.json()] == [placed.json()["orderId"]]
    account = client.get("/api/v3/account", **auth).json()
    assert account["canTrade"] is True
    bad = client.get("/api/v3/account", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert (bad.status_code, bad.json()["code"]) == (401, -1002)


def test_cancel_restrictions(trader):
    alice = trader(USDT="10000")
    resting = alice.order().body
    lookup = {"symbol": "BTCUSDT", "orderId": resting["orderId"]}
    wrong = alice.api.delete(
        "order", {**lookup, "cancelRestrictions": "ONLY_PARTIALLY_FILLED"}
    )
    assert (wrong.status, wrong.body["code"]) == (400, -2011)
    assert wrong.body["msg"] == "Order was not canceled due to cancel restrictions."
    bad = alice.api.delete("order", {**lookup, "cancelRestrictions": "SOMETIMES"})
    assert (bad.status, bad.body["code"]) == (400, -1145)
    ok = alice.api.delete("order", {**lookup, "cancelRestrictions": "ONLY_NEW"})
    assert (ok.status, ok.body["status"]) == (200, "CANCELED")
