"""The invariants a chaos run must end with, and what each found.

Two kinds of checks. Those over what clients were told (placements, duplicates,
cancels) and over a worker's book are pure functions of plain data, so they are
tested without the stack (``tests/tools/chaos``). Those over the database are
SQL, run against the chaos cluster at the end.

Each check gives a :class:`Check`: passed, failed (with the first problems), or
skipped (with why), never a silent pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from tools.chaos.client import ACCEPTED, REFUSED, UNKNOWN, Record

OPEN = ("NEW", "PARTIALLY_FILLED")
DUPLICATE_MSG = "Duplicate order sent."
SHOWN = 10  # problems listed per check


@dataclass(slots=True)
class Check:
    name: str
    problems: list[str] = field(default_factory=list)
    skipped: str = ""  # why the check could not run
    figures: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems and not self.skipped

    @property
    def verdict(self) -> str:
        if self.skipped:
            return "SKIPPED"
        return "ok" if not self.problems else "FAIL"


@dataclass(frozen=True, slots=True)
class DbOrder:
    """An order row, as the checks need it."""

    symbol: str
    order_id: int
    status: str
    time: int
    update_time: int


# --- what clients were told ---------------------------------------------------------


def placements_check(
    records: list[Record], orders: dict[tuple[int, str], list[DbOrder]]
) -> Check:
    """Every order a client was told was accepted exists (same id and symbol);
    none it was told was refused does. Unknown outcomes (no answer, 5xx) are
    looked up and counted, neither accepted nor refused.

    ``orders`` maps (trader, client order id) to the orders the database holds."""
    check = Check("accepted orders exist, refused ones do not")
    unknown = Counter()
    for r in records:
        if r.kind != "place":
            continue
        found = orders.get((r.user, r.cid), [])
        if r.outcome == ACCEPTED:
            if len(found) != 1:
                check.problems.append(
                    f"{r.cid}: told accepted (orderId {r.order_id}), "
                    f"the database holds {len(found)} order(s)"
                )
            elif (found[0].order_id, found[0].symbol) != (r.order_id, r.symbol):
                check.problems.append(
                    f"{r.cid}: told {r.symbol}#{r.order_id}, the database holds "
                    f"{found[0].symbol}#{found[0].order_id}"
                )
        elif r.outcome == REFUSED:
            if found:
                check.problems.append(
                    f"{r.cid}: told refused ({r.code} {r.msg}), the database holds "
                    f"{found[0].symbol}#{found[0].order_id} {found[0].status}"
                )
        else:
            unknown[(r.error, bool(found))] += 1
    for error in sorted({error for error, _ in unknown}):
        check.figures[f"unknown after {error}"] = (
            f"{unknown[(error, True)]} exist, {unknown[(error, False)]} do not"
        )
    return check


def duplicates_check(
    records: list[Record], orders: dict[tuple[int, str], list[DbOrder]]
) -> Check:
    """Each pair of requests sharing one client order id: at most one accepted,
    the other refused as a duplicate (or both refused); what the database holds
    agrees with the answers. Two orders with one id are allowed only one after
    the other: the first closed before the second arrived, as on Binance."""
    check = Check("duplicate client order ids: at most one accepted")
    pairs: dict[int, list[Record]] = defaultdict(list)
    for r in records:
        if r.kind == "dup":
            pairs[r.pair].append(r)
    outcomes = Counter()
    for number, pair in sorted(pairs.items()):
        key = (pair[0].user, pair[0].cid)
        found = sorted(orders.get(key, []), key=lambda o: o.order_id)
        accepted = [r for r in pair if r.outcome == ACCEPTED]
        refused = [r for r in pair if r.outcome == REFUSED]
        unknown = [r for r in pair if r.outcome == UNKNOWN]
        outcomes[_pair_name(pair)] += 1
        label = f"pair {number} ({pair[0].name}, {pair[0].cid})"
        ids = {(o.symbol, o.order_id) for o in found}
        for r in accepted:
            if (r.symbol, r.order_id) not in ids:
                check.problems.append(
                    f"{label}: told accepted as {r.symbol}#{r.order_id}, "
                    "not in the database"
                )
        if len(found) > len(accepted) + len(unknown):
            check.problems.append(
                f"{label}: {len(found)} order(s) in the database, "
                f"{len(accepted)} accepted, {len(unknown)} unknown"
            )
        for first, second in zip(found, found[1:], strict=False):
            if first.status in OPEN or first.update_time > second.time:
                check.problems.append(
                    f"{label}: #{first.order_id} ({first.status}) and "
                    f"#{second.order_id} share the id while both open"
                )
        if any(r.msg == DUPLICATE_MSG for r in refused) and not found:
            check.problems.append(f"{label}: refused as a duplicate of nothing")
    check.figures = dict(sorted(outcomes.items()))
    return check


def _pair_name(pair: list[Record]) -> str:
    def one(r: Record) -> str:
        if r.outcome == REFUSED:
            return "refused as duplicate" if r.msg == DUPLICATE_MSG else "refused"
        return r.outcome

    return " + ".join(sorted(one(r) for r in pair))


def cancels_check(
    records: list[Record],
    by_id: dict[tuple[str, int], DbOrder],
    orders: dict[tuple[int, str], list[DbOrder]],
) -> Check:
    """A cancel the client was told succeeded left its order CANCELED; one refused
    as unknown found it already closed (an order never reopens)."""
    check = Check("cancels agree with the database")
    for r in records:
        if r.kind != "cancel" or r.outcome == UNKNOWN:
            continue
        order = by_id.get((r.symbol, r.order_id)) if r.order_id is not None else None
        if order is None:
            found = orders.get((r.user, r.cid), [])
            order = found[-1] if found else None
        if order is None:
            check.problems.append(f"cancel of {r.cid}: no such order in the database")
        elif r.outcome == ACCEPTED and order.status != "CANCELED":
            check.problems.append(
                f"cancel of {r.symbol}#{order.order_id}: told cancelled, the "
                f"database says {order.status}"
            )
        elif r.outcome == REFUSED and order.status in OPEN:
            check.problems.append(
                f"cancel of {r.symbol}#{order.order_id}: refused ({r.code} {r.msg}), "
                f"the order is still {order.status}"
            )
    return check


# --- a worker's book ----------------------------------------------------------------


def book_problems(
    pid: int,
    symbol: str,
    book: dict | None,
    db_seq: int,
    db_orders: set[tuple],
) -> list[str]:
    """A worker's book (as ``GET /internal/books`` shows it: seq, stale, orders as
    [order_id, user_id, side, price_ticks, remaining_lots]) against the symbol's
    ``book_seq`` and open orders in the database, in the same units."""
    where = f"worker {pid} {symbol}"
    if book is None:
        return [f"{where}: no book after the sync probe"]
    if book.get("stale"):
        return [f"{where}: stale after the sync probe"]
    problems = []
    if book.get("seq") != db_seq:
        problems.append(f"{where}: at seq {book.get('seq')}, database at {db_seq}")
    held = {tuple(order) for order in book.get("orders") or []}
    extra, missing = held - db_orders, db_orders - held
    for order in sorted(extra)[:3]:
        problems.append(f"{where}: holds {list(order)}, not open so in the database")
    for order in sorted(missing)[:3]:
        problems.append(f"{where}: lacks {list(order)}, open in the database")
    if len(extra) + len(missing) > 6:
        problems.append(
            f"{where}: {len(extra)} extra and {len(missing)} missing orders in all"
        )
    return problems


def open_orders_in_units(rows, specs: dict[str, tuple[Decimal, Decimal]]) -> dict:
    """{symbol: {(order_id, user_id, side, price_ticks, remaining_lots)}} from rows
    (symbol, order_id, user_id, side, price, orig_qty, executed_qty)."""
    books: dict[str, set] = defaultdict(set)
    for symbol, order_id, user_id, side, price, orig, executed in rows:
        tick, step = specs[symbol]
        remaining = int((orig - executed) / step)
        if remaining > 0:
            books[symbol].add((order_id, user_id, side, int(price / tick), remaining))
    return books


# --- the database -------------------------------------------------------------------


def _rows(db, sql: str, params=()) -> list[tuple]:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def conservation_check(db) -> Check:
    """Per asset, all balances (fee account included) == deposits - withdrawals."""
    check = Check("every asset: free + locked + fees == deposits - withdrawals")
    held = dict(
        _rows(
            db,
            "SELECT asset_id, SUM(free + locked) FROM accounts_balance GROUP BY 1",
        )
    )
    external = dict(
        _rows(
            db,
            "SELECT asset_id, SUM(delta_free + delta_locked) FROM accounts_ledgerentry"
            " WHERE reason IN ('DEPOSIT', 'WITHDRAW') GROUP BY 1",
        )
    )
    fees = dict(
        _rows(
            db,
            "SELECT b.asset_id, SUM(b.free + b.locked) FROM accounts_balance b"
            " JOIN accounts_user u ON u.id = b.user_id WHERE u.username = 'fees'"
            " GROUP BY 1",
        )
    )
    for asset in sorted(set(held) | set(external)):
        have, should = held.get(asset, 0), external.get(asset, 0)
        check.figures[asset] = f"{have} (fees {fees.get(asset, 0)})"
        if have != should:
            check.problems.append(
                f"{asset}: balances total {have}, deposits - withdrawals {should}, "
                f"off by {have - should}"
            )
    return check


def negative_check(db) -> Check:
    check = Check("no negative balance")
    for user_id, asset, free, locked in _rows(
        db,
        "SELECT user_id, asset_id, free, locked FROM accounts_balance"
        " WHERE free < 0 OR locked < 0",
    ):
        check.problems.append(f"user {user_id} {asset}: free {free}, locked {locked}")
    return check


def overfill_check(db) -> Check:
    """No order filled beyond its quantity; status agrees with what is left."""
    check = Check("no order filled beyond its quantity")
    for symbol, order_id, status, orig, executed in _rows(
        db,
        "SELECT symbol_id, order_id, status, orig_qty, executed_qty"
        " FROM trading_order WHERE executed_qty > orig_qty OR executed_qty < 0"
        " OR (status = 'FILLED' AND executed_qty <> orig_qty)"
        " OR (status IN ('NEW', 'PARTIALLY_FILLED') AND executed_qty >= orig_qty)",
    ):
        check.problems.append(
            f"{symbol}#{order_id} {status}: executed {executed} of {orig}"
        )
    return check


def fills_check(db) -> Check:
    """Each order's executed quantities equal the sum of its trades."""
    check = Check("every order's fills equal its trades")
    for symbol, order_id, executed, quote, traded, traded_quote in _rows(
        db,
        """
        WITH per_side AS (
            SELECT symbol_id, buyer_order_id AS order_id, qty, quote_qty
              FROM trading_trade
            UNION ALL
            SELECT symbol_id, seller_order_id, qty, quote_qty FROM trading_trade
        ), per_order AS (
            SELECT symbol_id, order_id, SUM(qty) AS qty, SUM(quote_qty) AS quote
              FROM per_side GROUP BY 1, 2
        )
        SELECT o.symbol_id, o.order_id, o.executed_qty, o.cummulative_quote_qty,
               COALESCE(t.qty, 0), COALESCE(t.quote, 0)
          FROM trading_order o
          LEFT JOIN per_order t USING (symbol_id, order_id)
         WHERE o.executed_qty <> COALESCE(t.qty, 0)
            OR o.cummulative_quote_qty <> COALESCE(t.quote, 0)
        """,
    ):
        check.problems.append(
            f"{symbol}#{order_id}: executed {executed} / {quote}, "
            f"trades {traded} / {traded_quote}"
        )
    return check


def orders_by_client_id(db) -> dict[tuple[int, str], list[DbOrder]]:
    """Every order of the load's traders (and the probe, as -1), by client id."""
    found: dict[tuple[int, str], list[DbOrder]] = defaultdict(list)
    for username, cid, symbol, order_id, status, time, update_time in _rows(
        db,
        "SELECT u.username, o.client_order_id, o.symbol_id, o.order_id, o.status,"
        " o.time, o.update_time FROM trading_order o"
        " JOIN accounts_user u ON u.id = o.user_id"
        " WHERE u.username LIKE 'bench-%%' OR u.username = 'chaos-probe'",
    ):
        user = -1 if username == "chaos-probe" else int(username.split("-", 1)[1])
        found[(user, cid)].append(DbOrder(symbol, order_id, status, time, update_time))
    return dict(found)


def orders_by_id(db) -> dict[tuple[str, int], DbOrder]:
    return {
        (symbol, order_id): DbOrder(symbol, order_id, status, time, update_time)
        for symbol, order_id, status, time, update_time in _rows(
            db,
            "SELECT symbol_id, order_id, status, time, update_time FROM trading_order",
        )
    }


def database_books(db) -> tuple[dict[str, int], dict[str, set]]:
    """Each symbol's ``book_seq`` and open orders in ticks and lots."""
    specs, seqs = {}, {}
    for symbol, tick, step, seq in _rows(
        db, "SELECT symbol, tick_size, step_size, book_seq FROM trading_symbol"
    ):
        specs[symbol] = (tick, step)
        seqs[symbol] = seq
    rows = _rows(
        db,
        "SELECT symbol_id, order_id, user_id, side, price, orig_qty, executed_qty"
        " FROM trading_order WHERE status IN ('NEW', 'PARTIALLY_FILLED')",
    )
    books = open_orders_in_units(rows, specs)
    return seqs, {symbol: books.get(symbol, set()) for symbol in specs}


def database_depth(db, symbol: str, limit: int) -> dict:
    """Depth as ``GET /api/v3/depth`` shows it, from the open orders."""
    levels = _rows(
        db,
        "SELECT side, price, SUM(orig_qty - executed_qty) FROM trading_order"
        " WHERE symbol_id = %s AND status IN ('NEW', 'PARTIALLY_FILLED')"
        " GROUP BY 1, 2",
        (symbol,),
    )
    bids = sorted(((p, q) for s, p, q in levels if s == "BUY"), reverse=True)
    asks = sorted((p, q) for s, p, q in levels if s == "SELL")
    return {
        "bids": [[f"{p:.8f}", f"{q:.8f}"] for p, q in bids[:limit]],
        "asks": [[f"{p:.8f}", f"{q:.8f}"] for p, q in asks[:limit]],
    }


def database_trade_ids(db, symbol: str, limit: int) -> list[int]:
    rows = _rows(
        db,
        "SELECT trade_id FROM trading_trade WHERE symbol_id = %s"
        " ORDER BY trade_id DESC LIMIT %s",
        (symbol, limit),
    )
    return [trade_id for (trade_id,) in reversed(rows)]
