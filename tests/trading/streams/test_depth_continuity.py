"""Diff depth continues the REST ``lastUpdateId`` without a gap: the bus carries
one message per ``book_seq``, and a local book kept from them by Binance's rule
equals ``/api/v3/depth`` after a burst of random orders. Then the same messages
go through the hub delivered out of order (as several processes publish them),
and its merged depth events chain ``U == previous u + 1`` and rebuild the same
book."""

import json
import os
import random
import time
from decimal import Decimal

import pytest
from django.conf import settings

from exchange import bus
from tests.factories import funded_user
from tests.trading.api.conftest import API_DB
from tests.trading.streams.burst import (
    FUNDS,
    MARKETS,
    book_apply,
    book_sorted,
    order_burst,
)
from trading.marketdata import selectors as market_selectors
from trading.marketdata.shapes import amount
from trading.streams.hub import Hub
from trading.streams.names import stream_parse

pytestmark = API_DB
ORDERS = int(os.environ.get("STREAM_BURST_ORDERS", "600"))


class Captured:
    """Market messages from the bus: in process, or from Redis with REDIS_URL."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self._stop = None
        self._pubsub = None

    def __enter__(self):
        if settings.REDIS_URL:
            from exchange.redis import redis_client

            self._pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(bus.channel_name(bus.MARKET))
        else:
            self._stop = bus.subscribe_local(
                lambda channel, m: (
                    self.messages.append(m) if channel == bus.MARKET else None
                )
            )
        return self

    def drain(self) -> list[dict]:
        assert bus.flush()
        if self._pubsub is not None:
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                item = self._pubsub.get_message(timeout=0.2)
                if item is None:
                    continue
                self.messages.append(json.loads(item["data"]))
                deadline = time.monotonic() + 0.5
        return self.messages

    def __exit__(self, *exc):
        if self._stop:
            self._stop()
        if self._pubsub is not None:
            self._pubsub.close()


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def deliver(self, stream, payload, raw) -> None:
        self.events.append(payload)

    def deliver_user(self, subscription_id, event) -> None:
        pass


@pytest.fixture
def traders(symbols):
    return [funded_user(**FUNDS) for _ in range(4)]


def test_local_books_from_diffs_equal_rest_depth(traders):
    with Captured() as captured:
        outcomes = order_burst(users=traders, count=ORDERS)
        messages = captured.drain()
    assert outcomes.get("market", 0) and outcomes.get("cancel", 0)

    for symbol in MARKETS:
        mine = [m for m in messages if m["s"] == symbol]
        seqs = [m["seq"] for m in mine]
        rest = market_selectors.depth_get(symbol=symbol, limit=5000)
        # One message per book_seq, from the first to the one REST reports.
        assert seqs == list(range(1, rest["lastUpdateId"] + 1))
        bids: dict = {}
        asks: dict = {}
        for message in mine:
            book_apply(bids, message["b"])
            book_apply(asks, message["a"])
        assert book_sorted(bids, bids=True) == rest["bids"]
        assert book_sorted(asks, bids=False) == rest["asks"]
        # The top of the book each message carries is the book at that seq.
        tick, step = Decimal(mine[-1]["tick"]), Decimal(mine[-1]["step"])
        bids_top, asks_top = mine[-1]["top"]
        assert [[amount(p * tick), amount(q * step)] for p, q in bids_top] == rest[
            "bids"
        ][:20]
        assert [[amount(p * tick), amount(q * step)] for p, q in asks_top] == rest[
            "asks"
        ][:20]

    # Through the hub, delivered out of order within a small window.
    hub = Hub()
    recorder = Recorder()
    for symbol in MARKETS:
        hub.subscribe(recorder, stream_parse(f"{symbol.lower()}@depth@100ms"))
    hub.tasks.clear()  # the first-payload reads are not part of this test
    shuffled = list(messages)
    rng = random.Random(3)
    for start in range(0, len(shuffled), 4):
        window = shuffled[start : start + 4]
        rng.shuffle(window)
        shuffled[start : start + 4] = window
    for index, message in enumerate(shuffled):
        hub.on_message(bus.MARKET, message)
        if index % 7 == 0:
            for symbol, state in hub.symbols.items():
                hub._flush_diffs(symbol, state, (100,))
    for symbol, state in hub.symbols.items():
        assert not state.pending
        hub._flush_diffs(symbol, state, (100,))
    assert hub.gaps == 0
    for symbol in MARKETS:
        events = [e for e in recorder.events if e["s"] == symbol]
        assert events[0]["U"] == 1
        for before, after in zip(events, events[1:], strict=False):
            assert after["U"] == before["u"] + 1
        bids, asks = {}, {}
        for event in events:
            book_apply(bids, event["b"])
            book_apply(asks, event["a"])
        rest = market_selectors.depth_get(symbol=symbol, limit=5000)
        assert events[-1]["u"] == rest["lastUpdateId"]
        assert book_sorted(bids, bids=True) == rest["bids"]
        assert book_sorted(asks, bids=False) == rest["asks"]
        # The partial depth streams' levels, written out by the hub.
        assert hub.symbols[symbol].top() == (rest["bids"][:20], rest["asks"][:20])


def test_a_lost_message_shows_as_a_jump_in_U(traders):
    hub = Hub()
    recorder = Recorder()
    hub.subscribe(recorder, stream_parse("btcusdt@depth"))
    base = {"k": "commit", "s": "BTCUSDT", "E": 1, "top": [[], []], "t": []}
    base.update(tick="0.01", step="0.0001")
    for seq in (1, 2, 4, 5):
        hub.on_message(
            bus.MARKET,
            {**base, "seq": seq, "b": [[f"{seq}.00000000", "1.00000000"]], "a": []},
        )
    state = hub.symbols["BTCUSDT"]
    assert state.seq == 2 and sorted(state.pending) == [4, 5]
    state.gap_deadline = 0  # the wait for seq 3 is over
    hub._skip_gap("BTCUSDT", state)
    hub._flush_diffs("BTCUSDT", state, (1000,))
    assert [(e["U"], e["u"]) for e in recorder.events] == [(1, 2), (4, 5)]
    assert hub.gaps == 1


def test_partial_depth_and_book_ticker_write_out_the_levels_a_commit_sent(
    traders, monkeypatch
):
    hub = Hub()
    recorder = Recorder()
    # The first-payload reads are not part of this test.
    monkeypatch.setattr(hub, "_spawn", lambda coro: coro.close())
    hub.subscribe(recorder, stream_parse("btcusdt@bookTicker"))
    hub.subscribe(recorder, stream_parse("btcusdt@depth5@100ms"))
    commit = {"k": "commit", "s": "BTCUSDT", "E": 1, "b": [], "a": [], "t": []}
    top = [[[6000000, 1500], [5999900, 20]], [[6000100, 1]]]
    hub.on_message(
        bus.MARKET, {**commit, "seq": 1, "top": top, "tick": "0.01", "step": "0.0001"}
    )
    state = hub.symbols["BTCUSDT"]
    with pytest.raises(StopIteration):  # the 100 ms tick, which never waits
        hub._tick_fast().send(None)
    ticker, depth = recorder.events
    assert (ticker["b"], ticker["B"], ticker["a"], ticker["A"]) == (
        "60000.00000000",
        "0.15000000",
        "60001.00000000",
        "0.00010000",
    )
    assert depth["bids"] == [
        ["60000.00000000", "0.15000000"],
        ["59999.00000000", "0.00200000"],
    ]
    assert depth["asks"] == [["60001.00000000", "0.00010000"]]

    # A commit from a process that still writes the levels out.
    hub.on_message(
        bus.MARKET,
        {**commit, "seq": 2, "tb": [["1.00000000", "2.00000000"]], "ta": []},
    )
    assert state.top() == ([["1.00000000", "2.00000000"]], [])
    assert recorder.events[-1]["b"] == "1.00000000"
