"""Balance and ledger writes as prepared statements in a caller's pipeline.

The order path on PostgreSQL sends all of a placement's writes in one pipeline
(``exchange.db.Pipeline``); the funds part of it is written here, so that this app
stays the only writer of balances. The guarantees are those of
:func:`accounts.services.balance_changes_apply`: the rows are locked in (user,
asset) order before any is updated, so concurrent transactions lock them in one
order and never deadlock, and the CHECK constraints (``free >= 0``, ``locked >=
0``) refuse an overdraft, which aborts the whole transaction. Each statement takes
its rows as arrays: one statement for all the moves and one for all the ledger
rows, whatever their number.
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
# The CTE locks the rows in (user, asset) order before the update touches them
# (as accounts.services does through the ORM).
BALANCE_MOVES = """
WITH v (user_id, asset_id, df, dl) AS (
    SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::numeric[], %s::numeric[])
), l AS (
    SELECT b.id FROM accounts_balance b
    JOIN v ON b.user_id = v.user_id AND b.asset_id = v.asset_id
    ORDER BY b.user_id, b.asset_id
    FOR UPDATE OF b
)
UPDATE accounts_balance b SET free = b.free + v.df, locked = b.locked + v.dl
FROM v, l
WHERE b.id = l.id AND b.user_id = v.user_id AND b.asset_id = v.asset_id
"""
LEDGER_INSERT = """
INSERT INTO accounts_ledgerentry (user_id, asset_id, delta_free, delta_locked, reason,
    reference, created_at)
SELECT *, now() FROM unnest(%s::bigint[], %s::varchar[], %s::numeric[],
    %s::numeric[], %s::varchar[], %s::varchar[])
"""


def balance_changes_add(pipeline: Pipeline, changes: Sequence[BalanceChange]) -> None:
    """Add ``changes`` to ``pipeline``: the net change of each balance, locked in
    (user, asset) order, and one ledger row per change. Missing rows are created at zero
    first, so that a debit from one fails the CHECK constraint."""
    moves = changes_net(changes)
    missing = balance_rows_missing(moves)
    pipeline.add(BALANCE_CREATE, missing)
    pipeline.add_columns(
        BALANCE_MOVES,
        [(user_id, asset, df, dl) for (user_id, asset), (df, dl) in moves],
    )
    pipeline.add_columns(
        LEDGER_INSERT,
        [
            (c.user_id, c.asset, c.delta_free, c.delta_locked, c.reason, c.reference)
            for c in changes
        ],
    )
    if missing:
        pipeline.after(lambda: balance_rows_created(missing))
