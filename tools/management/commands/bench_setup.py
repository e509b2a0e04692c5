import json
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts import services as funds
from accounts.models import User
from trading.models import OPEN_STATUSES, Order
from trading.orders.services import order_cancel_all

FUNDS = {"BTC": Decimal(1000), "ETH": Decimal(10000), "USDT": Decimal(100_000_000)}


class Command(BaseCommand):
    help = (
        "Create (or top up) the load-test traders bench-0..N-1, each funded, with "
        "no open orders left from an earlier run and with a read+trade API key, and "
        "write their keys as JSON for the load test."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50)
        parser.add_argument("--out", default="var/bench-keys.json")

    def handle(self, *args, users, out, **options):
        if users < 1:
            raise CommandError("--users must be at least 1")
        keys = []
        for n in range(users):
            username = f"bench-{n}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = funds.user_create(username=username, password=None)
            # Every run starts from the same books: what an earlier run left
            # resting would make each run heavier than the one before.
            open_symbols = (
                Order.objects.filter(user_id=user.id, status__in=OPEN_STATUSES)
                .values_list("symbol_id", flat=True)
                .distinct()
            )
            for symbol in list(open_symbols):
                order_cancel_all(user_id=user.id, symbol=symbol)
            for asset, amount in FUNDS.items():
                funds.balance_deposit(
                    user_id=user.id, asset=asset, amount=amount, reference="bench"
                )
            key, secret = funds.apikey_create(
                user_id=user.id, label="bench", permissions=["read", "trade"]
            )
            keys.append({"apiKey": key.key, "secretKey": secret})
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(keys))
        self.stdout.write(f"{users} funded traders, keys in {out}")
