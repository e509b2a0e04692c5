"""The order endpoints through HTTP: where parameters may come from, client order
ids, response types, test orders, cancel-replace, open and past orders, trades."""

import pytest

from tests.api.conftest import snapshot

pytestmark = pytest.mark.django_db(transaction=True)


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
