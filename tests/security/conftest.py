"""Fixtures for the security tests: fresh books and caches, three traders on a
live BTCUSDT book, each with a JWT and a read+trade API key."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from matching.registry import registry
from tests.factories import funded_user, standard_symbols
from tests.security.clients import (
    Bearer,
    Signed,
    bearer_client,
    raw_cache_clear,
    signed_client,
)
from trading.orders import services as order_services
from trading.orders import types as order_types

NO_RATE_LIMITS = {
    "enabled": False,
    "weight_per_minute": 6000,
    "orders_per_10s": 100,
    "orders_per_day": 200000,
}


@pytest.fixture(autouse=True)
def _fresh_books_and_cache():
    registry.clear()
    raw_cache_clear()
    yield
    registry.clear()
    raw_cache_clear()


@dataclass
class Trader:
    user: object
    bearer: Bearer
    signed: Signed

    def clients(self) -> dict:
        return {"jwt": self.bearer, "signed": self.signed}


def make_trader(**balances) -> Trader:
    user = funded_user(**balances)
    return Trader(user, bearer_client(user), signed_client(user))


def place(user, side: str, qty: str, price: str, symbol: str = "BTCUSDT", **kw):
    return order_services.order_place(
        user_id=user.id,
        request=order_types.OrderRequest(
            symbol=symbol,
            side=side,
            type="LIMIT",
            quantity=Decimal(qty),
            price=Decimal(price),
            time_in_force="GTC",
            **kw,
        ),
    )


@pytest.fixture
def symbols(db):
    return standard_symbols()


@pytest.fixture
def no_rate_limits(settings):
    settings.RATE_LIMITS = NO_RATE_LIMITS


@pytest.fixture
def alice(symbols, no_rate_limits) -> Trader:
    return make_trader(BTC="1", ETH="10", USDT="100000")


@pytest.fixture
def bob(symbols, no_rate_limits) -> Trader:
    return make_trader(BTC="1", ETH="10", USDT="100000")
