"""What the order path takes and returns: plain values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from exchange.errors import ExchangeError
from trading.models import Order, OrderAmendment, OrderList


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order, already parsed into types (the API layer checks the shape)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str | None = None
    new_client_order_id: str | None = None
    self_trade_prevention_mode: str = "EXPIRE_MAKER"
    # Stop orders: stopPrice and/or trailingDelta (BIPS).
    stop_price: Decimal | None = None
    trailing_delta: int | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill from the taker's point of view, as Binance's FULL response shows it."""

    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int


@dataclass(slots=True)
class Placement:
    """What ``order_place`` did: the order as stored, and its fills."""

    order: Order
    fills: list[Fill] = field(default_factory=list)


@dataclass(slots=True)
class ListPlacement:
    """What ``order_list_place`` did: the list, its legs as stored (in leg
    order) and each leg's own fills."""

    order_list: OrderList
    orders: list[Order]
    fills: dict[int, list[Fill]] = field(default_factory=dict)


@dataclass(slots=True)
class ListCancel:
    """A cancelled order list and its legs, as they ended."""

    order_list: OrderList
    orders: list[Order]


@dataclass(slots=True)
class Amendment:
    """What a keep-priority amendment did: the order as it is now, its client id
    before, the amendment row, and the order's list if it is a leg."""

    order: Order
    orig_client_order_id: str
    amendment: OrderAmendment
    order_list: OrderList | None = None
    list_orders: list[Order] = field(default_factory=list)


@dataclass(slots=True)
class CancelReplace:
    """What cancel-replace did: each half succeeded or carries its refusal."""

    cancelled: Order | None = None
    cancel_error: ExchangeError | None = None
    placement: Placement | None = None
    place_error: ExchangeError | None = None
