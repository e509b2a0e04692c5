"""The rolling-window tickers ``<symbol>@ticker_<1h|4h|1d>`` and
``!ticker_<w>@arr``: Binance's documented fields (web-socket-streams.md,
"Individual Symbol Rolling Window Statistics Streams") with the values REST's
``/api/v3/ticker?windowSize=`` gives; pushed once a second after a trade and
never from a read that predates it; and end to end on a served stack."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest
import websockets
from asgiref.sync import async_to_sync
from django.core.cache import cache

from exchange import bus
from tests.trading.api.conftest import API_DB, public
from tests.trading.streams.conftest import cross
from tests.trading.streams.test_depth_continuity import Captured, Recorder
from trading.marketdata import selectors
from trading.marketdata.klines import DAY, HOUR, MINUTE
from trading.streams import payloads
from trading.streams.hub import Hub
from trading.streams.names import stream_parse

pytestmark = API_DB

WINDOWS = {"1h": HOUR, "4h": 4 * HOUR, "1d": DAY}
DECIMAL, INTEGER, TEXT = "decimal", "int", "str"
# Binance's payload, field by field.
WINDOW_TICKER_FIELDS = {
    "e": TEXT,
    "E": INTEGER,
    "s": TEXT,
    "p": DECIMAL,
    "P": DECIMAL,
    "o": DECIMAL,
    "h": DECIMAL,
    "l": DECIMAL,
    "c": DECIMAL,
    "w": DECIMAL,
    "v": DECIMAL,
    "q": DECIMAL,
    "O": INTEGER,
    "C": INTEGER,
    "F": INTEGER,
    "L": INTEGER,
    "n": INTEGER,
}
# The REST rolling-window ticker's field for each payload field.
REST_FIELD = {
    "s": "symbol",
    "p": "priceChange",
    "P": "priceChangePercent",
    "o": "openPrice",
    "h": "highPrice",
    "l": "lowPrice",
    "c": "lastPrice",
    "w": "weightedAvgPrice",
    "v": "volume",
    "q": "quoteVolume",
    "O": "openTime",
    "C": "closeTime",
    "F": "firstId",
    "L": "lastId",
    "n": "count",
}


def assert_shape(payload: dict, fields: dict) -> None:
    assert list(payload) == list(fields)
    for key, kind in fields.items():
        value = payload[key]
        if kind == INTEGER:
            assert type(value) is int, key
        else:
            assert type(value) is str, key
            if kind == DECIMAL:
                Decimal(value)  # a number, as a string


@pytest.mark.parametrize("window", list(WINDOWS))
def test_payload_has_binances_fields_and_rests_values(symbols, window):
    first = cross("60000", "0.02")
    last = cross("60100", "0.01")
    cache.clear()
    now = int(time.time() * 1000)
    body = selectors.ticker_window(
        symbol="BTCUSDT", window_ms=WINDOWS[window], now_ms=now, full=False
    )
    payload = payloads.window_ticker(now + 5, window, body)

    assert_shape(payload, WINDOW_TICKER_FIELDS)
    assert payload["e"] == f"{window}Ticker" and payload["E"] == now + 5
    assert (payload["F"], payload["L"], payload["n"]) == (
        first.trade_id,
        last.trade_id,
        2,
    )
    assert (payload["o"], payload["c"]) == ("60000.00000000", "60100.00000000")
    assert payload["v"] == "0.03000000"
    # The window opens on a whole minute, up to 59,999 ms before now - window.
    assert payload["O"] % MINUTE == 0 and payload["C"] == now
    assert 0 <= (now - WINDOWS[window]) - payload["O"] < MINUTE

    rest = public("ticker", {"symbol": "BTCUSDT", "windowSize": window}).body
    for key, name in REST_FIELD.items():
        if key not in ("O", "C"):
            assert payload[key] == rest[name], key


def test_server_shutdown_payload():
    assert payloads.server_shutdown(1770123456789) == {
        "e": "serverShutdown",
        "E": 1770123456789,
    }
    assert payloads.in_microseconds(payloads.server_shutdown(1770123456789)) == {
        "e": "serverShutdown",
        "E": 1770123456789000,
    }


def test_microseconds_convert_the_window_tickers_times_only(symbols):
    cross("60000")
    now = int(time.time() * 1000)
    body = selectors.ticker_window(
        symbol="BTCUSDT", window_ms=HOUR, now_ms=now, full=False
    )
    payload = payloads.window_ticker(now, "1h", body)
    micro = payloads.in_microseconds(payload)
    for key in ("E", "O", "C"):
        assert micro[key] == payload[key] * 1000
    for key in ("F", "L", "n"):
        assert micro[key] == payload[key]


def told_of_a_trade(hub: Hub, price: str):
    """A trade at ``price``, its messages given to ``hub`` as the bus would, with
    the selectors' one-second cache emptied; the trade row."""
    with Captured() as captured:
        trade = cross(price)
        messages = captured.drain()
    cache.clear()
    for message in messages:
        hub.on_message(bus.MARKET, message)
    return trade


@pytest.mark.parametrize(
    ("name", "read", "event"),
    [
        ("btcusdt@ticker_4h", "_window_ticker", "4hTicker"),
        ("btcusdt@ticker", "_ticker", "24hrTicker"),
    ],
)
def test_a_read_that_predates_the_trade_is_read_again(symbols, name, read, event):
    """The selector caches a ticker for a second: a read in that second after a
    trade still has the figures from before it. The hub reads again the next
    second instead of sending them as the change, and sends nothing more until
    the next trade."""
    hub = Hub()
    recorder = Recorder()
    stream = stream_parse(name)
    real = getattr(hub, read)
    window = (stream.interval,) if stream.kind == "windowTicker" else ()
    reads: list = []

    async def subscribe():
        hub.subscribe(recorder, stream)
        await asyncio.gather(*hub.tasks)  # the first payload, before any trade
        reads.append(await real("BTCUSDT", *window))

    async def the_cached_one_first(symbol, *window):
        return reads.pop() if reads else await real(symbol, *window)

    async_to_sync(subscribe)()
    assert [e["n"] for e in recorder.events] == [0]
    setattr(hub, read, the_cached_one_first)
    trade = told_of_a_trade(hub, "61000")

    async_to_sync(hub._tick_second)()  # reads the pre-trade figures: nothing
    assert len(recorder.events) == 1
    async_to_sync(hub._tick_second)()  # reads again: the trade
    assert len(recorder.events) == 2
    sent = recorder.events[-1]
    assert sent["e"] == event
    assert (sent["n"], sent["L"], sent["c"]) == (1, trade.trade_id, "61000.00000000")
    async_to_sync(hub._tick_second)()  # no trade since: nothing
    assert len(recorder.events) == 2


@pytest.mark.parametrize(
    ("name", "read", "event"),
    [
        ("btcusdt@ticker_1h", "_window_ticker", "1hTicker"),
        ("btcusdt@ticker", "_ticker", "24hrTicker"),
    ],
)
def test_a_read_that_failed_is_read_again(symbols, name, read, event):
    """A read after a trade that fails (the database away for a moment) leaves
    the ticker due: the next second's read sends the trade."""
    hub = Hub()
    recorder = Recorder()
    stream = stream_parse(name)
    real = getattr(hub, read)
    failures = [None]

    async def failing_once(symbol, *window):
        return failures.pop() if failures else await real(symbol, *window)

    hub.topics.setdefault(stream.topic, {})[recorder] = [stream]
    setattr(hub, read, failing_once)
    trade = told_of_a_trade(hub, "61000")

    async_to_sync(hub._tick_second)()  # the read fails: nothing
    assert recorder.events == []
    async_to_sync(hub._tick_second)()  # read again: the trade
    assert [(e["e"], e["n"], e["L"]) for e in recorder.events] == [
        (event, 1, trade.trade_id)
    ]


def test_a_failed_read_is_logged_once_a_minute_and_a_refusal_never(symbols, caplog):
    """The database away shows in the log, once a minute however many reads
    fail; an unknown symbol is a refusal, not a failure."""
    hub = Hub()

    def down(**kwargs):
        raise ConnectionError("database away")

    def minute_passes(seconds: float) -> None:
        hub._read_failure_logged_at -= seconds

    read = async_to_sync(hub._read)
    with caplog.at_level("WARNING", logger="trading.streams.hub"):
        assert read(selectors.depth_get, symbol="NOSUCH", limit=5) is None
        assert caplog.records == []
        assert read(down) is None
        assert read(down) is None
        minute_passes(59)
        assert read(down) is None
        assert [r.getMessage() for r in caplog.records] == [
            "stream hub: down failed; what it feeds waits for the next read"
        ]
        assert caplog.records[0].exc_info[0] is ConnectionError
        minute_passes(1)
        assert read(down) is None
        assert len(caplog.records) == 2
        assert read(selectors.depth_get, symbol="BTCUSDT", limit=5) is not None


def test_all_market_array_holds_only_the_symbols_that_traded(symbols):
    hub = Hub()
    recorder = Recorder()
    for name in ("!ticker_1h@arr", "!ticker_1d@arr", "ethbtc@ticker_1h"):
        hub.topics.setdefault(stream_parse(name).topic, {})[recorder] = [
            stream_parse(name)
        ]
    told_of_a_trade(hub, "60000")
    for symbol in ("ETHUSDT", "ETHBTC"):
        hub._state(symbol).tickers_due = {}  # known, nothing traded
    async_to_sync(hub._tick_second)()
    arrays = [e for e in recorder.events if isinstance(e, list)]
    assert [[t["e"] for t in a] for a in arrays] == [["1hTicker"], ["1dTicker"]]
    assert all(a[0]["s"] == "BTCUSDT" and a[0]["n"] == 1 for a in arrays)
    assert not [e for e in recorder.events if isinstance(e, dict)]  # ETHBTC quiet


def test_served_streams_send_the_trade(served, background):
    """Combined (from the URL) and raw (by SUBSCRIBE) connections to uvicorn
    receive the windows' tickers of a trade."""
    url = f"ws://{served}/stream?streams=btcusdt@ticker_1h/!ticker_4h@arr"
    sockets: dict = {}
    frames: list = []  # everything received, for the message if one never comes

    async def connect():
        sockets["combined"] = await websockets.connect(url)
        sockets["raw"] = raw = await websockets.connect(f"ws://{served}/ws/0")
        await raw.send(
            json.dumps(
                {"method": "SUBSCRIBE", "params": ["btcusdt@ticker_1d"], "id": 7}
            )
        )
        assert json.loads(await raw.recv()) == {"result": None, "id": 7}

    async def combined_until(trade_id: int) -> dict:
        """Frames by stream, the first of each that tells of the trade."""
        seen: dict = {}
        while {"btcusdt@ticker_1h", "!ticker_4h@arr"} - set(seen):
            frame = json.loads(await sockets["combined"].recv())
            frames.append(frame)
            data = frame["data"]
            last = data[-1] if isinstance(data, list) else data
            if last["L"] == trade_id:
                seen.setdefault(frame["stream"], data)
        return seen

    async def raw_until(trade_id: int) -> dict:
        while True:
            event = json.loads(await sockets["raw"].recv())
            frames.append(event)
            assert event["e"] == "1dTicker"
            if event["L"] == trade_id:
                return event

    async def close():
        for ws in sockets.values():
            await ws.close()

    background.run(connect())
    try:
        # Whatever the first payloads held, the trade must come through.
        trade = cross("62000")
        try:
            seen = background.run(combined_until(trade.trade_id))
        except TimeoutError:
            pytest.fail(f"no ticker of trade {trade.trade_id} in {frames}")
        one = seen["btcusdt@ticker_1h"]
        assert_shape(one, WINDOW_TICKER_FIELDS)
        assert (one["e"], one["s"], one["c"], one["n"]) == (
            "1hTicker",
            "BTCUSDT",
            "62000.00000000",
            1,
        )
        assert [t["e"] for t in seen["!ticker_4h@arr"]] == ["4hTicker"]
        event = background.run(raw_until(trade.trade_id))
        assert_shape(event, WINDOW_TICKER_FIELDS)
        assert event["c"] == "62000.00000000"
    finally:
        background.run(close())
