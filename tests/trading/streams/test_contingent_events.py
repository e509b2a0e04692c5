"""Commands with stops and order lists publish to the live side like plain ones:
one market message per book_seq (so diff depth has no gap) and the user events of
every order they touched, the triggered stop included."""

import json
import time

import pytest
from django.conf import settings

from exchange import bus
from exchange.redis import redis_client
from tests.factories import funded_user
from tests.trading.orders.test_stops import order, row
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
    assert ["58000.00000000", "0.30000000"] in last["b"] + last["a"] + last["ta"]
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
