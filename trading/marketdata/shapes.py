"""The market-data shapes shared by REST and the streams: Binance's decimal
strings and the public trade."""

from __future__ import annotations

from decimal import Decimal

from trading.models import Trade


def amount(value: Decimal | int | None, places: int = 8) -> str:
    """A decimal as Binance writes it: a string with a fixed number of places."""
    if value is None:
        value = 0
    return f"{value:.{places}f}"


def trade_public(trade: Trade) -> dict:
    return {
        "id": trade.trade_id,
        "price": amount(trade.price),
        "qty": amount(trade.qty),
        "quoteQty": amount(trade.quote_qty),
        "time": trade.time,
        "isBuyerMaker": trade.is_buyer_maker,
        "isBestMatch": True,
    }
