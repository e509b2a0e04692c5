"""User data over the WebSocket API: a user's events reach only that user's
subscriptions; a revoked key or a disabled user ends the stream with
eventStreamTerminated; unsubscribe ends it too."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import websockets
from asgiref.sync import sync_to_async

from accounts import services as account_services
from tests.factories import funded_user
from tests.trading.api.conftest import API_DB
from tests.trading.conftest import place
from tests.trading.streams.burst import FUNDS

pytestmark = [pytest.mark.e2e, API_DB]


def keyed_user():
    user = funded_user(**FUNDS)
    key, secret = account_services.apikey_create(
        user_id=user.id, permissions=["read", "trade"]
    )
    return user, key, secret


def signed(key, secret, encoded: bool = False, **params) -> dict:
    params = {"apiKey": key.key, "timestamp": int(time.time() * 1000), **params}
    items = sorted((k, str(v)) for k, v in params.items())
    payload = urlencode(items) if encoded else "&".join(f"{k}={v}" for k, v in items)
    params["signature"] = hmac.new(
        secret.encode(), payload.encode(), hashlib.sha256
    ).hexdigest()
    return params


async def request(ws, method, params=None, request_id=1) -> dict:
    await ws.send(
        json.dumps({"id": request_id, "method": method, "params": params or {}})
    )
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("id") == request_id:
            return reply


async def events(ws, count: int, timeout: float = 5) -> list[dict]:
    out = []
    while len(out) < count:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if "event" in frame:
            out.append(frame)
    return out


async def silent(ws, seconds: float = 0.5) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    return False


def test_events_reach_only_their_user_and_a_revoke_ends_the_stream(served):
    alice, alice_key, alice_secret = keyed_user()
    bob, bob_key, bob_secret = keyed_user()
    carol = funded_user(**FUNDS)

    async def scenario():
        url = f"ws://{served}/ws-api/v3"
        async with websockets.connect(url) as a, websockets.connect(url) as b:
            reply = await request(
                a,
                "userDataStream.subscribe.signature",
                signed(alice_key, alice_secret),
            )
            assert reply["result"] == {"subscriptionId": 0}
            # python-binance and the SDK sign the percent-encoded form.
            reply = await request(
                b,
                "userDataStream.subscribe.signature",
                signed(bob_key, bob_secret, encoded=True, recvWindow=10000),
            )
            assert reply["result"] == {"subscriptionId": 0}
            again = await request(
                b, "userDataStream.subscribe.signature", signed(bob_key, bob_secret)
            )
            assert again["error"]["code"] == -2035

            # Carol trades with Alice: Bob hears nothing.
            await sync_to_async(place)(alice, "SELL", "0.1", "61000")
            await sync_to_async(place)(carol, "BUY", "0.1", "61000")
            got = await events(a, 4)
            assert [e["event"]["e"] for e in got] == [
                "executionReport",
                "outboundAccountPosition",
                "executionReport",
                "outboundAccountPosition",
            ]
            assert {e["event"].get("x") for e in got} == {"NEW", "TRADE", None}
            assert await silent(b)

            # A deposit is a balanceUpdate.
            await sync_to_async(account_services.balance_deposit)(
                user_id=bob.id, asset="ETH", amount=Decimal("2"), reference="t"
            )
            (deposit,) = await events(b, 1)
            assert deposit["event"]["e"] == "balanceUpdate"
            assert (deposit["event"]["a"], deposit["event"]["d"]) == (
                "ETH",
                "2.00000000",
            )

            # Revoking Bob's key ends his stream.
            await sync_to_async(account_services.apikey_revoke)(
                user_id=bob.id, key_id=bob_key.id
            )
            (ended,) = await events(b, 1)
            assert ended == {
                "subscriptionId": 0,
                "event": {"e": "eventStreamTerminated", "E": ended["event"]["E"]},
            }
            await sync_to_async(place)(bob, "BUY", "0.1", "50000")
            assert await silent(b)

            # Unsubscribing ends Alice's.
            reply = await request(a, "userDataStream.unsubscribe", {}, request_id=9)
            assert reply["result"] == {}
            frames = [json.loads(await a.recv()) for _ in range(1)]
            assert frames[0]["event"]["e"] == "eventStreamTerminated"
            # A refused signature is Binance's -1022.
            bad = signed(alice_key, alice_secret)
            bad["signature"] = "0" * 64
            reply = await request(a, "userDataStream.subscribe.signature", bad, 10)
            assert (reply["status"], reply["error"]["code"]) == (400, -1022)

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_disabling_a_user_ends_the_stream(served):
    user, key, secret = keyed_user()

    async def scenario():
        async with websockets.connect(f"ws://{served}/ws-api/v3") as ws:
            reply = await request(
                ws, "userDataStream.subscribe.signature", signed(key, secret)
            )
            assert reply["status"] == 200
            await sync_to_async(account_services.user_disable)(user_id=user.id)
            (ended,) = await events(ws, 1)
            assert ended["event"]["e"] == "eventStreamTerminated"
            refused = await request(
                ws, "userDataStream.subscribe.signature", signed(key, secret), 2
            )
            assert refused["error"]["code"] == -2015

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_key_revoked_behind_the_services_back_ends_within_the_check(served):
    from concurrent.futures import Future

    from django.utils import timezone

    from accounts.models import ApiKey
    from trading.streams import app as streams_app

    user, key, secret = keyed_user()

    async def scenario():
        async with websockets.connect(f"ws://{served}/ws-api/v3") as ws:
            reply = await request(
                ws, "userDataStream.subscribe.signature", signed(key, secret)
            )
            assert reply["status"] == 200
            # An operator edits the row: no notice on the bus.
            await sync_to_async(ApiKey.objects.filter(id=key.id).update)(
                revoked_at=timezone.now()
            )
            assert await silent(ws)
            (hub,) = streams_app._hubs.values()
            checked: Future = asyncio.run_coroutine_threadsafe(
                hub._keys_check(), hub.loop
            )
            await asyncio.wrap_future(checked)
            (ended,) = await events(ws, 1)
            assert ended["event"]["e"] == "eventStreamTerminated"

    asyncio.run(asyncio.wait_for(scenario(), 30))
