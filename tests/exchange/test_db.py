"""exchange/db.py: prepared statements on libpq's connection, under Django's."""

from decimal import Decimal

import pytest
from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    connection,
    transaction,
)

from accounts.models import Balance
from exchange import db
from tests.factories import funded_user

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="libpq statements: PostgreSQL"
)

MOVE = (
    "UPDATE accounts_balance SET free = free + %s "
    "WHERE user_id = %s::bigint AND asset_id = %s"
)
READ = "SELECT free, locked FROM accounts_balance WHERE user_id = %s::bigint"


def test_placeholders_are_numbered_by_position_or_by_name():
    positional = db.Statement("SELECT %s, %s::bigint WHERE x = %s")
    assert positional.text == b"SELECT $1, $2::bigint WHERE x = $3"
    assert positional.args((1, None, Decimal("0.10"))) == [b"1", None, b"0.10"]

    named = db.Statement("SELECT %(a)s WHERE %(b)s = %(a)s")
    assert named.text == b"SELECT $1 WHERE $2 = $1"
    assert named.args({"b": "x", "a": True}) == [b"True", b"x"]
    assert db.statement(named.sql) is db.statement(named.sql)
    for raw in (b"raw", bytearray(b"raw"), memoryview(b"raw")):
        with pytest.raises(TypeError):
            positional.args((1, raw, 2))


@postgresql
@pytest.mark.django_db
def test_rows_have_the_values_a_cursor_returns(assets):
    user = funded_user(USDT="12.5")
    sql = (
        "SELECT user_id, asset_id, free, locked, free > 0, NULL::text "
        "FROM accounts_balance WHERE user_id = %s::bigint"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (user.id,))
        expected = cursor.fetchall()
    assert db.prepared_read(sql, (user.id,), tuple) == expected
    assert expected == [(user.id, "USDT", Decimal("12.5"), Decimal(0), True, None)]


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_pipeline_commits_only_when_every_statement_succeeded(assets):
    user = funded_user(USDT="10")

    with transaction.atomic():
        batch = db.Pipeline()
        batch.add(MOVE, [(Decimal("-4"), user.id, "USDT")])
        batch.execute(last=True)
    assert Balance.objects.get(user=user, asset_id="USDT").free == Decimal("6")

    # The second move overdraws: the CHECK constraint fails it, the COMMIT
    # queued after it does not apply, and the first move is rolled back.
    with pytest.raises(IntegrityError), transaction.atomic():
        batch = db.Pipeline()
        batch.add(
            MOVE,
            [(Decimal("-1"), user.id, "USDT"), (Decimal("-100"), user.id, "USDT")],
        )
        batch.execute(last=True)
    assert Balance.objects.get(user=user, asset_id="USDT").free == Decimal("6")
    assert not connection.in_atomic_block


@postgresql
@pytest.mark.django_db(transaction=True)
def test_statements_dropped_under_it_are_prepared_again(assets):
    """Out of a transaction, at once; in one, the call fails (its transaction
    is aborted) and the next prepares them."""
    user = funded_user(BTC="1")
    assert db.prepared_read(READ, (user.id,), tuple) == [(Decimal(1), Decimal(0))]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert db.prepared_read(READ, (user.id,), tuple) == [(Decimal(1), Decimal(0))]
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        db.prepared_read(READ, (user.id,), tuple)
    with transaction.atomic():
        assert db.prepared_read(READ, (user.id,), tuple) == [(Decimal(1), Decimal(0))]


def test_prepared_statements_are_planned_once_per_connection():
    """A generic plan for every prepared statement; options a DATABASE_URL
    already carries are kept."""
    from exchange.settings import _database

    options = _database("postgres://u@db:5432/x")["OPTIONS"]
    assert options["options"] == "-c plan_cache_mode=force_generic_plan"
    assert options["prepare_threshold"] is None
    kept = _database("postgres://u@db:5432/x?options=-c%20search_path%3Dx")["OPTIONS"]
    assert kept["options"] == "-c search_path=x -c plan_cache_mode=force_generic_plan"


@postgresql
@pytest.mark.django_db
def test_the_book_sync_is_not_planned_at_every_execution(assets):
    from trading.orders import fastpath

    for seq in range(8):
        db.run([(fastpath.SYNC, ("BTCUSDT", seq))])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE name = %s",
            [fastpath.SYNC.name.decode()],
        )
        generic, custom = cursor.fetchone()
    assert (generic, custom) == (8, 0)


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_raises_its_own_error_and_the_next_one_works():
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(OperationalError, match="server closed the connection"):
        db.prepared_read("SELECT 1", (), tuple)
    connection.close()  # as Django does at the end of the request
    assert db.prepared_read("SELECT 1", (), tuple) == [(1,)]
