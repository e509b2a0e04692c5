"""Prepared statements and write pipelines on PostgreSQL, under Django's connection.

The hot paths (placing and cancelling orders, the frequent signed reads) send
prepared statements on libpq's connection directly (``psycopg.pq``): the ORM's
building and compiling of a small query costs several times its round trip, and
so, measured, does psycopg's cursor and pipeline machinery (docs/performance.md:
a pipeline of one statement and COMMIT cost 195 us of CPU through it, 44 us
here). A pipeline sends a whole transaction's writes in one round trip. The
statements run on Django's own connection, in its transaction; values go as text
and rows come back through psycopg's own loaders, so they are the same Python
values a cursor returns. Which statements to send is each app's business; this
module only carries them.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import select
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import abc, pq
from psycopg.adapt import Transformer

Status = pq.ExecStatus
IDLE = pq.TransactionStatus.IDLE
UNKNOWN_STATEMENT = b"26000"  # invalid_sql_statement_name
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s")
_names = itertools.count()
_BINARY = frozenset((bytes, bytearray, memoryview))  # refused, by exact type
# A statement's values: by position, or by name for ``%(name)s``.
Params = Sequence[Any] | Mapping[str, Any]


class Statement:
    """One SQL text, prepared on a connection the first time it runs there.

    Written with psycopg's placeholders: ``%s`` (values by position) or
    ``%(name)s`` (values from a mapping; a name may repeat)."""

    __slots__ = ("sql", "name", "text", "keys")

    def __init__(self, sql: str) -> None:
        keys: list = []

        def number(match: re.Match) -> str:
            key = match.group(1) or len(keys)
            if key not in keys:
                keys.append(key)
            return f"${keys.index(key) + 1}"

        self.sql = sql
        self.text = _PLACEHOLDER.sub(number, sql).encode()
        self.name = f"_exchange_{next(_names)}".encode()
        self.keys = keys if keys and isinstance(keys[0], str) else None

    def args(self, params: Params) -> list[bytes | None]:
        """``params`` as libpq's text values (the server infers their types).

        Values are None, str, int, bool or Decimal, whose ``str`` PostgreSQL
        reads back exactly; bytes have no such text form and are refused."""
        if self.keys is not None:
            params = [params[key] for key in self.keys]
        if not _BINARY.isdisjoint(map(type, params)):
            raise TypeError(f"binary values are not sent as text: {self.sql!r}")
        return [None if value is None else str(value).encode() for value in params]


_statements: dict[str, Statement] = {}


def statement(sql: str) -> Statement:
    """The :class:`Statement` of ``sql``, one per text in the process."""
    found = _statements.get(sql)
    if found is None:
        found = _statements[sql] = Statement(sql)
    return found


class _Session:
    """What this module keeps per psycopg connection: the statements prepared
    on it and the loader of its rows."""

    __slots__ = ("prepared", "rows", "poll")

    def __init__(self, raw) -> None:
        self.prepared: set[bytes] = set()
        self.rows = Transformer(raw)
        self.poll = select.poll()
        self.poll.register(raw.pgconn.socket, select.POLLIN)


def _session(raw) -> _Session:
    session = getattr(raw, "_exchange_session", None)
    if session is None:
        session = raw._exchange_session = _Session(raw)
    return session


def _error(result, pg) -> psycopg.Error:
    """The psycopg exception a cursor would have raised for ``result``, so that
    Django maps it as it maps its own (IntegrityError, OperationalError...)."""
    message = result.error_message.decode(errors="replace").strip()
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    cls = None
    if sqlstate:
        with contextlib.suppress(KeyError):
            cls = psycopg.errors.lookup(sqlstate.decode())
    elif pg.status == pq.ConnStatus.BAD:
        cls = psycopg.OperationalError  # the connection is lost
    return (cls or psycopg.DatabaseError)(message, info=result)


def _begin(raw) -> bytes:
    """The BEGIN psycopg would send for this connection's settings."""
    words = [b"BEGIN"]
    if raw.isolation_level is not None:
        level = raw.isolation_level.name.replace("_", " ")
        words.append(b"ISOLATION LEVEL " + level.encode())
    if raw.read_only is not None:
        words.append(b"READ ONLY" if raw.read_only else b"READ WRITE")
    if raw.deferrable is not None:
        words.append(b"DEFERRABLE" if raw.deferrable else b"NOT DEFERRABLE")
    return b" ".join(words)


def run(
    ops: Sequence[tuple[Statement, Params]],
    *,
    commit: bool = False,
    retried: bool = False,
) -> Results:
    """Send ``ops`` (each a statement and its values) in one pipeline and wait
    once; their :class:`Results`.

    In a transaction (``atomic()``), the transaction is begun first if it has
    not been yet, as psycopg would; with ``commit`` it is committed in the same
    round trip. The first failed statement's error is raised (as psycopg's
    exception), after every result is read; the transaction is then aborted,
    and Django rolls it back as after any error."""
    # One look-up of Django's connection: each through its proxy costs one.
    # Its psycopg connection is the same session, in the same transaction.
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.ensure_connection()
    raw = wrapper.connection
    session = _session(raw)
    pg = raw.pgconn
    with wrapper.wrap_database_errors:
        for stmt, _ in ops:
            if stmt.name not in session.prepared:
                result = pg.prepare(stmt.name, stmt.text, None)
                if result.status != Status.COMMAND_OK:
                    raise _error(result, pg)
                session.prepared.add(stmt.name)
        begin = not raw.autocommit and pg.transaction_status == IDLE
        pg.enter_pipeline_mode()
        try:
            if begin:
                pg.send_query_params(_begin(raw), None)
            for stmt, args in ops:
                pg.send_query_prepared(stmt.name, stmt.args(args))
            if commit:
                pg.send_query_params(b"COMMIT", None)
            pg.pipeline_sync()
            while pg.flush():  # a non-blocking connection with more to send
                select.select([], [pg.socket], [])
            results = _read(pg, session.poll)
        except BaseException:
            # A broken connection cannot leave pipeline mode either; its own
            # error is the one to raise.
            with contextlib.suppress(psycopg.Error):
                pg.exit_pipeline_mode()
            raise
        pg.exit_pipeline_mode()
        failed = next((r for r in results if r.status == Status.FATAL_ERROR), None)
        if failed is not None:
            if failed.error_field(pq.DiagnosticField.SQLSTATE) == UNKNOWN_STATEMENT:
                # Something dropped the session's statements (DEALLOCATE ALL,
                # DISCARD ALL): they are prepared again, at once out of a
                # transaction, else by the next call (this one's is aborted).
                session.prepared.clear()
                if raw.autocommit and not retried:
                    return run(ops, commit=commit, retried=True)
            raise _error(failed, pg)
    results = Results(results[1:] if begin else results)
    results.loader = session.rows
    return results


def _read(pg, poll) -> list:
    """Every result up to the pipeline's sync point, in order."""
    results: list = []
    while True:
        while pg.is_busy():
            poll.poll()
            pg.consume_input()
        result = pg.get_result()
        if result is None:
            continue
        if result.status == Status.PIPELINE_SYNC:
            return results
        results.append(result)


class Results(list):
    """The results of :func:`run`, one per op (``psycopg.pq`` results)."""

    __slots__ = ("loader",)
    loader: abc.Transformer

    def rows(self, index: int, row: Callable = tuple) -> list:
        """The rows of result ``index``, each made by ``row`` from a list of its
        values."""
        result = self[index]
        self.loader.set_pgresult(result)
        return self.loader.load_rows(0, result.ntuples, row)


def prepared_read(sql: str, params: Params, row: Callable) -> list:
    """The rows of a frequent read, each made by ``row`` (a named tuple's
    ``_make``, or ``tuple``), through a prepared statement."""
    return run([(statement(sql), params)]).rows(0, row)


def owns_transaction() -> bool:
    """Whether the innermost ``atomic()`` block is the whole transaction: the
    outermost block, which commits on exit (no savepoint, no test's wrapper)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    return len(wrapper.atomic_blocks) == 1 and wrapper.commit_on_exit


class Pipeline:
    """Writes of one transaction, sent as prepared statements in one round trip.

    Statements are added with :meth:`add` (many rows) or :meth:`add_returning`
    (one row whose first column comes back from :meth:`execute`); callbacks added
    with :meth:`after` run once the statements were sent without error."""

    __slots__ = ("ops", "returning", "callbacks")

    def __init__(self) -> None:
        self.ops: list[tuple[Statement, Params]] = []
        self.returning: int | None = None
        self.callbacks: list[Callable[[], None]] = []

    def add(self, sql: str, rows: list) -> None:
        stmt = statement(sql)
        self.ops += [(stmt, row) for row in rows]

    def add_returning(self, sql: str, row: tuple) -> None:
        self.returning = len(self.ops)
        self.ops.append((statement(sql), row))

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
        results = run(self.ops, commit=last and owns_transaction())
        value = None
        if self.returning is not None:
            found = results.rows(self.returning)
            value = found[0][0] if found else None
        for callback in self.callbacks:
            callback()
        return value
