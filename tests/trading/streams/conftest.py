"""A served stack for the end-to-end stream tests: uvicorn on a free port, in a
thread of the test process, serving ``exchange.asgi`` (REST through Django, the
streams and the WebSocket API), as ``make run`` does. On the embedded default the
order path's events reach it through the in-process bus; with REDIS_URL, through
Redis."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time

import pytest
import uvicorn
from asgiref.sync import SyncToAsync
from django.db import connections

from tests.factories import funded_user
from tests.trading.conftest import place
from tests.trading.streams.burst import FUNDS
from trading.models import Trade


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _share_memory_database():
    """With SQLite's in-memory test database, the server's sync thread must use
    the test's own connection (as Django's live server thread does)."""
    conn = connections["default"]
    if conn.vendor != "sqlite" or not conn.is_in_memory_db():
        return None
    conn.inc_thread_sharing()
    SyncToAsync.single_thread_executor.submit(
        connections.__setitem__, "default", conn
    ).result()
    return conn


@pytest.fixture
def served(symbols):
    from exchange.asgi import application

    shared = _share_memory_database()

    port = free_port()
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
        # As scripts/serve-streams.sh runs it.
        ws_max_size=65536,
        ws_ping_interval=20,
        ws_ping_timeout=60,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    if shared is not None:
        shared.dec_thread_sharing()
    else:
        # The server's sync thread keeps its own connection to the test
        # database; close it, or the database cannot be dropped at the end.
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()
    gc.collect()  # and those of Django's per-request threads, now gone


class Background:
    """An event loop in a thread, for the client's async side while the test's
    thread places orders through the services."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 20):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def background(monkeypatch):
    # python-binance's read loop notices a close only between reads, which time
    # out after TIMEOUT seconds on a quiet socket: shorter, so tests end promptly.
    from binance.ws.reconnecting_websocket import ReconnectingWebsocket

    monkeypatch.setattr(ReconnectingWebsocket, "TIMEOUT", 0.5)
    runner = Background()
    yield runner
    runner.close()


def wait_for_user_subscription(user_id: int) -> None:
    """The client subscribes in the background after connecting; orders placed
    before that are not its events."""
    deadline = time.monotonic() + 10
    while not any(user_id in hub.users for hub in list(_hubs().values())):
        assert time.monotonic() < deadline, "no user-data subscription"
        time.sleep(0.02)


def _hubs():
    from trading.streams import app

    return app._hubs


def cross(price: str, qty: str = "0.01", symbol: str = "BTCUSDT") -> Trade:
    """One trade at ``price`` between two new traders; the trade row."""
    maker, taker = funded_user(**FUNDS), funded_user(**FUNDS)
    for user, side in ((maker, "SELL"), (taker, "BUY")):
        place(user, side, qty, price, symbol=symbol)
    return Trade.objects.filter(symbol_id=symbol).latest("trade_id")
