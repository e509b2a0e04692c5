import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import ApiKey, Balance, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_user_and_its_failures(assets):
    assert "Created user ops" in run(
        "create_user", "ops", "--password", "a-long-pass-981", "--staff"
    )
    assert User.objects.get(username="ops").is_staff
    with pytest.raises(CommandError, match="already exists"):
        run("create_user", "ops")
    with pytest.raises(CommandError):
        run("create_user", "weak", "--password", "123")


def test_deposit_withdraw_and_their_failures(assets):
    UserFactory(username="zoe")
    run("deposit", "zoe", "btc", "1.5")
    run("withdraw", "zoe", "BTC", "0.5")
    assert Balance.objects.get(user__username="zoe", asset_id="BTC").free == Decimal(1)
    with pytest.raises(CommandError, match="insufficient"):
        run("withdraw", "zoe", "BTC", "2")
    with pytest.raises(CommandError, match="No user"):
        run("deposit", "nobody", "BTC", "1")
    with pytest.raises(CommandError, match="not a decimal"):
        run("deposit", "zoe", "BTC", "lots")
    with pytest.raises(CommandError, match="positive"):
        run("deposit", "zoe", "BTC", "-1")
    with pytest.raises(CommandError, match="Unknown asset"):
        run("deposit", "zoe", "XYZ", "1")
    with pytest.raises(CommandError, match="precision"):
        run("deposit", "zoe", "BTC", "0.000000001")


def test_create_api_key_prints_one_json_line(assets):
    UserFactory(username="kim")
    line = run("create_api_key", "kim", "--permissions", "read,trade", "--label", "bot")
    data = json.loads(line)
    assert set(data) == {"apiKey", "secretKey"}
    key = ApiKey.objects.get(key=data["apiKey"])
    assert key.can_trade and key.label == "bot"
    with pytest.raises(CommandError):
        run("create_api_key", "kim", "--permissions", "admin")


def test_reconcile_clean_then_mismatch_exits_1(assets):
    UserFactory(username="lee")
    run("deposit", "lee", "ETH", "3")
    assert "reconcile: clean" in run("reconcile")
    Balance.objects.filter(user__username="lee").update(free=Decimal("4"))
    out = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("reconcile", stdout=out)
    assert info.value.returncode == 1
    assert "FAIL" in out.getvalue() and "ETH" in out.getvalue()


def test_seed_demo_is_idempotent(db):
    first = run("seed_demo")
    second = run("seed_demo")
    assert "created user alice" in first and "created user" not in second
    alice_btc = Balance.objects.get(user__username="alice", asset_id="BTC")
    # Some of it is locked by the demo's resting orders.
    assert alice_btc.free + alice_btc.locked == Decimal(10)
    assert "reconcile: clean" in run("reconcile")
