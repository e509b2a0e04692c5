"""Factories for test data (no fixture files)."""

import time
from decimal import Decimal

import factory
import pyotp

from accounts import services, twofactor
from accounts.admin_site import VERIFIED_SESSION_KEY
from accounts.models import Asset, User

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save(update_fields=["password"])


def standard_assets() -> dict[str, Asset]:
    result = {}
    for code, decimals in (("BTC", 8), ("ETH", 8), ("USDT", 8)):
        result[code], _ = Asset.objects.get_or_create(
            code=code, defaults={"decimals": decimals}
        )
    return result


def funded_user(**balances: str) -> User:
    """A user with deposits of the given amounts, e.g. ``funded_user(BTC="1")``."""
    user = UserFactory()
    for asset, amount in balances.items():
        services.balance_deposit(
            user_id=user.id, asset=asset, amount=Decimal(amount), reference="test"
        )
    return user


def standard_symbols() -> dict:
    """BTCUSDT, ETHUSDT and ETHBTC with the demo filters (fees 0.1%)."""
    from trading.backoffice.demo import SYMBOLS
    from trading.models import Symbol
    from trading.symbols import services as symbol_services

    standard_assets()
    result = {}
    for spec in SYMBOLS:
        result[spec["symbol"]] = Symbol.objects.filter(
            symbol=spec["symbol"]
        ).first() or (symbol_services.symbol_create(**spec))
    return result


def twofactor_on(user: User) -> str:
    """Turn two-factor on for ``user``; returns the TOTP secret. It is confirmed
    with the previous time step's code, so the current code is still good once."""
    enrolment = twofactor.twofactor_enrol_start(user=user)
    totp = pyotp.TOTP(enrolment.secret)
    twofactor.twofactor_enrol_confirm(
        user=user, otp=totp.at(time.time() - totp.interval)
    )
    return enrolment.secret


def admin_login(client, user: User):
    """Log ``user`` into the back office as the login page does for staff who
    passed the second factor (two-factor turned on first when it is not)."""
    if not twofactor.twofactor_enabled(user_id=user.id):
        twofactor_on(user)
    client.force_login(user)
    session = client.session
    session[VERIFIED_SESSION_KEY] = user.pk
    session.save()
    return client
