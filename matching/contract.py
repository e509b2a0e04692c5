"""The engine's vocabulary: Binance enum strings and the command/result dataclasses.

Everything here is plain data. Prices are integer ticks, quantities integer lots and
quote amounts integer ``tick * lot`` units (the units of ``price * qty``), all
converted once at the edge of the engine by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

BUY = "BUY"
SELL = "SELL"

LIMIT = "LIMIT"
MARKET = "MARKET"
LIMIT_MAKER = "LIMIT_MAKER"

GTC = "GTC"
IOC = "IOC"
FOK = "FOK"

STP_NONE = "NONE"
EXPIRE_TAKER = "EXPIRE_TAKER"
EXPIRE_MAKER = "EXPIRE_MAKER"
EXPIRE_BOTH = "EXPIRE_BOTH"

NEW = "NEW"
PARTIALLY_FILLED = "PARTIALLY_FILLED"
FILLED = "FILLED"
CANCELED = "CANCELED"
EXPIRED = "EXPIRED"
EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"
REJECTED = "REJECTED"

SIDES = frozenset({BUY, SELL})
ORDER_TYPES = frozenset({LIMIT, MARKET, LIMIT_MAKER})
TIME_IN_FORCES = frozenset({GTC, IOC, FOK})
STP_MODES = frozenset({STP_NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH})

# Reject reasons, returned in PlaceResult.reject_reason.
WOULD_TAKE = "WOULD_TAKE"
INVALID_PRICE = "INVALID_PRICE"
INVALID_QTY = "INVALID_QTY"

# Prices must fit a signed 64-bit column; the bound also lets the engine use one
# integer sentinel for "no limit" instead of a special case in the hot loop.
MAX_PRICE = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A command to place one order.

    ``order_id`` is the arrival sequence: unique within a book and, for new orders,
    greater than every id placed before, because it is the time priority. ``price``
    and ``qty`` apply to LIMIT and LIMIT_MAKER; a MARKET order gives either ``qty``
    (lots) or ``quote_qty`` (tick*lot units), never both. ``tif`` is ignored by
    MARKET (always immediate) and LIMIT_MAKER (always resting or rejected).
    """

    order_id: int
    owner: int
    side: str
    type: str
    tif: str = GTC
    price: int = 0
    qty: int = 0
    quote_qty: int = 0
    stp: str = STP_NONE


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """What happened to one placed order (the taker) and to the makers it met.

    ``fills`` holds ``(maker_id, maker_owner, price, qty, maker_remaining_after)`` in
    execution order; ``expired_makers`` holds ``(maker_id, maker_owner,
    maker_remaining)`` for makers removed by self-trade prevention. ``remaining`` is
    what now rests on the book (0 unless the order rests).
    """

    order_id: int
    status: str
    executed_qty: int
    executed_quote: int
    remaining: int
    fills: list
    expired_makers: list
    reject_reason: str | None = None


class PlaceResultBuilder:
    """Builds a PlaceResult equal to ``PlaceResult(...)`` with the same arguments.

    The ``__init__`` that dataclasses generate for a frozen class routes every field
    through ``object.__setattr__``, which costs about as much as matching an order.
    This twin has the same slots, fills them with plain stores, then becomes a
    PlaceResult (allowed because the two layouts are identical): the caller gets
    the same immutable object for a third of the price, once per command. The
    engine's hottest path goes one step further and fills a bare
    ``object.__new__(PlaceResultBuilder)`` inline, saving the call itself.
    """

    __slots__ = PlaceResult.__slots__

    def __init__(
        self,
        order_id: int,
        status: str,
        executed_qty: int,
        executed_quote: int,
        remaining: int,
        fills: list,
        expired_makers: list,
        reject_reason: str | None,
    ) -> None:
        self.order_id = order_id
        self.status = status
        self.executed_qty = executed_qty
        self.executed_quote = executed_quote
        self.remaining = remaining
        self.fills = fills
        self.expired_makers = expired_makers
        self.reject_reason = reject_reason
        self.__class__ = PlaceResult  # type: ignore[assignment]


# make_result(order_id, status, executed_qty, executed_quote, remaining, fills,
#             expired_makers, reject_reason) -> PlaceResult
make_result = PlaceResultBuilder
