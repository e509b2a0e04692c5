"""What the order path takes and returns: plain values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from exchange.errors import ExchangeError
from trading.models import Order


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
class CancelReplace:
    """What cancel-replace did: each half succeeded or carries its refusal."""

    cancelled: Order | None = None
    cancel_error: ExchangeError | None = None
    placement: Placement | None = None
    place_error: ExchangeError | None = None
