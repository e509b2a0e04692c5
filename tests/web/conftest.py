"""Fixtures for the web app's tests."""

import pytest

from matching.registry import registry
from tests.browser import browser  # noqa: F401 - a fixture for these tests


@pytest.fixture(autouse=True)
def _fresh_books():
    registry.clear()
    yield
    registry.clear()
