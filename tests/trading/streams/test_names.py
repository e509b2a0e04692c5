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
        ("btcusdt@ticker_1h", "windowTicker", "BTCUSDT", {"interval": "1h"}),
        ("ethbtc@ticker_4h", "windowTicker", "ETHBTC", {"interval": "4h"}),
        ("btcusdt@ticker_1d", "windowTicker", "BTCUSDT", {"interval": "1d"}),
        ("!ticker_1h@arr", "allWindowTicker", "", {"interval": "1h"}),
        ("!ticker_4h@arr", "allWindowTicker", "", {"interval": "4h"}),
        ("!ticker_1d@arr", "allWindowTicker", "", {"interval": "1d"}),
        # Accepted, never sent on: no block trades, no reference prices.
        ("btcusdt@blockTrade", "blockTrade", "BTCUSDT", {}),
        ("btcusdt@referencePrice", "referencePrice", "BTCUSDT", {}),
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


def test_window_tickers_are_their_own_topics():
    """One topic per window: a 1h subscriber must not get 4h payloads."""
    topics = {stream_parse(f"btcusdt@ticker_{w}").topic for w in ("1h", "4h", "1d")}
    topics |= {stream_parse(f"!ticker_{w}@arr").topic for w in ("1h", "4h", "1d")}
    topics.add(stream_parse("btcusdt@ticker").topic)
    assert len(topics) == 7


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
        "!ticker@arr",  # retired by Binance on 2026-03-26
        "!bookTicker",  # removed by Binance in 2022
        "btcusdt@ticker_2h",  # windows are 1h, 4h and 1d only
        "btcusdt@ticker_1w",
        "btcusdt@ticker_",
        "btcusdt@ticker_1h@arr",
        "!ticker_1h",
        "!ticker_2h@arr",
        "!ticker_1h@arr@1000ms",
        "!ticker_1H@arr",
        "BTCUSDT@ticker_1h",
        "btcusdt@blocktrade",  # names are case-sensitive
        "btcusdt@referenceprice",
        "btcusdt@referencePrice@1000ms",
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
