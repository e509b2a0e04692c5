"""Many threads moving the same balances at once, on PostgreSQL."""

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from accounts import services
from accounts.models import Balance
from accounts.reconcile import conservation_check, ledger_check
from exchange.errors import ExchangeError
from tests.factories import funded_user

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

THREADS = 16
OPERATIONS = 60


def test_sixteen_threads_hold_release_deposit_withdraw_without_loss_or_deadlock(assets):
    users = [funded_user(BTC="1", USDT="1000") for _ in range(4)]
    fees = services.fee_account_id()
    errors: list[BaseException] = []
    refused = []
    lowest_seen = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(OPERATIONS):
                user = rng.choice(users)
                other = rng.choice(users)
                asset = rng.choice(["BTC", "USDT"])
                amount = Decimal(rng.randint(1, 400)) / (1000 if asset == "BTC" else 1)
                op = rng.randrange(5)
                try:
                    if op == 0:
                        services.balance_hold(
                            user_id=user.id, asset=asset, amount=amount
                        )
                    elif op == 1:
                        services.balance_release(
                            user_id=user.id, asset=asset, amount=amount
                        )
                    elif op == 2:
                        services.balance_deposit(
                            user_id=user.id, asset=asset, amount=amount
                        )
                    elif op == 3:
                        services.balance_withdraw(
                            user_id=user.id, asset=asset, amount=amount
                        )
                    else:
                        # Two users and the fee account in one batch: the sorted
                        # lock order is what keeps these from deadlocking.
                        services.balance_settle(
                            transfers=[
                                services.Transfer(
                                    user.id, other.id, asset, amount, from_locked=False
                                ),
                                services.Transfer(
                                    other.id,
                                    fees,
                                    asset,
                                    amount / 100,
                                    from_locked=False,
                                    reason="FEE",
                                ),
                            ],
                            reference="concurrency",
                        )
                except ExchangeError as exc:
                    assert exc.code == -2010
                    refused.append(op)
                lowest_seen.append(
                    min(
                        Balance.objects.filter(user_id=user.id).values_list(
                            "free", flat=True
                        )
                    )
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert errors == []
    assert min(lowest_seen) >= 0
    assert not Balance.objects.filter(free__lt=0).exists()
    assert not Balance.objects.filter(locked__lt=0).exists()
    assert ledger_check() == []
    assert conservation_check() == []
    # The workload is sized so that some operations are refused for lack of funds.
    assert refused
    connections.close_all()
