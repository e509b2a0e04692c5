"""Writes of symbols: creating a pair with coherent filters, and its status."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from exchange import errors
from exchange.errors import ExchangeError
from trading.models import Symbol
from trading.symbols.locks import pair_locked, symbol_lock
from trading.symbols.specs import symbol_filters_problems

ZERO = Decimal(0)


def symbol_create(
    *,
    symbol: str,
    base: str,
    quote: str,
    tick_size: Decimal,
    step_size: Decimal,
    min_qty: Decimal,
    max_qty: Decimal,
    min_notional: Decimal = ZERO,
    maker_fee: Decimal = Decimal("0.001"),
    taker_fee: Decimal = Decimal("0.001"),
    min_price: Decimal = ZERO,
    max_price: Decimal = ZERO,
    max_num_orders: int = 200,
    market_max_qty: Decimal = ZERO,
    max_notional: Decimal = ZERO,
) -> Symbol:
    """Create a trading pair after checking that its filters are coherent: every
    price * quantity must be exact in the quote asset, every quantity in the base."""
    filters: dict[str, Any] = dict(
        tick_size=tick_size,
        step_size=step_size,
        min_qty=min_qty,
        max_qty=max_qty,
        min_notional=min_notional,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        min_price=min_price,
        max_price=max_price,
        max_num_orders=max_num_orders,
        market_max_qty=market_max_qty,
        max_notional=max_notional,
    )
    problems = symbol_filters_problems(base=base, quote=quote, **filters)
    if problems:
        raise ExchangeError(errors.INVALID_PARAMETER, "; ".join(problems))
    return Symbol.objects.create(symbol=symbol, base_id=base, quote_id=quote, **filters)


def symbol_set_status(*, symbol: str, status: str) -> Symbol:
    """TRADING, HALT (no new orders, cancels still accepted) or BREAK."""
    if status not in Symbol.Status.values:
        raise ExchangeError(errors.INVALID_PARAMETER, f"Unknown status {status!r}.")
    with pair_locked(symbol), transaction.atomic():
        row = symbol_lock(symbol)
        row.status = status
        row.save(update_fields=["status"])
        return row
