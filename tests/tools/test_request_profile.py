"""manage.py request_profile: the load test's mix through the whole stack."""

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User
from accounts.reconcile import registered_checks
from tests.trading.conftest import place
from trading.models import OPEN_STATUSES, Order


@pytest.mark.django_db(transaction=True)
def test_request_profile_runs_the_mix_and_reports_every_route(symbols):
    out = io.StringIO()
    call_command("request_profile", requests=150, users=3, stdout=out)
    text = out.getvalue()
    for route in ("order passive", "cancel", "depth", "openOrders", "account"):
        row = re.search(rf"^\| {re.escape(route)} \| (\d+) \|.*\| (.*) \|$", text, re.M)
        assert row, (route, text)
        # Every request answered, none with a server error.
        assert not re.search(r"\b5\d\d:", row.group(2)), row.group(0)
    assert re.search(r"^\| all \| 150 \|", text, re.M)
    assert "requests/s from one thread" in text
    if connection.vendor == "postgresql":
        # The load-test traders hold 10^8 USDT: past SQLite's 15 significant digits.
        for name, check in registered_checks():
            assert check() == [], name


@pytest.mark.django_db(transaction=True)
def test_request_profile_sends_only_the_routes_asked_for(symbols):
    out = io.StringIO()
    call_command(
        "request_profile", requests=40, users=2, routes="openOrders,account", stdout=out
    )
    routes = re.findall(r"^\| ([a-zA-Z/ ]+) \| \d+ \|", out.getvalue(), re.M)
    assert sorted(routes) == ["account", "all", "openOrders"]
    with pytest.raises(CommandError, match="unknown routes: orders"):
        call_command("request_profile", requests=1, routes="orders,depth")


@pytest.mark.django_db(transaction=True)
def test_bench_setup_funds_keys_and_clears_what_an_earlier_run_left(symbols, tmp_path):
    keys = tmp_path / "keys.json"
    call_command("bench_setup", users=2, out=str(keys), stdout=io.StringIO())
    assert len(json.loads(keys.read_text())) == 2
    trader = User.objects.get(username="bench-0")
    resting = place(trader, "BUY", "0.01", "50000").order
    assert resting.status == "NEW"
    call_command("bench_setup", users=2, out=str(keys), stdout=io.StringIO())
    resting.refresh_from_db()
    assert resting.status == "CANCELED"
    assert not Order.objects.filter(user=trader, status__in=OPEN_STATUSES).exists()
    for name, check in registered_checks():
        assert check() == [], name


@pytest.mark.django_db(transaction=True)
def test_request_profile_measures_a_running_server_per_route(symbols, live_server):
    """--served sends the mix over HTTP; the CPU columns are the listening
    processes' (here the test's own, which serves live_server on a thread)."""
    out = io.StringIO()
    call_command(
        "request_profile",
        requests=60,
        users=2,
        routes="order passive,cancel,depth,account",
        served=live_server.url,
        stdout=out,
    )
    text = out.getvalue()
    assert f"60 requests served by {live_server.url}, one at a time" in text
    header = re.search(
        r"^\| route \| requests \| wall ms \| (.*) \| statuses \|$", text, re.M
    )
    assert header and header.group(1).startswith("server CPU ms"), text
    for route in ("order passive", "depth", "account"):
        row = re.search(rf"^\| {route} \| (\d+) \| (.*) \| (.*) \|$", text, re.M)
        assert row, (route, text)
        assert "200: " in row.group(3) and not re.search(r"\b5\d\d:", row.group(3))
        figures = [float(f) for f in row.group(2).split(" | ")]
        assert all(f >= 0 for f in figures) and figures[1] > 0, row.group(0)
    assert "requests/s from one connection" in text
    for name, check in registered_checks():
        if connection.vendor == "postgresql":
            assert check() == [], name


def test_request_profile_refuses_what_it_cannot_measure():
    with pytest.raises(CommandError, match="not with --served"):
        call_command("request_profile", served="http://127.0.0.1:1", profile="x.txt")
    with pytest.raises(CommandError, match="wants an http://host:port URL"):
        call_command("request_profile", served="ftp://127.0.0.1:21")
    with pytest.raises(CommandError, match="wants an http://host:port URL"):
        call_command("request_profile", served="http://127.0.0.1:port")
    with pytest.raises(CommandError, match="no process of this machine listens"):
        call_command("request_profile", served="http://127.0.0.1:1")
