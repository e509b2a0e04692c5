"""The order endpoints through HTTP: where parameters may come from, client order
ids, response types, test orders, cancel-replace, open and past orders, trades."""

import pytest

from tests.api.conftest import snapshot

pytestmark = pytest.mark.django_db(transaction=True)


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
