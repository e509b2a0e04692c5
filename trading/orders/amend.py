"""Amending an order's quantity down while it keeps its place in the queue
(Binance's Order Amend Keep Priority).

Under the pair lock: the order (and, for a leg of an OCO pair, the other leg, as
the pair shares one quantity) gets its new quantity in the database and in the
book, in place; what it no longer holds is released; each amended order gets an
amendment row, whose id is Binance's ``executionId``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts import services as funds
from exchange import errors
from exchange.retry import retry_on_conflict
from trading.marketdata import cache as market_cache
from trading.marketdata import events as market_events
from trading.models import LIVE_STATUSES, Order, OrderAmendment, OrderList, Symbol
from trading.orders.books import book_lists_refresh, book_order_put, book_sync
from trading.orders.holds import holds_of
from trading.orders.locks import lock_for_cancel, locked_transaction
from trading.orders.persist import now_ms
from trading.orders.selectors import order_get
from trading.orders.services import client_order_id_new
from trading.orders.types import Amendment
from trading.symbols.selectors import symbol_spec_cached

ZERO = Decimal(0)


@retry_on_conflict("order_amend")
def order_amend_keep_priority(
    *,
    user_id: int,
    symbol: str,
    order_id: int | None,
    orig_client_order_id: str | None,
    new_client_order_id: str | None,
    new_qty: Decimal,
) -> Amendment:
    """Reduce a live order's quantity, keeping its priority. ``new_qty`` at or
    below what the order executed ends it FILLED (outside lists only)."""
    with locked_transaction(symbol) as slot:
        row = lock_for_cancel(symbol, slot)
        spec = symbol_spec_cached(row)
        order = order_get(
            user_id=user_id,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig_client_order_id,
        )
        if order is None or order.status not in LIVE_STATUSES:
            raise errors.amend_rejected("Unknown order sent.", "unknown")
        if new_qty == order.orig_qty:
            raise errors.amend_rejected(
                "The requested action would change no state; rejecting", "no_change"
            )
        if new_qty > order.orig_qty:
            raise errors.amend_rejected(
                "Order amend (quantity increase) is not supported.", "increase"
            )
        spec.qty_lots(new_qty)
        in_list = order.order_list_id != -1
        if new_qty <= order.executed_qty and in_list:
            raise errors.amend_rejected(
                "Order amend is not supported for this symbol.", "list_leg_done"
            )
        new_id = new_client_order_id or client_order_id_new()
        if (
            new_id != order.client_order_id
            and Order.objects.filter(
                user_id=user_id, client_order_id=new_id, status__in=LIVE_STATUSES
            ).exists()
        ):
            raise errors.amend_rejected("Duplicate order sent.", "duplicate")

        order_list = None
        legs: list[Any] = [order]
        targets: list[Any] = [order]
        kinds: dict[int, str] = {}
        if in_list:
            order_list = OrderList.objects.get(pk=order.order_list_id)
            kinds = {order_list.pk: order_list.kind}
            legs = list(
                Order.objects.filter(
                    symbol_id=symbol, order_list_id=order_list.pk
                ).order_by("order_id")
            )
            legs = [order if leg.pk == order.pk else leg for leg in legs]
            pair = legs if order_list.kind == "OCO" else []
            if order_list.kind == "OTOCO" and order.order_id != legs[0].order_id:
                pair = legs[1:]
            targets = [leg for leg in pair if leg.status in LIVE_STATUSES] or [order]
        assets = {symbol: (spec.base, spec.quote)}
        before = holds_of(legs, assets, kinds)

        book = book_sync(slot, row, spec)
        seq = row.book_seq + 1
        now = now_ms()
        orig_client_id = order.client_order_id
        amendments = []
        for target in targets:
            amendments.append(
                OrderAmendment(
                    symbol_id=symbol,
                    order_id=target.order_id,
                    user_id=user_id,
                    orig_client_order_id=target.client_order_id,
                    new_client_order_id=new_id
                    if target is order
                    else (target.client_order_id),
                    orig_qty=target.orig_qty,
                    new_qty=new_qty,
                    time=now,
                )
            )
            target.orig_qty = new_qty
            if new_qty <= target.executed_qty:
                target.status = Order.Status.FILLED
            target.update_time = now
            target.seq = seq
        order.client_order_id = new_id
        after = holds_of(legs, assets, kinds)
        changes = []
        reference = f"{symbol}:{order.order_id}"
        for key in sorted(set(before) | set(after)):
            delta = before.get(key, ZERO) - after.get(key, ZERO)
            if delta:
                changes.append(funds.release_change(key[0], key[1], delta, reference))

        slot.touch(seq)
        transaction.on_commit(slot.confirm)
        funds.balance_changes_apply(changes=changes)
        for target in targets:
            target.save(
                update_fields=[
                    "orig_qty",
                    "client_order_id",
                    "status",
                    "update_time",
                    "seq",
                ]
            )
            book_order_put(book, target, spec)
        for amendment in amendments:
            amendment.save()
        if order_list is not None:
            book_lists_refresh(book, symbol, [order_list.pk], spec)
        _amend_publish(
            symbol=symbol,
            seq=seq,
            book=book,
            spec=spec,
            targets=targets,
            order_list=order_list if new_id != orig_client_id else None,
            now=now,
        )
        Symbol.objects.filter(symbol=symbol).update(book_seq=seq)
        return Amendment(
            order=order,
            orig_client_order_id=orig_client_id,
            amendment=next(a for a in amendments if a.order_id == order.order_id),
            order_list=order_list,
            list_orders=legs if in_list else [],
        )


def _amend_publish(*, symbol, seq, book, spec, targets, order_list, now) -> None:
    """The amendment's book_seq on the live side like any other command's: the
    levels it shrank (so diff depth has no gap), an ``executionReport`` with
    ``x: REPLACED`` for each amended order, and, for a leg whose client id
    changed, the list's ``listStatus`` UPDATED (Binance's amend FAQ)."""
    top = market_cache.publish_on_commit(
        symbol=symbol, seq=seq, book=book, spec=spec, trades=[]
    )
    items = [(t.user_id, t.order_id, "REPLACED", -1) for t in targets]
    market_events.commit_publish(
        symbol=symbol,
        seq=seq,
        book=book,
        spec=spec,
        touched=[
            (t.side, int(t.price / spec.tick_size))
            for t in targets
            if t.price and not book.is_pending(t.order_id)  # a stop is not a level
        ],
        top=top,
        trades=[],
        items=items,
        lists=[
            (order_list.user_id, order_list.pk, "UPDATED", "EXECUTING", now, len(items))
        ]
        if order_list is not None
        else [],
    )
