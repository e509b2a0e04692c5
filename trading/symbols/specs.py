"""A symbol's rules in the engine's units: filters, and Decimal <-> ticks and lots.

Prices become integer ticks, quantities integer lots and quote amounts integer
``tick * lot`` units, once on the way in; the way out multiplies back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from accounts import services as funds
from exchange import errors
from exchange.errors import ExchangeError

ZERO = Decimal(0)
# The NOTIONAL filter's maximum for a symbol that sets none, as exchangeInfo shows it.
DEFAULT_MAX_NOTIONAL = Decimal(9_000_000)
# The TRAILING_DELTA filter, in BIPS, the same on every symbol and for orders
# triggered from above and from below (Binance's defaults).
MIN_TRAILING_DELTA = 10
MAX_TRAILING_DELTA = 2000


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

    def stop_ticks(self, stop_price: Decimal) -> int:
        """PRICE_FILTER applied to a stop price, then the stop price in ticks."""
        return self.price_ticks(stop_price)

    def trailing_delta_check(self, delta: int) -> None:
        """TRAILING_DELTA: the delta in BIPS within the filter's range."""
        if not MIN_TRAILING_DELTA <= delta <= MAX_TRAILING_DELTA:
            raise filter_failure("TRAILING_DELTA")

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


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite amount: {value}")
    return max(0, -exponent)


def symbol_filters_problems(
    *,
    base: str,
    quote: str,
    tick_size: Decimal,
    step_size: Decimal,
    min_qty: Decimal,
    max_qty: Decimal,
    min_price: Decimal = ZERO,
    max_price: Decimal = ZERO,
    market_max_qty: Decimal = ZERO,
    min_notional: Decimal = ZERO,
    max_notional: Decimal = ZERO,
    max_num_orders: int = 200,
    maker_fee: Decimal = Decimal("0.001"),
    taker_fee: Decimal = Decimal("0.001"),
) -> list[str]:
    """What is incoherent in a symbol's filters and fees, empty if nothing.

    The rules of ``symbol_create`` (every price * quantity exact in the quote asset,
    every quantity in the base), plus the bounds of the optional maxima. Raises the
    unknown-asset refusal for an asset that does not exist.
    """
    base_places = funds.asset_decimals(base)
    quote_places = funds.asset_decimals(quote)
    problems = []
    if base == quote:
        problems.append("base and quote must differ")
    if tick_size <= 0 or step_size <= 0:
        problems.append("tick and step sizes must be positive")
    else:
        if _places(step_size) > base_places:
            problems.append(f"stepSize finer than {base}'s {base_places} places")
        if _places(tick_size) + _places(step_size) > quote_places:
            problems.append(
                f"tickSize * stepSize finer than {quote}'s {quote_places} places"
            )
        if min_qty % step_size or max_qty % step_size:
            problems.append("minQty and maxQty must be multiples of stepSize")
        if market_max_qty % step_size:
            problems.append("marketMaxQty must be a multiple of stepSize")
        if min_price % tick_size or max_price % tick_size:
            problems.append("minPrice and maxPrice must be multiples of tickSize")
    if not (0 < min_qty <= max_qty):
        problems.append("need 0 < minQty <= maxQty")
    if market_max_qty < 0:
        problems.append("marketMaxQty must be 0 (same as maxQty) or positive")
    if min_price < 0 or max_price < 0 or (max_price and max_price < min_price):
        problems.append("need 0 <= minPrice <= maxPrice (maxPrice 0: no maximum)")
    if (
        min_notional < 0
        or max_notional < 0
        or (max_notional and max_notional < min_notional)
    ):
        problems.append(
            "need 0 <= minNotional <= maxNotional (maxNotional 0: no maximum)"
        )
    if max_num_orders < 1:
        problems.append("maxNumOrders must be at least 1")
    if not (0 <= maker_fee < 1 and 0 <= taker_fee < 1):
        problems.append("fees must be in [0, 1)")
    return problems
