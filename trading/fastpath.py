"""The order path's SQL on PostgreSQL: one round trip to lock and read, one to write.

``order_place`` spends its time in Python, not in PostgreSQL: building ORM queries
and waiting on round trips cost more than matching. On PostgreSQL the order path
therefore reads everything it needs with the symbol's row lock in one statement,
and writes everything it did in one batch of statements sent together (Django's
psycopg cursor binds parameters client-side, so several statements go in one
message). Other databases take the ORM path in ``trading.services``, which
computes the same plan.

The balance update keeps ``accounts.services``' guarantees: rows are locked in
(user, asset) order before any is changed, and the CHECK constraints (``free >= 0``,
``locked >= 0``) refuse an overdraft, which aborts the whole transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

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


@dataclass(slots=True)
class LockedSymbol:
    """The symbol row as read under its lock, with the order's pre-checks."""

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


def symbol_lock_for_order(
    *, symbol: str, user_id: int, client_order_id: str
) -> LockedSymbol | None:
    """Lock the symbol row and read what placing an order needs, in one round
    trip. Caller is inside ``atomic()``."""
    with connection.cursor() as cursor:
        cursor.execute(
            LOCK_SQL, {"symbol": symbol, "user": user_id, "client_id": client_order_id}
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return LockedSymbol(symbol, *row)


class Batch:
    """Statements to send to PostgreSQL in one round trip."""

    __slots__ = ("parts", "params")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list = []

    def add(self, sql: str, params: list) -> None:
        self.parts.append(sql)
        self.params += params

    def execute(self) -> tuple | None:
        """Send every statement; the first statement's first row, if it has one."""
        if not self.parts:
            return None
        with connection.cursor() as cursor:
            cursor.execute(";\n".join(self.parts), self.params)
            return cursor.fetchone() if cursor.description else None

    def balances(self, moves: list[tuple[tuple[int, str], list[Decimal]]]) -> None:
        """Net balance changes: missing rows are created at zero (so that a debit
        from one fails the CHECK constraint rather than being skipped), then every
        row is locked in (user, asset) order and updated."""
        if not moves:
            return
        values = ",".join(
            ["(%s::bigint, %s::varchar, %s::numeric, %s::numeric)"] * len(moves)
        )
        params: list = []
        for (user_id, asset), (delta_free, delta_locked) in moves:
            params += [user_id, asset, delta_free, delta_locked]
        self.add(
            "INSERT INTO accounts_balance (user_id, asset_id, free, locked) "
            f"SELECT v.user_id, v.asset_id, 0, 0 FROM (VALUES {values}) "
            "AS v(user_id, asset_id, df, dl) "
            "ON CONFLICT (user_id, asset_id) DO NOTHING",
            params,
        )
        self.add(
            f"""WITH v(user_id, asset_id, df, dl) AS (VALUES {values}),
            l AS (
                SELECT b.id FROM accounts_balance b
                JOIN v ON b.user_id = v.user_id AND b.asset_id = v.asset_id
                ORDER BY b.user_id, b.asset_id
                FOR UPDATE OF b
            )
            UPDATE accounts_balance b
            SET free = b.free + v.df, locked = b.locked + v.dl
            FROM v, l
            WHERE b.id = l.id AND b.user_id = v.user_id AND b.asset_id = v.asset_id""",
            params,
        )

    def ledger(self, changes) -> None:
        if not changes:
            return
        values = ",".join(["(%s, %s, %s, %s, %s, %s, now())"] * len(changes))
        params: list = []
        for c in changes:
            params += [
                c.user_id,
                c.asset,
                c.delta_free,
                c.delta_locked,
                c.reason,
                c.reference,
            ]
        self.add(
            "INSERT INTO accounts_ledgerentry (user_id, asset_id, delta_free, "
            "delta_locked, reason, reference, created_at) "
            f"VALUES {values}",
            params,
        )

    def order_insert(self, order) -> None:
        """Put it first in the batch: ``execute`` then returns the new row's id."""
        self.add(
            "INSERT INTO trading_order (symbol_id, order_id, user_id, client_order_id, "
            "side, type, time_in_force, price, orig_qty, orig_quote_order_qty, "
            "executed_qty, cummulative_quote_qty, status, self_trade_prevention_mode, "
            "time, update_time, seq) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id",
            [
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
            ],
        )

    def makers_fill(self, symbol: str, updates: dict, now: int, seq: int) -> None:
        """Add each maker's fills and set its status (FILLED when nothing is left)."""
        if not updates:
            return
        values = ",".join(
            ["(%s::bigint, %s::numeric, %s::numeric, %s::varchar)"] * len(updates)
        )
        params: list = []
        for maker_id, (add_qty, add_quote, left) in updates.items():
            params += [
                maker_id,
                add_qty,
                add_quote,
                "FILLED" if left == 0 else "PARTIALLY_FILLED",
            ]
        self.add(
            f"""UPDATE trading_order o SET
                executed_qty = o.executed_qty + v.q,
                cummulative_quote_qty = o.cummulative_quote_qty + v.qq,
                status = v.st, update_time = %s, seq = %s
            FROM (VALUES {values}) AS v(id, q, qq, st)
            WHERE o.symbol_id = %s AND o.order_id = v.id""",
            [now, seq, *params, symbol],
        )

    def orders_expire(
        self, symbol: str, order_ids: list[int], now: int, seq: int
    ) -> None:
        if not order_ids:
            return
        self.add(
            "UPDATE trading_order SET status = 'EXPIRED_IN_MATCH', update_time = %s, "
            "seq = %s WHERE symbol_id = %s AND order_id = ANY(%s)",
            [now, seq, symbol, order_ids],
        )

    def trades(self, trades) -> None:
        if not trades:
            return
        values = ",".join(
            ["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(trades)
        )
        params: list = []
        for t in trades:
            params += [
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
            ]
        self.add(
            "INSERT INTO trading_trade (symbol_id, trade_id, price, qty, quote_qty, "
            "time, "
            "buyer_id, seller_id, buyer_order_id, seller_order_id, is_buyer_maker, "
            f"buyer_fee, seller_fee) VALUES {values}",
            params,
        )

    def klines(self, symbol: str, candle) -> None:
        from trading.klines import kline_upsert_sql

        sql, params = kline_upsert_sql(symbol, candle)
        self.add(sql, params)

    def symbol_advance(
        self, symbol: str, seq: int, last_order_id: int, last_trade_id: int
    ):
        self.add(
            "UPDATE trading_symbol SET book_seq = %s, last_order_id = %s, "
            "last_trade_id = %s WHERE symbol = %s",
            [seq, last_order_id, last_trade_id, symbol],
        )
