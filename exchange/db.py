"""Prepared statements and write pipelines on PostgreSQL, under Django's connection.

The hot paths (placing and cancelling orders, the frequent signed reads) send
prepared statements through psycopg directly: the ORM's building and compiling of
a small query costs several times its round trip, and a pipeline sends a whole
transaction's writes in one. The statements run on Django's own connection, in
its transaction. Which statements to send is each app's business; this module only
carries them.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from django.db import connection


def raw_connection():
    """The psycopg connection under Django's (same session, same transaction).

    Its cursors are taken as ``psycopg.Cursor`` (server-side binding), not Django's
    client-side cursor class, so that statements can be prepared."""
    connection.ensure_connection()
    return connection.connection


def prepared_read(sql: str, params: tuple, row: Callable) -> list:
    """The rows of a frequent read, each made by ``row`` (a named tuple's
    ``_make``, or ``tuple``), through a prepared statement."""
    raw = raw_connection()
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return [row(values) for values in cursor]


def owns_transaction() -> bool:
    """Whether the innermost ``atomic()`` block is the whole transaction: the
    outermost block, which commits on exit (no savepoint, no test's wrapper)."""
    return len(connection.atomic_blocks) == 1 and connection.commit_on_exit


class Pipeline:
    """Writes of one transaction, sent as prepared statements in one round trip.

    Statements are added with :meth:`add` (many rows) or :meth:`add_returning`
    (one row whose first column comes back from :meth:`execute`); callbacks added
    with :meth:`after` run once the statements were sent without error."""

    __slots__ = ("ops", "returning_sql", "callbacks")

    def __init__(self) -> None:
        self.ops: list[tuple[str, list]] = []
        self.returning_sql: str | None = None
        self.callbacks: list[Callable[[], None]] = []

    def add(self, sql: str, rows: list) -> None:
        if rows:
            self.ops.append((sql, rows))

    def add_returning(self, sql: str, row: tuple) -> None:
        self.returning_sql = sql
        self.ops.append((sql, [row]))

    def after(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    def execute(self, *, last: bool = False):
        """Send everything and wait once; returns the first column of the
        :meth:`add_returning` statement's row, else None.

        ``last`` says the caller writes nothing more in its transaction. If that
        transaction is exactly the caller's ``atomic()`` block (not a savepoint
        inside another), its COMMIT goes in the same pipeline: a round trip less,
        and Django's own commit at the block's end finds the transaction already
        closed (psycopg's commit does nothing on an idle connection). A failed
        statement aborts the transaction, so the COMMIT after it cannot apply
        anything; Django rolls back as before."""
        raw = raw_connection()
        commit = last and owns_transaction()
        with (
            connection.wrap_database_errors,
            psycopg.Cursor(raw) as first,
            psycopg.Cursor(raw) as rest,
        ):
            returning = None
            with raw.pipeline():
                for sql, rows in self.ops:
                    if sql is self.returning_sql:
                        first.execute(sql, rows[0], prepare=True)
                        returning = first
                    else:
                        rest.executemany(sql, rows)
                if commit:
                    # As a statement, not raw.commit(): that one syncs and waits
                    # for the results so far, a round trip of its own.
                    rest.execute("COMMIT")
            value = None
            if returning is not None:
                row = returning.fetchone()
                value = row[0] if row is not None else None
        for callback in self.callbacks:
            callback()
        return value
