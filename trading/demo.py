"""Demo data for a newcomer: assets, two funded users, live books."""

from decimal import Decimal

from django.db import transaction

from accounts import services as account_services
from accounts.models import Asset, LedgerEntry, User

ASSETS = [("BTC", "Bitcoin", 8), ("ETH", "Ether", 8), ("USDT", "Tether USD", 8)]
DEMO_USERS = {
    "alice": {"BTC": "10", "ETH": "100", "USDT": "1000000"},
    "bob": {"BTC": "10", "ETH": "100", "USDT": "1000000"},
}
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - documented demo credential


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
    lines.append(
        f"Demo ready. Log in: POST /api/v1/auth/login with "
        f'{{"username": "alice", "password": "{DEMO_PASSWORD}"}} (or bob).'
    )
    return lines
