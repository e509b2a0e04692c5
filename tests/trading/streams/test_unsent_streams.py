"""``<symbol>@blockTrade`` and ``<symbol>@referencePrice`` are names Binance
documents; the exchange has no block trades and no reference prices, so they
are accepted and nothing is ever sent on them (as for a symbol Binance does not
list), while the connection's other streams go on."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.trading.api.conftest import API_DB
from tests.trading.streams.conftest import cross
from trading.streams.protocol import control_parse

pytestmark = [pytest.mark.e2e, API_DB]

UNSENT = ["btcusdt@blockTrade", "btcusdt@referencePrice"]


def test_subscribe_accepts_them():
    request = control_parse(
        json.dumps({"method": "SUBSCRIBE", "params": [*UNSENT], "id": 1})
    )
    assert [s.kind for s in request.streams] == ["blockTrade", "referencePrice"]


def test_nothing_is_sent_on_them_after_a_trade(served, background):
    sockets: dict = {}

    async def connect():
        sockets["ws"] = ws = await websockets.connect(f"ws://{served}/stream")
        names = [*UNSENT, "btcusdt@trade"]
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": names, "id": 1}))
        assert json.loads(await ws.recv()) == {"result": None, "id": 1}
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
        assert json.loads(await ws.recv()) == {"result": names, "id": 2}

    async def frames(seconds: float) -> list[dict]:
        """Every frame within ``seconds`` (two of Binance's 1000 ms beats)."""
        got = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    got.append(json.loads(await sockets["ws"].recv()))
        except TimeoutError:
            return got

    background.run(connect())
    try:
        trade = cross("60000")
        got = background.run(frames(2.5))
        assert [f["stream"] for f in got] == ["btcusdt@trade"]
        assert got[0]["data"]["t"] == trade.trade_id
    finally:
        background.run(sockets["ws"].close())
