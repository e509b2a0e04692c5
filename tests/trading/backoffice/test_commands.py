"""The operators' manage.py commands: what they do, and how each one fails."""

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Balance, ReconciliationRun
from tests.factories import funded_user
from tests.trading.backoffice.test_ops import trade_at
from tests.trading.conftest import place
from trading.backoffice import services as ops
from trading.models import Order, Symbol

D = Decimal
ROOT = Path(__file__).resolve().parents[3]
COMMANDS = {
    "create_symbol": "trading",
    "set_symbol_status": "trading",
    "cancel_orders": "trading",
    "export_trades": "trading",
    "prune_sessions": "trading",
    "reconcile": "accounts",
}


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(*args, stdout=None, stderr=None) -> str:
    out = stdout or io.StringIO()
    call_command(*args, stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


def manage(*args) -> subprocess.CompletedProcess:
    """The command as an operator runs it, for exit codes and messages."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "exchange.settings_test"}
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- help and exit codes -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_says_what_it_does(name):
    command = load_command_class(COMMANDS[name], name)
    text = command.create_parser("manage.py", name).format_help()
    assert len(command.help) > 60
    assert " ".join(command.help.split()[:4]) in " ".join(text.split())


def test_a_failing_command_exits_non_zero_with_a_clear_message():
    result = manage("cancel_orders")
    assert result.returncode == 1
    assert "CommandError: Give --symbol, --user or both" in result.stderr
    bad_status = manage("set_symbol_status", "BTCUSDT", "OPEN")
    assert bad_status.returncode == 2
    assert "invalid choice: 'OPEN'" in bad_status.stderr
    helped = manage("export_trades", "--help")
    assert helped.returncode == 0 and "CSV" in helped.stdout


# --- create_symbol -----------------------------------------------------------------

CREATE = [
    "create_symbol",
    "solusdt",
    "sol",
    "usdt",
    "--tick-size",
    "0.01",
    "--step-size",
    "0.001",
    "--min-qty",
    "0.001",
    "--max-qty",
    "10000",
]


@pytest.fixture
def sol(symbols):
    from accounts.models import Asset

    Asset.objects.create(code="SOL", decimals=8)


@pytest.mark.django_db(transaction=True)
def test_create_symbol(sol):
    out = run(*CREATE, "--min-notional", "5", "--maker-fee", "0.0008")
    assert out.strip() == (
        "Created SOLUSDT (SOL/USDT), status TRADING, tickSize 0.01, stepSize 0.001."
    )
    row = Symbol.objects.get(symbol="SOLUSDT")
    assert (row.min_notional, row.maker_fee, row.taker_fee) == (
        D(5),
        D("0.0008"),
        D("0.001"),
    )
    with pytest.raises(CommandError, match="SOLUSDT: Symbol SOLUSDT already exists"):
        run(*CREATE)


@pytest.mark.django_db(transaction=True)
def test_create_symbol_halted(sol):
    assert "status HALT" in run(*CREATE, "--status", "halt")
    assert Symbol.objects.get(symbol="SOLUSDT").status == "HALT"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--tick-size", "cheap"], "'cheap' is not a decimal number"),
        (["--min-qty", "-1"], "must be a number >= 0"),
        (["--min-qty", "0.0015"], "minQty and maxQty must be multiples of stepSize"),
        (["--step-size", "0.000000001"], "stepSize finer than SOL's 8 places"),
        (["--status", "OPEN"], "invalid choice"),
        (["--max-num-orders", "many"], "invalid int value"),
    ],
)
def test_create_symbol_failures(sol, extra, message):
    with pytest.raises(CommandError, match=message):
        run(*CREATE, *extra)
    assert not Symbol.objects.filter(symbol="SOLUSDT").exists()


@pytest.mark.django_db(transaction=True)
def test_create_symbol_needs_known_assets_and_a_proper_name(sol):
    with pytest.raises(CommandError, match="Unknown asset 'DOGE'"):
        run("create_symbol", "DOGEUSDT", "DOGE", "USDT", *CREATE[4:])
    with pytest.raises(CommandError, match="base then its quote: SOLUSDT"):
        run("create_symbol", "SOLUSD", "SOL", "USDT", *CREATE[4:])
    with pytest.raises(CommandError, match="the following arguments are required"):
        run("create_symbol", "SOLUSDT", "SOL", "USDT")


# --- set_symbol_status -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_set_symbol_status_halts_and_resumes(symbols):
    assert run("set_symbol_status", "btcusdt", "halt").strip() == (
        "BTCUSDT: TRADING -> HALT."
    )
    assert Symbol.objects.get(symbol="BTCUSDT").status == "HALT"
    assert run("set_symbol_status", "BTCUSDT", "HALT").strip() == (
        "BTCUSDT was already HALT."
    )
    run("set_symbol_status", "BTCUSDT", "TRADING")
    assert Symbol.objects.get(symbol="BTCUSDT").status == "TRADING"


@pytest.mark.django_db(transaction=True)
def test_set_symbol_status_failures(symbols):
    with pytest.raises(CommandError, match="No symbol named 'NOPE'"):
        run("set_symbol_status", "NOPE", "HALT")
    with pytest.raises(CommandError, match="invalid choice: 'OPEN'"):
        run("set_symbol_status", "BTCUSDT", "OPEN")
    with pytest.raises(CommandError, match="required: status"):
        run("set_symbol_status", "BTCUSDT")


# --- cancel_orders -----------------------------------------------------------------


@pytest.fixture
def book(symbols):
    alice = funded_user(USDT="100000")
    bob = funded_user(USDT="100000")
    alice.username, bob.username = "alice", "bob"
    alice.save(update_fields=["username"])
    bob.save(update_fields=["username"])
    for user in (alice, bob):
        place(user, "BUY", "0.01", "50000")
        place(user, "BUY", "0.01", "3000", symbol="ETHUSDT")
    return alice, bob


def open_orders() -> list[str]:
    return sorted(
        f"{o.symbol_id}:{o.user.username}"
        for o in Order.objects.filter(status="NEW").select_related("user")
    )


@pytest.mark.django_db(transaction=True)
def test_cancel_orders_by_symbol_user_and_all(book):
    out = run("cancel_orders", "--symbol", "btcusdt", "--user", "alice")
    assert out.strip() == "Cancelled 1 open order(s): BTCUSDT 1."
    assert run("cancel_orders", "--user", "alice").strip() == (
        "Cancelled 1 open order(s): ETHUSDT 1."
    )
    assert open_orders() == ["BTCUSDT:bob", "ETHUSDT:bob"]
    assert "ETHUSDT 1." in run("cancel_orders", "--symbol", "ETHUSDT")
    assert run("cancel_orders", "--all").strip() == (
        "Cancelled 1 open order(s): BTCUSDT 1."
    )
    assert run("cancel_orders", "--all").strip() == "No open orders matched."
    assert open_orders() == []
    assert all(b.locked == 0 for b in Balance.objects.all())


@pytest.mark.django_db(transaction=True)
def test_cancel_orders_shows_progress_only_on_a_terminal(book):
    screen = Terminal()
    run("cancel_orders", "--symbol", "BTCUSDT", stdout=screen)
    assert screen.getvalue() == (
        "\rcancelling (user, symbol) groups: 1/2"
        "\rcancelling (user, symbol) groups: 2/2\n"
        "Cancelled 2 open order(s): BTCUSDT 2.\n"
    )
    assert run("cancel_orders", "--all") == "Cancelled 2 open order(s): ETHUSDT 2.\n"


@pytest.mark.django_db(transaction=True)
def test_cancel_orders_failures(book):
    with pytest.raises(CommandError, match="Give --symbol, --user or both"):
        run("cancel_orders")
    with pytest.raises(CommandError, match="--all cannot be combined"):
        run("cancel_orders", "--all", "--symbol", "BTCUSDT")
    with pytest.raises(CommandError, match="No user named 'carol'"):
        run("cancel_orders", "--user", "carol")
    with pytest.raises(CommandError, match="NOPE: Invalid symbol"):
        run("cancel_orders", "--symbol", "NOPE")
    assert len(open_orders()) == 4


# --- export_trades -----------------------------------------------------------------

MARCH_1 = ops.datetime_to_ms(datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture
def trades(symbols):
    buyer = funded_user(USDT="100000")
    seller = funded_user(BTC="1")
    trade_at(buyer, seller, "60000", "0.01", MARCH_1 - 1)
    trade_at(buyer, seller, "60100", "0.02", MARCH_1)
    trade_at(buyer, seller, "60200", "0.03", MARCH_1 + 3600_000)


@pytest.mark.django_db(transaction=True)
def test_export_trades_writes_csv_streamed(trades):
    with mock.patch.object(
        QuerySet, "iterator", autospec=True, side_effect=QuerySet.iterator
    ) as iterator:
        out = run("export_trades", "--symbol", "btcusdt", "--since", "2026-03-01")
    iterator.assert_called_once()
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ops.TRADE_EXPORT_HEADER
    assert [(r[1], r[4], r[5]) for r in rows[1:]] == [
        ("2", "60100", "0.02"),
        ("3", "60200", "0.03"),
    ]
    window = run(
        "export_trades",
        "--symbol",
        "BTCUSDT",
        "--since",
        "2026-02-28T23:59:59.999",
        "--until",
        "2026-03-01T00:30:00+00:00",
    )
    assert [r[1] for r in list(csv.reader(io.StringIO(window)))[1:]] == ["1", "2"]
    empty = run("export_trades", "--symbol", "ETHUSDT", "--since", "2026-01-01")
    assert empty == ",".join(ops.TRADE_EXPORT_HEADER) + "\n"


@pytest.mark.django_db(transaction=True)
def test_export_trades_progress_goes_to_a_terminal_stderr(trades):
    screen = Terminal()
    out = run(
        "export_trades", "--symbol", "BTCUSDT", "--since", "2026-03-01", stderr=screen
    )
    assert len(out.splitlines()) == 3
    assert screen.getvalue() == "\rexporting BTCUSDT: 2/2\n"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "args, message",
    [
        (["--symbol", "NOPE", "--since", "2026-03-01"], "NOPE: Invalid symbol"),
        (["--symbol", "BTCUSDT", "--since", "March"], "--since 'March' is not a date"),
        (["--symbol", "BTCUSDT", "--since", "2026-02-30"], "is not a date"),
        (
            ["--symbol", "BTCUSDT", "--since", "2026-03-02", "--until", "2026-03-01"],
            "--until must be after --since",
        ),
        (["--since", "2026-03-01"], "required: --symbol"),
        (["--symbol", "BTCUSDT"], "required: --since"),
    ],
)
def test_export_trades_failures(trades, args, message):
    with pytest.raises(CommandError, match=message):
        run("export_trades", *args)


# --- prune_sessions ----------------------------------------------------------------


@pytest.mark.django_db
def test_prune_sessions_removes_only_expired_ones():
    for days in (-1, -2, 3):
        store = SessionStore()
        store["user"] = days
        store.create()
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=timezone.now() + timedelta(days=days)
        )
    out = run("prune_sessions")
    assert out.strip() == "Removed 2 expired session(s); 1 session(s) left."
    assert Session.objects.count() == 1
    assert run("prune_sessions").strip() == (
        "Removed 0 expired session(s); 1 session(s) left."
    )


@pytest.mark.django_db
def test_prune_sessions_fails_on_an_engine_that_cannot(settings):
    settings.SESSION_ENGINE = "tests.trading.backoffice.session_engine"
    with pytest.raises(CommandError, match="doesn't support clearing expired"):
        run("prune_sessions")
    settings.SESSION_ENGINE = "tests.trading.backoffice.no_such_engine"
    with pytest.raises(CommandError, match="is not a session engine"):
        run("prune_sessions")


@pytest.mark.django_db
def test_prune_sessions_on_an_engine_without_a_table(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert run("prune_sessions").strip() == "Expired sessions cleared."


# --- reconcile records each run ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reconcile_records_a_clean_run(book):
    out = run("reconcile")
    assert out.splitlines()[-1] == "reconcile: clean"
    run_row = ReconciliationRun.objects.get()
    assert run_row.clean and run_row.mismatches == 0 and run_row.report == ""
    assert run_row.checks == out.count("ok   ") >= 5
    assert run_row.started_at <= run_row.finished_at


@pytest.mark.django_db(transaction=True)
def test_reconcile_records_mismatches_and_exits_1(book):
    alice, _ = book
    Balance.objects.filter(user=alice, asset_id="USDT").update(free=D("1"))
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        run("reconcile", stdout=out)
    assert info.value.returncode == 1
    assert "reconcile found 2 mismatch(es)" in str(info.value)
    run_row = ReconciliationRun.objects.get()
    assert not run_row.clean and run_row.mismatches == 2
    assert run_row.report.splitlines() == [
        line for line in out.getvalue().splitlines() if not line.startswith("ok")
    ]
    assert run_row.report.startswith("FAIL balances match the ledger: 1 mismatch(es)")
