"""The order path's hold on a pair: the pair lock (``trading.symbols.locks``) and
one transaction inside it. On PostgreSQL the row lock comes with what the order
needs (pre-checks, the book's changes, the order a cancel is about) in one round
trip (``trading.orders.fastpath``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from psycopg.pq import TransactionStatus

from accounts.models import Balance
from exchange import errors
from exchange.errors import ExchangeError
from matching.registry import BookSlot
from trading.models import OPEN_STATUSES, Order
from trading.orders import fastpath
from trading.symbols.locks import pair_locked, symbol_lock


@contextmanager
def locked_transaction(symbol: str) -> Iterator[BookSlot]:
    """The pair lock, and one transaction inside it.

    A refusal (``ExchangeError``) raised before the write path started ends the
    transaction with COMMIT instead of ROLLBACK. Up to then the transaction has
    only read and locked, so both leave the same state; but a ROLLBACK makes
    psycopg forget every prepared statement of the connection (it sends
    DEALLOCATE ALL), and the orders after a refused one parsed and planned all
    their statements again. The write path registers its commit hooks before it
    writes anything, so a refusal with hooks pending rolls back as before, as
    does one raised in a transaction the database has already failed, and every
    other exception.
    """
    refusal = None
    with pair_locked(symbol) as slot, transaction.atomic():
        try:
            yield slot
        except ExchangeError as exc:
            if connection.run_on_commit or _transaction_failed():
                raise
            refusal = exc
    if refusal is not None:
        raise refusal


def _transaction_failed() -> bool:
    """Whether PostgreSQL has aborted the current transaction (a statement in it
    failed): it can only roll back, and psycopg must know it did."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return False
    return connection.connection.info.transaction_status == TransactionStatus.INERROR


def client_order_id_reuse_since() -> int:
    """The time (ms) from which a client order id counts as used; with the
    window off, never (only an open order's id is refused)."""
    window = settings.CLIENT_ORDER_ID_REUSE_SECONDS
    if window <= 0:
        return 1 << 62
    return int(time.time() * 1000) - window * 1000


def lock_for_order(
    symbol: str, user_id: int, client_order_id: str, slot: BookSlot
) -> fastpath.LockedSymbol:
    """Lock the symbol row and read the order's pre-checks (and, on PostgreSQL, the
    book's changes) in one round trip. ``duplicate`` is true when the user has an
    open order with ``client_order_id`` (Binance) or placed one with it within
    ``CLIENT_ORDER_ID_REUSE_SECONDS``: a retried order is placed once."""
    reuse_since = client_order_id_reuse_since()
    if connection.vendor == "postgresql":
        row = fastpath.symbol_lock_for_order(
            symbol=symbol,
            user_id=user_id,
            client_order_id=client_order_id,
            reuse_since=reuse_since,
            since_seq=None if slot.stale else slot.seq,
        )
        if row is None:
            raise errors.bad_symbol()
        return row
    open_orders = Order.objects.filter(
        user_id=user_id, status__in=OPEN_STATUSES, symbol_id=OuterRef("symbol")
    )
    balance = Balance.objects.filter(user_id=user_id)
    row = symbol_lock(
        symbol,
        open_count=Subquery(
            open_orders.values("symbol_id").annotate(n=Count("id")).values("n")[:1]
        ),
        duplicate=Exists(
            Order.objects.filter(
                Q(status__in=OPEN_STATUSES) | Q(time__gte=reuse_since),
                user_id=user_id,
                client_order_id=client_order_id,
            )
        ),
        free_base=Subquery(
            balance.filter(asset_id=OuterRef("base_id")).values("free")[:1]
        ),
        free_quote=Subquery(
            balance.filter(asset_id=OuterRef("quote_id")).values("free")[:1]
        ),
    )
    return fastpath.LockedSymbol(
        **{
            f: getattr(row, f)
            for f in fastpath.LockedSymbol.__slots__
            if hasattr(row, f)
        }
    )


def lock_for_cancel(symbol: str, slot: BookSlot, find=None):
    """The symbol row, locked; on PostgreSQL with the book's changes and the order
    ``find`` selects, in one round trip."""
    if connection.vendor == "postgresql":
        row = fastpath.symbol_lock_for_order(
            symbol=symbol,
            user_id=0,
            client_order_id="",
            reuse_since=1 << 62,
            since_seq=None if slot.stale else slot.seq,
            find=find,
        )
        if row is None:
            raise errors.bad_symbol()
        return row
    return symbol_lock(symbol)
