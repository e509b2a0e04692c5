"""Refilling the market-data cache from the database (after a Redis flush or
failover): depth and recent trades, labelled with the symbol's book_seq."""

from __future__ import annotations

from django.db import transaction

from trading.marketdata import cache as market_cache
from trading.marketdata.selectors import depth_from_database
from trading.marketdata.shapes import trade_public
from trading.models import Symbol, Trade
from trading.symbols.selectors import symbol_spec_get


def market_cache_rebuild(*, symbol: str) -> dict:
    """Replace the cached depth and recent trades of ``symbol`` with what the
    database holds now. Returns what was written."""
    spec = symbol_spec_get(symbol)
    with transaction.atomic():
        # One snapshot for the seq, the book and the trades.
        seq = Symbol.objects.get(symbol=symbol).book_seq
        _, bids, asks = depth_from_database(
            symbol=symbol, spec=spec, limit=market_cache.DEPTH_LEVELS
        )
        trades = list(
            Trade.objects.filter(symbol_id=symbol).order_by("-trade_id")[
                : market_cache.RECENT_TRADES
            ]
        )
    market_cache.forget("depth", symbol)
    market_cache.forget("trades", symbol)
    market_cache.forget("trades-seq", symbol)
    market_cache.store_if_newer("depth", symbol, seq, {"bids": bids, "asks": asks})
    if trades:
        market_cache.trades_push(
            symbol, seq, [trade_public(t) for t in reversed(trades)]
        )
    return {"seq": seq, "bids": len(bids), "asks": len(asks), "trades": len(trades)}
