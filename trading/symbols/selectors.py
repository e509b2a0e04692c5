"""Reads of symbols: the row, and its rules (:class:`SymbolSpec`) as the order
path and the market-data reads use them."""

from __future__ import annotations

import time

from accounts import services as funds
from exchange import errors
from trading.models import Symbol
from trading.symbols.specs import DEFAULT_MAX_NOTIONAL, SymbolSpec


def symbol_spec(row: Symbol) -> SymbolSpec:
    return SymbolSpec(
        symbol=row.symbol,
        base=row.base_id,
        quote=row.quote_id,
        status=row.status,
        tick_size=row.tick_size,
        min_price=row.min_price,
        max_price=row.max_price,
        step_size=row.step_size,
        min_qty=row.min_qty,
        max_qty=row.max_qty,
        market_max_qty=row.market_max_qty,
        min_notional=row.min_notional,
        max_notional=row.max_notional or DEFAULT_MAX_NOTIONAL,
        max_num_orders=row.max_num_orders,
        maker_fee=row.maker_fee,
        taker_fee=row.taker_fee,
        base_decimals=funds.asset_decimals(row.base_id),
        quote_decimals=funds.asset_decimals(row.quote_id),
    )


_specs_by_row: dict[tuple, SymbolSpec] = {}


def symbol_spec_cached(row) -> SymbolSpec:
    """``symbol_spec`` for a row read under the lock, reused while the symbol's
    filters and fees are unchanged."""
    key = (
        row.symbol,
        row.base_id,
        row.quote_id,
        row.status,
        row.tick_size,
        row.min_price,
        row.max_price,
        row.step_size,
        row.min_qty,
        row.max_qty,
        row.market_max_qty,
        row.min_notional,
        row.max_notional,
        row.max_num_orders,
        row.maker_fee,
        row.taker_fee,
    )
    spec = _specs_by_row.get(key)
    if spec is None:
        if len(_specs_by_row) > 1000:
            _specs_by_row.clear()
        spec = _specs_by_row[key] = symbol_spec(row)
    return spec


def symbol_get(symbol: str) -> Symbol:
    row = Symbol.objects.filter(symbol=symbol).first()
    if row is None:
        raise errors.bad_symbol()
    return row


_specs_by_name: dict[str, tuple[float, SymbolSpec]] = {}
SPEC_SECONDS = 1.0


def symbol_spec_get(symbol: str) -> SymbolSpec:
    """The symbol's rules for reads, kept in this process for a second (filters
    rarely change, and every order re-reads them under the pair lock). An unknown
    symbol is -1121 and is not remembered."""
    now = time.monotonic()
    held = _specs_by_name.get(symbol)
    if held is not None and now - held[0] < SPEC_SECONDS:
        return held[1]
    spec = symbol_spec(symbol_get(symbol))
    if len(_specs_by_name) > 10_000:
        _specs_by_name.clear()
    _specs_by_name[symbol] = (now, spec)
    return spec


def spec_cache_clear() -> None:
    _specs_by_name.clear()


def symbols_list(symbols: list[str] | None = None) -> list[Symbol]:
    rows = Symbol.objects.order_by("symbol")
    if symbols is not None:
        rows = list(rows.filter(symbol__in=symbols))
        if len(rows) != len(symbols):
            raise errors.bad_symbol()
    return list(rows)
