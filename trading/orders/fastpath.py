"""The order path's SQL on PostgreSQL: one round trip to lock and read, one to write.

Profiling showed ``order_place`` waiting on round trips and on PostgreSQL planning
statements, not matching. On PostgreSQL the order path therefore reads everything
it needs with the symbol's row lock in one prepared statement, and sends every
write of the placement as prepared statements in one pipeline (one network round
trip, no re-planning). Other databases take the ORM path in ``trading.orders``,
which carries out the same plan.

The balance and ledger statements are ``accounts.fastpath``'s: they join the same
pipeline, and keep ``accounts.services``' guarantees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accounts.fastpath import balance_changes_add
from exchange.db import Params, Pipeline, Statement, run, statement
from trading.marketdata.klines import KLINE_UPSERT, kline_rows
from trading.models import Order

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
           AND (o.status IN {OPEN} OR o.time >= %(reuse_since)s::bigint)),
       (SELECT b.free FROM accounts_balance b
         WHERE b.user_id = %(user)s AND b.asset_id = s.base_id),
       (SELECT b.free FROM accounts_balance b
         WHERE b.user_id = %(user)s AND b.asset_id = s.quote_id)
FROM trading_symbol s
WHERE s.symbol = %(symbol)s
FOR UPDATE OF s
"""


LOCK = statement(LOCK_SQL)

# Book sync: the rows of the symbol that changed after the process's seq.
SYNC = statement("""
SELECT order_id, user_id, side, price, orig_qty, executed_qty, status, type,
       time_in_force, self_trade_prevention_mode, stop_price, trailing_delta,
       trail_extreme, working_time, priority, order_list_id
FROM trading_order WHERE symbol_id = %s AND seq > %s::bigint
""")


_ORDER_ATTNAMES = [f.attname for f in Order._meta.concrete_fields]


def order_select(where: str, fields=None) -> str:
    """A SELECT of the order ``fields`` (attribute names; all by default)."""
    meta = Order._meta
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


def symbol_lock_for_order(
    *,
    symbol: str,
    user_id: int,
    client_order_id: str,
    reuse_since: int,
    since_seq: int | None = None,
    find: tuple[str, tuple] | None = None,
) -> LockedSymbol | None:
    """Lock the symbol row and read what placing an order needs, in one round
    trip. With ``since_seq``, the book rows changed after it come back too; with
    ``find`` (a statement and its parameters), the order it selects. They are
    separate statements in the same pipeline, run after the lock is granted, so
    they see every change committed before it. ``duplicate`` is whether the
    user has an open order with ``client_order_id``, or any placed at or after
    ``reuse_since`` (ms). Caller is inside ``atomic()``."""
    params = {
        "symbol": symbol,
        "user": user_id,
        "client_id": client_order_id,
        "reuse_since": reuse_since,
    }
    ops: list[tuple[Statement, Params]] = [(LOCK, params)]
    if since_seq is not None:
        ops.append((SYNC, (symbol, since_seq)))
    if find is not None:
        ops.append((statement(find[0]), find[1]))
    results = run(ops)
    found = results.rows(0)
    if not found:
        return None
    locked = LockedSymbol(symbol, *found[0])
    if since_seq is not None:
        locked.changes = results.rows(1)
    if find is not None:
        order = results.rows(len(ops) - 1)
        locked.order = order[0] if order else None
    return locked


ORDER_INSERT = """
INSERT INTO trading_order (symbol_id, order_id, user_id, client_order_id, side, type,
    time_in_force, price, orig_qty, orig_quote_order_qty, executed_qty,
    cummulative_quote_qty, status, self_trade_prevention_mode, time, update_time, seq)
VALUES (%s, %s::bigint, %s::bigint, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
    %s::bigint, %s::bigint, %s::bigint)
RETURNING id
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


class OrderPipeline(Pipeline):
    """The writes of one placement or cancel, sent in one pipeline."""

    __slots__ = ()

    def order_insert(self, order) -> None:
        self.add_returning(
            ORDER_INSERT,
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
            ),
        )

    def funds(self, changes) -> None:
        """Every balance change, with its ledger rows (``accounts.fastpath``)."""
        balance_changes_add(self, changes)

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
        self.add(KLINE_UPSERT, kline_rows(symbol, candle))

    def symbol_advance(
        self, symbol: str, seq: int, last_order_id: int, last_trade_id: int
    ) -> None:
        self.add(SYMBOL_ADVANCE, [(seq, last_order_id, last_trade_id, symbol)])
