"""The order lifecycle: placing, cancelling and cancel-replacing orders.

The order path follows docs/order-path.md: under the symbol's process lock and its
row lock (``SELECT ... FOR UPDATE``), bring the process's book up to the symbol's
``book_seq``, match in memory, then persist the taker, the makers, the trades and
every balance change in one transaction, and bump ``book_seq``. If anything fails
after the book was touched, the transaction rolls back and the book is marked
stale so that the next order rebuilds it from the database.
"""

from __future__ import annotations

import secrets
import time
from decimal import Decimal

from django.db import IntegrityError, connection, transaction

from accounts import services as funds
from exchange import errors
from exchange.errors import ExchangeError
from exchange.metrics import (
    MATCH_SECONDS,
    ORDERS_REJECTED,
    ORDERS_TOTAL,
    TRADES_TOTAL,
)
from exchange.retry import retry_on_conflict
from matching import engine
from matching.registry import BookSlot
from trading.marketdata import cache as market_cache
from trading.marketdata import events as market_events
from trading.models import LIVE_STATUSES, STOP_TYPES, Order, Symbol
from trading.orders import fastpath
from trading.orders.books import (
    book_is_contingent,
    book_last_price_ensure,
    book_sync,
)
from trading.orders.contingent import Outcome, command_persist
from trading.orders.holds import order_hold
from trading.orders.locks import lock_for_cancel, lock_for_order, locked_transaction
from trading.orders.persist import cancel_write, now_ms, placement_persist
from trading.orders.selectors import order_get
from trading.orders.types import CancelReplace, OrderRequest, Placement
from trading.symbols.selectors import symbol_spec, symbol_spec_cached
from trading.symbols.specs import SymbolSpec, filter_failure

ZERO = Decimal(0)
# Stop orders that execute as market orders once triggered.
MARKET_STOPS = ("STOP_LOSS", "TAKE_PROFIT")


def client_order_id_new() -> str:
    """A fresh client order id, as Binance generates them: 22 URL-safe characters."""
    return secrets.token_urlsafe(16)[:22]


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
        raise errors.bad_symbol()
    if row.status != Symbol.Status.TRADING:
        raise errors.market_closed()
    spec = symbol_spec(row)
    order_checks(request, spec)
    stop_checks(request, spec)
    return spec


def order_checks(request: OrderRequest, spec: SymbolSpec) -> tuple[int, int, int]:
    """Filters: price ticks, quantity lots, quote units (0 where not given)."""
    price = lots = quote = 0
    if request.type == "MARKET":
        if request.quantity is not None:
            lots = spec.qty_lots(request.quantity, market=True)
        else:
            # The API layer refuses a MARKET order with neither amount.
            assert request.quote_order_qty is not None
            quote = spec.quote_units(request.quote_order_qty)
            if quote <= 0 or request.quote_order_qty < spec.min_notional:
                raise filter_failure("NOTIONAL")
    elif request.type in MARKET_STOPS:
        assert request.quantity is not None
        lots = spec.qty_lots(request.quantity, market=True)
    else:
        # The API layer refuses a priced order without price or quantity.
        assert request.price is not None and request.quantity is not None
        price = spec.price_ticks(request.price)
        lots = spec.qty_lots(request.quantity)
        spec.notional_check(request.price * request.quantity)
    return price, lots, quote


def stop_checks(request: OrderRequest, spec: SymbolSpec) -> tuple[int, int]:
    """A stop order's trigger in the engine's units: (stop ticks, delta BIPS).

    PRICE_FILTER applies to ``stopPrice``, TRAILING_DELTA to ``trailingDelta``.
    A BUY that executes as a market order has no price to hold its funds at, so
    it is refused (see docs/api.md)."""
    if request.type not in STOP_TYPES:
        return 0, 0
    if request.side == "BUY" and request.type in MARKET_STOPS:
        raise errors.unsupported_order(request.type)
    stop = delta = 0
    if request.stop_price is not None:
        stop = spec.stop_ticks(request.stop_price)
    if request.trailing_delta is not None:
        spec.trailing_delta_check(request.trailing_delta)
        delta = request.trailing_delta
    return stop, delta


def engine_refusal(reason: str | None) -> ExchangeError:
    """Binance's refusal for a reason the engine rejected a command with."""
    if reason == engine.WOULD_TAKE:
        return errors.would_take()
    if reason == engine.WOULD_TRIGGER:
        return errors.would_trigger()
    if reason == engine.PRICE_RELATIONSHIP:
        return errors.price_relationship()
    if reason == engine.INVALID_STOP:
        return filter_failure("TRAILING_DELTA")
    return filter_failure(
        "PRICE_FILTER" if reason == engine.INVALID_PRICE else "LOT_SIZE"
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
    with locked_transaction(request.symbol) as slot:
        row = lock_for_order(request.symbol, user_id, client_order_id, slot)
        if row.status != Symbol.Status.TRADING:
            raise errors.market_closed()
        spec = symbol_spec_cached(row)
        price, lots, quote = order_checks(request, spec)
        stop, delta = stop_checks(request, spec)
        if (row.open_count or 0) >= spec.max_num_orders:
            raise filter_failure("MAX_NUM_ORDERS")
        if row.duplicate:
            raise errors.duplicate_order()
        book = book_sync(slot, row, spec)
        if request.type == "MARKET" and lots:
            _market_notional_check(spec, request.side, book, lots)
        if request.type in STOP_TYPES or book_is_contingent(book):
            book_last_price_ensure(row.symbol, book, spec)
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
            stop_price=stop,
            trailing_delta=delta,
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
    return errors.duplicate_order()


def _match_and_persist(
    row, spec, slot, book, user_id, request, client_order_id, command
):
    """Match ``command`` and persist the outcome; on any failure after the book was
    touched, mark it stale. Caller holds both locks, inside ``atomic()``."""
    started = time.perf_counter()
    try:
        result = book.place(*command)
    except BaseException:
        slot.mark_stale()
        raise
    MATCH_SECONDS.labels(row.symbol).observe(time.perf_counter() - started)
    if result.status == engine.REJECTED and not result.events:
        # The engine refused without touching the book.
        raise engine_refusal(result.reject_reason)
    # From here the book holds changes that are real only if this transaction
    # commits: until then (and for ever, if it rolls back) the slot counts as stale.
    slot.touch(row.book_seq + 1)
    transaction.on_commit(slot.confirm)
    if command.type in STOP_TYPES or result.events:
        now = now_ms()
        order = order_new(
            spec=spec,
            user_id=user_id,
            request=request,
            client_order_id=client_order_id,
            command=command,
            now=now,
            executed_lots=result.executed_qty,
        )
        outcome = command_persist(
            row=row,
            spec=spec,
            book=book,
            new_orders=[order],
            executions=[(command.order_id, result)],
            events=result.events,
            now=now,
        )
        order = outcome.orders[command.order_id]
        return Placement(order=order, fills=outcome.fills.get(command.order_id, []))
    return placement_persist(
        row=row,
        spec=spec,
        slot=slot,
        user_id=user_id,
        request=request,
        client_order_id=client_order_id,
        command=command,
        result=result,
    )


def order_new(
    *,
    spec: SymbolSpec,
    user_id: int,
    request: OrderRequest,
    client_order_id: str,
    command: engine.NewOrder,
    now: int,
    executed_lots: int = 0,
    order_list_id: int = -1,
    pending: bool = False,
) -> Order:
    """The row of a new order as placed, before it executes anything (the
    contingent writer applies what it did). ``pending``: a list leg that waits
    for its working order (PENDING_NEW)."""
    market = request.type == "MARKET"
    stop = request.type in STOP_TYPES
    orig_qty = spec.qty_of(command.qty) if command.qty else ZERO
    if market and not command.qty:
        # A market order by quote amount reports what it bought or sold.
        orig_qty = spec.qty_of(executed_lots)
    return Order.build(
        symbol_id=spec.symbol,
        order_id=command.order_id,
        user_id=user_id,
        client_order_id=client_order_id,
        side=request.side,
        type=request.type,
        time_in_force="GTC" if market else (request.time_in_force or "GTC"),
        price=request.price or ZERO,
        orig_qty=orig_qty,
        orig_quote_order_qty=request.quote_order_qty or ZERO,
        status=Order.Status.PENDING_NEW if pending else Order.Status.NEW,
        self_trade_prevention_mode=request.self_trade_prevention_mode,
        time=now,
        update_time=now,
        seq=0,
        stop_price=request.stop_price or ZERO,
        trailing_delta=request.trailing_delta or 0,
        working_time=None if (stop or pending) else now,
        order_list_id=order_list_id,
    )


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


def _market_notional_check(spec, side: str, book, lots: int) -> None:
    """NOTIONAL for a MARKET order by quantity (Binance's applyMinToMarket):
    the quantity at the best opposite price must reach minNotional, so that no
    trade is too small to carry its fee. (Binance values it at the average
    price of the last minutes; the best price is what the first fill pays.) An
    empty opposite side passes: the order matches nothing and expires."""
    best = book.best_ask() if side == "BUY" else book.best_bid()
    if best is not None and spec.quote_of(lots * best) < spec.min_notional:
        raise filter_failure("NOTIONAL")


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


def order_reserve(order: Order, spec: SymbolSpec) -> tuple[str, Decimal]:
    """What an open order outside any list still holds locked: (asset, amount)."""
    return order_hold(order, spec.base, spec.quote)


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
    with locked_transaction(symbol) as slot:
        if connection.vendor == "postgresql":
            row = lock_for_cancel(
                symbol,
                slot,
                find=fastpath.order_find_statement(
                    symbol, user_id, order_id, orig_client_order_id
                ),
            )
            order = fastpath.order_from_row(row.order, orig_client_order_id)
        else:
            row = lock_for_cancel(symbol, slot)
            order = order_get(
                user_id=user_id,
                symbol=symbol,
                order_id=order_id,
                orig_client_order_id=orig_client_order_id,
            )
        spec = symbol_spec_cached(row)
        if order is None or order.status not in LIVE_STATUSES:
            raise errors.unknown_order()
        if only_status is not None and order.status != only_status:
            raise ExchangeError(
                errors.CANCEL_REJECTED,
                "Order was not canceled due to cancel restrictions.",
                reason="cancel_restrictions",
            )
        if order.order_list_id != -1:
            # One leg cancelled cancels its whole list, as on Binance.
            outcome = orders_cancel_contingent(row, spec, slot, [order])
            return outcome.orders[order.order_id]
        _cancel_orders(row, spec, slot, [order])
        return order


@retry_on_conflict("order_cancel_all")
def order_cancel_all(*, user_id: int, symbol: str) -> list[Order]:
    """Cancel every open order of the user on the symbol; returns them, cancelled."""
    with locked_transaction(symbol) as slot:
        row = lock_for_cancel(symbol, slot)
        spec = symbol_spec_cached(row)
        orders = list(
            Order.objects.filter(
                symbol_id=symbol, user_id=user_id, status__in=LIVE_STATUSES
            ).order_by("order_id")
        )
        if any(order.order_list_id != -1 for order in orders):
            outcome = orders_cancel_contingent(row, spec, slot, orders)
            return [outcome.orders[order.order_id] for order in orders]
        if orders:
            _cancel_orders(row, spec, slot, orders)
        return orders


def orders_cancel_contingent(
    row, spec: SymbolSpec, slot: BookSlot, orders: list[Order]
) -> Outcome:
    """Cancel ``orders``, each list leg with its whole list, in one write through
    the contingent writer; every order touched, as it ended. Caller holds both
    locks in ``atomic()``."""
    book = book_sync(slot, row, spec)
    slot.touch(row.book_seq + 1)
    transaction.on_commit(slot.confirm)
    events: list = []
    lists_done: set[int] = set()
    for order in orders:
        list_id = order.order_list_id
        if list_id != -1:
            if list_id not in lists_done:
                lists_done.add(list_id)
                events += book.cancel_list(list_id)
        else:
            lots = book.cancel(order.order_id)
            events.append(
                engine.OrderUpdate(order.order_id, engine.CANCELED, lots or 0)
            )
    outcome = command_persist(
        row=row,
        spec=spec,
        book=book,
        new_orders=[],
        executions=[],
        events=tuple(events),
        now=now_ms(),
    )
    return outcome


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
    top = market_cache.publish_on_commit(
        symbol=row.symbol, seq=seq, book=book, spec=spec, trades=[]
    )
    market_events.commit_publish(
        symbol=row.symbol,
        seq=seq,
        book=book,
        spec=spec,
        touched=[(o.side, int(o.price / spec.tick_size)) for o in orders],
        top=top,
        trades=[],
        items=[(o.user_id, o.order_id, "CANCELED", -1) for o in orders],
    )
    cancel_write(
        symbol=row.symbol,
        order_ids=[order.order_id for order in orders],
        changes=changes,
        now=now,
        seq=seq,
    )


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
