"""manage.py request_profile: the load test's mix through the whole stack."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.reconcile import registered_checks


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
