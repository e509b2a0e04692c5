"""Shared parsing for the accounts commands."""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from exchange.errors import ExchangeError


def user_by_name(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username!r}.")
    return user


def decimal_arg(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"{value!r} is not a decimal amount.") from None
    if not amount.is_finite() or amount <= 0:
        raise CommandError(f"Amount must be a positive number, not {value!r}.")
    return amount


class FundsCommand(BaseCommand):
    """A command moving an amount of an asset for a user through one service."""

    service = None  # set by subclasses: accounts.services.balance_deposit or _withdraw
    done = ""  # e.g. "Deposited {amount} {asset} for {username}."

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
            type(self).service(
                user_id=user.id,
                asset=asset.upper(),
                amount=decimal_arg(amount),
                reference=reference,
            )
        except ExchangeError as exc:
            raise CommandError(exc.msg) from None
        self.stdout.write(
            self.done.format(amount=amount, asset=asset.upper(), username=username)
        )
