"""Seeded random command streams and the checks shared by the engine tests."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from matching.contract import (
    BUY,
    CANCELED,
    EXPIRE_BOTH,
    EXPIRE_MAKER,
    EXPIRE_TAKER,
    EXPIRED,
    EXPIRED_IN_MATCH,
    FILLED,
    FOK,
    GTC,
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    NEW,
    OCO,
    OTO,
    OTOCO,
    PARTIALLY_FILLED,
    REJECTED,
    SELL,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    STP_NONE,
    TAKE_PROFIT,
    TAKE_PROFIT_LIMIT,
    WOULD_TAKE,
    NewOrder,
    OrderUpdate,
    Triggered,
)
from matching.triggers import fires_up

MID, LOW, HIGH = 100, 88, 112  # a narrow band: levels are shared, orders cross
OWNERS = (1, 2, 3, 4)  # few owners, so that self-trade prevention is exercised


def random_command(rng: random.Random, next_id: int, resting: list[tuple]) -> tuple:
    """One command as a tuple ``(verb, *args)``; ``resting`` is the book's orders.

    Verbs: ``place`` (a NewOrder), ``cancel``/``remove`` (an id, resting or not),
    ``upsert`` (a sync step that never crosses the book).
    """
    draw = rng.random()
    if draw < 0.16 and resting:
        return ("cancel", rng.choice(resting)[0])
    if draw < 0.18:
        return ("cancel", rng.randrange(1, next_id + 5))
    if draw < 0.21:
        verb = "remove"
        target = rng.choice(resting)[0] if resting and rng.random() < 0.7 else next_id
        return (verb, target)
    if draw < 0.27:
        return _random_upsert(rng, next_id, resting)
    side = rng.choice((BUY, SELL))
    owner = rng.choice(OWNERS)
    stp = rng.choice((STP_NONE, STP_NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH))
    kind = rng.random()
    if kind < 0.62:
        tif = rng.choice((GTC, GTC, GTC, GTC, GTC, IOC, FOK))
        price = _price(rng, side)
        cmd = NewOrder(next_id, owner, side, LIMIT, tif, price, _qty(rng), stp=stp)
    elif kind < 0.72:
        cmd = NewOrder(next_id, owner, side, MARKET, qty=_qty(rng), stp=stp)
    elif kind < 0.78:
        cmd = NewOrder(
            next_id, owner, side, MARKET, quote_qty=rng.randint(1, 2000), stp=stp
        )
    elif kind < 0.95:
        price = _price(rng, side)
        cmd = NewOrder(next_id, owner, side, LIMIT_MAKER, price=price, qty=_qty(rng))
    else:
        cmd = _invalid_order(rng, next_id, side, owner)
    return ("place", cmd)


def _price(rng: random.Random, side: str) -> int:
    """Mostly behind the mid on the order's own side, sometimes through it."""
    distance = rng.randint(-3, 9)
    price = MID - distance if side == BUY else MID + distance
    return min(max(price, LOW), HIGH)


def _qty(rng: random.Random) -> int:
    return rng.randint(1, 12) if rng.random() < 0.9 else rng.randint(13, 60)


def _invalid_order(
    rng: random.Random, order_id: int, side: str, owner: int
) -> NewOrder:
    return rng.choice(
        (
            NewOrder(order_id, owner, side, LIMIT, price=100, qty=0),
            NewOrder(order_id, owner, side, LIMIT, price=0, qty=3),
            NewOrder(order_id, owner, side, LIMIT, price=100, qty=3, quote_qty=5),
            NewOrder(order_id, owner, side, MARKET, qty=2, quote_qty=200),
            NewOrder(order_id, owner, side, MARKET),
            NewOrder(order_id, owner, side, LIMIT_MAKER, price=-4, qty=1),
        )
    )


def _random_upsert(rng: random.Random, next_id: int, resting: list[tuple]) -> tuple:
    bids = [o[3] for o in resting if o[2] == BUY]
    asks = [o[3] for o in resting if o[2] == SELL]
    best_bid = max(bids) if bids else None
    best_ask = min(asks) if asks else None
    if resting and rng.random() < 0.5:
        order_id, owner, side, price, _ = rng.choice(resting)
        if rng.random() < 0.3:
            # Moving within its own side's non-crossing range.
            price = rng.randint(LOW, HIGH)
    else:
        # An older id than the newest placed one: the book must queue it by id.
        order_id = rng.randrange(1, next_id + 1)
        if any(o[0] == order_id for o in resting):
            order_id = next_id
        owner = rng.choice(OWNERS)
        side = rng.choice((BUY, SELL))
        price = _price(rng, side)
    if side == BUY and best_ask is not None and price >= best_ask:
        price = best_ask - 1
    if side == SELL and best_bid is not None and price <= best_bid:
        price = best_bid + 1
    if price <= 0:
        return ("cancel", -1)
    return ("upsert", order_id, owner, side, price, _qty(rng))


@dataclass
class Ledger:
    """Per-order accounts kept from results alone, to prove nothing is lost.

    For every order placed through ``place``: original quantity == filled +
    resting + expired + cancelled. Orders touched by a sync step are left out,
    since a sync sets quantities by decree.
    """

    original: dict[int, int] = field(default_factory=dict)
    filled: dict[int, int] = field(default_factory=dict)
    expired: dict[int, int] = field(default_factory=dict)
    cancelled: dict[int, int] = field(default_factory=dict)
    resting: dict[int, int] = field(default_factory=dict)
    synced: set[int] = field(default_factory=set)

    def placed(self, cmd: NewOrder, result) -> None:
        oid = cmd.order_id
        assert result.order_id == oid
        assert result.executed_qty == sum(f[3] for f in result.fills)
        assert result.executed_quote == sum(f[2] * f[3] for f in result.fills)
        assert all(f[3] > 0 and f[4] >= 0 for f in result.fills)
        for maker_id, _, price, qty, after in result.fills:
            if cmd.type == LIMIT:
                assert price <= cmd.price if cmd.side == BUY else price >= cmd.price
            assert self.resting[maker_id] - qty == after
            self.filled[maker_id] = self.filled.get(maker_id, 0) + qty
            if after:
                self.resting[maker_id] = after
            else:
                del self.resting[maker_id]
        for maker_id, owner, remaining in result.expired_makers:
            assert owner == cmd.owner and cmd.stp in (EXPIRE_MAKER, EXPIRE_BOTH)
            assert self.resting.pop(maker_id) == remaining
            self.expired[maker_id] = self.expired.get(maker_id, 0) + remaining
        if cmd.stp == STP_NONE:
            assert not result.expired_makers
        status = result.status
        if status == REJECTED:
            assert result.reject_reason and not result.fills and not result.remaining
            assert not result.expired_makers
            return
        assert result.reject_reason is None
        if cmd.type == MARKET and not cmd.qty:
            # By quote: never more than the budget, never resting.
            assert result.executed_quote <= cmd.quote_qty and not result.remaining
            return
        qty = cmd.qty
        done = result.executed_qty
        self.original[oid] = qty
        self.filled[oid] = self.filled.get(oid, 0) + done
        if status == FILLED:
            assert done == qty and not result.remaining
        elif status in (NEW, PARTIALLY_FILLED):
            assert (done == 0) == (status == NEW)
            assert result.remaining == qty - done > 0
            self.resting[oid] = result.remaining
        else:
            assert status in (EXPIRED, EXPIRED_IN_MATCH), status
            assert not result.remaining and done < qty
            if cmd.tif == FOK and cmd.type == LIMIT:
                assert done == 0 and not result.expired_makers
            self.expired[oid] = self.expired.get(oid, 0) + qty - done

    def cancelled_order(self, order_id: int, lots: int | None) -> None:
        assert lots == self.resting.pop(order_id, None)
        if lots is not None:
            self.cancelled[order_id] = self.cancelled.get(order_id, 0) + lots

    def upserted(self, order_id: int, remaining: int) -> None:
        self.resting[order_id] = remaining
        self.synced.add(order_id)

    def check_book(self, book_orders: list[tuple]) -> None:
        assert {o[0]: o[4] for o in book_orders} == self.resting

    def check_conservation(self) -> None:
        for oid, qty in self.original.items():
            if oid in self.synced:
                continue
            accounted = (
                self.filled.get(oid, 0)
                + self.expired.get(oid, 0)
                + self.cancelled.get(oid, 0)
                + self.resting.get(oid, 0)
            )
            assert accounted == qty, (oid, qty, accounted)


# -- streams with stop orders and order lists

_STOPS = (STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT)


def random_contingent_command(
    rng: random.Random, next_id: int, next_list: int, view
) -> tuple:
    """One command for a book with stops and lists; ``view`` is the reference.

    Verbs: ``place`` (a NewOrder: plain or stop), ``list`` (kind, list id, legs),
    ``cancel`` (a plain resting order, a pending stop, or an unknown id),
    ``cancel_list``, ``upsert`` (a resting order's quantity, priority kept),
    ``remove``.
    """
    draw = rng.random()
    members = {i for lst in view.list_view() for i in lst[5]}
    last = view.last if view.last is not None else MID
    if draw < 0.10:
        ids = [o[0] for o in view.orders()] + [s[0] for s in view.pending()]
        ids = [i for i in ids if i not in members]
        return ("cancel", rng.choice(ids) if ids else next_id + 3)
    if draw < 0.14 and members:
        return ("cancel_list", rng.choice([lst[0] for lst in view.list_view()]))
    if draw < 0.16:
        resting = [o for o in view.orders()]
        if resting:
            order_id, owner, side, price, _ = rng.choice(resting)
            priority = view.priorities().get(order_id)
            return ("upsert", order_id, owner, side, price, _qty(rng), priority)
    if draw < 0.17:
        resting = [o[0] for o in view.orders()] + [s[0] for s in view.pending()]
        if resting:
            return ("remove", rng.choice(resting))
    if draw < 0.30:
        return ("list", *_random_list(rng, next_id, next_list, last))
    side = rng.choice((BUY, SELL))
    owner = rng.choice(OWNERS)
    if draw < 0.52:
        return ("place", _random_stop(rng, next_id, owner, side, last))
    if rng.random() < 0.03:
        return ("place", _invalid_order(rng, next_id, side, owner))
    return ("place", _plain(rng, next_id, owner, side))


def _plain(rng: random.Random, order_id: int, owner: int, side: str) -> NewOrder:
    stp = rng.choice((STP_NONE, STP_NONE, STP_NONE, EXPIRE_TAKER, EXPIRE_MAKER))
    kind = rng.random()
    if kind < 0.7:
        tif = rng.choice((GTC, GTC, GTC, IOC, FOK))
        return NewOrder(
            order_id, owner, side, LIMIT, tif, _price(rng, side), _qty(rng), stp=stp
        )
    if kind < 0.85:
        return NewOrder(order_id, owner, side, MARKET, qty=_qty(rng), stp=stp)
    if kind < 0.9:
        quote = rng.randint(1, 2000)
        return NewOrder(order_id, owner, side, MARKET, quote_qty=quote, stp=stp)
    price = _price(rng, side)
    return NewOrder(order_id, owner, side, LIMIT_MAKER, price=price, qty=_qty(rng))


def _random_stop(
    rng: random.Random,
    order_id: int,
    owner: int,
    side: str,
    last: int,
    order_type: str | None = None,
    above: bool | None = None,
) -> NewOrder:
    """A stop order, mostly on the side of ``last`` where it waits."""
    order_type = order_type or rng.choice(_STOPS)
    up = fires_up(order_type, side)
    distance = rng.randint(1, 8) if rng.random() < 0.9 else -rng.randint(0, 3)
    stop = last + distance if up else last - distance
    delta = 0
    if rng.random() < 0.3:
        delta = rng.choice((100, 200, 300, 500, 800))
        if rng.random() < 0.4:
            stop = 0
    if rng.random() < 0.01:
        stop, delta = 0, 0  # refused: neither
    price = 0
    if order_type in (STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT):
        base = stop or last
        slack = rng.randint(-2, 5)
        price = base + slack if side == BUY else base - slack
        price = max(price, 1)
    stp = rng.choice((STP_NONE, STP_NONE, EXPIRE_MAKER, EXPIRE_TAKER))
    return NewOrder(
        order_id, owner, side, order_type, GTC, price, _qty(rng), 0, stp, max(stop, 0),
        delta,
    )  # fmt: skip


def _oco_pair(
    rng: random.Random, first_id: int, owner: int, side: str, last: int
) -> list[NewOrder]:
    """An above and a below leg (in random order), sometimes priced wrongly."""
    if side == SELL:
        above_type = rng.choice((LIMIT_MAKER, TAKE_PROFIT, TAKE_PROFIT_LIMIT))
        below_type = rng.choice((STOP_LOSS, STOP_LOSS_LIMIT))
    else:
        above_type = rng.choice((STOP_LOSS, STOP_LOSS_LIMIT))
        below_type = rng.choice((LIMIT_MAKER, TAKE_PROFIT, TAKE_PROFIT_LIMIT))
    qty = _qty(rng)
    legs = []
    for leg_type, sign in ((above_type, 1), (below_type, -1)):
        if leg_type == LIMIT_MAKER:
            distance = rng.randint(1, 6) if rng.random() < 0.95 else -1
            price = last + sign * distance
            leg = NewOrder(0, owner, side, LIMIT_MAKER, price=max(price, 1), qty=qty)
        else:
            leg = _random_stop(rng, 0, owner, side, last, leg_type)._replace(qty=qty)
        legs.append(leg)
    if rng.random() < 0.5:
        legs.reverse()
    return [leg._replace(order_id=first_id + i) for i, leg in enumerate(legs)]


def _random_list(
    rng: random.Random, next_id: int, list_id: int, last: int
) -> tuple[str, int, list[NewOrder]]:
    owner = rng.choice(OWNERS)
    side = rng.choice((BUY, SELL))
    kind = rng.choice((OCO, OCO, OTO, OTOCO))
    if kind == OCO:
        return kind, list_id, _oco_pair(rng, next_id, owner, side, last)
    working_type = rng.choice((LIMIT, LIMIT, LIMIT_MAKER))
    tif = rng.choice((GTC, GTC, GTC, IOC)) if working_type == LIMIT else GTC
    working = NewOrder(
        next_id, owner, side, working_type, tif, _price(rng, side), _qty(rng)
    )
    other = SELL if side == BUY else BUY
    if kind == OTOCO:
        pair = _oco_pair(rng, next_id + 1, owner, other, last)
        return kind, list_id, [working, *pair]
    if rng.random() < 0.5:
        pending = _random_stop(rng, next_id + 1, owner, other, last)
    else:
        pending = _plain(rng, next_id + 1, owner, other)
        if pending.quote_qty:
            pending = pending._replace(quote_qty=0, qty=_qty(rng))
    return kind, list_id, [working, pending]


@dataclass
class FateLedger:
    """Each order's quantity from results alone: original == filled + resting +
    held (pending in the trigger book or pending new) + gone (expired or
    cancelled); a held order leaves ``held`` exactly once (triggered, expired or
    cancelled). Orders touched by a sync step are left out."""

    original: dict[int, int] = field(default_factory=dict)
    filled: dict[int, int] = field(default_factory=dict)
    resting: dict[int, int] = field(default_factory=dict)
    held: dict[int, int] = field(default_factory=dict)
    gone: dict[int, int] = field(default_factory=dict)
    synced: set[int] = field(default_factory=set)
    triggered: int = 0

    def _add(self, book: dict, order_id: int, lots: int) -> None:
        book[order_id] = book.get(order_id, 0) + lots

    def executed(self, order_id: int, qty: int, result, by_quote: bool) -> None:
        """A taker's own execution (placed, or started working)."""
        for maker_id, _, _, lots, after in result.fills:
            if maker_id in self.synced:
                continue
            assert self.resting[maker_id] - lots == after, (maker_id, lots, after)
            self._add(self.filled, maker_id, lots)
            if after:
                self.resting[maker_id] = after
            else:
                del self.resting[maker_id]
        for maker_id, _, lots in result.expired_makers:
            if maker_id not in self.synced:
                assert self.resting.pop(maker_id) == lots
                self._add(self.gone, maker_id, lots)
        if result.status == REJECTED or by_quote:
            return
        self.original.setdefault(order_id, qty)
        self._add(self.filled, order_id, result.executed_qty)
        if result.remaining:
            self.resting[order_id] = result.remaining
        elif result.status != FILLED:
            self._add(self.gone, order_id, qty - result.executed_qty)

    def events(self, events) -> None:
        for event in events:
            if isinstance(event, Triggered):
                qty = self.held.pop(event.order_id)  # exactly once
                self.triggered += 1
                self.executed(event.order_id, qty, event.result, False)
                if event.result.status == REJECTED:
                    # A leg that could not start (a LIMIT_MAKER that would take).
                    assert event.result.reject_reason == WOULD_TAKE
                    self._add(self.gone, event.order_id, qty)
            elif isinstance(event, OrderUpdate):
                self.updated(event)
            else:
                assert event.order_id in self.held

    def updated(self, event) -> None:
        if event.order_id in self.synced:
            return
        if event.status == NEW:
            assert self.held[event.order_id] == event.lots
            return
        assert event.status in (EXPIRED, CANCELED)
        lots = self.resting.pop(event.order_id, None)
        if lots is None:
            lots = self.held.pop(event.order_id)
        assert lots == event.lots, event
        self._add(self.gone, event.order_id, lots)

    def hold(self, cmd) -> None:
        self.original[cmd.order_id] = cmd.qty
        self.held[cmd.order_id] = cmd.qty

    def cancelled(self, order_id: int, lots) -> None:
        if lots is None or order_id in self.synced:
            return
        got = self.resting.pop(order_id, None)
        if got is None:
            got = self.held.pop(order_id)
        assert got == lots
        self._add(self.gone, order_id, lots)

    def sync(self, order_id: int) -> None:
        self.synced.add(order_id)
        self.resting.pop(order_id, None)
        self.held.pop(order_id, None)

    def check(self, book) -> None:
        resting = {o[0]: o[4] for o in book.orders() if o[0] not in self.synced}
        assert resting == self.resting
        pending_new = {leg.order_id: leg.qty for lst in book.lists() for leg in lst[4]}
        held = {s[0]: s[6] for s in book.pending()} | pending_new
        held = {k: v for k, v in held.items() if k not in self.synced}
        assert held == self.held
        for order_id, qty in self.original.items():
            if order_id in self.synced:
                continue
            accounted = sum(
                part.get(order_id, 0)
                for part in (self.filled, self.resting, self.held, self.gone)
            )
            assert accounted == qty, (order_id, qty, accounted)
