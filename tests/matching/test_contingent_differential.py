"""Stop orders and order lists: the engine against the reference, command by
command, on seeded random streams.

After every command: the same result (events included), the same book in priority
order, the same trigger book and lists, the same last price; the engine's own
invariants; and, from the results alone, every order's quantity accounted for and
every held order (pending stop or pending leg) leaving the trigger book once.
"""

import random

import pytest

from matching.contract import (
    CANCELED,
    LIMIT_MAKER,
    MARKET,
    NEW,
    OCO,
    PENDING_NEW,
    STOP_TYPES,
    Triggered,
)
from matching.engine import OrderBook
from tests.matching.reference import ReferenceBook
from tests.matching.streams import FateLedger, random_contingent_command

COMMANDS = 3_000


def _same(book: OrderBook, reference: ReferenceBook, step, command) -> None:
    book.check_invariants()
    assert list(book.orders()) == reference.orders(), (step, command)
    assert book.pending() == reference.pending(), (step, command)
    assert book.lists() == reference.list_view(), (step, command)
    assert book.last_price == reference.last, (step, command)
    assert book.priorities() == reference.priorities(), (step, command)


def _next_id(next_id: int, events) -> int:
    for event in events:
        if isinstance(event, Triggered):
            next_id = max(next_id, event.priority + 1)
    return next_id


def run_stream(seed: int, commands: int, check_every: int = 1) -> dict:
    rng = random.Random(seed)
    book = OrderBook()
    reference = ReferenceBook()
    ledger = FateLedger()
    next_id = 1
    next_list = 1
    seen = {"fills": 0, "triggered": 0, "lists": 0, "rejected_lists": 0}
    for step in range(commands):
        command = random_contingent_command(rng, next_id, next_list, reference)
        verb = command[0]
        if verb == "place":
            cmd = command[1]
            result = book.place(*cmd)
            assert result == reference.place(cmd), (step, cmd)
            next_id = _next_id(cmd.order_id + 1, result.events)
            seen["fills"] += len(result.fills)
            if cmd.type in STOP_TYPES:
                if result.status == NEW:
                    ledger.hold(cmd)
            else:
                by_quote = cmd.type == MARKET and not cmd.qty
                ledger.executed(cmd.order_id, cmd.qty, result, by_quote)
            ledger.events(result.events)
        elif verb == "list":
            _, kind, list_id, legs = command
            result = book.place_list(kind, list_id, legs)
            assert result == reference.place_list(kind, list_id, legs), (step, legs)
            next_list += 1
            next_id = _next_id(legs[-1].order_id + 1, result.events)
            if result.reject_reason:
                seen["rejected_lists"] += 1
                continue
            seen["lists"] += 1
            for leg, leg_result in zip(legs, result.legs, strict=True):
                if leg_result.status == PENDING_NEW or (
                    kind == OCO and leg.type != LIMIT_MAKER
                ):
                    ledger.hold(leg)
            for leg, leg_result in zip(legs, result.legs, strict=True):
                if leg_result.status != PENDING_NEW and leg.order_id not in ledger.held:
                    ledger.executed(leg.order_id, leg.qty, leg_result, False)
            ledger.events(result.events)
        elif verb == "cancel":
            lots = book.cancel(command[1])
            assert lots == reference.cancel(command[1]), (step, command)
            ledger.cancelled(command[1], lots)
        elif verb == "cancel_list":
            updates = book.cancel_list(command[1])
            assert updates == reference.cancel_list(command[1]), (step, command)
            assert updates and all(u.status == CANCELED for u in updates)
            for update in updates:
                ledger.updated(update)
        elif verb == "remove":
            assert book.remove(command[1]) == reference.remove(command[1]) is True
            ledger.sync(command[1])
        else:
            _, order_id, owner, side, price, qty, priority = command
            book.upsert(order_id, owner, side, price, qty, priority)
            reference.upsert(order_id, owner, side, price, qty, priority)
            ledger.sync(order_id)
        if step % check_every == 0:
            _same(book, reference, step, command)
            ledger.check(book)
    _same(book, reference, "end", None)
    seen["triggered"] = ledger.triggered
    copy = OrderBook.restore(book.snapshot())
    copy.check_invariants()
    assert copy.snapshot() == book.snapshot()
    return seen


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_stops_and_lists_match_the_reference(seed):
    seen = run_stream(seed, COMMANDS)
    # The stream must exercise what it is about.
    assert seen["triggered"] > 100, seen
    assert seen["lists"] > 100 and seen["rejected_lists"] > 5, seen
    assert seen["fills"] > 300, seen


def test_a_restored_book_with_stops_continues_identically():
    rng = random.Random(7)
    book = OrderBook()
    reference = ReferenceBook()
    next_id, next_list = 1, 1

    def step(target):
        nonlocal next_id, next_list
        command = random_contingent_command(rng, next_id, next_list, reference)
        verb = command[0]
        if verb == "place":
            out = [b.place(*command[1]) for b in target]
            reference.place(command[1])
            next_id = _next_id(command[1].order_id + 1, out[0].events)
        elif verb == "list":
            out = [b.place_list(*command[1:]) for b in target]
            reference.place_list(*command[1:])
            next_list += 1
            next_id = _next_id(command[3][-1].order_id + 1, out[0].events)
        elif verb == "cancel":
            out = [b.cancel(command[1]) for b in target]
            reference.cancel(command[1])
        elif verb == "cancel_list":
            out = [b.cancel_list(command[1]) for b in target]
            reference.cancel_list(command[1])
        elif verb == "remove":
            out = [b.remove(command[1]) for b in target]
            reference.remove(command[1])
        else:
            out = [b.upsert(*command[1:]) for b in target]
            reference.upsert(*command[1:])
        assert all(o == out[0] for o in out)

    for _ in range(1_500):
        step([book])
    assert book.pending() and book.priorities(), "nothing worth restoring"
    copy = OrderBook.restore(book.snapshot())
    for _ in range(1_500):
        step([book, copy])
        assert copy.snapshot() == book.snapshot()
    copy.check_invariants()
