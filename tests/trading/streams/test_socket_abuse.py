"""Bad input on a socket gets Binance's error or a clean close, never a crash:
unknown methods, malformed JSON, a 1 MiB frame, too many subscriptions, a
flood of messages; and the server still serves the next client."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.trading.api.conftest import API_DB

pytestmark = [pytest.mark.e2e, API_DB]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def exchange(ws, message) -> dict:
    await ws.send(message if isinstance(message, str) else json.dumps(message))
    return json.loads(await ws.recv())


def test_bad_control_messages_get_binance_errors(served):
    async def scenario():
        async with websockets.connect(f"ws://{served}/ws/0") as ws:
            assert await exchange(ws, "{not json") == {
                "error": {
                    "code": 3,
                    "msg": "Invalid JSON: expecting property name enclosed in "
                    "double quotes at line 1 column 2",
                },
                "id": None,
            }
            reply = await exchange(ws, {"method": "PING", "id": 5})
            assert reply["id"] == 5 and reply["error"]["code"] == 2
            reply = await exchange(
                ws, {"method": "SUBSCRIBE", "params": ["nope@x"], "id": "a-1"}
            )
            assert reply == {
                "error": {"code": 2, "msg": "Invalid request: invalid stream"},
                "id": "a-1",
            }
            # 1,024 streams are fine; one more is refused.
            names = [f"s{i:04d}usdt@trade" for i in range(1024)]
            for start in range(0, 1024, 512):
                reply = await exchange(
                    ws,
                    {
                        "method": "SUBSCRIBE",
                        "params": names[start : start + 512],
                        "id": 1,
                    },
                )
                assert reply == {"result": None, "id": 1}
            reply = await exchange(
                ws, {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 2}
            )
            assert reply["error"]["code"] == 2 and reply["id"] == 2
            listed = await exchange(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 3})
            assert len(listed["result"]) == 1024

    run(scenario())


def test_a_1_mib_frame_closes_the_connection_cleanly(served):
    async def scenario():
        async with websockets.connect(f"ws://{served}/ws", max_size=None) as ws:
            await ws.send("x" * (1 << 20))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:  # an error frame may come first, then the close
                    await ws.recv()
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert run(scenario()) == 1009  # message too big
    # The process still serves.
    run(_one_subscription(served))


def test_a_message_flood_is_disconnected(served):
    async def scenario():
        async with websockets.connect(f"ws://{served}/ws") as ws:
            for index in range(40):
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": index}))
            codes = []
            try:
                while True:
                    await ws.recv()
            except websockets.ConnectionClosed as exc:
                codes.append(exc.rcvd.code if exc.rcvd else None)
            return codes

    assert run(scenario()) == [1008]  # policy violation
    run(_one_subscription(served))


def test_the_websocket_api_answers_bad_requests(served):
    async def scenario():
        async with websockets.connect(f"ws://{served}/ws-api/v3") as ws:
            bad_json = await exchange(ws, "{oops")
            unknown = await exchange(ws, {"id": "x1", "method": "fly.away"})
            unsigned = await exchange(
                ws, {"id": 7, "method": "order.place", "params": {"symbol": "BTCUSDT"}}
            )
            no_limits = await exchange(
                ws, {"id": 8, "method": "ping", "params": {"returnRateLimits": False}}
            )
            return bad_json, unknown, unsigned, no_limits

    bad_json, unknown, unsigned, no_limits = run(scenario())
    assert (bad_json["id"], bad_json["status"], bad_json["error"]["code"]) == (
        None,
        400,
        -1135,
    )
    assert (unknown["id"], unknown["error"]["code"]) == ("x1", -1020)
    assert "rateLimits" in unknown
    assert (unsigned["id"], unsigned["error"]) == (
        7,
        {
            "code": -1102,
            "msg": "Mandatory parameter 'apiKey' was not sent, was empty/null, or "
            "malformed.",
        },
    )
    assert no_limits == {"id": 8, "status": 200, "result": {}}


async def _one_subscription(host: str) -> None:
    async with websockets.connect(f"ws://{host}/ws/0") as ws:
        reply = await exchange(
            ws, {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1}
        )
        assert reply == {"result": None, "id": 1}
