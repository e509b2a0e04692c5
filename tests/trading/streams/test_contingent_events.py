"""Commands with stops and order lists publish to the live side like plain ones:
one market message per book_seq (so diff depth has no gap) and the user events of
every order they touched, the triggered stop included; a list's owner also gets
its listStatus when it is placed and when it ends."""

import json
import time
from decimal import Decimal

import pytest
from django.conf import settings

from exchange import bus
from exchange.redis import redis_client
from tests.factories import funded_user
from tests.trading.orders.test_order_lists import leg
from tests.trading.orders.test_stops import order, row
from trading.models import OrderList
from trading.orders import lists as order_lists
from trading.orders import services as order_services
from trading.streams.user_events import order_reports

pytestmark = pytest.mark.django_db(transaction=True)


class Bus:
    """Both channels of the bus: in process, or from Redis with REDIS_URL."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []
        self._stop = None
        self._pubsub = None

    def __enter__(self):
        if settings.REDIS_URL:
            self._pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(
                **{
                    bus.channel_name(bus.MARKET): None,
                    bus.channel_name(bus.USER): None,
                }
            )
        else:
            self._stop = bus.subscribe_local(
                lambda channel, m: self.messages.append((channel, m))
            )
        return self

    def drain(self) -> list[tuple[str, dict]]:
        assert bus.flush()
        if self._pubsub is not None:
            names = {bus.channel_name(c): c for c in (bus.MARKET, bus.USER)}
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                item = self._pubsub.get_message(timeout=0.2)
                if item is None:
                    continue
                channel = names[item["channel"].decode()]
                self.messages.append((channel, json.loads(item["data"])))
                deadline = time.monotonic() + 0.5
        return self.messages

    def __exit__(self, *exc):
        if self._stop:
            self._stop()
        if self._pubsub is not None:
            self._pubsub.close()


def test_a_triggered_stop_publishes_its_depth_and_its_owners_events(symbols):
    maker = funded_user(BTC="10", USDT="1000000")
    taker = funded_user(BTC="10", USDT="1000000")
    owner = funded_user(BTC="1")
    bidder = funded_user(USDT="100000")
    with Bus() as captured:
        order(maker, "SELL", "LIMIT", "0.01", "60000")
        order(taker, "BUY", "LIMIT", "0.01", "60000")
        stop = order(owner, "SELL", "STOP_LOSS_LIMIT", "0.5", "58000", stop="59000")
        order(bidder, "BUY", "LIMIT", "0.2", "58500")
        order(maker, "SELL", "LIMIT", "0.01", "59000")
        order(taker, "BUY", "LIMIT", "0.01", "59000")  # trades at 59000: triggers
        messages = captured.drain()

    market = [m for channel, m in messages if channel == bus.MARKET]
    seqs = [m["seq"] for m in market if m["s"] == "BTCUSDT"]
    assert seqs == list(range(seqs[0], seqs[0] + 6)), "one message per book_seq"
    last = market[-1]
    # The stop's rest (0.3) now shows at its limit price; the bid it sold into is gone.
    assert ["58000.00000000", "0.30000000"] in last["b"] + last["a"]
    tick, step = Decimal(last["tick"]), Decimal(last["step"])
    assert (int(Decimal("58000") / tick), int(Decimal("0.3") / step)) in [
        tuple(level) for level in last["top"][1]
    ]
    assert ["58500.00000000", "0.00000000"] in last["b"]

    stop_id = row(stop).order_id
    items = [
        tuple(item)
        for channel, m in messages
        if channel == bus.USER and m.get("k") == "orders"
        for item in m["items"]
    ]
    mine = [item for item in items if item[0] == owner.id and item[1] == stop_id]
    assert [item[2] for item in mine] == ["NEW", "TRADE"]
    assert any(item[0] == bidder.id and item[2] == "TRADE" for item in items)

    # The owner's executionReports carry the stop's fields, as Binance's do.
    reports = [
        report
        for channel, m in messages
        if channel == bus.USER and m.get("k") == "orders" and owner.id in m["users"]
        for report in order_reports(notice=m, user_ids={owner.id})[owner.id]
        if report["e"] == "executionReport"
    ]
    assert [r["x"] for r in reports] == ["NEW", "TRADE"]
    assert {r["P"] for r in reports} == {"59000.00000000"}
    assert {r["g"] for r in reports} == {-1}
    assert reports[-1]["W"] == row(stop).working_time


def owner_events(messages, user_id) -> list[dict]:
    return [
        event
        for channel, m in messages
        if channel == bus.USER and m.get("k") == "orders" and user_id in m["users"]
        for event in order_reports(notice=m, user_ids={user_id}).get(user_id, [])
    ]


def test_an_oco_publishes_list_status_after_its_legs_reports(symbols):
    maker = funded_user(BTC="10", USDT="1000000")
    taker = funded_user(BTC="10", USDT="1000000")
    owner = funded_user(BTC="1")
    buyer = funded_user(USDT="1000000")
    order(maker, "SELL", "LIMIT", "0.01", "60000")
    order(taker, "BUY", "LIMIT", "0.01", "60000")
    assert bus.flush()
    with Bus() as captured:
        placed = order_lists.order_list_place(
            user_id=owner.id,
            kind="OCO",
            list_client_order_id="my-oco",
            legs=[
                leg("SELL", "STOP_LOSS_LIMIT", "0.5", "58500", stop="59000"),
                leg("SELL", "LIMIT_MAKER", "0.5", "62000"),
            ],
        )
        order(buyer, "BUY", "LIMIT", "0.5", "62000")  # fills the limit leg
        messages = captured.drain()

    stop_id, limit_id = (o.order_id for o in placed.orders)
    list_id = placed.order_list.pk
    events = owner_events(messages, owner.id)
    assert [(e["e"], e.get("x") or e.get("l"), e.get("i")) for e in events] == [
        ("executionReport", "NEW", stop_id),
        ("executionReport", "NEW", limit_id),
        ("listStatus", "EXEC_STARTED", None),
        ("outboundAccountPosition", None, None),
        ("executionReport", "TRADE", limit_id),
        ("executionReport", "EXPIRED", stop_id),
        ("listStatus", "ALL_DONE", None),
        ("outboundAccountPosition", None, None),
    ]
    started, done = (e for e in events if e["e"] == "listStatus")
    legs = [
        {"s": "BTCUSDT", "i": stop_id, "c": placed.orders[0].client_order_id},
        {"s": "BTCUSDT", "i": limit_id, "c": placed.orders[1].client_order_id},
    ]
    assert list(started) == ["e", "E", "s", "g", "c", "l", "L", "r", "C", "T", "O"]
    assert started == {
        "e": "listStatus",
        "E": started["E"],
        "s": "BTCUSDT",
        "g": list_id,
        "c": "OCO",
        "l": "EXEC_STARTED",
        "L": "EXECUTING",
        "r": "NONE",
        "C": "my-oco",
        "T": placed.order_list.transaction_time,
        "O": legs,
    }
    row = OrderList.objects.get(pk=list_id)
    assert (done["l"], done["L"], done["O"]) == ("ALL_DONE", "ALL_DONE", legs)
    assert done["T"] == row.update_time > 0
    assert {e["g"] for e in events if e["e"] == "executionReport"} == {list_id}
    # The buyer's own events carry no list.
    assert all(e["e"] != "listStatus" for e in owner_events(messages, buyer.id))


def test_cancelling_an_oco_leg_publishes_all_done_after_both_cancels(symbols):
    owner = funded_user(BTC="1")
    order(funded_user(BTC="1"), "SELL", "LIMIT", "0.01", "60000")
    order(funded_user(USDT="1000"), "BUY", "LIMIT", "0.01", "60000")
    placed = order_lists.order_list_place(
        user_id=owner.id,
        kind="OCO",
        legs=[
            leg("SELL", "STOP_LOSS_LIMIT", "0.5", "58500", stop="59000"),
            leg("SELL", "LIMIT_MAKER", "0.5", "62000"),
        ],
    )
    stop_id, limit_id = (o.order_id for o in placed.orders)
    assert bus.flush()  # the placement's events are not the cancel's
    with Bus() as captured:
        order_services.order_cancel(
            user_id=owner.id, symbol="BTCUSDT", order_id=limit_id
        )
        messages = captured.drain()
    events = owner_events(messages, owner.id)
    assert [(e["e"], e.get("x") or e.get("l"), e.get("i")) for e in events] == [
        ("executionReport", "CANCELED", stop_id),
        ("executionReport", "CANCELED", limit_id),
        ("listStatus", "ALL_DONE", None),
        ("outboundAccountPosition", None, None),
    ]
    assert events[2]["C"] == placed.order_list.list_client_order_id


def test_an_amendment_publishes_its_level_and_replaced_reports(symbols):
    """An amendment takes a book_seq like any command: without its market message
    the diff depth had a gap (the hub waited, then jumped) and the owner heard
    nothing. Now: the shrunk level, x=REPLACED, and for an OCO leg whose client
    id changed, listStatus UPDATED after both legs' reports."""
    from trading.orders import amend as order_amend

    owner = funded_user(BTC="2", USDT="100000")
    order(funded_user(BTC="1"), "SELL", "LIMIT", "0.01", "60000")
    order(funded_user(USDT="1000"), "BUY", "LIMIT", "0.01", "60000")
    resting = order(owner, "BUY", "LIMIT", "0.5", "55000")
    placed = order_lists.order_list_place(
        user_id=owner.id,
        kind="OCO",
        legs=[
            leg("SELL", "STOP_LOSS_LIMIT", "1", "58500", stop="59000"),
            leg("SELL", "LIMIT_MAKER", "1", "62000"),
        ],
    )
    stop_id, limit_id = (o.order_id for o in placed.orders)
    assert bus.flush()
    with Bus() as captured:
        for order_id, qty, client_id in (
            (row(resting).order_id, "0.2", None),
            (limit_id, "0.4", "smaller"),
        ):
            order_amend.order_amend_keep_priority(
                user_id=owner.id,
                symbol="BTCUSDT",
                order_id=order_id,
                orig_client_order_id=None,
                new_client_order_id=client_id,
                new_qty=Decimal(qty),
            )
        messages = captured.drain()

    market = [m for channel, m in messages if channel == bus.MARKET]
    assert [m["seq"] for m in market] == [market[0]["seq"], market[0]["seq"] + 1]
    assert market[0]["b"] == [["55000.00000000", "0.20000000"]]
    assert market[1]["a"] == [["62000.00000000", "0.40000000"]]
    events = owner_events(messages, owner.id)
    assert [(e["e"], e.get("x") or e.get("l"), e.get("i")) for e in events] == [
        ("executionReport", "REPLACED", row(resting).order_id),
        ("outboundAccountPosition", None, None),
        ("executionReport", "REPLACED", stop_id),
        ("executionReport", "REPLACED", limit_id),
        ("listStatus", "UPDATED", None),
        ("outboundAccountPosition", None, None),
    ]
    replaced = [e for e in events if e["e"] == "executionReport"]
    assert [(e["q"], e["X"]) for e in replaced] == [
        ("0.20000000", "NEW"),
        ("0.40000000", "NEW"),  # the OCO's legs share one quantity
        ("0.40000000", "NEW"),
    ]
    assert replaced[2]["c"] == "smaller"
    updated = next(e for e in events if e["e"] == "listStatus")
    assert updated["L"] == "EXECUTING"
    assert {"s": "BTCUSDT", "i": limit_id, "c": "smaller"} in updated["O"]
