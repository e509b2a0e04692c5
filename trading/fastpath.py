"""The order path's SQL on PostgreSQL: one round trip to lock and read, one to write.

Profiling showed ``order_place`` waiting on round trips and on PostgreSQL planning
statements, not matching. On PostgreSQL the order path therefore reads everything
it needs with the symbol's row lock in one prepared statement, and sends every
write of the placement as prepared statements in one pipeline (one network round
trip, no re-planning). Other databases take the ORM path in ``trading.services``,
which carries out the same plan.

The balance updates keep ``accounts.services``' guarantees: rows are updated one
by one in (user, asset) order, so concurrent transactions lock them in one order
and never deadlock, and the CHECK constraints (``free >= 0``, ``locked >= 0``)
refuse an overdraft, which aborts the whole transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg
from django.db import connection

from accounts import services as funds

OPEN = "('NEW', 'PARTIALLY_FILLED')"

LOCK_SQL = f"""
SELECT s.status, s.book_seq, s.last_order_id, s.last_trade_id,
       s.base_id, s.quote_id, s.tick_size, s.min_price, s.max_price, s.step_size,
       s.min_qty, s.max_qty, s.market_max_qty, s.min_notional, s.max_notional,
       s.max_num_orders, s.maker_fee, s.taker_fee,
       (SELECT count(*) FROM trading_order o
         WHERE o.user_id = %(user)s AND o.symbol_id = s.symbol
           AND o.status IN {OPEN}),
       EXISTS (SELECT 1 FROM trading_order o
         WHERE o.user_id = %(user)s AND o.client_order_id = %(client_id)s
           AND o.status IN {OPEN}),
       (SELECT b.free FROM accounts_balance b
         WHERE b.user_id = %(user)s AND b.asset_id = s.base_id),
       (SELECT b.free FROM accounts_balance b
         WHERE b.user_id = %(user)s AND b.asset_id = s.quote_id)
FROM trading_symbol s
WHERE s.symbol = %(symbol)s
FOR UPDATE OF s
"""


# Book sync: the rows of the symbol that changed after the process's seq.
SYNC_SQL = """
SELECT order_id, user_id, side, price, orig_qty, executed_qty, status
FROM trading_order WHERE symbol_id = %s AND seq > %s::bigint
"""


def _order_meta():
    from trading.models import Order

    return Order._meta


_ORDER_ATTNAMES = [f.attname for f in _order_meta().concrete_fields]


def order_select(where: str, fields=None) -> str:
    """A SELECT of the order ``fields`` (attribute names; all by default)."""
    meta = _order_meta()
    columns = ", ".join(meta.get_field(n).column for n in fields or _ORDER_ATTNAMES)
    return f"SELECT {columns} FROM trading_order WHERE {where}"


ORDER_BY_ID = order_select(
    "symbol_id = %s AND user_id = %s::bigint AND order_id = %s::bigint"
)
ORDER_BY_CLIENT_ID = order_select(
    "symbol_id = %s AND user_id = %s::bigint AND client_order_id = %s "
    "ORDER BY order_id DESC LIMIT 1"
)


def order_find_statement(
    symbol: str, user_id: int, order_id: int | None, client_order_id: str | None
) -> tuple[str, tuple]:
    """The statement that selects the user's order by id (else by client id, the
    newest with it), for :func:`symbol_lock_for_order`."""
    if order_id is not None:
        return ORDER_BY_ID, (symbol, user_id, order_id)
    return ORDER_BY_CLIENT_ID, (symbol, user_id, client_order_id)


def order_from_row(row: tuple | None, client_order_id: str | None):
    """The Order a find statement selected; None if there was none, or if it was
    found by id and ``client_order_id`` is given and differs (Binance: with both,
    the order must match both)."""
    from trading.models import Order

    if row is None:
        return None
    order = Order.from_db("default", _ORDER_ATTNAMES, row)
    if client_order_id not in (None, order.client_order_id):
        return None
    return order


@dataclass(slots=True)
class LockedSymbol:
    """The symbol row as read under its lock, with the order's pre-checks, the
    book rows that changed after the process's seq and the order a cancel is
    about, when they were asked for."""

    symbol: str
    status: str
    book_seq: int
    last_order_id: int
    last_trade_id: int
    base_id: str
    quote_id: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    max_num_orders: int
    maker_fee: Decimal
    taker_fee: Decimal
    open_count: int = 0
    duplicate: bool = False
    free_base: Decimal | None = None
    free_quote: Decimal | None = None
    changes: list[tuple] | None = None
    order: tuple | None = None


def _raw():
    """The psycopg connection under Django's (same session, same transaction).

    Its cursors are taken as ``psycopg.Cursor`` (server-side binding), not Django's
    client-side cursor class, so that statements can be prepared."""
    connection.ensure_connection()
    return connection.connection


def symbol_lock_for_order(
    *,
    symbol: str,
    user_id: int,
    client_order_id: str,
    since_seq: int | None = None,
    find: tuple[str, tuple] | None = None,
) -> LockedSymbol | None:
    """Lock the symbol row and read what placing an order needs, in one round
    trip. With ``since_seq``, the book rows changed after it come back too; with
    ``find`` (a statement and its parameters), the order it selects. They are
    separate statements in the same pipeline, run after the lock is granted, so
    they see every change committed before it. Caller is inside ``atomic()``."""
    raw = _raw()
    with (
        connection.wrap_database_errors,
        psycopg.Cursor(raw) as lock,
        psycopg.Cursor(raw) as sync,
        psycopg.Cursor(raw) as found,
    ):
        params = {"symbol": symbol, "user": user_id, "client_id": client_order_id}
        if since_seq is None and find is None:
            lock.execute(LOCK_SQL, params, prepare=True)
        else:
            with raw.pipeline():
                lock.execute(LOCK_SQL, params, prepare=True)
                if since_seq is not None:
                    sync.execute(SYNC_SQL, (symbol, since_seq), prepare=True)
                if find is not None:
                    found.execute(find[0], find[1], prepare=True)
        row = lock.fetchone()
        if row is None:
            return None
        locked = LockedSymbol(symbol, *row)
        if since_seq is not None:
            locked.changes = sync.fetchall()
        if find is not None:
            locked.order = found.fetchone()
    return locked


def read(sql: str, params: tuple, row) -> list:
    """The rows of a frequent read, each made by ``row`` (a named tuple's
    ``_make``), through a prepared statement: the ORM's building and compiling of
    a small query costs several times its round trip."""
    raw = _raw()
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return [row(values) for values in cursor]


ORDER_INSERT = """
INSERT INTO trading_order (symbol_id, order_id, user_id, client_order_id, side, type,
    time_in_force, price, orig_qty, orig_quote_order_qty, executed_qty,
    cummulative_quote_qty, status, self_trade_prevention_mode, time, update_time, seq)
VALUES (%s, %s::bigint, %s::bigint, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
    %s::bigint, %s::bigint, %s::bigint)
RETURNING id
"""
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
MAKER_FILL = """
UPDATE trading_order SET executed_qty = executed_qty + %s,
    cummulative_quote_qty = cummulative_quote_qty + %s, status = %s,
    update_time = %s::bigint, seq = %s::bigint
WHERE symbol_id = %s AND order_id = %s::bigint
"""
MAKER_EXPIRE = """
UPDATE trading_order SET status = 'EXPIRED_IN_MATCH', update_time = %s::bigint,
    seq = %s::bigint
WHERE symbol_id = %s AND order_id = %s::bigint
"""
TRADE_INSERT = """
INSERT INTO trading_trade (symbol_id, trade_id, price, qty, quote_qty, time, buyer_id,
    seller_id, buyer_order_id, seller_order_id, is_buyer_maker, buyer_fee, seller_fee)
VALUES (%s, %s::bigint, %s, %s, %s, %s::bigint, %s::bigint, %s::bigint, %s::bigint,
    %s::bigint, %s, %s, %s)
"""
ORDERS_CANCEL = """
UPDATE trading_order SET status = 'CANCELED', update_time = %s::bigint,
    seq = %s::bigint
WHERE symbol_id = %s AND order_id = %s::bigint
"""
SYMBOL_SEQ = """
UPDATE trading_symbol SET book_seq = %s::bigint WHERE symbol = %s
"""
SYMBOL_ADVANCE = """
UPDATE trading_symbol SET book_seq = %s::bigint, last_order_id = %s::bigint,
    last_trade_id = %s::bigint
WHERE symbol = %s
"""


def _owns_transaction() -> bool:
    """Whether the innermost ``atomic()`` block is the whole transaction: the
    outermost block, which commits on exit (no savepoint, no test's wrapper)."""
    return len(connection.atomic_blocks) == 1 and connection.commit_on_exit


class Batch:
    """The writes of one placement, sent as prepared statements in one pipeline."""

    __slots__ = ("ops", "new_rows")

    def __init__(self) -> None:
        self.ops: list[tuple[str, list]] = []
        self.new_rows: list[tuple[int, str]] = []

    def add(self, sql: str, rows: list) -> None:
        if rows:
            self.ops.append((sql, rows))

    def execute(self, *, last: bool = False) -> int | None:
        """Send everything and wait once; returns the new order's id when the batch
        has :meth:`order_insert`, else None.

        ``last`` says the caller writes nothing more in its transaction. If that
        transaction is exactly the caller's ``atomic()`` block (not a savepoint
        inside another), its COMMIT goes in the same pipeline: a round trip less,
        and Django's own commit at the block's end finds the transaction already
        closed (psycopg's commit does nothing on an idle connection). A failed
        statement aborts the transaction, so the COMMIT after it cannot apply
        anything; Django rolls back as before."""
        raw = _raw()
        commit = last and _owns_transaction()
        with (
            connection.wrap_database_errors,
            psycopg.Cursor(raw) as first,
            psycopg.Cursor(raw) as rest,
        ):
            returning = None
            with raw.pipeline():
                for sql, rows in self.ops:
                    if sql is ORDER_INSERT:
                        first.execute(sql, rows[0], prepare=True)
                        returning = first
                    else:
                        rest.executemany(sql, rows)
                if commit:
                    # As a statement, not raw.commit(): that one syncs and waits
                    # for the results so far, a round trip of its own.
                    rest.execute("COMMIT")
            order_id = returning.fetchone()[0] if returning is not None else None
        funds.balance_rows_created(self.new_rows)
        return order_id

    def order_insert(self, order) -> None:
        self.add(
            ORDER_INSERT,
            [
                (
                    order.symbol_id,
                    order.order_id,
                    order.user_id,
                    order.client_order_id,
                    order.side,
                    order.type,
                    order.time_in_force,
                    order.price,
                    order.orig_qty,
                    order.orig_quote_order_qty,
                    order.executed_qty,
                    order.cummulative_quote_qty,
                    order.status,
                    order.self_trade_prevention_mode,
                    order.time,
                    order.update_time,
                    order.seq,
                )
            ],
        )

    def balances(self, moves: list[tuple[tuple[int, str], list[Decimal]]]) -> None:
        """Net balance changes, in (user, asset) order. Missing rows are created at
        zero first, so that a debit from one fails the CHECK constraint."""
        missing = funds.balance_rows_missing(moves)
        self.new_rows = missing
        self.add(BALANCE_CREATE, missing)
        self.add(
            BALANCE_MOVE,
            [(df, dl, user_id, asset) for (user_id, asset), (df, dl) in moves],
        )

    def ledger(self, changes) -> None:
        self.add(
            LEDGER_INSERT,
            [
                (
                    c.user_id,
                    c.asset,
                    c.delta_free,
                    c.delta_locked,
                    c.reason,
                    c.reference,
                )
                for c in changes
            ],
        )

    def makers_fill(self, symbol: str, updates: dict, now: int, seq: int) -> None:
        """Add each maker's fills and set its status (FILLED when nothing is left)."""
        self.add(
            MAKER_FILL,
            [
                (
                    add_qty,
                    add_quote,
                    "FILLED" if left == 0 else "PARTIALLY_FILLED",
                    now,
                    seq,
                    symbol,
                    maker_id,
                )
                for maker_id, (add_qty, add_quote, left) in updates.items()
            ],
        )

    def orders_expire(
        self, symbol: str, order_ids: list[int], now: int, seq: int
    ) -> None:
        self.add(MAKER_EXPIRE, [(now, seq, symbol, order_id) for order_id in order_ids])

    def trades(self, trades) -> None:
        self.add(
            TRADE_INSERT,
            [
                (
                    t.symbol_id,
                    t.trade_id,
                    t.price,
                    t.qty,
                    t.quote_qty,
                    t.time,
                    t.buyer_id,
                    t.seller_id,
                    t.buyer_order_id,
                    t.seller_order_id,
                    t.is_buyer_maker,
                    t.buyer_fee,
                    t.seller_fee,
                )
                for t in trades
            ],
        )

    def orders_cancel(
        self, symbol: str, order_ids: list[int], now: int, seq: int
    ) -> None:
        self.add(
            ORDERS_CANCEL, [(now, seq, symbol, order_id) for order_id in order_ids]
        )

    def symbol_seq(self, symbol: str, seq: int) -> None:
        self.add(SYMBOL_SEQ, [(seq, symbol)])

    def klines(self, symbol: str, candle) -> None:
        from trading.klines import KLINE_UPSERT, kline_rows

        self.add(KLINE_UPSERT, kline_rows(symbol, candle))

    def symbol_advance(
        self, symbol: str, seq: int, last_order_id: int, last_trade_id: int
    ) -> None:
        self.add(SYMBOL_ADVANCE, [(seq, last_order_id, last_trade_id, symbol)])
