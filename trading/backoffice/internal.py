"""A worker's in-process books, for operators checking that every worker agrees
with the database. Answers only on loopback and only when enabled
(``EXPOSE_INTERNAL_BOOKS=1``); everywhere else it does not exist (404)."""

import os

from django.conf import settings
from django.http import JsonResponse

from exchange.errors_views import not_found
from matching.registry import registry

LOOPBACK = {"127.0.0.1", "::1"}


def books(request):
    if (
        not settings.EXPOSE_INTERNAL_BOOKS
        or request.META.get("REMOTE_ADDR") not in LOOPBACK
    ):
        return not_found(request)
    body = {"pid": os.getpid(), "books": {}}
    for symbol, slot in sorted(registry.items()):
        with slot.lock:
            body["books"][symbol] = {
                "seq": slot.seq,
                "stale": slot.stale,
                # In book order: bids then asks, best price first, FIFO in a level.
                "orders": list(slot.book.orders()) if slot.book is not None else None,
            }
    return JsonResponse(body)
