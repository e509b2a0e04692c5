"""A symbol's rules in the engine's units: filters, and Decimal <-> ticks and lots.

Prices become integer ticks, quantities integer lots and quote amounts integer
``tick * lot`` units, once on the way in; the way out multiplies back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from exchange import errors
from exchange.errors import ExchangeError


def filter_failure(name: str) -> ExchangeError:
    return ExchangeError(
        errors.INVALID_MESSAGE,
        f"Filter failure: {name}",
        reason=f"filter_{name.lower()}",
    )


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    symbol: str
    base: str
    quote: str
    status: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    max_num_orders: int
    maker_fee: Decimal
    taker_fee: Decimal
    base_decimals: int
    quote_decimals: int

    @property
    def quote_unit(self) -> Decimal:
        """The value of one ``tick * lot`` unit in the quote asset."""
        return self.tick_size * self.step_size

    @property
    def base_quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.base_decimals)

    @property
    def quote_quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.quote_decimals)

    def price_ticks(self, price: Decimal) -> int:
        """PRICE_FILTER, then the price in ticks."""
        if price <= 0 or price < self.min_price:
            raise filter_failure("PRICE_FILTER")
        if self.max_price and price > self.max_price:
            raise filter_failure("PRICE_FILTER")
        ticks, rest = divmod(price, self.tick_size)
        if rest:
            raise filter_failure("PRICE_FILTER")
        return int(ticks)

    def qty_lots(self, qty: Decimal, *, market: bool = False) -> int:
        """LOT_SIZE (or MARKET_LOT_SIZE), then the quantity in lots."""
        name = "MARKET_LOT_SIZE" if market else "LOT_SIZE"
        ceiling = (self.market_max_qty or self.max_qty) if market else self.max_qty
        if qty <= 0 or qty < self.min_qty or qty > ceiling:
            raise filter_failure(name)
        lots, rest = divmod(qty, self.step_size)
        if rest:
            raise filter_failure(name)
        return int(lots)

    def quote_units(self, quote_qty: Decimal) -> int:
        """A quote amount in whole ``tick * lot`` units, rounded down."""
        return int((quote_qty / self.quote_unit).to_integral_value(rounding=ROUND_DOWN))

    def notional_check(self, notional: Decimal) -> None:
        """NOTIONAL: price * quantity within [minNotional, maxNotional]."""
        if notional < self.min_notional or (
            self.max_notional and notional > self.max_notional
        ):
            raise filter_failure("NOTIONAL")

    def price_of(self, ticks: int) -> Decimal:
        return ticks * self.tick_size

    def qty_of(self, lots: int) -> Decimal:
        return lots * self.step_size

    def quote_of(self, units: int) -> Decimal:
        return units * self.quote_unit

    def fee(self, amount: Decimal, rate: Decimal, quantum: Decimal) -> Decimal:
        """A fee on ``amount``, rounded down once to the asset's precision."""
        return (amount * rate).quantize(quantum, rounding=ROUND_DOWN)
