"""End to end with Binance's own SDK (binance-sdk-spot 13.3.0), unmodified but
for its URLs: its stream client (a bare /stream, SUBSCRIBE with UUID ids,
events routed by the combined wrapper) receives trades; its WebSocket API
client (rateLimits on every answer) places and cancels an order and the user
data subscription receives both executionReports, then an OCO's listStatus."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from accounts import services as account_services
from tests.factories import funded_user
from tests.trading.api.conftest import API_DB
from tests.trading.conftest import place
from tests.trading.orders.test_order_lists import leg
from tests.trading.streams.burst import FUNDS
from trading.orders import lists as order_lists

spot = pytest.importorskip("binance_sdk_spot.spot")
configuration = pytest.importorskip("binance_common.configuration")

pytestmark = [pytest.mark.e2e, API_DB]


async def until(condition, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def test_sdk_streams_and_websocket_api(served):
    maker, taker = funded_user(**FUNDS), funded_user(**FUNDS)
    user = funded_user(**FUNDS)
    key, secret = account_services.apikey_create(
        user_id=user.id, permissions=["read", "trade"]
    )

    async def scenario():
        client = spot.Spot(
            config_ws_api=configuration.ConfigurationWebSocketAPI(
                api_key=key.key,
                api_secret=secret,
                stream_url=f"ws://{served}/ws-api/v3",
            ),
            config_ws_streams=configuration.ConfigurationWebSocketStreams(
                stream_url=f"ws://{served}"
            ),
        )
        streams = await client.websocket_streams.create_connection()
        api = await client.websocket_api.create_connection()
        try:
            trades, reports = [], []
            handle = await streams.trade(symbol="btcusdt")
            handle.on("message", trades.append)
            subscribed = await api.user_data_stream_subscribe_signature()
            assert subscribed.response.data().result.subscription_id == 0
            subscribed.stream.on("message", reports.append)
            await asyncio.sleep(0.6)  # the SDK sends its SUBSCRIBE after a pause

            await sync_to_async(place)(maker, "SELL", "0.3", "65000")
            await sync_to_async(place)(taker, "BUY", "0.3", "65000")
            await until(lambda: trades)
            assert (trades[0].s, trades[0].p, trades[0].q) == (
                "BTCUSDT",
                "65000.00000000",
                "0.30000000",
            )

            placed = await api.order_place(
                symbol="BTCUSDT",
                side="SELL",
                type="LIMIT",
                time_in_force="GTC",
                price=99000.0,
                quantity=0.001,
            )
            order_id = placed.data().result.order_id
            assert placed.data().result.status == "NEW"
            assert [r.rateLimitType for r in placed.rate_limits] == [
                "REQUEST_WEIGHT",
                "ORDERS",
                "ORDERS",
            ]
            cancelled = await api.order_cancel(symbol="BTCUSDT", order_id=order_id)
            assert cancelled.data().result.status == "CANCELED"

            def executions():
                found = []
                for message in reports:
                    event = message.actual_instance
                    if type(event).__name__ == "ExecutionReport":
                        found.append((event.i, event.x, event.X))
                return found

            await until(lambda: len(executions()) >= 2)
            assert executions() == [
                (order_id, "NEW", "NEW"),
                (order_id, "CANCELED", "CANCELED"),
            ]

            # An OCO's listStatus parses into the SDK's own model.
            placed_list = await sync_to_async(order_lists.order_list_place)(
                user_id=user.id,
                kind="OCO",
                list_client_order_id="sdk-list",
                legs=[
                    leg("SELL", "STOP_LOSS_LIMIT", "0.01", "64000", stop="64500"),
                    leg("SELL", "LIMIT_MAKER", "0.01", "66000"),
                ],
            )

            def list_statuses():
                return [
                    m.actual_instance
                    for m in reports
                    if type(m.actual_instance).__name__ == "ListStatus"
                ]

            await until(lambda: list_statuses())
            (status,) = list_statuses()
            assert (status.g, status.c, status.l, status.L, status.C) == (
                placed_list.order_list.pk,
                "OCO",
                "EXEC_STARTED",
                "EXECUTING",
                "sdk-list",
            )
            assert [o.i for o in status.O] == [o.order_id for o in placed_list.orders]
        finally:
            await streams.close_connection()
            await api.close_connection()

    asyncio.run(asyncio.wait_for(scenario(), 40))
