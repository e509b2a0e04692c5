"""Order lists on the user data stream of a served stack: an OCO placed over REST
reaches its owner's WebSocket API subscription as its legs' executionReports, then
a listStatus EXEC_STARTED naming both legs; a leg's fill, or the cancel of one
leg, ends it with the legs' reports, then a listStatus ALL_DONE. Another user's
subscription hears none of it."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from asgiref.sync import sync_to_async

from tests.factories import funded_user
from tests.trading.api.conftest import API_DB
from tests.trading.streams.burst import FUNDS
from tests.trading.streams.test_user_streams import (
    events,
    keyed_user,
    place,
    request,
    signed,
    silent,
)
from tools.binance_client import BinanceClient

pytestmark = [pytest.mark.e2e, API_DB]


def oco(api: BinanceClient, list_client_order_id: str, above: str) -> dict:
    status, body = api.signed_post(
        "/api/v3/orderList/oco",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "quantity": "0.5",
            "aboveType": "LIMIT_MAKER",
            "abovePrice": above,
            "belowType": "STOP_LOSS_LIMIT",
            "belowStopPrice": "59000",
            "belowPrice": "58500",
            "belowTimeInForce": "GTC",
            "listClientOrderId": list_client_order_id,
        },
    )
    assert status == 200, body
    return body


def kinds(got: list[dict]) -> list[tuple]:
    return [
        (
            f["event"]["e"],
            f["event"].get("x") or f["event"].get("l"),
            f["event"].get("i"),
        )
        for f in got
    ]


def test_an_oco_reaches_its_owner_as_list_status_and_no_one_else(served):
    alice, alice_key, alice_secret = keyed_user()
    bob, bob_key, bob_secret = keyed_user()
    carol = funded_user(**FUNDS)
    # A last price for the OCO's prices to be checked against.
    place(bob, "SELL", "0.01", "60000")
    place(carol, "BUY", "0.01", "60000")
    api = BinanceClient(f"http://{served}", alice_key.key, alice_secret)

    async def scenario():
        url = f"ws://{served}/ws-api/v3"
        async with websockets.connect(url) as a, websockets.connect(url) as b:
            for ws, key, secret in (
                (a, alice_key, alice_secret),
                (b, bob_key, bob_secret),
            ):
                reply = await request(
                    ws, "userDataStream.subscribe.signature", signed(key, secret)
                )
                assert reply["result"] == {"subscriptionId": 0}

            placed = await asyncio.to_thread(oco, api, "exit-1", "62000")
            stop_id, limit_id = (o["orderId"] for o in placed["orders"])
            got = await events(a, 4)
            assert kinds(got) == [
                ("executionReport", "NEW", stop_id),
                ("executionReport", "NEW", limit_id),
                ("listStatus", "EXEC_STARTED", None),
                ("outboundAccountPosition", None, None),
            ]
            started = got[2]["event"]
            assert started == {
                "e": "listStatus",
                "E": started["E"],
                "s": "BTCUSDT",
                "g": placed["orderListId"],
                "c": "OCO",
                "l": "EXEC_STARTED",
                "L": "EXECUTING",
                "r": "NONE",
                "C": "exit-1",
                "T": placed["transactionTime"],
                "O": [
                    {"s": o["symbol"], "i": o["orderId"], "c": o["clientOrderId"]}
                    for o in placed["orders"]
                ],
            }
            assert {f["event"]["g"] for f in got[:2]} == {placed["orderListId"]}

            # Carol takes the limit leg: it fills, the stop leg expires.
            await sync_to_async(place)(carol, "BUY", "0.5", "62000")
            got = await events(a, 4)
            assert kinds(got) == [
                ("executionReport", "TRADE", limit_id),
                ("executionReport", "EXPIRED", stop_id),
                ("listStatus", "ALL_DONE", None),
                ("outboundAccountPosition", None, None),
            ]
            done = got[2]["event"]
            assert (done["g"], done["L"], done["C"]) == (
                placed["orderListId"],
                "ALL_DONE",
                "exit-1",
            )
            assert done["O"] == started["O"]
            assert done["T"] >= started["T"]

            # Cancelling one leg of another OCO (above the last price, 62000)
            # ends that list too.
            second = await asyncio.to_thread(oco, api, "exit-2", "63000")
            stop_id, limit_id = (o["orderId"] for o in second["orders"])
            got = await events(a, 4)
            assert kinds(got)[2] == ("listStatus", "EXEC_STARTED", None)
            status, _ = await asyncio.to_thread(
                api.signed_delete,
                "/api/v3/order",
                {"symbol": "BTCUSDT", "orderId": stop_id},
            )
            assert status == 200
            got = await events(a, 4)
            assert kinds(got) == [
                ("executionReport", "CANCELED", stop_id),
                ("executionReport", "CANCELED", limit_id),
                ("listStatus", "ALL_DONE", None),
                ("outboundAccountPosition", None, None),
            ]
            assert (got[2]["event"]["g"], got[2]["event"]["C"]) == (
                second["orderListId"],
                "exit-2",
            )

            # Bob heard nothing of Alice's lists.
            assert await silent(b)

    asyncio.run(asyncio.wait_for(scenario(), 60))
