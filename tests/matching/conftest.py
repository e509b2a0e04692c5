"""The engine tests need neither Django nor a database.

The suite-wide autouse fixture resets Django caches; it is replaced here by a no-op
so these tests run, and run the same, with or without Django settings.
"""

import pytest


@pytest.fixture(autouse=True)
def _fresh_process_state():
    yield
