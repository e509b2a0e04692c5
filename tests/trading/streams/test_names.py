import pytest

from trading.streams.names import KLINE_INTERVALS, stream_parse, streams_from_path


@pytest.mark.parametrize(
    ("name", "kind", "symbol", "extra"),
    [
        ("btcusdt@trade", "trade", "BTCUSDT", {}),
        ("btcusdt@aggTrade", "aggTrade", "BTCUSDT", {}),
        ("ethbtc@bookTicker", "bookTicker", "ETHBTC", {}),
        ("btcusdt@miniTicker", "miniTicker", "BTCUSDT", {}),
        ("btcusdt@ticker", "ticker", "BTCUSDT", {}),
        ("btcusdt@avgPrice", "avgPrice", "BTCUSDT", {}),
        ("btcusdt@depth", "depth", "BTCUSDT", {"speed_ms": 1000}),
        ("btcusdt@depth@100ms", "depth", "BTCUSDT", {"speed_ms": 100}),
        ("btcusdt@depth@1000ms", "depth", "BTCUSDT", {"speed_ms": 1000}),
        ("btcusdt@depth5", "depthN", "BTCUSDT", {"levels": 5, "speed_ms": 1000}),
        ("btcusdt@depth20@100ms", "depthN", "BTCUSDT", {"levels": 20, "speed_ms": 100}),
        ("btcusdt@kline_1M", "kline", "BTCUSDT", {"interval": "1M"}),
        ("btcusdt@kline_1m@+08:00", "kline", "BTCUSDT", {"interval": "1m"}),
        ("!miniTicker@arr", "allMiniTicker", "", {}),
        ("!miniTicker@arr@1000ms", "allMiniTicker", "", {}),
        # Valid names for a symbol we do not list: accepted, they never send.
        ("xrpxrp@trade", "trade", "XRPXRP", {}),
    ],
)
def test_valid_names(name, kind, symbol, extra):
    stream = stream_parse(name)
    assert stream is not None
    assert (stream.name, stream.kind, stream.symbol) == (name, kind, symbol)
    for field, value in extra.items():
        assert getattr(stream, field) == value


def test_every_binance_kline_interval():
    assert len(KLINE_INTERVALS) == 16
    for interval in KLINE_INTERVALS:
        assert stream_parse(f"btcusdt@kline_{interval}").interval == interval


@pytest.mark.parametrize(
    "name",
    [
        "BTCUSDT@trade",  # symbols are lower case
        "btcusdt@depth7",
        "btcusdt@depth@250ms",
        "btcusdt@kline_2m",
        "btcusdt@unknown",
        "btcusdt",
        "",
        "0",
        "!ticker@arr",  # retired by Binance
        "btcusdt@trade" + "x" * 100,
        None,
        17,
        ["btcusdt@trade"],
    ],
)
def test_invalid_names(name):
    assert stream_parse(name) is None


def test_paths_clients_use():
    # python-binance: raw stream in the path.
    assert streams_from_path("/ws/btcusdt@trade", "") == (
        False,
        [stream_parse("btcusdt@trade")],
    )
    # ccxt: /ws/<index>, then SUBSCRIBE.
    assert streams_from_path("/ws/0", "") == (False, [])
    # Legacy connector: bare /ws.
    assert streams_from_path("/ws", "") == (False, [])
    # Binance SDK: bare /stream, combined.
    assert streams_from_path("/stream", "") == (True, [])
    combined, streams = streams_from_path(
        "/stream", "streams=btcusdt@trade/ethbtc@depth5&timeUnit=MICROSECOND"
    )
    assert combined and [s.name for s in streams] == ["btcusdt@trade", "ethbtc@depth5"]
    # URL-encoded names are accepted.
    assert streams_from_path("/ws/btcusdt%40depth%40100ms", "")[1] == [
        stream_parse("btcusdt@depth@100ms")
    ]
