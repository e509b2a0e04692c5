"""Shared parsing for the accounts commands."""

from decimal import Decimal, InvalidOperation

from django.core.management.base import CommandError

from accounts.models import User


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
