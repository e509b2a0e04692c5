"""End to end with python-binance, unmodified but for its URLs: its
DepthCacheManager keeps a book from our diff depth that equals /api/v3/depth after
a burst of random orders, without ever re-fetching the snapshot (no gap), and its
user socket (the WebSocket API's userDataStream.subscribe.signature) receives the
executionReport of an order."""

from __future__ import annotations

import asyncio
import warnings
from decimal import Decimal

import pytest

from accounts import services as account_services
from exchange import bus
from tests.factories import funded_user
from tests.trading.api.conftest import API_DB
from tests.trading.conftest import place
from tests.trading.streams.burst import FUNDS, order_burst
from tests.trading.streams.conftest import wait_for_user_subscription
from trading.marketdata import selectors as market_selectors

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient, BinanceSocketManager
    from binance.ws.depthcache import DepthCacheManager

pytestmark = [pytest.mark.e2e, API_DB]


async def client_for(host: str, key: str = "", secret: str = "") -> AsyncClient:
    class Client(AsyncClient):
        API_URL = f"http://{host}/api"
        WS_API_URL = f"ws://{host}/ws-api/v3"

    return await Client.create(key, secret)


def socket_manager(client, host: str) -> BinanceSocketManager:
    manager = BinanceSocketManager(client)
    manager.STREAM_URL = f"ws://{host}/"
    return manager


@pytest.mark.parametrize("interval", [100, None])
def test_depth_cache_manager_equals_rest_depth_after_a_burst(
    served, background, interval
):
    traders = [funded_user(**FUNDS) for _ in range(3)]
    order_burst(users=traders[:2], count=40, seed=1)  # a book before it connects
    state: dict = {"inits": 0, "cache": None}

    async def connect():
        client = await client_for(served)
        manager = DepthCacheManager(
            client,
            "BTCUSDT",
            bm=socket_manager(client, served),
            limit=1000,
            conv_type=Decimal,
            ws_interval=interval,
        )
        original = manager._init_cache

        async def counted():
            state["inits"] += 1
            await original()

        manager._init_cache = counted
        socket = await manager.__aenter__()
        state.update(client=client, manager=manager, socket=socket)

    async def read_until(update_id: int):
        while state["manager"]._last_update_id != update_id:
            state["cache"] = await asyncio.wait_for(state["socket"].recv(), 10)
        return state["manager"]._depth_cache

    async def close():
        await state["manager"].__aexit__(None, None, None)
        await state["client"].close_connection()

    background.run(connect())
    order_burst(users=traders, count=150, seed=2)
    assert bus.flush()
    rest = market_selectors.depth_get(symbol="BTCUSDT", limit=1000)
    try:
        cache = background.run(read_until(rest["lastUpdateId"]))
        assert cache.get_bids() == [[Decimal(p), Decimal(q)] for p, q in rest["bids"]]
        assert cache.get_asks() == [[Decimal(p), Decimal(q)] for p, q in rest["asks"]]
        assert state["inits"] == 1  # the first snapshot only: no gap, ever
    finally:
        background.run(close())


def test_user_socket_receives_the_execution_report(served, background):
    maker = funded_user(**FUNDS)
    taker = funded_user(**FUNDS)
    key, secret = account_services.apikey_create(
        user_id=taker.id, permissions=["read", "trade"]
    )
    state: dict = {}

    async def connect():
        client = await client_for(served, key.key, secret)
        manager = socket_manager(client, served)
        socket = manager.user_socket()
        await socket.__aenter__()
        state.update(client=client, socket=socket)

    async def events(count: int) -> list[dict]:
        return [
            await asyncio.wait_for(state["socket"].recv(), 10) for _ in range(count)
        ]

    async def close():
        await state["socket"].__aexit__(None, None, None)
        await state["client"].close_connection()

    background.run(connect())
    wait_for_user_subscription(taker.id)
    try:
        place(maker, "SELL", "0.5", "60000")
        taken = place(taker, "BUY", "0.2", "60100")
        got = background.run(events(3))
        assert [(e["e"], e.get("x"), e.get("X")) for e in got] == [
            ("executionReport", "NEW", "NEW"),
            ("executionReport", "TRADE", "FILLED"),
            ("outboundAccountPosition", None, None),
        ]
        trade = got[1]
        assert (trade["i"], trade["s"], trade["S"], trade["c"]) == (
            taken.order.order_id,
            "BTCUSDT",
            "BUY",
            taken.order.client_order_id,
        )
        assert (trade["l"], trade["L"], trade["z"], trade["Z"], trade["m"]) == (
            "0.20000000",
            "60000.00000000",
            "0.20000000",
            "12000.00000000",
            False,
        )
        assert (trade["n"], trade["N"]) == ("0.00020000", "BTC")
        position = {b["a"]: (b["f"], b["l"]) for b in got[2]["B"]}
        assert position["BTC"] == ("1000.19980000", "0.00000000")
        # The maker's own events went to nobody: it has no subscription here.
    finally:
        background.run(close())
