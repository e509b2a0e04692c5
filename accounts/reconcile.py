"""Reconciliation: checks that the books balance, to the last unit.

Other apps add their own checks with :func:`register_check` (from their
``AppConfig.ready``); the ``reconcile`` command runs them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from accounts.models import Balance, LedgerEntry

Check = Callable[[], list[str]]
_checks: list[tuple[str, Check]] = []


def register_check(name: str, check: Check) -> None:
    """Add a check: a callable returning a list of mismatch descriptions."""
    if name not in {existing for existing, _ in _checks}:
        _checks.append((name, check))


def registered_checks() -> list[tuple[str, Check]]:
    return [
        ("balances match the ledger", ledger_check),
        ("assets conserved", conservation_check),
    ] + _checks


def sums_by(query, keys: list[str], fields: list[str]) -> dict[tuple, list[Decimal]]:
    """Exact per-key sums of decimal fields. PostgreSQL sums NUMERIC exactly; SQLite
    would sum in floating point, so there the rows are added up in Python."""
    if connection.vendor == "postgresql":
        rows = query.values(*keys).annotate(**{f: Sum(f) for f in fields})
        return {
            tuple(row[k] for k in keys): [row[f] or Decimal(0) for f in fields]
            for row in rows.order_by()
        }
    sums: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(fields))
    for row in query.values_list(*keys, *fields).iterator(chunk_size=10000):
        totals = sums[tuple(row[: len(keys)])]
        for i, value in enumerate(row[len(keys) :]):
            totals[i] += value
    return dict(sums)


def ledger_check() -> list[str]:
    """Every balance equals the sum of its ledger entries."""
    sums = sums_by(
        LedgerEntry.objects.all(),
        ["user_id", "asset_id"],
        ["delta_free", "delta_locked"],
    )
    problems = []
    for user_id, asset, free, locked in Balance.objects.values_list(
        "user_id", "asset_id", "free", "locked"
    ):
        ledger_free, ledger_locked = sums.pop(
            (user_id, asset), (Decimal(0), Decimal(0))
        )
        if free != ledger_free or locked != ledger_locked:
            problems.append(
                f"user {user_id} {asset}: balance free={free} locked={locked}, "
                f"ledger free={ledger_free} locked={ledger_locked}"
            )
    for (user_id, asset), (free, locked) in sums.items():
        if free or locked:
            problems.append(
                f"user {user_id} {asset}: no balance row, "
                f"ledger free={free} locked={locked}"
            )
    return problems


def conservation_check() -> list[str]:
    """For every asset: all balances (fees included) == deposits - withdrawals."""
    external = defaultdict(Decimal)
    flows = LedgerEntry.objects.filter(
        reason__in=[LedgerEntry.Reason.DEPOSIT, LedgerEntry.Reason.WITHDRAW]
    )
    for (asset,), (free, locked) in sums_by(
        flows, ["asset_id"], ["delta_free", "delta_locked"]
    ).items():
        external[asset] = free + locked
    held = defaultdict(Decimal)
    for (asset,), (free, locked) in sums_by(
        Balance.objects.all(), ["asset_id"], ["free", "locked"]
    ).items():
        held[asset] = free + locked
    problems = []
    for asset in sorted(set(external) | set(held)):
        if held[asset] != external[asset]:
            problems.append(
                f"{asset}: balances total {held[asset]}, "
                f"deposits minus withdrawals {external[asset]}"
            )
    negative = Balance.objects.filter(free__lt=0) | Balance.objects.filter(locked__lt=0)
    for balance in negative:
        problems.append(f"negative balance: {balance}")
    return problems
