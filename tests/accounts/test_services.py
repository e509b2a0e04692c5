from decimal import Decimal

import pytest
from django.db import transaction

from accounts import services
from accounts.models import Balance, LedgerEntry
from accounts.reconcile import conservation_check, ledger_check
from exchange.errors import ExchangeError
from tests.factories import UserFactory, funded_user

pytestmark = pytest.mark.django_db(transaction=False)


def balance(user, asset):
    row = Balance.objects.filter(user=user, asset_id=asset).first()
    return (row.free, row.locked) if row else (Decimal(0), Decimal(0))


def test_deposit_and_withdraw_write_ledger_rows(assets):
    user = UserFactory()
    services.balance_deposit(user_id=user.id, asset="BTC", amount=Decimal("1.5"))
    services.balance_withdraw(user_id=user.id, asset="BTC", amount=Decimal("0.25"))
    assert balance(user, "BTC") == (Decimal("1.25"), 0)
    reasons = list(
        LedgerEntry.objects.filter(user=user)
        .order_by("id")
        .values_list("reason", "delta_free")
    )
    assert reasons == [("DEPOSIT", Decimal("1.5")), ("WITHDRAW", Decimal("-0.25"))]
    assert ledger_check() == [] and conservation_check() == []


def test_withdraw_more_than_free_is_refused_and_changes_nothing(assets):
    user = funded_user(BTC="1")
    services.balance_hold(user_id=user.id, asset="BTC", amount=Decimal("0.6"))
    with pytest.raises(ExchangeError) as info:
        services.balance_withdraw(user_id=user.id, asset="BTC", amount=Decimal("0.5"))
    assert info.value.code == -2010
    assert balance(user, "BTC") == (Decimal("0.4"), Decimal("0.6"))
    assert LedgerEntry.objects.filter(user=user).count() == 2


def test_hold_and_release_move_between_free_and_locked(assets):
    user = funded_user(USDT="100")
    services.balance_hold(user_id=user.id, asset="USDT", amount=Decimal("30"))
    assert balance(user, "USDT") == (Decimal(70), Decimal(30))
    services.balance_release(user_id=user.id, asset="USDT", amount=Decimal("10"))
    assert balance(user, "USDT") == (Decimal(80), Decimal(20))
    with pytest.raises(ExchangeError):
        services.balance_release(user_id=user.id, asset="USDT", amount=Decimal("20.01"))
    assert balance(user, "USDT") == (Decimal(80), Decimal(20))
    assert ledger_check() == []


@pytest.mark.parametrize(
    "amount, code",
    [
        (Decimal("0"), -1130),
        (Decimal("-1"), -1130),
        (Decimal("0.000000001"), -1111),
        (Decimal("NaN"), -1130),
        (Decimal("Infinity"), -1130),
        (Decimal("1e30"), -1108),
    ],
)
def test_bad_amounts_are_refused(assets, amount, code):
    user = UserFactory()
    with pytest.raises(ExchangeError) as info:
        services.balance_deposit(user_id=user.id, asset="BTC", amount=amount)
    assert info.value.code == code
    assert not LedgerEntry.objects.filter(user=user).exists()


def test_unknown_asset_is_refused(assets):
    user = UserFactory()
    with pytest.raises(ExchangeError):
        services.balance_deposit(user_id=user.id, asset="DOGE", amount=Decimal(1))


def test_settle_moves_locked_funds_and_fees_to_the_fee_account(assets):
    buyer = funded_user(USDT="1000")
    seller = funded_user(BTC="1")
    fees = services.fee_account_id()
    services.balance_hold(user_id=buyer.id, asset="USDT", amount=Decimal("500"))
    services.balance_hold(user_id=seller.id, asset="BTC", amount=Decimal("0.01"))
    transfer = services.Transfer
    services.balance_settle(
        transfers=[
            transfer(buyer.id, seller.id, "USDT", Decimal("500")),
            transfer(seller.id, buyer.id, "BTC", Decimal("0.01")),
            transfer(
                buyer.id,
                fees,
                "BTC",
                Decimal("0.00001"),
                from_locked=False,
                reason="FEE",
            ),
            transfer(
                seller.id, fees, "USDT", Decimal("0.5"), from_locked=False, reason="FEE"
            ),
        ],
        reference="trade:1",
    )
    assert balance(buyer, "USDT") == (Decimal(500), 0)
    assert balance(buyer, "BTC") == (Decimal("0.00999"), 0)
    assert balance(seller, "USDT") == (Decimal("499.5"), 0)
    assert balance(seller, "BTC") == (Decimal("0.99"), 0)
    assert balance(fees, "BTC") == (Decimal("0.00001"), 0)
    assert balance(fees, "USDT") == (Decimal("0.5"), 0)
    assert ledger_check() == [] and conservation_check() == []


def test_a_failing_change_in_a_batch_leaves_every_balance_as_it_was(assets):
    rich = funded_user(BTC="5")
    poor = funded_user(BTC="1")
    before = [balance(rich, "BTC"), balance(poor, "BTC")]
    ledger_rows = LedgerEntry.objects.count()
    with pytest.raises(ExchangeError), transaction.atomic():
        services.balance_changes_apply(
            changes=[
                services.BalanceChange(rich.id, "BTC", Decimal(-1), 0, "TRANSFER"),
                services.BalanceChange(poor.id, "BTC", Decimal(-2), 0, "TRANSFER"),
            ]
        )
    assert [balance(rich, "BTC"), balance(poor, "BTC")] == before
    assert LedgerEntry.objects.count() == ledger_rows


def test_reconcile_reports_a_balance_edited_behind_the_ledger(assets):
    user = funded_user(ETH="2")
    Balance.objects.filter(user=user, asset_id="ETH").update(free=Decimal("3"))
    problems = ledger_check()
    assert len(problems) == 1 and f"user {user.id} ETH" in problems[0]
    assert len(conservation_check()) == 1


def test_fee_account_exists_from_the_migrations(db):
    assert services.fee_account_id() > 0
