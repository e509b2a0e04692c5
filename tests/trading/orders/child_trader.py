"""A trader run in a separate interpreter (spawned): imports nothing of Django at
module level, so that the child can set its environment before setting Django up."""

import os
import random
from decimal import Decimal

ORDERS_PER_PROCESS = 300


def trade_in_child(
    database_url: str, user_ids: list[int], seed: int, queue, all_done
) -> None:
    """Runs in a fresh interpreter: its own Django, its own books, its own lock."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "exchange.settings_test"
    import django

    django.setup()
    from django.db import transaction

    from exchange.errors import ExchangeError
    from trading.orders import books as order_books
    from trading.orders import services as order_services
    from trading.orders import types as order_types
    from trading.symbols import locks as symbol_locks
    from trading.symbols import selectors as symbol_selectors

    rng = random.Random(seed)
    accepted = refused = 0
    for _ in range(ORDERS_PER_PROCESS):
        side = rng.choice(["BUY", "SELL"])
        # Prices straddle the mid so about half of the orders cross.
        price = Decimal(60000 + rng.randint(-20, 20))
        request = order_types.OrderRequest(
            symbol="BTCUSDT",
            side=side,
            type="LIMIT",
            time_in_force=rng.choice(["GTC", "GTC", "IOC"]),
            quantity=Decimal(rng.randint(1, 50)) / 10000,
            price=price,
            self_trade_prevention_mode="NONE",
        )
        try:
            order_services.order_place(user_id=rng.choice(user_ids), request=request)
            accepted += 1
        except ExchangeError:
            refused += 1
        if rng.random() < 0.1:
            user_id = rng.choice(user_ids)
            order_services.order_cancel_all(user_id=user_id, symbol="BTCUSDT")
    queue.put(("traded", accepted, refused))
    # Once every process has finished trading, catch this book up and report it.
    all_done.wait(timeout=120)
    with symbol_locks.pair_locked("BTCUSDT") as slot, transaction.atomic():
        row = symbol_locks.symbol_lock("BTCUSDT")
        book = order_books.book_sync(slot, row, symbol_selectors.symbol_spec(row))
        resting = sorted(book.orders())
    queue.put(("book", resting))
