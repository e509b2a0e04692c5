"""Demo data for a newcomer: assets, two funded users, live books."""

from decimal import Decimal

from django.db import transaction

from accounts import services as account_services
from accounts.models import Asset, LedgerEntry, User
from trading.models import Order, Symbol
from trading.orders import services as order_services
from trading.orders import types as order_types
from trading.symbols import services as symbol_services

ASSETS = [("BTC", "Bitcoin", 8), ("ETH", "Ether", 8), ("USDT", "Tether USD", 8)]
DEMO_USERS = {
    "alice": {"BTC": "10", "ETH": "100", "USDT": "1000000"},
    "bob": {"BTC": "10", "ETH": "100", "USDT": "1000000"},
}
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - documented demo credential

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
    lines += _demo_books()
    lines.append(
        f"Demo ready. Log in: POST /api/v1/auth/login with "
        f'{{"username": "alice", "password": "{DEMO_PASSWORD}"}} (or bob).'
    )
    return lines


def _demo_books() -> list[str]:
    """A few resting orders on both sides of every empty demo book."""
    alice = User.objects.get(username="alice")
    bob = User.objects.get(username="bob")
    lines = []
    for spec in SYMBOLS:
        symbol = spec["symbol"]
        if Order.objects.filter(symbol_id=symbol).exists():
            continue
        mid, tick = DEMO_MIDS[symbol], spec["tick_size"]
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
