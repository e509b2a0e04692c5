"""The pair lock: a process lock per symbol, then the symbol's row lock.

The row lock (``SELECT ... FOR UPDATE`` on the symbol) serialises a pair across
processes and pods; the process lock keeps a process's threads from queueing on
the database for it. Different pairs never wait on each other. The order path
takes both through ``trading.orders.locks``, which reads what an order needs in
the row lock's round trip.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from exchange import bus, errors
from exchange.metrics import PAIR_LOCK_WAIT_SECONDS
from matching.registry import BookSlot, registry
from trading.models import Symbol

# Symbols this process has seen in the database. Only those get a book slot and
# a metric label: a request naming an unknown symbol must allocate nothing.
_known_symbols: set[str] = set()


@contextmanager
def pair_locked(symbol: str) -> Iterator[BookSlot]:
    """Hold the symbol's process lock for the duration; the caller then takes the row
    lock inside its transaction with :func:`symbol_lock`. An unknown symbol is
    -1121 before anything is allocated for it."""
    if symbol not in _known_symbols:
        if not Symbol.objects.filter(symbol=symbol).exists():
            raise errors.bad_symbol()
        _known_symbols.add(symbol)
    slot = registry.slot(symbol)
    started = time.perf_counter()
    with slot.lock:
        PAIR_LOCK_WAIT_SECONDS.labels(symbol).observe(time.perf_counter() - started)
        try:
            yield slot
        finally:
            # What the pair's commit staged for Redis (its market-data cache
            # writes) and published goes out now, in one round trip, by the
            # thread that holds the pair (exchange/bus.py; a no-op elsewhere).
            bus.drain()


def symbol_lock(symbol: str, **annotations) -> Symbol:
    """Lock the symbol row (the pair lock across processes) and return it, with any
    annotations computed in the same round trip. Caller is inside ``atomic()``."""
    query = Symbol.objects.filter(symbol=symbol)
    if annotations:
        query = query.annotate(**annotations)
    if connection.vendor == "postgresql":
        query = query.select_for_update(of=("self",))
    row = query.first()
    if row is None:
        raise errors.bad_symbol()
    return row
