"""A slow, obviously correct order book with the same contract as matching.engine.

Resting orders live in one flat list; every question is answered by filtering and
sorting that list again. Nothing is cached, so there is nothing to get out of step.
Used only to check the real engine, command by command.
"""

from __future__ import annotations

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
    INVALID_PRICE,
    INVALID_QTY,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    MAX_PRICE,
    NEW,
    ORDER_TYPES,
    PARTIALLY_FILLED,
    REJECTED,
    SELL,
    SIDES,
    STP_MODES,
    STP_NONE,
    TIME_IN_FORCES,
    WOULD_TAKE,
    NewOrder,
    PlaceResult,
)


class ReferenceBook:
    """Each resting order is a list ``[order_id, owner, side, price, remaining]``."""

    def __init__(self) -> None:
        self.resting: list[list] = []

    # -- helpers

    def _find(self, order_id: int) -> list | None:
        for order in self.resting:
            if order[0] == order_id:
                return order
        return None

    def _side_sorted(self, side: str) -> list[list]:
        """Orders of one side in priority: best price first, then order_id."""
        orders = [o for o in self.resting if o[2] == side]
        if side == BUY:
            return sorted(orders, key=lambda o: (-o[3], o[0]))
        return sorted(orders, key=lambda o: (o[3], o[0]))

    @staticmethod
    def _crosses(taker_side: str, limit: int | None, maker_price: int) -> bool:
        if limit is None:
            return True
        if taker_side == BUY:
            return maker_price <= limit
        return maker_price >= limit

    def _makers(self, taker_side: str, limit: int | None) -> list[list]:
        maker_side = SELL if taker_side == BUY else BUY
        return [
            o
            for o in self._side_sorted(maker_side)
            if self._crosses(taker_side, limit, o[3])
        ]

    @staticmethod
    def _result(
        order_id, status, done=0, quote=0, rest=0, fills=(), expired=(), why=None
    ):
        return PlaceResult(
            order_id=order_id,
            status=status,
            executed_qty=done,
            executed_quote=quote,
            remaining=rest,
            fills=list(fills),
            expired_makers=list(expired),
            reject_reason=why,
        )

    # -- commands

    def place(self, cmd: NewOrder) -> PlaceResult:
        if self._find(cmd.order_id) is not None:
            raise ValueError("duplicate order id")
        if (
            cmd.side not in SIDES
            or cmd.type not in ORDER_TYPES
            or cmd.tif not in TIME_IN_FORCES
            or cmd.stp not in STP_MODES
        ):
            raise ValueError("unknown enum")
        oid = cmd.order_id

        if cmd.type in (LIMIT, LIMIT_MAKER):
            if cmd.qty <= 0 or cmd.quote_qty != 0:
                return self._result(oid, REJECTED, why=INVALID_QTY)
            if not 0 < cmd.price <= MAX_PRICE:
                return self._result(oid, REJECTED, why=INVALID_PRICE)
            if cmd.type == LIMIT_MAKER:
                if self._makers(cmd.side, cmd.price):
                    return self._result(oid, REJECTED, why=WOULD_TAKE)
                self.resting.append([oid, cmd.owner, cmd.side, cmd.price, cmd.qty])
                return self._result(oid, NEW, rest=cmd.qty)
            limit = cmd.price
        else:
            if cmd.qty < 0 or cmd.quote_qty < 0:
                return self._result(oid, REJECTED, why=INVALID_QTY)
            if (cmd.qty == 0) == (cmd.quote_qty == 0):
                return self._result(oid, REJECTED, why=INVALID_QTY)
            limit = None

        own_counts = cmd.stp != STP_NONE

        if cmd.type == LIMIT and cmd.tif == FOK:
            need = cmd.qty
            fillable = False
            for maker in self._makers(cmd.side, limit):
                if own_counts and maker[1] == cmd.owner:
                    if cmd.stp == EXPIRE_MAKER:
                        continue
                    break
                need -= maker[4]
                if need <= 0:
                    fillable = True
                    break
            if not fillable:
                return self._result(oid, EXPIRED)

        by_quote = cmd.type == MARKET and cmd.qty == 0
        left = cmd.qty
        budget = cmd.quote_qty
        done = 0
        quote = 0
        fills = []
        expired = []
        finished = False  # quantity filled, or budget too small for the next lot
        self_trade = False
        while True:
            # Re-read the book before every maker: the best one may be what is left
            # of the maker just filled.
            makers = self._makers(cmd.side, limit)
            if not makers:
                break
            maker = makers[0]
            if by_quote:
                want = budget // maker[3]
                if want == 0:
                    finished = True
                    break
            else:
                want = left
            if own_counts and maker[1] == cmd.owner:
                if cmd.stp in (EXPIRE_MAKER, EXPIRE_BOTH):
                    self.resting.remove(maker)
                    expired.append((maker[0], maker[1], maker[4]))
                if cmd.stp in (EXPIRE_TAKER, EXPIRE_BOTH):
                    self_trade = True
                    break
                continue
            take = min(want, maker[4])
            maker[4] -= take
            if maker[4] == 0:
                self.resting.remove(maker)
            fills.append((maker[0], maker[1], maker[3], take, maker[4]))
            done += take
            quote += take * maker[3]
            if by_quote:
                budget -= take * maker[3]
                if budget == 0:
                    finished = True
                    break
            else:
                left -= take
                if left == 0:
                    finished = True
                    break

        if cmd.type == MARKET:
            if self_trade:
                status = EXPIRED_IN_MATCH
            elif finished and done > 0:
                status = FILLED
            else:
                status = EXPIRED
            return self._result(oid, status, done, quote, 0, fills, expired)

        if left == 0:
            return self._result(oid, FILLED, done, quote, 0, fills, expired)
        if self_trade:
            return self._result(oid, EXPIRED_IN_MATCH, done, quote, 0, fills, expired)
        if cmd.tif == GTC:
            self.resting.append([oid, cmd.owner, cmd.side, cmd.price, left])
            status = PARTIALLY_FILLED if done else NEW
            return self._result(oid, status, done, quote, left, fills, expired)
        return self._result(oid, EXPIRED, done, quote, 0, fills, expired)

    def cancel(self, order_id: int) -> int | None:
        order = self._find(order_id)
        if order is None:
            return None
        self.resting.remove(order)
        return order[4]

    def remove(self, order_id: int) -> bool:
        return self.cancel(order_id) is not None

    def upsert(self, order_id, owner, side, price, remaining) -> None:
        if side not in SIDES or not 0 < price <= MAX_PRICE or remaining <= 0:
            raise ValueError("cannot rest")
        order = self._find(order_id)
        if order is None:
            self.resting.append([order_id, owner, side, price, remaining])
        else:
            order[1:] = [owner, side, price, remaining]

    # -- reads

    def get(self, order_id: int):
        order = self._find(order_id)
        return None if order is None else tuple(order)

    def orders(self):
        return [tuple(o) for o in self._side_sorted(BUY) + self._side_sorted(SELL)]

    def best_bid(self):
        bids = self._side_sorted(BUY)
        return bids[0][3] if bids else None

    def best_ask(self):
        asks = self._side_sorted(SELL)
        return asks[0][3] if asks else None

    def depth(self, n: int):
        def levels(side):
            out: list[tuple[int, int]] = []
            for order in self._side_sorted(side):
                if out and out[-1][0] == order[3]:
                    out[-1] = (order[3], out[-1][1] + order[4])
                else:
                    out.append((order[3], order[4]))
            return out[: max(n, 0)]

        return levels(BUY), levels(SELL)

    def __len__(self) -> int:
        return len(self.resting)

    def __contains__(self, order_id) -> bool:
        return self._find(order_id) is not None
