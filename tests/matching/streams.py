"""Seeded random command streams and the checks shared by the engine tests."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from matching.contract import (
    BUY,
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
    PARTIALLY_FILLED,
    REJECTED,
    SELL,
    STP_NONE,
    NewOrder,
)

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
