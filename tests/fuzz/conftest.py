"""Fixtures for the fuzz tests: a small live market, users who can trade in it, and
a request path that keeps the test's database transaction open."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from matching.registry import registry
from tests.factories import funded_user, standard_symbols
from tests.security.clients import (
    Bearer,
    Signed,
    access_token,
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


@dataclass
class World:
    """Alice (who the fuzzer acts as) and Bob, with resting orders and a trade on
    BTCUSDT, and Alice's credentials."""

    alice: object
    bob: object
    token: str
    key: str
    secret: str


def order(user, side: str, qty: str, price: str, symbol: str = "BTCUSDT"):
    return order_services.order_place(
        user_id=user.id,
        request=order_types.OrderRequest(
            symbol=symbol,
            side=side,
            type="LIMIT",
            quantity=Decimal(qty),
            price=Decimal(price),
            time_in_force="GTC",
        ),
    )


@pytest.fixture
def in_process_requests():
    """Requests sent straight to the WSGI handler run inside the test's transaction:
    Django's own test client stops ``close_old_connections`` from closing the
    connection under it, and so do we."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings, in_process_requests) -> World:
    settings.RATE_LIMITS = NO_RATE_LIMITS
    settings.LOGIN_THROTTLE = {
        "ip_limit": 100000,
        "account_limit": 100000,
        "window_seconds": 300,
    }
    registry.clear()
    raw_cache_clear()
    standard_symbols()
    alice = funded_user(BTC="10", ETH="100", USDT="1000000")
    bob = funded_user(BTC="10", ETH="100", USDT="1000000")
    order(bob, "SELL", "0.01", "60100")
    order(bob, "SELL", "0.02", "60200")
    order(alice, "BUY", "0.01", "59900")
    order(alice, "BUY", "0.005", "60100")  # trades with Bob's first ask
    order(bob, "SELL", "0.1", "3010", symbol="ETHUSDT")
    signer = signed_client(alice)
    yield World(alice, bob, access_token(alice), signer.key, signer.secret)
    registry.clear()
    raw_cache_clear()


@dataclass
class Market:
    """A funded trader with both kinds of credentials, and a book with orders of
    someone else's on both sides."""

    trader: object
    bearer: Bearer
    signed: Signed


@pytest.fixture
def market(db, settings) -> Market:
    settings.RATE_LIMITS = NO_RATE_LIMITS
    registry.clear()
    raw_cache_clear()
    standard_symbols()
    maker = funded_user(BTC="10", USDT="1000000")
    order(maker, "SELL", "0.5", "60000")
    order(maker, "BUY", "0.5", "40000")
    trader = funded_user(BTC="1", ETH="10", USDT="100000")
    yield Market(trader, bearer_client(trader), signed_client(trader))
    registry.clear()
    raw_cache_clear()
