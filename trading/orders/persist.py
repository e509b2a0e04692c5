"""Writing what a match did: the taker, the makers, the trades, every balance change.

A placement is settled in named steps over one :class:`Settlement`, built under
the pair lock from the engine's result: the taker's hold, each fill's trade and
balance moves (fees to the fee account), the release of makers that self-trade
prevention expired, the taker's order row. Then everything is written in one go:
on PostgreSQL one pipeline of prepared statements that carries the COMMIT, else
the ORM. Balances change only through ``accounts`` (its services, or its
statements in the pipeline).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from accounts import services as funds
from accounts.models import LedgerEntry
from matching import engine
from trading.marketdata import cache as market_cache
from trading.marketdata import events as market_events
from trading.marketdata.klines import candle_from_trades, klines_record
from trading.models import Order, Symbol, Trade
from trading.orders.fastpath import OrderPipeline
from trading.orders.types import Fill, OrderRequest, Placement
from trading.symbols.specs import SymbolSpec

ZERO = Decimal(0)
TRADE = LedgerEntry.Reason.TRADE
FEE = LedgerEntry.Reason.FEE


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(slots=True)
class Settlement:
    """One placement being settled: what came in, and what it writes."""

    row: object  # the symbol row as read under the lock
    spec: SymbolSpec
    user_id: int
    request: OrderRequest
    client_order_id: str
    command: engine.NewOrder
    result: engine.PlaceResult
    seq: int
    now: int
    changes: list[funds.BalanceChange] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    # maker order id -> [added qty, added quote, lots left]
    maker_updates: dict[int, list] = field(default_factory=dict)
    expired_ids: list[int] = field(default_factory=list)
    last_trade_id: int = 0
    # expired maker order id -> its price (the levels they left)
    expired_prices: dict[int, Decimal] = field(default_factory=dict)

    @property
    def buying(self) -> bool:
        return self.request.side == "BUY"

    @property
    def symbol(self) -> str:
        return self.spec.symbol


def placement_persist(
    *, row, spec, slot, user_id, request, client_order_id, command, result
) -> Placement:
    """Write everything the match did, in this transaction. Caller holds both
    locks, inside ``atomic()``, and has touched the slot."""
    s = Settlement(
        row=row,
        spec=spec,
        user_id=user_id,
        request=request,
        client_order_id=client_order_id,
        command=command,
        result=result,
        seq=row.book_seq + 1,
        now=now_ms(),
        last_trade_id=row.last_trade_id,
    )
    _taker_hold(s)
    for fill in result.fills:
        _fill_settle(s, *fill)
    _makers_expired_release(s)
    order = _taker_order(s)
    top = market_cache.publish_on_commit(
        symbol=s.symbol, seq=s.seq, book=slot.book, spec=spec, trades=s.trades
    )
    _placement_publish(s, slot.book, top)
    # The writes come last: on PostgreSQL their pipeline carries the COMMIT.
    if connection.vendor == "postgresql":
        _placement_write_pipeline(s, order)
    else:
        _placement_write_orm(s, order)
    return Placement(order=order, fills=s.fills)


def _placement_publish(s: Settlement, book, top) -> None:
    """The live side's view of a placement: the levels it may have changed (the
    makers' levels, and the taker's own if it could rest) and every order event."""
    request, command, result = s.request, s.command, s.result
    maker_side = "SELL" if s.buying else "BUY"
    touched = [(maker_side, fill[2]) for fill in result.fills]
    touched += [
        (maker_side, int(s.expired_prices[maker_id] / s.spec.tick_size))
        for maker_id, _, _ in result.expired_makers
    ]
    if command.price:
        touched.append((request.side, command.price))
    order_id = command.order_id
    items = [(s.user_id, order_id, "NEW", -1)]
    for trade, fill in zip(s.trades, result.fills, strict=True):
        items.append((fill[1], fill[0], "TRADE", trade.trade_id))
        items.append((s.user_id, order_id, "TRADE", trade.trade_id))
    for maker_id, maker_owner, _ in result.expired_makers:
        items.append((maker_owner, maker_id, "TRADE_PREVENTION", -1))
    if result.status == engine.EXPIRED_IN_MATCH:
        items.append((s.user_id, order_id, "TRADE_PREVENTION", -1))
    elif result.status == engine.EXPIRED:
        items.append((s.user_id, order_id, "EXPIRED", -1))
    market_events.commit_publish(
        symbol=s.symbol,
        seq=s.seq,
        book=book,
        spec=s.spec,
        touched=touched,
        top=top,
        trades=s.trades,
        items=items,
    )


def _taker_hold(s: Settlement) -> None:
    """What the taker holds: what its fills consume plus what its rest reserves."""
    spec, result = s.spec, s.result
    if s.buying:
        hold = spec.quote_of(result.executed_quote + result.remaining * s.command.price)
        asset = spec.quote
    else:
        hold = spec.qty_of(result.executed_qty + result.remaining)
        asset = spec.base
    if hold:
        reference = f"{s.symbol}:{s.command.order_id}"
        s.changes.append(funds.hold_change(s.user_id, asset, hold, reference))


def _fill_settle(
    s: Settlement, maker_id: int, maker_owner: int, price: int, lots: int, left: int
) -> None:
    """One fill: the trade, both sides' balance moves and fees, the maker's row."""
    spec = s.spec
    s.last_trade_id += 1
    trade_id = s.last_trade_id
    price_dec = spec.price_of(price)
    qty_dec = spec.qty_of(lots)
    quote_dec = spec.quote_of(price * lots)
    if s.buying:
        buyer, seller = s.user_id, maker_owner
        buyer_rate, seller_rate = spec.taker_fee, spec.maker_fee
    else:
        buyer, seller = maker_owner, s.user_id
        buyer_rate, seller_rate = spec.maker_fee, spec.taker_fee
    buyer_fee = spec.fee(qty_dec, buyer_rate, spec.base_quantum)
    seller_fee = spec.fee(quote_dec, seller_rate, spec.quote_quantum)
    base, quote = spec.base, spec.quote
    ref = f"{s.symbol}:t{trade_id}"
    change = funds.BalanceChange
    s.changes += [
        change(buyer, quote, ZERO, -quote_dec, TRADE, ref),
        change(seller, base, ZERO, -qty_dec, TRADE, ref),
        change(buyer, base, qty_dec - buyer_fee, ZERO, TRADE, ref),
        change(seller, quote, quote_dec - seller_fee, ZERO, TRADE, ref),
    ]
    fee_account = funds.fee_account_id()
    if buyer_fee:
        s.changes.append(change(fee_account, base, buyer_fee, ZERO, FEE, ref))
    if seller_fee:
        s.changes.append(change(fee_account, quote, seller_fee, ZERO, FEE, ref))
    taker_id = s.command.order_id
    s.trades.append(
        Trade(
            symbol_id=s.symbol,
            trade_id=trade_id,
            price=price_dec,
            qty=qty_dec,
            quote_qty=quote_dec,
            time=s.now,
            buyer_id=buyer,
            seller_id=seller,
            buyer_order_id=taker_id if s.buying else maker_id,
            seller_order_id=maker_id if s.buying else taker_id,
            is_buyer_maker=not s.buying,
            buyer_fee=buyer_fee,
            seller_fee=seller_fee,
        )
    )
    s.fills.append(
        Fill(
            price=price_dec,
            qty=qty_dec,
            commission=buyer_fee if s.buying else seller_fee,
            commission_asset=base if s.buying else quote,
            trade_id=trade_id,
        )
    )
    update = s.maker_updates.setdefault(maker_id, [ZERO, ZERO, left])
    update[0] += qty_dec
    update[1] += quote_dec
    update[2] = left


def _makers_expired_release(s: Settlement) -> None:
    """Self-trade prevention expired these makers: release what they reserved."""
    expired = s.result.expired_makers
    s.expired_ids = [maker_id for maker_id, _, _ in expired]
    prices = {}
    if s.expired_ids:
        # Expired BUY makers reserved quote at their own price, and the levels
        # the makers left are in the depth update; the engine has already
        # dropped them, so the price comes from their rows.
        prices = dict(
            Order.objects.filter(
                symbol_id=s.symbol, order_id__in=s.expired_ids
            ).values_list("order_id", "price")
        )
    for maker_id, maker_owner, left in expired:
        if s.buying:
            amount, asset = s.spec.qty_of(left), s.spec.base
        else:
            amount, asset = prices[maker_id] * s.spec.qty_of(left), s.spec.quote
        if amount:
            reference = f"{s.symbol}:{maker_id}"
            s.changes.append(
                funds.release_change(maker_owner, asset, amount, reference)
            )
    s.expired_prices = prices


def _taker_order(s: Settlement) -> Order:
    request, command, result, spec = s.request, s.command, s.result, s.spec
    market = request.type == "MARKET"
    order = Order.build(
        symbol_id=s.symbol,
        order_id=command.order_id,
        user_id=s.user_id,
        client_order_id=s.client_order_id,
        side=request.side,
        type=request.type,
        time_in_force="GTC" if market else (request.time_in_force or "GTC"),
        price=request.price or ZERO,
        orig_qty=spec.qty_of(command.qty) if command.qty else ZERO,
        orig_quote_order_qty=request.quote_order_qty or ZERO,
        executed_qty=spec.qty_of(result.executed_qty),
        cummulative_quote_qty=spec.quote_of(result.executed_quote),
        status=result.status,
        self_trade_prevention_mode=request.self_trade_prevention_mode,
        time=s.now,
        update_time=s.now,
        seq=s.seq,
    )
    if market and not command.qty:
        # A market order by quote amount reports what it bought or sold.
        order.orig_qty = order.executed_qty
    return order


def _placement_write_pipeline(s: Settlement, order: Order) -> None:
    """One pipeline of prepared statements (``trading.orders.fastpath``)."""
    batch = OrderPipeline()
    batch.order_insert(order)
    batch.funds(s.changes)
    batch.makers_fill(s.symbol, s.maker_updates, s.now, s.seq)
    batch.orders_expire(s.symbol, s.expired_ids, s.now, s.seq)
    batch.trades(s.trades)
    if s.trades:
        batch.klines(s.symbol, candle_from_trades(s.trades, s.now, s.buying))
    batch.symbol_advance(s.symbol, s.seq, order.order_id, s.last_trade_id)
    order.pk = batch.execute(last=True)
    order._state.adding = False


def _placement_write_orm(s: Settlement, order: Order) -> None:
    """The same writes through the ORM, for databases other than PostgreSQL."""
    funds.balance_changes_apply(changes=s.changes)
    order.save(force_insert=True)
    for maker_id, (add_qty, add_quote, left) in s.maker_updates.items():
        maker = Order.objects.get(symbol_id=s.symbol, order_id=maker_id)
        maker.executed_qty += add_qty
        maker.cummulative_quote_qty += add_quote
        maker.status = "FILLED" if left == 0 else "PARTIALLY_FILLED"
        maker.update_time = s.now
        maker.seq = s.seq
        maker.save(
            update_fields=[
                "executed_qty",
                "cummulative_quote_qty",
                "status",
                "update_time",
                "seq",
            ]
        )
    if s.expired_ids:
        Order.objects.filter(symbol_id=s.symbol, order_id__in=s.expired_ids).update(
            status="EXPIRED_IN_MATCH", update_time=s.now, seq=s.seq
        )
    if s.trades:
        Trade.objects.bulk_create(s.trades)
        candle = candle_from_trades(s.trades, s.now, s.buying)
        klines_record(symbol=s.symbol, candle=candle)
    Symbol.objects.filter(symbol=s.symbol).update(
        book_seq=s.seq, last_order_id=order.order_id, last_trade_id=s.last_trade_id
    )


def cancel_write(
    *, symbol: str, order_ids: list[int], changes: list, now: int, seq: int
) -> None:
    """Write a cancel: the releases, the orders' status, the book's seq. The
    caller writes nothing after it (on PostgreSQL the pipeline carries the
    COMMIT)."""
    if connection.vendor == "postgresql":
        batch = OrderPipeline()
        batch.funds(changes)
        batch.orders_cancel(symbol, order_ids, now, seq)
        batch.symbol_seq(symbol, seq)
        batch.execute(last=True)
        return
    funds.balance_changes_apply(changes=changes)
    Order.objects.filter(symbol_id=symbol, order_id__in=order_ids).update(
        status=Order.Status.CANCELED, update_time=now, seq=seq
    )
    Symbol.objects.filter(symbol=symbol).update(book_seq=seq)
