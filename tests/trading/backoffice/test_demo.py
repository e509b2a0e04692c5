"""The demo for a newcomer: an operator who can reach the back office, and a
market that `seed_demo --refresh` makes live again after trading drained it."""

import importlib
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import User
from tests.factories import funded_user
from tests.trading.conftest import place
from trading.models import OPEN_STATUSES, Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def operators_group():
    """What the data migration makes (a transactional test's flush drops it)."""
    migration = importlib.import_module("trading.migrations.0004_operators_group")
    migration.create_group(django_apps, None)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def resting(symbol: str, side: str) -> int:
    return Order.objects.filter(
        symbol_id=symbol, side=side, status__in=OPEN_STATUSES
    ).count()


def test_the_operators_group_holds_the_back_offices_permissions():
    codenames = set(
        Group.objects.get(name="Operators").permissions.values_list(
            "codename", flat=True
        )
    )
    assert {
        "change_symbol_status",
        "cancel_order",
        "disable_user",
        "adjust_balance",
        "view_order",
        "view_securityevent",
    } <= codenames
    assert "delete_user" not in codenames


def test_seed_demo_prints_an_operator_login():
    out = run("seed_demo")
    operator = User.objects.get(username="operator")
    assert operator.is_staff and not operator.is_superuser
    assert operator.groups.filter(name="Operators").exists()
    assert operator.has_perm("trading.change_symbol_status")
    assert "/admin/ as operator / demo-pass-2026" in out
    assert "two-factor" in out


def test_refresh_makes_a_drained_market_live_again():
    run("seed_demo")
    taker = funded_user(USDT="10000000", BTC="100")
    place(taker, "BUY", "1", "70000", tif="IOC")  # eats every ask
    place(taker, "SELL", "1", "50000", tif="IOC")  # and every bid
    assert resting("BTCUSDT", "SELL") == 0 and resting("BTCUSDT", "BUY") == 0
    run("seed_demo")  # plain seeding leaves a book that ever had orders alone
    assert resting("BTCUSDT", "SELL") == 0

    out = run("seed_demo", "--refresh")
    assert "placed 10 resting orders on BTCUSDT" in out
    assert resting("BTCUSDT", "SELL") == 5 and resting("BTCUSDT", "BUY") == 5
    bids = Order.objects.filter(
        symbol_id="BTCUSDT", side="BUY", status__in=OPEN_STATUSES
    ).values_list("price", flat=True)
    asks = Order.objects.filter(
        symbol_id="BTCUSDT", side="SELL", status__in=OPEN_STATUSES
    ).values_list("price", flat=True)
    assert max(bids) < min(asks)
    # Twice in a row: the old ladder is replaced, not stacked.
    run("seed_demo", "--refresh")
    assert resting("BTCUSDT", "SELL") == 5
    alice_usdt = User.objects.get(username="alice").balances.get(asset_id="USDT")
    assert alice_usdt.free + alice_usdt.locked >= Decimal("1000000")
    assert "reconcile: clean" in run("reconcile")
