"""Binance stream names: parsing and validation. Pure: no Django, no I/O.

A name is ``<symbol>@<kind>[@<options>]`` (the symbol lowercase, as Binance
documents), ``!miniTicker@arr`` (with python-binance's ``@1000ms`` suffix) or
``!ticker_<window>@arr``. The retired ``!ticker@arr`` and ``!bookTicker`` are not
names: Binance no longer serves them.
:func:`stream_parse` returns a :class:`Stream` whose ``topic`` is what the hub
fans out by; the name itself, as the client wrote it, is what the client gets
back (in ``LIST_SUBSCRIPTIONS`` and the combined wrapper's ``stream``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KLINE_INTERVALS = (
    "1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M".split()  # noqa: SIM905
)
PARTIAL_LEVELS = (5, 10, 20)
# The rolling-window tickers' windows: ``@ticker_<w>`` and ``!ticker_<w>@arr``.
TICKER_WINDOWS = ("1h", "4h", "1d")
MAX_NAME_LENGTH = 64

_SYMBOL = r"(?P<symbol>[a-z0-9]{2,20})"
_PATTERNS = [
    (re.compile(_SYMBOL + r"@(?P<kind>trade|aggTrade|blockTrade|bookTicker)"), None),
    (
        re.compile(_SYMBOL + r"@(?P<kind>miniTicker|ticker|avgPrice|referencePrice)"),
        None,
    ),
    (
        re.compile(_SYMBOL + r"@ticker_(?P<window>" + "|".join(TICKER_WINDOWS) + ")"),
        "windowTicker",
    ),
    (
        re.compile(
            _SYMBOL
            + r"@kline_(?P<interval>"
            + "|".join(KLINE_INTERVALS)
            + r")(?P<tz>@\+08:00)?"
        ),
        "kline",
    ),
    (
        re.compile(
            _SYMBOL + r"@depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|1000ms))?"
        ),
        "depth",
    ),
]
_ALL_MINI = re.compile(r"!miniTicker@arr(?:@1000ms)?")
_ALL_WINDOW = re.compile(r"!ticker_(?P<window>" + "|".join(TICKER_WINDOWS) + r")@arr")


@dataclass(frozen=True, slots=True)
class Stream:
    """A parsed stream name. ``kind`` is trade, aggTrade, blockTrade, bookTicker,
    miniTicker, ticker, windowTicker, avgPrice, referencePrice, kline, depth (diff)
    or depthN (partial), or allMiniTicker or allWindowTicker."""

    name: str
    kind: str
    symbol: str = ""  # upper case, as the exchange names it
    interval: str = ""  # kline interval, or the window of a rolling-window ticker
    levels: int = 0  # partial depth levels
    speed_ms: int = 1000  # depth update speed

    @property
    def topic(self) -> tuple:
        return (self.kind, self.symbol, self.interval, self.levels, self.speed_ms)


def stream_parse(name: object) -> Stream | None:
    """The stream ``name`` denotes, or None if it is not a valid stream name.

    A valid name for a symbol the exchange does not list is still valid (Binance
    accepts it and sends nothing)."""
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        return None
    if _ALL_MINI.fullmatch(name):
        return Stream(name=name, kind="allMiniTicker")
    match = _ALL_WINDOW.fullmatch(name)
    if match is not None:
        return Stream(name=name, kind="allWindowTicker", interval=match["window"])
    for pattern, kind in _PATTERNS:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        symbol = match["symbol"].upper()
        if kind == "kline":
            return Stream(
                name=name, kind="kline", symbol=symbol, interval=match["interval"]
            )
        if kind == "windowTicker":
            return Stream(name=name, kind=kind, symbol=symbol, interval=match["window"])
        if kind == "depth":
            speed = 100 if match["speed"] == "100ms" else 1000
            levels = int(match["levels"]) if match["levels"] else 0
            return Stream(
                name=name,
                kind="depthN" if levels else "depth",
                symbol=symbol,
                levels=levels,
                speed_ms=speed,
            )
        return Stream(name=name, kind=match["kind"], symbol=symbol)
    return None


def streams_from_path(path: str, query: str) -> tuple[bool, list[Stream]]:
    """(combined, streams) for a connection URL. ``/ws``, ``/ws/<anything>`` and
    ``/stream`` are all accepted; tokens that are not stream names (ccxt's
    ``/ws/0``) give an empty raw connection that subscribes later."""
    from urllib.parse import parse_qs, unquote

    if path.startswith("/stream"):
        combined = True
        names = []
        for value in parse_qs(query).get("streams", []):
            names += [unquote(part) for part in value.split("/") if part]
    else:
        combined = False
        rest = path[len("/ws") :].strip("/")
        names = [unquote(part) for part in rest.split("/") if part]
    streams = []
    for name in names:
        stream = stream_parse(name)
        if stream is not None and stream not in streams:
            streams.append(stream)
    return combined, streams
