"""Binance's stream payloads, built from the bus's messages and the REST
selectors' answers. Pure: no I/O. Prices and quantities are 8-decimal strings
(a removed level is exactly ``"0.00000000"``); ids and times are numbers."""

from __future__ import annotations

from decimal import Decimal

ZERO = "0.00000000"
_TIME_KEYS = ("E", "T", "O", "C", "t")


def trade(symbol: str, event_time: int, t: dict) -> dict:
    return {
        "e": "trade",
        "E": event_time,
        "s": symbol,
        "t": t["t"],
        "p": t["p"],
        "q": t["q"],
        "T": t["T"],
        "m": t["m"],
        "M": True,
    }


def agg_trade(symbol: str, event_time: int, t: dict) -> dict:
    """One aggregate per trade: ``a`` is the trade id, ``f`` = ``l`` = it."""
    return {
        "e": "aggTrade",
        "E": event_time,
        "s": symbol,
        "a": t["t"],
        "p": t["p"],
        "q": t["q"],
        "f": t["t"],
        "l": t["t"],
        "T": t["T"],
        "m": t["m"],
        "M": True,
    }


def depth_update(
    symbol: str, event_time: int, first: int, last: int, bids: dict, asks: dict
) -> dict:
    return {
        "e": "depthUpdate",
        "E": event_time,
        "s": symbol,
        "U": first,
        "u": last,
        "b": sorted(
            ([p, q] for p, q in bids.items()),
            key=lambda level: Decimal(level[0]),
            reverse=True,
        ),
        "a": sorted(
            ([p, q] for p, q in asks.items()), key=lambda level: Decimal(level[0])
        ),
    }


def partial_depth(seq: int, bids: list, asks: list, levels: int) -> dict:
    return {"lastUpdateId": seq, "bids": bids[:levels], "asks": asks[:levels]}


def book_ticker(seq: int, symbol: str, bids: list, asks: list) -> dict:
    bid = bids[0] if bids else [ZERO, ZERO]
    ask = asks[0] if asks else [ZERO, ZERO]
    return {"u": seq, "s": symbol, "b": bid[0], "B": bid[1], "a": ask[0], "A": ask[1]}


def kline(symbol: str, event_time: int, interval: str, row: list, closed: bool) -> dict:
    """From a REST kline array (``trading.marketdata.klines.kline_row``)."""
    return {
        "e": "kline",
        "E": event_time,
        "s": symbol,
        "k": {
            "t": row[0],
            "T": row[6],
            "s": symbol,
            "i": interval,
            "f": -1,
            "L": -1,
            "o": row[1],
            "c": row[4],
            "h": row[2],
            "l": row[3],
            "v": row[5],
            "n": row[8],
            "x": closed,
            "q": row[7],
            "V": row[9],
            "Q": row[10],
            "B": "0",
        },
    }


def mini_ticker(event_time: int, t: dict) -> dict:
    """From a REST 24 h ticker (``selectors.ticker_window(full=True)``)."""
    return {
        "e": "24hrMiniTicker",
        "E": event_time,
        "s": t["symbol"],
        "c": t["lastPrice"],
        "o": t["openPrice"],
        "h": t["highPrice"],
        "l": t["lowPrice"],
        "v": t["volume"],
        "q": t["quoteVolume"],
    }


def ticker(event_time: int, t: dict) -> dict:
    return {
        "e": "24hrTicker",
        "E": event_time,
        "s": t["symbol"],
        "p": t["priceChange"],
        "P": t["priceChangePercent"],
        "w": t["weightedAvgPrice"],
        "x": t["prevClosePrice"],
        "c": t["lastPrice"],
        "Q": t["lastQty"],
        "b": t["bidPrice"],
        "B": t["bidQty"],
        "a": t["askPrice"],
        "A": t["askQty"],
        "o": t["openPrice"],
        "h": t["highPrice"],
        "l": t["lowPrice"],
        "v": t["volume"],
        "q": t["quoteVolume"],
        "O": t["openTime"],
        "C": t["closeTime"],
        "F": t["firstId"],
        "L": t["lastId"],
        "n": t["count"],
    }


def window_ticker(event_time: int, window: str, t: dict) -> dict:
    """``<symbol>@ticker_<window>``, from a REST rolling-window ticker
    (``selectors.ticker_window(full=False)``): event ``1hTicker``, ``4hTicker``
    or ``1dTicker``; no previous close, last quantity or book, unlike
    ``24hrTicker``."""
    return {
        "e": f"{window}Ticker",
        "E": event_time,
        "s": t["symbol"],
        "p": t["priceChange"],
        "P": t["priceChangePercent"],
        "o": t["openPrice"],
        "h": t["highPrice"],
        "l": t["lowPrice"],
        "c": t["lastPrice"],
        "w": t["weightedAvgPrice"],
        "v": t["volume"],
        "q": t["quoteVolume"],
        "O": t["openTime"],
        "C": t["closeTime"],
        "F": t["firstId"],
        "L": t["lastId"],
        "n": t["count"],
    }


def server_shutdown(event_time: int) -> dict:
    """``serverShutdown``: the server is about to close the connection."""
    return {"e": "serverShutdown", "E": event_time}


def avg_price(symbol: str, event_time: int, avg: dict) -> dict:
    return {
        "e": "avgPrice",
        "E": event_time,
        "s": symbol,
        "i": f"{avg['mins']}m",
        "w": avg["price"],
        "T": avg["closeTime"],
    }


def in_microseconds(payload):
    """The payload with its times in microseconds (``timeUnit=MICROSECOND``)."""
    if isinstance(payload, list):
        return [in_microseconds(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    out = {}
    for key, value in payload.items():
        if key in _TIME_KEYS and isinstance(value, int) and value > 10**11:
            out[key] = value * 1000
        elif isinstance(value, dict):
            out[key] = in_microseconds(value)
        else:
            out[key] = value
    return out
