"""What each order-path commit tells the live side: one market message per
``book_seq`` of a symbol (the levels that changed, the top of the book, the new
trades) and one user message naming the orders and users it touched, and the
order lists whose status it changed.

The caller holds the pair lock: :func:`commit_publish` reads the book now (after
the match or cancel) and queues the rest for the bus, which formats the
message after the commit. Nothing here touches the database or the network.
"""

from __future__ import annotations

import time

from django.db import transaction

from exchange import bus
from trading.marketdata.shapes import amount

TOP_LEVELS = 20

# One order state change: (user_id, order_id, execution type, trade_id or -1).
OrderItem = tuple[int, int, str, int]
# One order list status change: (user_id, order_list_id, listStatusType,
# listOrderStatus, transaction time, how many of the commit's order items come
# before it).
ListItem = tuple[int, int, str, str, int, int]


def commit_publish(
    *,
    symbol: str,
    seq: int,
    book,
    spec,
    touched: list[tuple[str, int]],
    top: tuple[list, list],
    trades: list,
    items: list[OrderItem],
    lists: list[ListItem] | tuple = (),
) -> None:
    """Queue this commit's market and user messages, sent once it commits.

    ``touched`` are the (side, price in ticks) levels the commit may have changed
    (an unchanged one costs nothing but a redundant line); ``top`` is the book's
    best levels (ticks, lots) as it is now; ``lists`` the order lists placed or
    ended, each placed among ``items`` where its ``listStatus`` goes."""
    levels = {(side, price): book.level_total(side, price) for side, price in touched}
    bids, asks = top[0][:TOP_LEVELS], top[1][:TOP_LEVELS]
    trade_rows = [
        (t.trade_id, t.price, t.qty, t.time, t.is_buyer_maker, t.buyer_id, t.seller_id)
        for t in trades
    ]
    event_time = int(time.time() * 1000)

    def market() -> dict:
        tick, step = spec.tick_size, spec.step_size
        changed_bids = sorted(
            ((p, q) for (side, p), q in levels.items() if side == "BUY"), reverse=True
        )
        changed_asks = sorted(
            (p, q) for (side, p), q in levels.items() if side != "BUY"
        )
        return {
            "k": "commit",
            "s": symbol,
            "seq": seq,
            "E": int(time.time() * 1000),
            "b": [[amount(p * tick), amount(q * step)] for p, q in changed_bids],
            "a": [[amount(p * tick), amount(q * step)] for p, q in changed_asks],
            # The best levels go as they are, in ticks and lots: the hub
            # writes them out only when a stream of them is due. (Until
            # 2026-12 they went written out, as "tb" and "ta".)
            "top": [bids, asks],
            "tick": str(tick),
            "step": str(step),
            "t": [
                {
                    "t": trade_id,
                    "p": amount(price),
                    "q": amount(qty),
                    "T": trade_time,
                    "m": buyer_maker,
                }
                for trade_id, price, qty, trade_time, buyer_maker, _, _ in trade_rows
            ],
        }

    def user() -> dict | None:
        if not items and not lists:
            return None
        users = sorted({item[0] for item in items} | {item[0] for item in lists})
        message = {
            "k": "orders",
            "s": symbol,
            "seq": seq,
            "E": event_time,
            "users": users,
            "assets": [spec.base, spec.quote],
            "items": [list(item) for item in items],
        }
        if lists:
            message["lists"] = [list(item) for item in lists]
        return message

    def on_commit() -> None:
        bus.publish(bus.MARKET, market)
        bus.publish(bus.USER, user)

    transaction.on_commit(on_commit)
