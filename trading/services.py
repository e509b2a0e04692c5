"""Writes of the trading app: placing and cancelling orders, managing symbols.

The order path follows ``DESIGN.md``: under the symbol's process lock and its row
lock (``SELECT ... FOR UPDATE``), bring the process's book up to the symbol's
``book_seq``, match in memory, then persist the taker, the makers, the trades and
every balance change in one transaction, and bump ``book_seq``. If anything fails
after the book was touched, the transaction rolls back and the book is marked
stale so that the next order rebuilds it from the database.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from psycopg.pq import TransactionStatus

from accounts import services as funds
from accounts.models import Balance, LedgerEntry
from exchange import errors
from exchange.errors import ExchangeError
from exchange.metrics import (
    BOOK_SYNC_ROWS,
    MATCH_SECONDS,
    ORDERS_REJECTED,
    ORDERS_TOTAL,
    PAIR_LOCK_WAIT_SECONDS,
    TRADES_TOTAL,
)
from exchange.retry import retry_on_conflict
from matching import engine
from matching.registry import BookSlot, registry
from trading import fastpath, market_cache
from trading.klines import Candle, candle_from_trades, klines_record
from trading.models import OPEN_STATUSES, Order, Symbol, Trade
from trading.specs import (
    DEFAULT_MAX_NOTIONAL,
    SymbolSpec,
    filter_failure,
    symbol_filters_problems,
)

ZERO = Decimal(0)
RELEASE = LedgerEntry.Reason.RELEASE
HOLD = LedgerEntry.Reason.HOLD
TRADE = LedgerEntry.Reason.TRADE
FEE = LedgerEntry.Reason.FEE


def now_ms() -> int:
    return int(time.time() * 1000)


def client_order_id_new() -> str:
    """A fresh client order id, as Binance generates them: 22 URL-safe characters."""
    return secrets.token_urlsafe(16)[:22]


# --- Requests and results ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order, already parsed into types (the API layer checks the shape)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str | None = None
    new_client_order_id: str | None = None
    self_trade_prevention_mode: str = "EXPIRE_MAKER"


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill from the taker's point of view, as Binance's FULL response shows it."""

    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int


@dataclass(slots=True)
class Placement:
    """What ``order_place`` did: the order as stored, and its fills."""

    order: Order
    fills: list[Fill] = field(default_factory=list)


# --- The pair lock ------------------------------------------------------------------


@contextmanager
def pair_locked(symbol: str) -> Iterator[BookSlot]:
    """Hold the symbol's process lock for the duration; the caller then takes the row
    lock inside its transaction with :func:`symbol_lock`."""
    slot = registry.slot(symbol)
    started = time.perf_counter()
    with slot.lock:
        PAIR_LOCK_WAIT_SECONDS.labels(symbol).observe(time.perf_counter() - started)
        yield slot


@contextmanager
def _locked_transaction(symbol: str) -> Iterator[BookSlot]:
    """The pair lock, and one transaction inside it.

    A refusal (``ExchangeError``) raised before the write path started ends the
    transaction with COMMIT instead of ROLLBACK. Up to then the transaction has
    only read and locked, so both leave the same state; but a ROLLBACK makes
    psycopg forget every prepared statement of the connection (it sends
    DEALLOCATE ALL), and the orders after a refused one parsed and planned all
    their statements again. The write path registers its commit hooks before it
    writes anything, so a refusal with hooks pending rolls back as before, as
    does one raised in a transaction the database has already failed, and every
    other exception.
    """
    refusal = None
    with pair_locked(symbol) as slot, transaction.atomic():
        try:
            yield slot
        except ExchangeError as exc:
            if connection.run_on_commit or _transaction_failed():
                raise
            refusal = exc
    if refusal is not None:
        raise refusal


def _transaction_failed() -> bool:
    """Whether PostgreSQL has aborted the current transaction (a statement in it
    failed): it can only roll back, and psycopg must know it did."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return False
    return connection.connection.info.transaction_status == TransactionStatus.INERROR


def symbol_spec(row: Symbol) -> SymbolSpec:
    return SymbolSpec(
        symbol=row.symbol,
        base=row.base_id,
        quote=row.quote_id,
        status=row.status,
        tick_size=row.tick_size,
        min_price=row.min_price,
        max_price=row.max_price,
        step_size=row.step_size,
        min_qty=row.min_qty,
        max_qty=row.max_qty,
        market_max_qty=row.market_max_qty,
        min_notional=row.min_notional,
        max_notional=row.max_notional or DEFAULT_MAX_NOTIONAL,
        max_num_orders=row.max_num_orders,
        maker_fee=row.maker_fee,
        taker_fee=row.taker_fee,
        base_decimals=funds.asset_decimals(row.base_id),
        quote_decimals=funds.asset_decimals(row.quote_id),
    )


_specs: dict[tuple, SymbolSpec] = {}


def symbol_spec_cached(row) -> SymbolSpec:
    """``symbol_spec`` for a row read under the lock, reused while the symbol's
    filters and fees are unchanged."""
    key = (
        row.symbol,
        row.base_id,
        row.quote_id,
        row.status,
        row.tick_size,
        row.min_price,
        row.max_price,
        row.step_size,
        row.min_qty,
        row.max_qty,
        row.market_max_qty,
        row.min_notional,
        row.max_notional,
        row.max_num_orders,
        row.maker_fee,
        row.taker_fee,
    )
    spec = _specs.get(key)
    if spec is None:
        if len(_specs) > 1000:
            _specs.clear()
        spec = _specs[key] = symbol_spec(row)
    return spec


def bad_symbol() -> ExchangeError:
    return ExchangeError(errors.BAD_SYMBOL, "Invalid symbol.", reason="bad_symbol")


def symbol_lock(symbol: str, **annotations) -> Symbol:
    """Lock the symbol row (the pair lock across processes) and return it, with any
    annotations computed in the same round trip. Caller is inside ``atomic()``."""
    query = Symbol.objects.filter(symbol=symbol)
    if annotations:
        query = query.annotate(**annotations)
    if connection.vendor == "postgresql":
        query = query.select_for_update(of=("self",))
    row = query.first()
    if row is None:
        raise bad_symbol()
    return row


_BOOK_FIELDS = (
    "order_id",
    "user_id",
    "side",
    "price",
    "orig_qty",
    "executed_qty",
    "status",
)


def book_sync(slot: BookSlot, row, spec: SymbolSpec) -> engine.OrderBook:
    """Bring the process's book up to ``row.book_seq``. Caller holds both locks.

    The rows changed after the slot's seq may have come with the lock
    (``row.changes``, PostgreSQL); otherwise they are read here."""
    if not slot.stale and slot.seq == row.book_seq:
        return slot.book
    if slot.stale:
        applied = slot.rebuild(book_rows_open(row.symbol, spec), row.book_seq)
    else:
        rows = getattr(row, "changes", None)
        if rows is None:
            query = Order.objects.filter(symbol_id=row.symbol, seq__gt=slot.seq)
            rows = query.values_list(*_BOOK_FIELDS)
        applied = slot.apply(_book_rows(rows, spec), row.book_seq)
    BOOK_SYNC_ROWS.labels(row.symbol).observe(applied)
    return slot.book


def book_rows_open(symbol: str, spec: SymbolSpec):
    """Every open order of the symbol as the book takes it, in arrival order."""
    query = Order.objects.filter(symbol_id=symbol, status__in=OPEN_STATUSES)
    return _book_rows(query.order_by("order_id").values_list(*_BOOK_FIELDS), spec)


def _book_rows(rows, spec: SymbolSpec):
    tick, step = spec.tick_size, spec.step_size
    for order_id, user_id, side, price, orig, executed, status in rows:
        yield (
            order_id,
            user_id,
            side,
            int(price / tick),
            int((orig - executed) / step),
            status in OPEN_STATUSES,
        )


# --- Placing --------------------------------------------------------------------------


def order_place(*, user_id: int, request: OrderRequest) -> Placement:
    """Place an order: refuse it with a Binance error, or match it and persist it.

    A refusal leaves balances, orders and the book exactly as they were.
    """
    try:
        placement = _order_place_retrying(user_id, request)
    except ExchangeError as exc:
        ORDERS_REJECTED.labels(exc.reason or str(exc.code)).inc()
        raise
    ORDERS_TOTAL.labels(request.symbol, placement.order.status).inc()
    if placement.fills:
        TRADES_TOTAL.labels(request.symbol).inc(len(placement.fills))
    return placement


def order_validate(*, request: OrderRequest) -> SymbolSpec:
    """Everything ``order_place`` checks before matching, except funds: the symbol
    trades and the filters hold. For ``order/test``."""
    row = Symbol.objects.filter(symbol=request.symbol).first()
    if row is None:
        raise bad_symbol()
    if row.status != Symbol.Status.TRADING:
        raise ExchangeError(
            errors.NEW_ORDER_REJECTED, "Market is closed.", reason="market_closed"
        )
    spec = symbol_spec(row)
    _order_checks(request, spec)
    return spec


def _order_checks(request: OrderRequest, spec: SymbolSpec) -> tuple[int, int, int]:
    """Filters: price ticks, quantity lots, quote units (0 where not given)."""
    price = lots = quote = 0
    if request.type == "MARKET":
        if request.quantity is not None:
            lots = spec.qty_lots(request.quantity, market=True)
        else:
            quote = spec.quote_units(request.quote_order_qty)
            if quote <= 0:
                raise filter_failure("NOTIONAL")
    else:
        price = spec.price_ticks(request.price)
        lots = spec.qty_lots(request.quantity)
        spec.notional_check(request.price * request.quantity)
    return price, lots, quote


def _lock_for_order(
    symbol: str, user_id: int, client_order_id: str, slot: BookSlot
) -> fastpath.LockedSymbol:
    """Lock the symbol row and read the order's pre-checks (and, on PostgreSQL, the
    book's changes) in one round trip."""
    if connection.vendor == "postgresql":
        row = fastpath.symbol_lock_for_order(
            symbol=symbol,
            user_id=user_id,
            client_order_id=client_order_id,
            since_seq=None if slot.stale else slot.seq,
        )
        if row is None:
            raise bad_symbol()
        return row
    open_orders = Order.objects.filter(
        user_id=user_id, status__in=OPEN_STATUSES, symbol_id=OuterRef("symbol")
    )
    balance = Balance.objects.filter(user_id=user_id)
    row = symbol_lock(
        symbol,
        open_count=Subquery(
            open_orders.values("symbol_id").annotate(n=Count("id")).values("n")[:1]
        ),
        duplicate=Exists(
            Order.objects.filter(
                user_id=user_id,
                client_order_id=client_order_id,
                status__in=OPEN_STATUSES,
            )
        ),
        free_base=Subquery(
            balance.filter(asset_id=OuterRef("base_id")).values("free")[:1]
        ),
        free_quote=Subquery(
            balance.filter(asset_id=OuterRef("quote_id")).values("free")[:1]
        ),
    )
    return fastpath.LockedSymbol(
        **{
            f: getattr(row, f)
            for f in fastpath.LockedSymbol.__slots__
            if hasattr(row, f)
        }
    )


@retry_on_conflict("order_place")
def _order_place_retrying(user_id: int, request: OrderRequest) -> Placement:
    try:
        return _order_place(user_id, request)
    except IntegrityError as exc:
        # Raised by the writes; the transaction has rolled back.
        raise _integrity_refusal(exc) from None


def _order_place(user_id: int, request: OrderRequest) -> Placement:
    buying = request.side == "BUY"
    client_order_id = request.new_client_order_id or client_order_id_new()
    with _locked_transaction(request.symbol) as slot:
        row = _lock_for_order(request.symbol, user_id, client_order_id, slot)
        if row.status != Symbol.Status.TRADING:
            raise ExchangeError(
                errors.NEW_ORDER_REJECTED, "Market is closed.", reason="market_closed"
            )
        spec = symbol_spec_cached(row)
        price, lots, quote = _order_checks(request, spec)
        if (row.open_count or 0) >= spec.max_num_orders:
            raise filter_failure("MAX_NUM_ORDERS")
        if row.duplicate:
            raise ExchangeError(
                errors.NEW_ORDER_REJECTED, "Duplicate order sent.", reason="duplicate"
            )
        book = book_sync(slot, row, spec)
        free = (row.free_quote if buying else row.free_base) or ZERO
        _funds_precheck(spec, request, book, free, price, lots, quote)

        order_id = row.last_order_id + 1
        command = engine.NewOrder(
            order_id=order_id,
            owner=user_id,
            side=request.side,
            type=request.type,
            tif=request.time_in_force or engine.GTC,
            price=price,
            qty=lots,
            quote_qty=quote,
            stp=request.self_trade_prevention_mode,
        )
        return _match_and_persist(
            row, spec, slot, book, user_id, request, client_order_id, command
        )


def _integrity_refusal(exc: IntegrityError) -> ExchangeError:
    """A constraint the order broke, as Binance's refusal: a balance CHECK is an
    overdraft; the other possibility is an open order with the same client id."""
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "")
    if constraint in ("balance_free_gte_0", "balance_locked_gte_0"):
        return funds.insufficient_balance()
    return ExchangeError(
        errors.NEW_ORDER_REJECTED, "Duplicate order sent.", reason="duplicate"
    )


def _match_and_persist(
    row, spec, slot, book, user_id, request, client_order_id, command
):
    """Match ``command`` and persist the outcome; on any failure after the book was
    touched, mark it stale. Caller holds both locks, inside ``atomic()``."""
    started = time.perf_counter()
    try:
        result = book.place(command)
    except BaseException:
        slot.mark_stale()
        raise
    MATCH_SECONDS.labels(row.symbol).observe(time.perf_counter() - started)
    if result.status == engine.REJECTED:
        # The engine refused without touching the book.
        if result.reject_reason == engine.WOULD_TAKE:
            raise ExchangeError(
                errors.NEW_ORDER_REJECTED,
                "Order would immediately match and take.",
                reason="would_take",
            )
        raise filter_failure(
            "PRICE_FILTER"
            if result.reject_reason == engine.INVALID_PRICE
            else "LOT_SIZE"
        )
    # From here the book holds changes that are real only if this transaction
    # commits: until then (and for ever, if it rolls back) the slot counts as stale.
    slot.touch(row.book_seq + 1)
    transaction.on_commit(slot.confirm)
    return _persist(row, spec, slot, user_id, request, client_order_id, command, result)


def _funds_precheck(spec, request, book, free, price, lots, quote) -> None:
    """Refuse before matching when the free balance clearly cannot pay, so that the
    common refusal never touches the book. The final guard is in the balance update."""
    if request.type != "MARKET":
        need = (
            spec.quote_of(price * lots) if request.side == "BUY" else spec.qty_of(lots)
        )
    elif request.side == "BUY" and quote:
        need = spec.quote_of(quote)
    elif request.side == "SELL" and lots:
        need = spec.qty_of(lots)
    else:
        need = _market_estimate(spec, request.side, book, lots, quote)
    if need > free:
        raise funds.insufficient_balance()


def _market_estimate(spec, side, book, lots, quote) -> Decimal:
    """What a market BUY by quantity costs in quote, or a market SELL by quote
    amount needs in base, walking the book as it stands."""
    bids, asks = book.depth(1 << 30)
    levels = asks if side == "BUY" else bids
    if side == "BUY":
        cost = 0
        for level_price, level_lots in levels:
            take = min(lots, level_lots)
            cost += take * level_price
            lots -= take
            if not lots:
                break
        return spec.quote_of(cost)
    need = 0
    for level_price, level_lots in levels:
        take = min(level_lots, quote // level_price)
        need += take
        quote -= take * level_price
        if take < level_lots:
            break
    return spec.qty_of(need)


def _persist(row, spec, slot, user_id, request, client_order_id, command, result):
    """Write everything the match did, in this transaction. Caller holds both locks."""
    seq = row.book_seq + 1
    now = now_ms()
    symbol = row.symbol
    buying = request.side == "BUY"
    base, quote_asset = spec.base, spec.quote
    hold_asset = quote_asset if buying else base
    fee_account = funds.fee_account_id()
    base_q, quote_q = spec.base_quantum, spec.quote_quantum
    taker_rate, maker_rate = spec.taker_fee, spec.maker_fee
    reference = f"{symbol}:{command.order_id}"

    # What the taker holds: what its fills consume plus what its rest reserves.
    consumed = result.executed_quote if buying else result.executed_qty
    reserve = result.remaining * (command.price if buying else 1)
    hold = (
        spec.quote_of(consumed + reserve) if buying else spec.qty_of(consumed + reserve)
    )
    changes: list[funds.BalanceChange] = []
    if hold:
        changes.append(funds.hold_change(user_id, hold_asset, hold, reference))

    trades: list[Trade] = []
    fills: list[Fill] = []
    maker_updates: dict[int, list] = {}
    trade_id = row.last_trade_id
    for maker_id, maker_owner, fill_price, fill_lots, maker_left in result.fills:
        trade_id += 1
        price_dec = spec.price_of(fill_price)
        qty_dec = spec.qty_of(fill_lots)
        quote_dec = spec.quote_of(fill_price * fill_lots)
        if buying:
            buyer, seller, buyer_rate, seller_rate = (
                user_id,
                maker_owner,
                taker_rate,
                maker_rate,
            )
        else:
            buyer, seller, buyer_rate, seller_rate = (
                maker_owner,
                user_id,
                maker_rate,
                taker_rate,
            )
        buyer_fee = spec.fee(qty_dec, buyer_rate, base_q)
        seller_fee = spec.fee(quote_dec, seller_rate, quote_q)
        trade_ref = f"{symbol}:t{trade_id}"
        changes += [
            funds.BalanceChange(buyer, quote_asset, ZERO, -quote_dec, TRADE, trade_ref),
            funds.BalanceChange(seller, base, ZERO, -qty_dec, TRADE, trade_ref),
            funds.BalanceChange(
                buyer, base, qty_dec - buyer_fee, ZERO, TRADE, trade_ref
            ),
            funds.BalanceChange(
                seller, quote_asset, quote_dec - seller_fee, ZERO, TRADE, trade_ref
            ),
        ]
        if buyer_fee:
            changes.append(
                funds.BalanceChange(fee_account, base, buyer_fee, ZERO, FEE, trade_ref)
            )
        if seller_fee:
            changes.append(
                funds.BalanceChange(
                    fee_account, quote_asset, seller_fee, ZERO, FEE, trade_ref
                )
            )
        trades.append(
            Trade(
                symbol_id=symbol,
                trade_id=trade_id,
                price=price_dec,
                qty=qty_dec,
                quote_qty=quote_dec,
                time=now,
                buyer_id=buyer,
                seller_id=seller,
                buyer_order_id=command.order_id if buying else maker_id,
                seller_order_id=maker_id if buying else command.order_id,
                is_buyer_maker=not buying,
                buyer_fee=buyer_fee,
                seller_fee=seller_fee,
            )
        )
        fills.append(
            Fill(
                price=price_dec,
                qty=qty_dec,
                commission=buyer_fee if buying else seller_fee,
                commission_asset=base if buying else quote_asset,
                trade_id=trade_id,
            )
        )
        update = maker_updates.setdefault(maker_id, [ZERO, ZERO, maker_left])
        update[0] += qty_dec
        update[1] += quote_dec
        update[2] = maker_left

    expired_ids = [maker_id for maker_id, _, _ in result.expired_makers]
    maker_prices = {}
    if expired_ids and not buying:
        # Expired BUY makers reserved quote at their own price; the engine has
        # already dropped them, so the price comes from their rows.
        maker_prices = dict(
            Order.objects.filter(
                symbol_id=symbol, order_id__in=expired_ids
            ).values_list("order_id", "price")
        )
    for maker_id, maker_owner, maker_left in result.expired_makers:
        # Self-trade prevention expired this maker: release what it still reserved.
        if buying:
            amount, asset = spec.qty_of(maker_left), base
        else:
            amount, asset = (
                maker_prices[maker_id] * spec.qty_of(maker_left),
                quote_asset,
            )
        if amount:
            changes.append(
                funds.release_change(maker_owner, asset, amount, f"{symbol}:{maker_id}")
            )

    order = Order(
        symbol_id=symbol,
        order_id=command.order_id,
        user_id=user_id,
        client_order_id=client_order_id,
        side=request.side,
        type=request.type,
        time_in_force=(request.time_in_force or "GTC")
        if request.type != "MARKET"
        else "GTC",
        price=request.price or ZERO,
        orig_qty=spec.qty_of(command.qty) if command.qty else ZERO,
        orig_quote_order_qty=request.quote_order_qty or ZERO,
        executed_qty=spec.qty_of(result.executed_qty),
        cummulative_quote_qty=spec.quote_of(result.executed_quote),
        status=result.status,
        self_trade_prevention_mode=request.self_trade_prevention_mode,
        time=now,
        update_time=now,
        seq=seq,
    )
    if request.type == "MARKET" and not command.qty:
        # A market order by quote amount reports what it bought or sold.
        order.orig_qty = order.executed_qty
    writes = PlacementWrites(
        symbol=symbol,
        seq=seq,
        now=now,
        order=order,
        changes=changes,
        maker_updates=maker_updates,
        expired_ids=expired_ids,
        trades=trades,
        candle=candle_from_trades(trades, now, buying) if trades else None,
        last_trade_id=trade_id,
    )
    market_cache.publish_on_commit(
        symbol=symbol, seq=seq, book=slot.book, spec=spec, trades=trades
    )
    # The writes come last: on PostgreSQL their pipeline carries the COMMIT.
    if connection.vendor == "postgresql":
        _write_postgresql(writes)
    else:
        _write_generic(writes)
    return Placement(order=order, fills=fills)


@dataclass(slots=True)
class PlacementWrites:
    """Everything a placement changes in the database, computed before writing."""

    symbol: str
    seq: int
    now: int
    order: Order
    changes: list
    maker_updates: dict
    expired_ids: list
    trades: list
    candle: Candle | None
    last_trade_id: int


def _write_postgresql(w: PlacementWrites) -> None:
    """One pipeline of prepared statements (trading/fastpath.py)."""
    batch = fastpath.Batch()
    batch.order_insert(w.order)
    batch.balances(funds.changes_net(w.changes))
    batch.ledger(w.changes)
    batch.makers_fill(w.symbol, w.maker_updates, w.now, w.seq)
    batch.orders_expire(w.symbol, w.expired_ids, w.now, w.seq)
    batch.trades(w.trades)
    if w.candle is not None:
        batch.klines(w.symbol, w.candle)
    batch.symbol_advance(w.symbol, w.seq, w.order.order_id, w.last_trade_id)
    w.order.pk = batch.execute(last=True)
    w.order._state.adding = False


def _write_generic(w: PlacementWrites) -> None:
    """The same writes through the ORM, for databases other than PostgreSQL."""
    funds.balance_changes_apply(changes=w.changes)
    w.order.save(force_insert=True)
    for maker_id, (add_qty, add_quote, maker_left) in w.maker_updates.items():
        maker = Order.objects.get(symbol_id=w.symbol, order_id=maker_id)
        maker.executed_qty += add_qty
        maker.cummulative_quote_qty += add_quote
        maker.status = "FILLED" if maker_left == 0 else "PARTIALLY_FILLED"
        maker.update_time = w.now
        maker.seq = w.seq
        maker.save(
            update_fields=[
                "executed_qty",
                "cummulative_quote_qty",
                "status",
                "update_time",
                "seq",
            ]
        )
    if w.expired_ids:
        Order.objects.filter(symbol_id=w.symbol, order_id__in=w.expired_ids).update(
            status="EXPIRED_IN_MATCH", update_time=w.now, seq=w.seq
        )
    if w.trades:
        Trade.objects.bulk_create(w.trades)
        klines_record(symbol=w.symbol, candle=w.candle)
    Symbol.objects.filter(symbol=w.symbol).update(
        book_seq=w.seq, last_order_id=w.order.order_id, last_trade_id=w.last_trade_id
    )


# --- Cancelling ---------------------------------------------------------------------


def unknown_order() -> ExchangeError:
    return ExchangeError(
        errors.CANCEL_REJECTED, "Unknown order sent.", reason="unknown"
    )


def order_reserve(order: Order, spec: SymbolSpec) -> tuple[str, Decimal]:
    """What an open order still holds locked: (asset, amount)."""
    remaining = order.orig_qty - order.executed_qty
    if order.side == "BUY":
        return spec.quote, remaining * order.price
    return spec.base, remaining


@retry_on_conflict("order_cancel")
def order_cancel(
    *,
    user_id: int,
    symbol: str,
    order_id: int | None = None,
    orig_client_order_id: str | None = None,
    only_status: str | None = None,
) -> Order:
    """Cancel one of the user's open orders and release what it held.

    Another user's order is 'unknown', exactly like one that does not exist.
    Cancels are accepted whatever the symbol's status. ``only_status`` is
    Binance's cancelRestrictions: cancel only if the order is NEW (or only if it
    is PARTIALLY_FILLED).
    """
    with _locked_transaction(symbol) as slot:
        if connection.vendor == "postgresql":
            row = _lock_for_cancel(
                symbol,
                slot,
                find=fastpath.order_find_statement(
                    symbol, user_id, order_id, orig_client_order_id
                ),
            )
            order = fastpath.order_from_row(row.order, orig_client_order_id)
        else:
            row = _lock_for_cancel(symbol, slot)
            order = order_find(
                user_id=user_id,
                symbol=symbol,
                order_id=order_id,
                orig_client_order_id=orig_client_order_id,
            )
        spec = symbol_spec_cached(row)
        if order is None or not order.is_open:
            raise unknown_order()
        if only_status is not None and order.status != only_status:
            raise ExchangeError(
                errors.CANCEL_REJECTED,
                "Order was not canceled due to cancel restrictions.",
                reason="cancel_restrictions",
            )
        _cancel_orders(row, spec, slot, [order])
        return order


@retry_on_conflict("order_cancel_all")
def order_cancel_all(*, user_id: int, symbol: str) -> list[Order]:
    """Cancel every open order of the user on the symbol; returns them, cancelled."""
    with _locked_transaction(symbol) as slot:
        row = _lock_for_cancel(symbol, slot)
        spec = symbol_spec_cached(row)
        orders = list(
            Order.objects.filter(
                symbol_id=symbol, user_id=user_id, status__in=OPEN_STATUSES
            ).order_by("order_id")
        )
        if orders:
            _cancel_orders(row, spec, slot, orders)
        return orders


def _lock_for_cancel(symbol: str, slot: BookSlot, find=None):
    """The symbol row, locked; on PostgreSQL with the book's changes and the order
    ``find`` selects, in one round trip."""
    if connection.vendor == "postgresql":
        row = fastpath.symbol_lock_for_order(
            symbol=symbol,
            user_id=0,
            client_order_id="",
            since_seq=None if slot.stale else slot.seq,
            find=find,
        )
        if row is None:
            raise bad_symbol()
        return row
    return symbol_lock(symbol)


def order_find(
    *,
    user_id: int,
    symbol: str,
    order_id: int | None = None,
    orig_client_order_id: str | None = None,
) -> Order | None:
    """The user's order by id, or by client id (the newest with it). With both, the
    order must match both, as on Binance."""
    query = Order.objects.filter(symbol_id=symbol, user_id=user_id)
    if order_id is not None:
        order = query.filter(order_id=order_id).first()
        if order is not None and orig_client_order_id not in (
            None,
            order.client_order_id,
        ):
            return None
        return order
    return (
        query.filter(client_order_id=orig_client_order_id).order_by("-order_id").first()
    )


def _cancel_orders(row: Symbol, spec: SymbolSpec, slot: BookSlot, orders: list[Order]):
    """Cancel open ``orders`` of one symbol. Caller holds both locks in ``atomic()``."""
    seq = row.book_seq + 1
    now = now_ms()
    book = book_sync(slot, row, spec)
    changes = []
    for order in orders:
        asset, amount = order_reserve(order, spec)
        if amount:
            changes.append(
                funds.release_change(
                    order.user_id, asset, amount, f"{row.symbol}:{order.order_id}"
                )
            )
    slot.touch(seq)
    transaction.on_commit(slot.confirm)
    for order in orders:
        book.cancel(order.order_id)
        order.status = Order.Status.CANCELED
        order.update_time = now
        order.seq = seq
    order_ids = [order.order_id for order in orders]
    market_cache.publish_on_commit(
        symbol=row.symbol, seq=seq, book=book, spec=spec, trades=[]
    )
    # The writes come last: on PostgreSQL their pipeline carries the COMMIT.
    if connection.vendor == "postgresql":
        batch = fastpath.Batch()
        batch.balances(funds.changes_net(changes))
        batch.ledger(changes)
        batch.orders_cancel(row.symbol, order_ids, now, seq)
        batch.symbol_seq(row.symbol, seq)
        batch.execute(last=True)
    else:
        funds.balance_changes_apply(changes=changes)
        Order.objects.filter(symbol_id=row.symbol, order_id__in=order_ids).update(
            status=Order.Status.CANCELED, update_time=now, seq=seq
        )
        Symbol.objects.filter(symbol=row.symbol).update(book_seq=seq)


@dataclass(slots=True)
class CancelReplace:
    """What cancel-replace did: each half succeeded or carries its refusal."""

    cancelled: Order | None = None
    cancel_error: ExchangeError | None = None
    placement: Placement | None = None
    place_error: ExchangeError | None = None


def order_cancel_replace(
    *,
    user_id: int,
    symbol: str,
    cancel_order_id: int | None,
    cancel_orig_client_order_id: str | None,
    request: OrderRequest,
    stop_on_failure: bool,
) -> CancelReplace:
    """Cancel an order, then place a new one, as Binance's cancelReplace: with
    ``stop_on_failure`` a failed cancel means no new order. As on Binance, the new
    order's symbol status and filters are checked before anything happens, and a
    failure there is raised, changing nothing."""
    order_validate(request=request)
    outcome = CancelReplace()
    try:
        outcome.cancelled = order_cancel(
            user_id=user_id,
            symbol=symbol,
            order_id=cancel_order_id,
            orig_client_order_id=cancel_orig_client_order_id,
        )
    except ExchangeError as exc:
        if exc.code == errors.BAD_SYMBOL:
            raise
        outcome.cancel_error = exc
        if stop_on_failure:
            return outcome
    try:
        outcome.placement = order_place(user_id=user_id, request=request)
    except ExchangeError as exc:
        outcome.place_error = exc
    return outcome


# --- Symbols --------------------------------------------------------------------------


def symbol_create(
    *,
    symbol: str,
    base: str,
    quote: str,
    tick_size: Decimal,
    step_size: Decimal,
    min_qty: Decimal,
    max_qty: Decimal,
    min_notional: Decimal = ZERO,
    maker_fee: Decimal = Decimal("0.001"),
    taker_fee: Decimal = Decimal("0.001"),
    min_price: Decimal = ZERO,
    max_price: Decimal = ZERO,
    max_num_orders: int = 200,
    market_max_qty: Decimal = ZERO,
    max_notional: Decimal = ZERO,
) -> Symbol:
    """Create a trading pair after checking that its filters are coherent: every
    price * quantity must be exact in the quote asset, every quantity in the base."""
    filters = dict(
        tick_size=tick_size,
        step_size=step_size,
        min_qty=min_qty,
        max_qty=max_qty,
        min_notional=min_notional,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        min_price=min_price,
        max_price=max_price,
        max_num_orders=max_num_orders,
        market_max_qty=market_max_qty,
        max_notional=max_notional,
    )
    problems = symbol_filters_problems(base=base, quote=quote, **filters)
    if problems:
        raise ExchangeError(errors.INVALID_PARAMETER, "; ".join(problems))
    return Symbol.objects.create(symbol=symbol, base_id=base, quote_id=quote, **filters)


def symbol_set_status(*, symbol: str, status: str) -> Symbol:
    """TRADING, HALT (no new orders, cancels still accepted) or BREAK."""
    if status not in Symbol.Status.values:
        raise ExchangeError(errors.INVALID_PARAMETER, f"Unknown status {status!r}.")
    with pair_locked(symbol), transaction.atomic():
        row = symbol_lock(symbol)
        row.status = status
        row.save(update_fields=["status"])
        return row
