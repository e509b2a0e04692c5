"""Object-level access: another user's id is refused exactly like one that does not
exist (same status, same body), so that ids leak nothing, and nothing of theirs
changes. Through both kinds of credentials."""

from __future__ import annotations

import pytest

from tests.security.clients import snapshot
from tests.security.conftest import make_trader, place
from trading.models import Order

NOWHERE = 10**9
NEVER_SENT = "never-sent"


@pytest.fixture
def book(alice, bob):
    """On BTCUSDT: Alice's ask (1), Bob's open bid (2), Bob's ask (3) filled by
    Carol (4), Alice's second ask (5)."""
    carol = make_trader(USDT="100000")
    ids = {
        "alice_first": place(alice.user, "SELL", "0.02", "70000").order.order_id,
        "bob_open": place(
            bob.user, "BUY", "0.01", "50000", new_client_order_id="bob-open"
        ).order.order_id,
        "bob_filled": place(
            bob.user, "SELL", "0.01", "61000", new_client_order_id="bob-filled"
        ).order.order_id,
        "carol": place(carol.user, "BUY", "0.01", "61000").order.order_id,
        "alice_second": place(alice.user, "SELL", "0.02", "71000").order.order_id,
    }
    assert list(ids.values()) == [1, 2, 3, 4, 5]
    return ids


def alike(first, second) -> None:
    assert (first.status, first.body) == (second.status, second.body)


AUTH = ["jwt", "signed"]


@pytest.mark.parametrize("auth", AUTH)
def test_querying_anothers_order_is_no_such_order(alice, book, auth):
    client = alice.clients()[auth]
    before = snapshot()
    for theirs, missing in [
        ({"orderId": book["bob_open"]}, {"orderId": NOWHERE}),
        ({"origClientOrderId": "bob-open"}, {"origClientOrderId": NEVER_SENT}),
        (
            {"orderId": book["bob_open"], "origClientOrderId": "bob-open"},
            {"orderId": NOWHERE, "origClientOrderId": "bob-open"},
        ),
    ]:
        first = client.get("/api/v3/order", {"symbol": "BTCUSDT", **theirs})
        second = client.get("/api/v3/order", {"symbol": "BTCUSDT", **missing})
        alike(first, second)
        assert first.status == 400 and first.code == -2013
    assert snapshot() == before


@pytest.mark.parametrize("auth", AUTH)
def test_cancelling_anothers_order_is_unknown_order_and_leaves_it(alice, book, auth):
    client = alice.clients()[auth]
    before = snapshot()
    for theirs, missing in [
        ({"orderId": book["bob_open"]}, {"orderId": NOWHERE}),
        ({"origClientOrderId": "bob-open"}, {"origClientOrderId": NEVER_SENT}),
    ]:
        first = client.delete("/api/v3/order", {"symbol": "BTCUSDT", **theirs})
        second = client.delete("/api/v3/order", {"symbol": "BTCUSDT", **missing})
        alike(first, second)
        assert first.status == 400 and first.code == -2011
    assert snapshot() == before
    assert Order.objects.get(symbol_id="BTCUSDT", order_id=book["bob_open"]).is_open


NEW_ORDER = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "80000",
}


@pytest.mark.parametrize("auth", AUTH)
@pytest.mark.parametrize(
    "mode,new_order",
    [
        ("STOP_ON_FAILURE", NEW_ORDER),
        # The new order passes its filters but Alice cannot pay for it, so that
        # nothing is placed either way.
        ("ALLOW_FAILURE", {**NEW_ORDER, "quantity": "5"}),
    ],
)
def test_cancel_replace_of_anothers_order_is_unknown_order(
    alice, book, auth, mode, new_order
):
    client = alice.clients()[auth]
    before = snapshot()
    for theirs, missing in [
        ({"cancelOrderId": book["bob_open"]}, {"cancelOrderId": NOWHERE}),
        (
            {"cancelOrigClientOrderId": "bob-open"},
            {"cancelOrigClientOrderId": NEVER_SENT},
        ),
    ]:
        common = {**new_order, "cancelReplaceMode": mode}
        first = client.post("/api/v3/order/cancelReplace", {**common, **theirs})
        second = client.post("/api/v3/order/cancelReplace", {**common, **missing})
        alike(first, second)
        assert first.status == 400 and first.code == -2022, first.body
        assert first.body["data"]["cancelResponse"]["code"] == -2011
        if mode == "ALLOW_FAILURE":
            assert first.body["data"]["newOrderResponse"]["code"] == -2010
    assert snapshot() == before


@pytest.mark.parametrize("auth", AUTH)
def test_my_trades_by_anothers_order_id_is_empty_like_a_missing_one(alice, book, auth):
    client = alice.clients()[auth]
    for order_id in (book["bob_filled"], book["carol"]):
        first = client.get(
            "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": order_id}
        )
        second = client.get(
            "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": NOWHERE}
        )
        alike(first, second)
        assert first.status == 200 and first.body == []
    # Nor without an order id: Alice was in no trade.
    assert client.get("/api/v3/myTrades", {"symbol": "BTCUSDT"}).body == []


@pytest.mark.parametrize("auth", AUTH)
def test_all_orders_from_anothers_order_id_lists_only_mine(alice, book, auth):
    client = alice.clients()[auth]
    mine = {book["alice_first"], book["alice_second"]}
    listed = client.get("/api/v3/allOrders", {"symbol": "BTCUSDT"})
    assert {o["orderId"] for o in listed.body} == mine
    # From Bob's id, Carol's id or Alice's next own id: the same answer, as if the
    # ids in between did not exist.
    answers = [
        client.get("/api/v3/allOrders", {"symbol": "BTCUSDT", "orderId": order_id})
        for order_id in (book["bob_open"], book["carol"], book["alice_second"])
    ]
    for answer in answers[1:]:
        alike(answers[0], answer)
    assert [o["orderId"] for o in answers[0].body] == [book["alice_second"]]
    far = client.get("/api/v3/allOrders", {"symbol": "BTCUSDT", "orderId": NOWHERE})
    assert far.status == 200 and far.body == []


@pytest.mark.parametrize("auth", AUTH)
def test_open_orders_and_cancel_all_touch_only_mine(alice, bob, book, auth):
    client = alice.clients()[auth]
    opened = client.get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert {o["orderId"] for o in opened.body} == {
        book["alice_first"],
        book["alice_second"],
    }
    assert {o["orderId"] for o in client.get("/api/v3/openOrders").body} == {
        book["alice_first"],
        book["alice_second"],
    }
    cancelled = client.delete("/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert cancelled.status == 200
    assert {o["orderId"] for o in cancelled.body} == {
        book["alice_first"],
        book["alice_second"],
    }
    assert Order.objects.get(symbol_id="BTCUSDT", order_id=book["bob_open"]).is_open


@pytest.mark.parametrize("auth", AUTH)
def test_the_account_shows_only_mine(alice, bob, book, auth):
    body = alice.clients()[auth].get("/api/v3/account").body
    assert body["uid"] == alice.user.id
    usdt = next(b for b in body["balances"] if b["asset"] == "USDT")
    assert usdt["free"] == "100000.00000000"


def test_revoking_anothers_api_key_is_not_found_like_a_missing_one(alice, bob):
    before = snapshot()
    first = alice.bearer.delete(f"/api/v1/api-keys/{bob.signed.key_id}")
    second = alice.bearer.delete(f"/api/v1/api-keys/{NOWHERE}")
    alike(first, second)
    assert first.status == 404 and first.code == -1130
    assert snapshot() == before
    # Bob's key still works, and Alice's list does not show it.
    assert bob.signed.get("/api/v3/account").status == 200
    listed = alice.bearer.get("/api/v1/api-keys").body
    assert [k["id"] for k in listed] == [alice.signed.key_id]


def test_an_api_key_cannot_revoke_keys_even_its_own(alice):
    """Key management needs a logged-in user: a signed request is not enough."""
    answer = alice.signed.delete(f"/api/v1/api-keys/{alice.signed.key_id}")
    assert answer.status == 401 and answer.code == -1002
    assert alice.signed.get("/api/v3/account").status == 200
