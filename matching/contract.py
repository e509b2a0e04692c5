"""The engine's vocabulary: Binance enum strings, the command tuple, the results.

Everything here is plain data. Prices are integer ticks, quantities integer lots and
quote amounts integer ``tick * lot`` units (the units of ``price * qty``), all
converted once at the edge of the engine by the caller. ``trailing_delta`` is in
BIPS (1 = 0.01%), as Binance takes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

BUY = "BUY"
SELL = "SELL"

LIMIT = "LIMIT"
MARKET = "MARKET"
LIMIT_MAKER = "LIMIT_MAKER"
STOP_LOSS = "STOP_LOSS"
STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
TAKE_PROFIT = "TAKE_PROFIT"
TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"

GTC = "GTC"
IOC = "IOC"
FOK = "FOK"

STP_NONE = "NONE"
EXPIRE_TAKER = "EXPIRE_TAKER"
EXPIRE_MAKER = "EXPIRE_MAKER"
EXPIRE_BOTH = "EXPIRE_BOTH"

NEW = "NEW"
PENDING_NEW = "PENDING_NEW"
PARTIALLY_FILLED = "PARTIALLY_FILLED"
FILLED = "FILLED"
CANCELED = "CANCELED"
EXPIRED = "EXPIRED"
EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"
REJECTED = "REJECTED"

SIDES = frozenset({BUY, SELL})
ORDER_TYPES = frozenset({LIMIT, MARKET, LIMIT_MAKER})
STOP_TYPES = frozenset({STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT})
ALL_ORDER_TYPES = ORDER_TYPES | STOP_TYPES
TIME_IN_FORCES = frozenset({GTC, IOC, FOK})
STP_MODES = frozenset({STP_NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH})

# Reject reasons, returned in PlaceResult.reject_reason.
WOULD_TAKE = "WOULD_TAKE"
INVALID_PRICE = "INVALID_PRICE"
INVALID_QTY = "INVALID_QTY"
INVALID_STOP = "INVALID_STOP"  # no stop price and no trailing delta, or out of range
WOULD_TRIGGER = "WOULD_TRIGGER"  # Binance: "Order would trigger immediately."
PRICE_RELATIONSHIP = "PRICE_RELATIONSHIP"  # an OCO's legs against the last price

# Order lists (Binance's contingencyType is OCO or OTO; an OTOCO reports OTO).
OCO = "OCO"
OTO = "OTO"
OTOCO = "OTOCO"
LIST_KINDS = frozenset({OCO, OTO, OTOCO})

# How many BIPS make the whole price (1 BIP = 0.01%).
BIPS = 10_000

# Prices must fit a signed 64-bit column; the bound also lets the engine use one
# integer sentinel for "no limit" instead of a special case in the hot loop.
MAX_PRICE = (1 << 63) - 1


class NewOrder(NamedTuple):
    """The arguments of ``OrderBook.place``, in its order, as one tuple.

    The engine takes plain arguments (``book.place(order_id, owner, side, type,
    tif, price, qty)``); this tuple names them for callers and tests that keep a
    command around (``book.place(*cmd)``), and is how order-list legs are given.

    ``order_id`` is the arrival sequence: unique within a book and, for new orders,
    greater than every id placed before, because it is the time priority. ``price``
    and ``qty`` apply to LIMIT and LIMIT_MAKER; a MARKET order gives either ``qty``
    (lots) or ``quote_qty`` (tick*lot units), never both. ``tif`` is ignored by
    MARKET (always immediate) and LIMIT_MAKER (always resting or rejected). Stop
    types give ``qty``, ``stop_price`` and/or ``trailing_delta`` (BIPS), and the
    ``*_LIMIT`` ones ``price`` and ``tif`` for the limit order they become.
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
    stop_price: int = 0
    trailing_delta: int = 0


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """What happened to one placed order (the taker) and to the makers it met.

    ``fills`` holds ``(maker_id, maker_owner, price, qty, maker_remaining_after)`` in
    execution order; ``expired_makers`` holds ``(maker_id, maker_owner,
    maker_remaining)`` for makers removed by self-trade prevention. ``remaining`` is
    what now rests on the book (0 unless the order rests; a stop order accepted
    into the trigger book is NEW with ``remaining`` 0).

    ``events`` is everything else the command did, in the order it happened (a
    tuple of ``Triggered``, ``OrderUpdate`` and ``Tracking``; empty for a plain
    book): stop orders triggered by the trades and executed, order-list legs
    expired or activated, trailing stops that moved. Only the result a command
    returns carries events; a ``Triggered`` event's own result has none.
    """

    order_id: int
    status: str
    executed_qty: int
    executed_quote: int
    remaining: int
    fills: list
    expired_makers: list
    reject_reason: str | None = None
    events: tuple = ()


@dataclass(frozen=True, slots=True)
class Triggered:
    """An order that started working in this command and was executed as a taker.

    A stop order whose condition the trades met, or the pending order of an OTO
    list whose working order filled. ``priority`` is the arrival sequence it now
    holds in the book (``order_id`` stays its identity): the command's own id + 1,
    + 2, ... in the order orders start working. The caller stores it, advances
    its id sequence past it, and gives it back to ``upsert(..., priority=)``.
    """

    order_id: int
    priority: int
    result: PlaceResult


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """An order whose status changed without it executing in this command.

    ``status`` is EXPIRED (the other leg of an OCO started working or ended; the
    working order of an OTO ended unfilled), CANCELED (``cancel_list``) or NEW (a
    PENDING_NEW stop leg entered the trigger book). ``lots`` is what it held: the
    remaining quantity on the book, or the quantity of a pending order.
    """

    order_id: int
    status: str
    lots: int


@dataclass(frozen=True, slots=True)
class Tracking:
    """A trailing stop's tracking state after this command: the caller persists it
    so that a rebuilt trigger book trails from the same point. ``extreme`` is the
    lowest (BUY) or highest (SELL) trade price since tracking began."""

    order_id: int
    extreme: int


@dataclass(frozen=True, slots=True)
class ListResult:
    """What happened to an order list placed with ``place_list``.

    ``reject_reason`` is None when the list was accepted; otherwise nothing was
    touched and ``legs`` is empty. ``legs`` has one ``PlaceResult`` per leg in the
    order given: the working order as it executed, pending legs PENDING_NEW, stop
    legs NEW (in the trigger book). ``events`` as in ``PlaceResult``.
    """

    list_id: int
    reject_reason: str | None
    legs: tuple
    events: tuple = ()


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
        events: tuple = (),
    ) -> None:
        self.order_id = order_id
        self.status = status
        self.executed_qty = executed_qty
        self.executed_quote = executed_quote
        self.remaining = remaining
        self.fills = fills
        self.expired_makers = expired_makers
        self.reject_reason = reject_reason
        self.events = events
        self.__class__ = PlaceResult  # type: ignore[assignment]


# make_result(order_id, status, executed_qty, executed_quote, remaining, fills,
#             expired_makers, reject_reason, events=()) -> PlaceResult
make_result: Callable[..., PlaceResult] = PlaceResultBuilder  # type: ignore[assignment]
