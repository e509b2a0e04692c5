"""Bounded retries of transactions that PostgreSQL aborted to resolve a conflict."""

from __future__ import annotations

import functools
import logging
import time

from django.db import OperationalError, connection

from exchange.metrics import DB_RETRIES

logger = logging.getLogger(__name__)

# deadlock_detected, serialization_failure, lock_not_available
RETRYABLE = {"40P01", "40001", "55P03"}
ATTEMPTS = 3


def _retryable(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in RETRYABLE


def retry_on_conflict(operation: str):
    """Run the decorated function (which owns its whole transaction) again, up to
    :data:`ATTEMPTS` times in all, when PostgreSQL aborts it with a deadlock or a
    serialization failure. Each retry is counted in ``exchange_db_retries_total``.
    Never use it on a function called inside an outer transaction: the retry
    would not undo the outer one's work."""

    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    return function(*args, **kwargs)
                except OperationalError as exc:
                    if (
                        attempt == ATTEMPTS
                        or not _retryable(exc)
                        or connection.in_atomic_block
                    ):
                        raise
                    DB_RETRIES.labels(operation).inc()
                    logger.warning("%s: retrying after %s", operation, exc.__cause__)
                    time.sleep(0.005 * attempt)
            raise AssertionError("unreachable")  # pragma: no cover

        return run

    return decorate
