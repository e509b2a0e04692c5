"""Order lists: placing an OCO, OTO or OTOCO, and cancelling one.

A list is placed in one transaction under the pair lock: every leg's filters,
the funds the legs hold together (``trading.orders.holds``), then the engine's
``place_list``, which checks the price relationships and runs the working order;
what it did is written by the contingent writer. A refusal changes nothing: the
list row is created in a savepoint that the refusal rolls back.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from accounts import services as funds
from exchange import errors
from exchange.retry import retry_on_conflict
from matching import engine
from trading.models import LIVE_STATUSES, Order, OrderList, Symbol
from trading.orders.books import book_last_price_ensure, book_sync
from trading.orders.contingent import command_persist
from trading.orders.holds import holds_of
from trading.orders.locks import lock_for_cancel, lock_for_order, locked_transaction
from trading.orders.persist import now_ms
from trading.orders.services import (
    client_order_id_new,
    engine_refusal,
    order_checks,
    order_new,
    orders_cancel_contingent,
    stop_checks,
)
from trading.orders.types import ListCancel, ListPlacement, OrderRequest
from trading.symbols.selectors import symbol_spec_cached
from trading.symbols.specs import filter_failure

ZERO = Decimal(0)
LEG_COUNT = {"OCO": 2, "OTO": 2, "OTOCO": 3}


@retry_on_conflict("order_list_place")
def order_list_place(
    *,
    user_id: int,
    kind: str,
    legs: list[OrderRequest],
    list_client_order_id: str | None = None,
) -> ListPlacement:
    """Place an order list; ``legs`` in Binance's leg order (OCO: below, above;
    OTO: working, pending; OTOCO: working, pending above, pending below), all on
    one symbol. The API layer has checked the list's shape (types and sides)."""
    assert len(legs) == LEG_COUNT[kind], "the API layer checks the leg count"
    symbol = legs[0].symbol
    client_ids = [leg.new_client_order_id or client_order_id_new() for leg in legs]
    if len(set(client_ids)) != len(client_ids):
        raise errors.duplicate_order()
    with locked_transaction(symbol) as slot:
        row = lock_for_order(symbol, user_id, client_ids[0], slot)
        if row.status != Symbol.Status.TRADING:
            raise errors.market_closed()
        spec = symbol_spec_cached(row)
        commands = []
        order_id = row.last_order_id
        for leg in legs:
            price, lots, quote = order_checks(leg, spec)
            stop, delta = stop_checks(leg, spec)
            order_id += 1
            commands.append(
                engine.NewOrder(
                    order_id=order_id,
                    owner=user_id,
                    side=leg.side,
                    type=leg.type,
                    tif=leg.time_in_force or engine.GTC,
                    price=price,
                    qty=lots,
                    quote_qty=quote,
                    stp=leg.self_trade_prevention_mode,
                    stop_price=stop,
                    trailing_delta=delta,
                )
            )
        if (row.open_count or 0) + len(legs) > spec.max_num_orders:
            raise filter_failure("MAX_NUM_ORDERS")
        if (
            row.duplicate
            or Order.objects.filter(
                user_id=user_id,
                client_order_id__in=client_ids,
                status__in=LIVE_STATUSES,
            ).exists()
        ):
            raise errors.duplicate_order()
        list_client_id = list_client_order_id or client_order_id_new()
        if OrderList.objects.filter(
            user_id=user_id,
            list_client_order_id=list_client_id,
            list_status_type="EXEC_STARTED",
        ).exists():
            raise errors.duplicate_order()
        book = book_sync(slot, row, spec)
        book_last_price_ensure(row.symbol, book, spec)

        now = now_ms()
        orders = [
            order_new(
                spec=spec,
                user_id=user_id,
                request=leg,
                client_order_id=client_id,
                command=command,
                now=now,
                order_list_id=0,
                pending=kind != "OCO" and i > 0,
            )
            for i, (leg, client_id, command) in enumerate(
                zip(legs, client_ids, commands, strict=True)
            )
        ]
        _funds_check(row, spec, orders, kind)

        with transaction.atomic():
            order_list = OrderList.objects.create(
                symbol_id=symbol,
                user_id=user_id,
                kind=kind,
                list_client_order_id=list_client_id,
                transaction_time=now,
                update_time=now,
            )
            try:
                result = book.place_list(kind, order_list.pk, commands)
            except BaseException:
                slot.mark_stale()
                raise
            if result.reject_reason is not None:
                # The engine touched nothing; the savepoint drops the list row.
                raise engine_refusal(result.reject_reason)
        slot.touch(row.book_seq + 1)
        transaction.on_commit(slot.confirm)
        for order in orders:
            order.order_list_id = order_list.pk
        outcome = command_persist(
            row=row,
            spec=spec,
            book=book,
            new_orders=orders,
            executions=[
                (command.order_id, leg_result)
                for command, leg_result in zip(commands, result.legs, strict=True)
            ],
            events=result.events,
            now=now,
            new_lists=[order_list],
        )
        return ListPlacement(
            order_list=outcome.lists[order_list.pk],
            orders=[outcome.orders[command.order_id] for command in commands],
            fills=outcome.fills,
        )


def _funds_check(row, spec, orders: list[Order], kind: str) -> None:
    """Refuse before matching when the free balances cannot pay what the legs
    hold together (the final guard is in the balance update)."""
    need = holds_of(orders, {spec.symbol: (spec.base, spec.quote)}, {0: kind})
    free = {spec.base: row.free_base or ZERO, spec.quote: row.free_quote or ZERO}
    for (_, asset), amount in need.items():
        if amount > free[asset]:
            raise funds.insufficient_balance()


@retry_on_conflict("order_list_cancel")
def order_list_cancel(
    *,
    user_id: int,
    symbol: str,
    order_list_id: int | None,
    list_client_order_id: str | None,
) -> ListCancel:
    """Cancel every live leg of one of the user's order lists."""
    with locked_transaction(symbol) as slot:
        row = lock_for_cancel(symbol, slot)
        spec = symbol_spec_cached(row)
        order_list = order_list_find(
            user_id=user_id,
            symbol=symbol,
            order_list_id=order_list_id,
            list_client_order_id=list_client_order_id,
        )
        if order_list is None or order_list.list_status_type != "EXEC_STARTED":
            raise errors.order_list_cancel_unknown()
        legs = list(
            Order.objects.filter(
                symbol_id=symbol, order_list_id=order_list.pk, status__in=LIVE_STATUSES
            ).order_by("order_id")
        )
        if not legs:
            raise errors.order_list_cancel_unknown()
        outcome = orders_cancel_contingent(row, spec, slot, legs[:1])
        ordered = sorted(
            (o for o in outcome.orders.values() if o.order_list_id == order_list.pk),
            key=lambda o: o.order_id,
        )
        return ListCancel(order_list=outcome.lists[order_list.pk], orders=ordered)


def order_list_find(
    *,
    user_id: int,
    symbol: str | None,
    order_list_id: int | None,
    list_client_order_id: str | None,
) -> OrderList | None:
    """The user's order list by id (and, if given, its client id must match), or
    the newest with the client id."""
    query = OrderList.objects.filter(user_id=user_id)
    if symbol is not None:
        query = query.filter(symbol_id=symbol)
    if order_list_id is not None:
        found = query.filter(pk=order_list_id).first()
        if found is not None and list_client_order_id not in (
            None,
            found.list_client_order_id,
        ):
            return None
        return found
    return (
        query.filter(list_client_order_id=list_client_order_id).order_by("-id").first()
    )
