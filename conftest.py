"""Fixtures shared by the whole suite."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Every test starts with an empty cache (market data, key look-ups, throttles)
    and with no in-process memory of rows an earlier test's rollback removed."""
    from django.core.cache import cache

    from accounts.services import process_caches_clear
    from exchange.redis import breaker_reset
    from trading.api.ratelimit import rate_limit_forget
    from trading.marketdata.cache import unpublished_forget
    from trading.symbols.selectors import spec_cache_clear

    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
    process_caches_clear()
    breaker_reset()
    rate_limit_forget()
    unpublished_forget()
    spec_cache_clear()
    yield
    process_caches_clear()


@pytest.fixture(autouse=True, scope="session")
def _clients_through_the_front():
    """Every test client and the live server go through exchange.wsgi's front,
    as requests in production do (tests/front_client.py). Imported here, once
    Django is set up."""
    from tests import front_client

    front_client.install()
