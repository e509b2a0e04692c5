import pytest

from matching.registry import registry
from tests.factories import standard_symbols


@pytest.fixture(autouse=True)
def _fresh_books():
    registry.clear()
    yield
    registry.clear()


@pytest.fixture
def symbols(db):
    return standard_symbols()
