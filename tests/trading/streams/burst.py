"""A seeded burst of random orders across the three symbols: limits that rest
or cross, IOC and market orders, self-trades, cancels. Used by the diff-depth
tests, in process and against a served stack."""

from __future__ import annotations

import random
from decimal import Decimal

from exchange.errors import ExchangeError
from trading.models import OPEN_STATUSES, Order
from trading.orders import services as order_services
from trading.orders import types as order_types

# symbol: (mid, tick, quantity unit, max units)
MARKETS = {
    "BTCUSDT": (Decimal("60000"), Decimal("1"), Decimal("0.001"), 20),
    "ETHUSDT": (Decimal("3000"), Decimal("0.5"), Decimal("0.01"), 30),
    "ETHBTC": (Decimal("0.05"), Decimal("0.00001"), Decimal("0.01"), 30),
}
FUNDS = {"BTC": "1000", "ETH": "100000", "USDT": "100000000"}


def order_burst(*, users: list, count: int, seed: int = 7) -> dict[str, int]:
    """Place ``count`` random orders (and cancels); returns outcomes counted."""
    rng = random.Random(seed)
    outcomes: dict[str, int] = {}
    for _ in range(count):
        symbol = rng.choice(list(MARKETS))
        user = rng.choice(users)
        roll = rng.random()
        try:
            if roll < 0.2:
                _cancel_one(rng, symbol, user)
                kind = "cancel"
            else:
                kind = _place_one(rng, symbol, user, roll)
        except ExchangeError as exc:
            kind = f"refused {exc.code}"
        outcomes[kind] = outcomes.get(kind, 0) + 1
    return outcomes


def _place_one(rng: random.Random, symbol: str, user, roll: float) -> str:
    mid, tick, unit, units = MARKETS[symbol]
    side = rng.choice(("BUY", "SELL"))
    qty = unit * rng.randint(1, units)
    if roll < 0.25:
        request = order_types.OrderRequest(
            symbol=symbol, side=side, type="MARKET", quantity=qty
        )
        kind = "market"
    else:
        offset = rng.randint(-8, 12) * (1 if side == "BUY" else -1)
        price = mid - offset * tick
        tif = "IOC" if roll < 0.32 else "GTC"
        request = order_types.OrderRequest(
            symbol=symbol,
            side=side,
            type="LIMIT",
            quantity=qty,
            price=price,
            time_in_force=tif,
            self_trade_prevention_mode=rng.choice(("EXPIRE_MAKER", "NONE")),
        )
        kind = "limit " + tif
    order_services.order_place(user_id=user.id, request=request)
    return kind


def _cancel_one(rng: random.Random, symbol: str, user) -> None:
    ids = list(
        Order.objects.filter(
            symbol_id=symbol, user_id=user.id, status__in=OPEN_STATUSES
        ).values_list("order_id", flat=True)[:50]
    )
    if not ids:
        raise ExchangeError(0, "nothing to cancel")
    order_services.order_cancel(
        user_id=user.id, symbol=symbol, order_id=rng.choice(ids)
    )


def book_apply(book: dict, levels: list) -> None:
    """Binance's rule for a diff: set each level's quantity; zero removes it."""
    for price, qty in levels:
        if Decimal(qty) == 0:
            assert qty == "0.00000000"
            book.pop(price, None)
        else:
            book[price] = qty


def book_sorted(book: dict, *, bids: bool) -> list:
    return [
        [p, q]
        for p, q in sorted(book.items(), key=lambda kv: Decimal(kv[0]), reverse=bids)
    ]
