from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.management.base import decimal_arg, user_by_name
from exchange.errors import ExchangeError


class Command(BaseCommand):
    help = (
        "Debit an amount of an asset from a user's free balance, with a ledger "
        "entry; refused if the funds are not free."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("asset", help="asset code, e.g. BTC")
        parser.add_argument(
            "amount", help="a positive decimal, at most the asset's places"
        )
        parser.add_argument("--reference", default="manual", help="kept in the ledger")

    def handle(self, *args, username, asset, amount, reference, **options):
        user = user_by_name(username)
        try:
            services.balance_withdraw(
                user_id=user.id,
                asset=asset.upper(),
                amount=decimal_arg(amount),
                reference=reference,
            )
        except ExchangeError as exc:
            raise CommandError(exc.msg) from None
        self.stdout.write(f"Withdrew {amount} {asset.upper()} from {username}.")
