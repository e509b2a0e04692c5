"""Writing a command that set off more than its own match: stop orders placed or
triggered, order-list legs placed, expired, cancelled or activated, trailing stops
that moved.

Everything the engine reports for one command is written in the caller's
transaction: every order it touched (the command's own, the makers, the triggered
orders and their makers, the list legs), the trades, one balance change per
(user, asset) for what the orders hold (``trading.orders.holds``: the hold after
minus the hold before, over every order touched and every leg of their lists),
and each trade's payments and receipts, fees to the fee account. The plain
placement (``trading.orders.persist``) stays the fast path for everything else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from accounts import services as funds
from accounts.models import LedgerEntry
from matching import engine
from trading.marketdata import cache as market_cache
from trading.marketdata import events as market_events
from trading.marketdata.klines import candle_from_trades, klines_record
from trading.models import LIVE_STATUSES, Order, OrderList, Symbol, Trade
from trading.orders.holds import holds_of
from trading.orders.types import Fill
from trading.symbols.specs import SymbolSpec

ZERO = Decimal(0)
TRADE = LedgerEntry.Reason.TRADE
FEE = LedgerEntry.Reason.FEE


@dataclass(slots=True)
class Outcome:
    """What was written: every order touched by id, and each order's own fills
    (as the FULL response shows them)."""

    orders: dict[int, Order]
    fills: dict[int, list[Fill]] = field(default_factory=dict)
    lists: dict[int, OrderList] = field(default_factory=dict)


def command_persist(
    *,
    row,
    spec: SymbolSpec,
    book: engine.OrderBook,
    new_orders: list[Order],
    executions: list[tuple[int, engine.PlaceResult]],
    events: tuple,
    now: int,
    new_lists: list[OrderList] = (),  # type: ignore[assignment]
) -> Outcome:
    """Write one command. Caller holds both locks inside ``atomic()`` and has
    touched the slot; ``executions`` are the command's own results (one per new
    order that executed or entered a book), ``events`` what they set off.

    ``new_orders`` are unsaved rows as placed (executed nothing yet);
    ``new_lists`` are their list rows, already saved (their ids are the list ids
    the engine was given)."""
    symbol = spec.symbol
    seq = row.book_seq + 1
    # Any: the rows' amount fields are assigned Decimals (no Django stubs).
    orders: dict[int, Any] = {o.order_id: o for o in new_orders}
    triggered = [e for e in events if isinstance(e, engine.Triggered)]
    updates = [e for e in events if isinstance(e, engine.OrderUpdate)]
    tracking = [e for e in events if isinstance(e, engine.Tracking)]
    runs = list(executions) + [(e.order_id, e.result, e.priority) for e in triggered]

    wanted: set[int] = set()
    for run in runs:
        wanted.add(run[0])
        result = run[1]
        wanted.update(fill[0] for fill in result.fills)
        wanted.update(maker[0] for maker in result.expired_makers)
    wanted.update(e.order_id for e in updates)
    wanted.update(e.order_id for e in tracking)
    wanted -= set(orders)
    if wanted:
        for order in Order.objects.filter(symbol_id=symbol, order_id__in=wanted):
            orders[order.order_id] = order
    lists = {lst.pk: lst for lst in new_lists}
    list_ids = {o.order_list_id for o in orders.values() if o.order_list_id != -1}
    missing_lists = list_ids - set(lists)
    if missing_lists:
        for lst in OrderList.objects.filter(id__in=missing_lists):
            lists[lst.pk] = lst
        for order in Order.objects.filter(
            symbol_id=symbol, order_list_id__in=missing_lists
        ).exclude(order_id__in=list(orders)):
            orders[order.order_id] = order
    new_ids = {o.order_id for o in new_orders}
    assets = {symbol: (spec.base, spec.quote)}
    kinds = {list_id: lst.kind for list_id, lst in lists.items()}
    before = holds_of(
        [o for o in orders.values() if o.order_id not in new_ids], assets, kinds
    )

    settle = _Settle(spec=spec, now=now, last_trade_id=row.last_trade_id)
    dirty: set[int] = set(new_ids)
    last_id = max([row.last_order_id, *new_ids])
    for run in runs:
        order_id, result = run[0], run[1]
        taker = orders[order_id]
        if len(run) > 2:
            priority = run[2]
            taker.priority = priority
            taker.working_time = now
            last_id = max(last_id, priority)
        taker.executed_qty += spec.qty_of(result.executed_qty)
        taker.cummulative_quote_qty += spec.quote_of(result.executed_quote)
        taker.status = result.status
        taker.update_time = now
        dirty.add(order_id)
        settle.taker_fills(taker, result, orders, dirty)
        for maker_id, _, _ in result.expired_makers:
            maker = orders[maker_id]
            maker.status = Order.Status.EXPIRED_IN_MATCH
            maker.update_time = now
            dirty.add(maker_id)
    for update in updates:
        order = orders[update.order_id]
        order.status = update.status
        order.update_time = now
        dirty.add(update.order_id)
    for move in tracking:
        order = orders[move.order_id]
        order.trail_extreme = spec.price_of(move.extreme)
        if order.trailing_time is None:
            order.trailing_time = now
        dirty.add(move.order_id)

    after = holds_of(orders.values(), assets, kinds)
    changes = settle.changes
    reference = f"{symbol}:{min(dirty)}" if dirty else symbol
    for key in sorted(set(before) | set(after)):
        delta = after.get(key, ZERO) - before.get(key, ZERO)
        if delta > 0:
            changes.append(funds.hold_change(key[0], key[1], delta, reference))
        elif delta < 0:
            changes.append(funds.release_change(key[0], key[1], -delta, reference))

    ended: list[OrderList] = []
    for list_id, lst in lists.items():
        legs = [o for o in orders.values() if o.order_list_id == list_id]
        if lst.list_status_type == "EXEC_STARTED" and not any(
            o.status in LIVE_STATUSES for o in legs
        ):
            ended.append(lst)
            lst.list_status_type = "ALL_DONE"
            lst.list_order_status = "ALL_DONE"
            lst.update_time = now
            lst.save(
                update_fields=["list_status_type", "list_order_status", "update_time"]
            )

    for order_id in dirty:
        orders[order_id].seq = seq
    top = market_cache.publish_on_commit(
        symbol=symbol, seq=seq, book=book, spec=spec, trades=settle.trades
    )
    _command_publish(
        symbol=symbol,
        seq=seq,
        book=book,
        spec=spec,
        top=top,
        orders=orders,
        dirty=dirty,
        new_ids=new_ids,
        trades=settle.trades,
        started=new_lists,
        ended=ended,
        now=now,
    )
    funds.balance_changes_apply(changes=changes)
    Order.objects.bulk_create([o for o in new_orders])
    for order_id in sorted(dirty - new_ids):
        orders[order_id].save(update_fields=_ORDER_CHANGES)
    if settle.trades:
        Trade.objects.bulk_create(settle.trades)
        for trades, buying in settle.by_taker:
            klines_record(symbol=symbol, candle=candle_from_trades(trades, now, buying))
    Symbol.objects.filter(symbol=symbol).update(
        book_seq=seq, last_order_id=last_id, last_trade_id=settle.last_trade_id
    )
    return Outcome(orders=orders, fills=settle.fills, lists=lists)


# The user-data execution type an order's final state is reported with.
_EXECUTION_OF = {
    Order.Status.CANCELED: "CANCELED",
    Order.Status.EXPIRED: "EXPIRED",
    Order.Status.EXPIRED_IN_MATCH: "TRADE_PREVENTION",
}


def _command_publish(
    *,
    symbol,
    seq,
    book,
    spec,
    top,
    orders,
    dirty,
    new_ids,
    trades,
    started: list[OrderList],
    ended: list[OrderList],
    now: int,
) -> None:
    """The live side's view of a command with stops or lists: every level a
    touched order may have changed, and each order's events in order (accepted,
    its trades, then how it ended), as the plain path publishes them.

    A list placed (``started``) has its ``listStatus`` after its legs were
    accepted; a list that ended, after the last of its legs' events (Binance
    sends a list's ``executionReport`` events first)."""
    tick = spec.tick_size
    touched = sorted(
        {
            (orders[i].side, int(orders[i].price / tick))
            for i in dirty
            if orders[i].price
        }
    )
    items = [(orders[i].user_id, i, "NEW", -1) for i in sorted(new_ids)]
    accepted = len(items)
    for trade in trades:
        items.append((trade.buyer_id, trade.buyer_order_id, "TRADE", trade.trade_id))
        items.append((trade.seller_id, trade.seller_order_id, "TRADE", trade.trade_id))
    for i in sorted(dirty):
        execution = _EXECUTION_OF.get(orders[i].status)
        if execution is not None:
            items.append((orders[i].user_id, i, execution, -1))
    lists = [
        (
            lst.user_id,
            lst.pk,
            "EXEC_STARTED",
            "EXECUTING",
            lst.transaction_time,
            accepted,
        )
        for lst in started
    ]
    lists += [
        (lst.user_id, lst.pk, "ALL_DONE", "ALL_DONE", now, len(items))
        for lst in sorted(ended, key=lambda lst: lst.pk)
    ]
    market_events.commit_publish(
        symbol=symbol,
        seq=seq,
        book=book,
        spec=spec,
        touched=touched,
        top=top,
        trades=trades,
        items=items,
        lists=lists,
    )


_ORDER_CHANGES = [
    "executed_qty",
    "cummulative_quote_qty",
    "status",
    "update_time",
    "seq",
    "working_time",
    "priority",
    "trailing_time",
    "trail_extreme",
]


@dataclass(slots=True)
class _Settle:
    """Trades and their balance moves, taker by taker."""

    spec: SymbolSpec
    now: int
    last_trade_id: int
    changes: list = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    fills: dict[int, list[Fill]] = field(default_factory=lambda: defaultdict(list))
    by_taker: list[tuple[list[Trade], bool]] = field(default_factory=list)

    def taker_fills(self, taker: Any, result, orders: dict, dirty: set) -> None:
        if not result.fills:
            return
        spec = self.spec
        buying = taker.side == "BUY"
        own: list[Trade] = []
        change = funds.BalanceChange
        fee_account = funds.fee_account_id()
        for maker_id, maker_owner, price, lots, left in result.fills:
            self.last_trade_id += 1
            trade_id = self.last_trade_id
            price_dec = spec.price_of(price)
            qty_dec = spec.qty_of(lots)
            quote_dec = spec.quote_of(price * lots)
            if buying:
                buyer, seller = taker.user_id, maker_owner
                buyer_rate, seller_rate = spec.taker_fee, spec.maker_fee
            else:
                buyer, seller = maker_owner, taker.user_id
                buyer_rate, seller_rate = spec.maker_fee, spec.taker_fee
            buyer_fee = spec.fee(qty_dec, buyer_rate, spec.base_quantum)
            seller_fee = spec.fee(quote_dec, seller_rate, spec.quote_quantum)
            ref = f"{spec.symbol}:t{trade_id}"
            base, quote = spec.base, spec.quote
            # Paid from free: the hold each order released covers it.
            self.changes += [
                change(buyer, quote, -quote_dec, ZERO, TRADE, ref),
                change(seller, base, -qty_dec, ZERO, TRADE, ref),
                change(buyer, base, qty_dec - buyer_fee, ZERO, TRADE, ref),
                change(seller, quote, quote_dec - seller_fee, ZERO, TRADE, ref),
            ]
            if buyer_fee:
                self.changes.append(
                    change(fee_account, base, buyer_fee, ZERO, FEE, ref)
                )
            if seller_fee:
                self.changes.append(
                    change(fee_account, quote, seller_fee, ZERO, FEE, ref)
                )
            trade = Trade(
                symbol_id=spec.symbol,
                trade_id=trade_id,
                price=price_dec,
                qty=qty_dec,
                quote_qty=quote_dec,
                time=self.now,
                buyer_id=buyer,
                seller_id=seller,
                buyer_order_id=taker.order_id if buying else maker_id,
                seller_order_id=maker_id if buying else taker.order_id,
                is_buyer_maker=not buying,
                buyer_fee=buyer_fee,
                seller_fee=seller_fee,
            )
            own.append(trade)
            self.fills[taker.order_id].append(
                Fill(
                    price=price_dec,
                    qty=qty_dec,
                    commission=buyer_fee if buying else seller_fee,
                    commission_asset=base if buying else quote,
                    trade_id=trade_id,
                )
            )
            maker = orders[maker_id]
            maker.executed_qty += qty_dec
            maker.cummulative_quote_qty += quote_dec
            maker.status = "FILLED" if left == 0 else "PARTIALLY_FILLED"
            maker.update_time = self.now
            dirty.add(maker_id)
        self.trades += own
        self.by_taker.append((own, buying))
