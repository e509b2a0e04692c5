"""Suite-wide helpers: factories, API clients, the PostgreSQL marker."""

import os

import pytest
from django.db import connection


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgresql") and not os.environ.get(
        "DATABASE_URL", ""
    ).startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def assets(db):
    from tests.factories import standard_assets

    return standard_assets()


@pytest.fixture
def on_postgresql():
    return connection.vendor == "postgresql"
