"""The engine against the reference book on long seeded random streams.

After every command: the same result, the same book (every order, in priority
order, with its quantity), the engine's own invariants, and per-order conservation
of quantity from the results alone.
"""

import random

import pytest

from matching import engine
from matching.engine import BUY, SELL, OrderBook
from tests.matching.reference import ReferenceBook
from tests.matching.streams import Ledger, random_command

COMMANDS = 12_000


def run_stream(seed: int, commands: int) -> tuple[OrderBook, int]:
    rng = random.Random(seed)
    book = OrderBook()
    reference = ReferenceBook()
    ledger = Ledger()
    next_id = 1
    fills = 0
    orders: list[tuple] = []
    for step in range(commands):
        command = random_command(rng, next_id, orders)
        verb = command[0]
        if verb == "place":
            cmd = command[1]
            next_id = cmd.order_id + 1
            result = book.place(*cmd)
            expected = reference.place(cmd)
            assert result == expected, (step, cmd)
            ledger.placed(cmd, result)
            fills += len(result.fills)
        elif verb == "cancel":
            lots = book.cancel(command[1])
            assert lots == reference.cancel(command[1]), (step, command)
            ledger.cancelled_order(command[1], lots)
        elif verb == "remove":
            lots = book.get(command[1])
            assert book.remove(command[1]) == reference.remove(command[1]), step
            ledger.cancelled_order(command[1], lots[4] if lots else None)
        else:
            _, order_id, owner, side, price, remaining = command
            book.upsert(order_id, owner, side, price, remaining)
            reference.upsert(order_id, owner, side, price, remaining)
            ledger.upserted(order_id, remaining)
            next_id = max(next_id, order_id + 1)
        book.check_invariants()
        orders = list(book.orders())
        assert orders == reference.orders(), (step, command)
        bids = [o[3] for o in orders if o[2] == BUY]
        asks = [o[3] for o in orders if o[2] == SELL]
        assert book.best_bid() == (bids[0] if bids else None)
        assert book.best_ask() == (asks[0] if asks else None)
        assert len(book) == len(reference)
        ledger.check_book(orders)
        if step % 97 == 0:
            assert book.depth(1) == reference.depth(1)
            assert book.depth(4) == reference.depth(4)
            assert book.depth(1000) == reference.depth(1000)
            assert all(book.get(o[0]) == o for o in orders)
            assert book.best_bid() == reference.best_bid()
            assert book.best_ask() == reference.best_ask()
    ledger.check_conservation()
    return book, fills


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_matches_reference(seed):
    book, fills = run_stream(seed, COMMANDS)
    # The stream must actually exercise matching, not just resting.
    assert fills > COMMANDS // 10


def test_engine_matches_reference_with_eager_purges(monkeypatch):
    """Purges of tombstones, stale keys and consumed queue heads at every chance."""
    monkeypatch.setattr(engine, "_DEAD_SLACK", 0)
    monkeypatch.setattr(engine, "_STALE_SLACK", 0)
    monkeypatch.setattr(engine, "_HEAD_SLACK", 0)
    run_stream(4, COMMANDS)


def test_restored_snapshot_continues_identically():
    """A book restored mid-stream behaves exactly like the original from then on."""
    rng = random.Random(99)
    book = OrderBook()
    reference = ReferenceBook()
    next_id = 1
    for _ in range(3_000):
        command = random_command(rng, next_id, reference.orders())
        if command[0] == "place":
            next_id = command[1].order_id + 1
            book.place(*command[1])
            reference.place(command[1])
        elif command[0] in ("cancel", "remove"):
            book.cancel(command[1])
            reference.cancel(command[1])
        else:
            book.upsert(*command[1:])
            reference.upsert(*command[1:])
            next_id = max(next_id, command[1] + 1)
    copy = OrderBook.restore(book.snapshot())
    copy.check_invariants()
    assert list(copy.orders()) == list(book.orders())
    for _ in range(3_000):
        command = random_command(rng, next_id, reference.orders())
        if command[0] == "place":
            next_id = command[1].order_id + 1
            assert copy.place(*command[1]) == book.place(*command[1])
            reference.place(command[1])
        elif command[0] in ("cancel", "remove"):
            assert copy.cancel(command[1]) == book.cancel(command[1])
            reference.cancel(command[1])
        else:
            copy.upsert(*command[1:])
            book.upsert(*command[1:])
            reference.upsert(*command[1:])
            next_id = max(next_id, command[1] + 1)
        assert list(copy.orders()) == list(book.orders())
    copy.check_invariants()
