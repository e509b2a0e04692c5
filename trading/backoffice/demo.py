"""Demo data for a newcomer: assets, two funded users, an operator for the back
office, live books."""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import Group
from django.db import transaction

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Asset, LedgerEntry, User
from trading.models import Order, Symbol, Trade
from trading.orders import services as order_services
from trading.orders import types as order_types
from trading.symbols import services as symbol_services

ASSETS = [("BTC", "Bitcoin", 8), ("ETH", "Ether", 8), ("USDT", "Tether USD", 8)]
DEMO_USERS = {
    "alice": {"BTC": "10", "ETH": "100", "USDT": "1000000"},
    "bob": {"BTC": "10", "ETH": "100", "USDT": "1000000"},
}
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - documented demo credential
OPERATOR = "operator"
# Made by the trading migration 0004_operators_group.
OPERATORS_GROUP = "Operators"

# Realistic filters: every price * quantity is exact in the quote asset.
SYMBOLS = [
    dict(
        symbol="BTCUSDT",
        base="BTC",
        quote="USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.00001"),
        min_qty=Decimal("0.00001"),
        max_qty=Decimal("9000"),
        min_notional=Decimal("5"),
    ),
    dict(
        symbol="ETHUSDT",
        base="ETH",
        quote="USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        max_qty=Decimal("9000"),
        min_notional=Decimal("5"),
    ),
    dict(
        symbol="ETHBTC",
        base="ETH",
        quote="BTC",
        tick_size=Decimal("0.00001"),
        step_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        max_qty=Decimal("100000"),
        min_notional=Decimal("0.0001"),
    ),
]
# Mid prices for the demo books; alice bids below, bob asks above.
DEMO_MIDS = {
    "BTCUSDT": Decimal("60000"),
    "ETHUSDT": Decimal("3000"),
    "ETHBTC": Decimal("0.05"),
}
DEMO_LEVELS = 5


def demo_seed() -> list[str]:
    """Create what is missing; never duplicates a deposit. Returns lines to print."""
    lines = []
    with transaction.atomic():
        for code, name, decimals in ASSETS:
            Asset.objects.get_or_create(
                code=code, defaults={"name": name, "decimals": decimals}
            )
        for username, funds in DEMO_USERS.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = account_services.user_create(
                    username=username,
                    password=DEMO_PASSWORD,
                    email=f"{username}@example.com",
                )
                lines.append(f"created user {username}")
            for asset, amount in funds.items():
                reference = f"demo-seed:{username}:{asset}"
                if not LedgerEntry.objects.filter(reference=reference).exists():
                    account_services.balance_deposit(
                        user_id=user.id,
                        asset=asset,
                        amount=Decimal(amount),
                        reference=reference,
                    )
                    lines.append(f"deposited {amount} {asset} for {username}")
    for spec in SYMBOLS:
        if not Symbol.objects.filter(symbol=spec["symbol"]).exists():
            symbol_services.symbol_create(**spec)
            lines.append(f"created symbol {spec['symbol']}")
    lines += _operator()
    lines += _demo_books()
    lines += _logins()
    return lines


def demo_refresh() -> list[str]:
    """Make the demo market live again after trading drained it: the demo users'
    open orders are cancelled, their balances topped up to the demo amounts, and
    a fresh ladder of resting orders placed around each symbol's last price."""
    lines = demo_seed()
    users = {name: User.objects.get(username=name) for name in DEMO_USERS}
    for spec in SYMBOLS:
        for user in users.values():
            order_services.order_cancel_all(user_id=user.id, symbol=spec["symbol"])
    for name, funds in DEMO_USERS.items():
        user = users[name]
        held = {
            b.asset_id: b.free + b.locked
            for b in account_selectors.balance_list(user_id=user.id)
        }
        for asset, amount in funds.items():
            missing = Decimal(amount) - held.get(asset, Decimal(0))
            if missing > 0:
                account_services.balance_deposit(
                    user_id=user.id,
                    asset=asset,
                    amount=missing,
                    reference=f"demo-refresh:{name}:{asset}:{uuid.uuid4().hex[:12]}",
                )
                lines.append(f"topped up {missing} {asset} for {name}")
    lines += _demo_books(refresh=True)
    return lines


def _operator() -> list[str]:
    if User.objects.filter(username=OPERATOR).exists():
        return []
    operator = account_services.user_create(
        username=OPERATOR,
        password=DEMO_PASSWORD,
        email="operator@example.com",
        is_staff=True,
    )
    group = Group.objects.filter(name=OPERATORS_GROUP).first()
    if group is not None:
        operator.groups.add(group)
    return [f"created staff user {OPERATOR} in the {OPERATORS_GROUP} group"]


def _logins() -> list[str]:
    return [
        "Demo ready. Log in: POST /api/v1/auth/login with "
        f'{{"username": "alice", "password": "{DEMO_PASSWORD}"}} (or bob).',
        f"Back office: /admin/ as {OPERATOR} / {DEMO_PASSWORD}. Staff need "
        "two-factor: after the password, the admin shows a QR code to scan with "
        "an authenticator app, then asks for its code (and shows recovery codes "
        "once).",
    ]


def _demo_books(*, refresh: bool = False) -> list[str]:
    """A few resting orders on both sides of every demo book: books that never
    had an order, or, with ``refresh``, every book (around its last price)."""
    alice = User.objects.get(username="alice")
    bob = User.objects.get(username="bob")
    lines = []
    for spec in SYMBOLS:
        symbol = spec["symbol"]
        if not refresh and Order.objects.filter(symbol_id=symbol).exists():
            continue
        mid, tick = _mid(symbol, spec), spec["tick_size"]
        qty = spec["min_qty"] * 100 if symbol != "ETHBTC" else Decimal("0.1")
        for level in range(1, DEMO_LEVELS + 1):
            offset = tick * 100 * level
            for user, side, price in (
                (alice, "BUY", mid - offset),
                (bob, "SELL", mid + offset),
            ):
                order_services.order_place(
                    user_id=user.id,
                    request=order_types.OrderRequest(
                        symbol=symbol,
                        side=side,
                        type="LIMIT",
                        time_in_force="GTC",
                        quantity=qty * level,
                        price=price,
                    ),
                )
        lines.append(f"placed {2 * DEMO_LEVELS} resting orders on {symbol}")
    return lines


def _mid(symbol: str, spec: dict) -> Decimal:
    """The last trade's price on the tick grid, or the demo's starting price;
    never so low that the bids' ladder would reach zero."""
    tick = spec["tick_size"]
    last = (
        Trade.objects.filter(symbol_id=symbol)
        .order_by("-trade_id")
        .values_list("price", flat=True)
        .first()
    )
    floor = tick * 100 * (DEMO_LEVELS + 1)
    if last is None or last <= floor:
        return DEMO_MIDS[symbol]
    return (last / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick
