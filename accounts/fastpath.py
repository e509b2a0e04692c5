"""Balance and ledger writes as prepared statements in a caller's pipeline.

The order path on PostgreSQL sends all of a placement's writes in one pipeline
(``exchange.db.Pipeline``); the funds part of it is written here, so that this app
stays the only writer of balances. The guarantees are those of
:func:`accounts.services.balance_changes_apply`: rows are updated one by one in
(user, asset) order, so concurrent transactions lock them in one order and never
deadlock, and the CHECK constraints (``free >= 0``, ``locked >= 0``) refuse an
overdraft, which aborts the whole transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from accounts.services import (
    BalanceChange,
    balance_rows_created,
    balance_rows_missing,
    changes_net,
)
from exchange.db import Pipeline

BALANCE_CREATE = """
INSERT INTO accounts_balance (user_id, asset_id, free, locked)
VALUES (%s::bigint, %s, 0, 0) ON CONFLICT (user_id, asset_id) DO NOTHING
"""
BALANCE_MOVE = """
UPDATE accounts_balance SET free = free + %s, locked = locked + %s
WHERE user_id = %s::bigint AND asset_id = %s
"""
LEDGER_INSERT = """
INSERT INTO accounts_ledgerentry (user_id, asset_id, delta_free, delta_locked, reason,
    reference, created_at)
VALUES (%s::bigint, %s, %s, %s, %s, %s, now())
"""


def balance_changes_add(pipeline: Pipeline, changes: Sequence[BalanceChange]) -> None:
    """Add ``changes`` to ``pipeline``: the net change of each balance, in (user,
    asset) order, and one ledger row per change. Missing rows are created at zero
    first, so that a debit from one fails the CHECK constraint."""
    moves = changes_net(changes)
    missing = balance_rows_missing(moves)
    pipeline.add(BALANCE_CREATE, missing)
    pipeline.add(
        BALANCE_MOVE,
        [(df, dl, user_id, asset) for (user_id, asset), (df, dl) in moves],
    )
    pipeline.add(
        LEDGER_INSERT,
        [
            (c.user_id, c.asset, c.delta_free, c.delta_locked, c.reason, c.reference)
            for c in changes
        ],
    )
    if missing:
        pipeline.after(lambda: balance_rows_created(missing))
