"""Stop orders, order lists and amendments through /api/v3: every new endpoint,
Binance's fields, and each new error code (a refusal changes nothing)."""

import pytest

from tests.trading.api.conftest import API_DB, public, snapshot
from trading.models import OrderList

pytestmark = API_DB


@pytest.fixture
def alice(trader):
    """A funded trader on a market whose last trade was at 60000."""
    maker = trader(BTC="1", USDT="100000")
    taker = trader(BTC="1", USDT="100000")
    assert maker.order(side="SELL", quantity="0.01", price="60000").status == 200
    assert taker.order(side="BUY", quantity="0.01", price="60000").status == 200
    return trader(BTC="2", USDT="200000")


def refused(api_call, code, msg=None, status=400):
    before = snapshot()
    lists = OrderList.objects.count()
    response = api_call()
    assert response.status == status, response.body
    assert response.body["code"] == code, response.body
    assert set(response.body) == {"code", "msg"}
    if msg is not None:
        assert response.body["msg"] == msg, response.body
    assert snapshot() == before and OrderList.objects.count() == lists
    return response


STOP = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "STOP_LOSS_LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.1",
    "price": "58000",
    "stopPrice": "59000",
}


def test_stop_order_fields_through_place_query_list_and_cancel(alice):
    placed = alice.api.post("order", {**STOP, "newOrderRespType": "RESULT"})
    assert placed.status == 200, placed.body
    body = placed.body
    assert body["type"] == "STOP_LOSS_LIMIT" and body["status"] == "NEW"
    assert body["stopPrice"] == "59000.00000000"
    assert body["workingTime"] == -1 and body["orderListId"] == -1
    order_id = body["orderId"]
    query = {"symbol": "BTCUSDT", "orderId": order_id}
    got = alice.api.get("order", query).body
    assert got["stopPrice"] == "59000.00000000" and got["isWorking"] is False
    assert got["workingTime"] == -1
    open_orders = alice.api.get("openOrders", {"symbol": "BTCUSDT"}).body
    assert [o["orderId"] for o in open_orders] == [order_id]
    assert open_orders[0]["stopPrice"] == "59000.00000000"
    every = alice.api.get("allOrders", {"symbol": "BTCUSDT"}).body
    assert every[-1]["isWorking"] is False
    cancelled = alice.api.delete("order", query).body
    assert cancelled["status"] == "CANCELED"
    assert cancelled["stopPrice"] == "59000.00000000"
    assert alice.balance("BTC") == (2, 0)


def test_trailing_stop_shows_its_delta_and_tracking_time(alice):
    placed = alice.api.post(
        "order",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "STOP_LOSS",
            "quantity": "0.1",
            "trailingDelta": "250",
            "newOrderRespType": "FULL",
        },
    )
    assert placed.status == 200, placed.body
    assert placed.body["trailingDelta"] == 250
    assert placed.body["trailingTime"] > 0  # tracking from the last price at once
    assert placed.body["fills"] == []


def test_stop_default_response_is_ack(alice):
    placed = alice.api.post("order", STOP)
    assert set(placed.body) == {
        "symbol",
        "orderId",
        "orderListId",
        "clientOrderId",
        "transactTime",
    }


@pytest.mark.parametrize(
    "change, code, msg",
    [
        (
            {"stopPrice": None},
            -1102,
            "Param 'stopPrice' or 'trailingDelta' must be sent, but both were "
            "empty/null!",
        ),
        (
            {"type": "LIMIT"},
            -1106,
            "Parameter 'stopPrice' sent when not required.",
        ),
        (
            {"type": "STOP_LOSS", "timeInForce": None},
            -1106,
            "Parameter 'price' sent when not required.",
        ),
        ({"trailingDelta": "5"}, -1013, "Filter failure: TRAILING_DELTA"),
        ({"trailingDelta": "2001"}, -1013, "Filter failure: TRAILING_DELTA"),
        ({"stopPrice": "59000.001"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"stopPrice": "61000"}, -2010, "Order would trigger immediately."),
        (
            {
                "side": "BUY",
                "type": "STOP_LOSS",
                "price": None,
                "timeInForce": None,
                "stopPrice": "61000",
            },
            -2010,
            "Stop loss orders are not supported for this symbol.",
        ),
        (
            {"quantity": "5"},
            -2010,
            "Account has insufficient balance for requested action.",
        ),
    ],
)
def test_stop_order_refusals(alice, change, code, msg):
    params = {k: v for k, v in {**STOP, **change}.items() if v is not None}
    refused(lambda: alice.api.post("order", params), code, msg)


OCO = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "quantity": "1",
    "aboveType": "LIMIT_MAKER",
    "abovePrice": "62000",
    "belowType": "STOP_LOSS_LIMIT",
    "belowPrice": "58500",
    "belowStopPrice": "59000",
    "belowTimeInForce": "GTC",
}


def test_oco_place_query_and_cancel(alice):
    placed = alice.api.post("orderList/oco", {**OCO, "listClientOrderId": "mine"})
    assert placed.status == 200, placed.body
    body = placed.body
    assert body["contingencyType"] == "OCO"
    assert body["listStatusType"] == "EXEC_STARTED"
    assert body["listOrderStatus"] == "EXECUTING"
    assert body["listClientOrderId"] == "mine"
    list_id = body["orderListId"]
    reports = body["orderReports"]
    assert [r["type"] for r in reports] == ["STOP_LOSS_LIMIT", "LIMIT_MAKER"]
    assert reports[0]["workingTime"] == -1 and reports[1]["workingTime"] > 0
    assert all(r["orderListId"] == list_id for r in reports)
    assert [o["orderId"] for o in body["orders"]] == [r["orderId"] for r in reports]
    assert alice.balance("BTC") == (1, 1)

    got = alice.api.get("orderList", {"orderListId": list_id}).body
    assert got["orderListId"] == list_id and len(got["orders"]) == 2
    by_client = alice.api.get("orderList", {"origClientOrderId": "mine"}).body
    assert by_client == got
    assert [x["orderListId"] for x in alice.api.get("openOrderList").body] == [list_id]
    assert [x["orderListId"] for x in alice.api.get("allOrderList").body] == [list_id]
    leg = alice.api.get(
        "order", {"symbol": "BTCUSDT", "orderId": reports[0]["orderId"]}
    )
    assert leg.body["orderListId"] == list_id

    cancelled = alice.api.delete(
        "orderList", {"symbol": "BTCUSDT", "orderListId": list_id}
    )
    assert cancelled.status == 200, cancelled.body
    assert cancelled.body["listStatusType"] == "ALL_DONE"
    assert cancelled.body["listOrderStatus"] == "ALL_DONE"
    assert [r["status"] for r in cancelled.body["orderReports"]] == [
        "CANCELED",
        "CANCELED",
    ]
    assert alice.balance("BTC") == (2, 0)
    assert alice.api.get("openOrderList").body == []


def test_legacy_oco_places_a_stop_and_a_limit_maker(alice):
    placed = alice.api.post(
        "order/oco",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "quantity": "1",
            "price": "62000",
            "stopPrice": "59000",
            "stopLimitPrice": "58500",
            "stopLimitTimeInForce": "GTC",
        },
    )
    assert placed.status == 200, placed.body
    types = [r["type"] for r in placed.body["orderReports"]]
    assert types == ["STOP_LOSS_LIMIT", "LIMIT_MAKER"]


@pytest.mark.parametrize(
    "change, code",
    [
        ({"aboveType": "LIMIT"}, -1158),
        ({"side": "BUY"}, -1165),
        (
            {
                "aboveType": "TAKE_PROFIT_LIMIT",
                "aboveStopPrice": "61000",
                "aboveTimeInForce": "GTC",
                "belowType": "LIMIT_MAKER",
                "belowStopPrice": None,
                "belowTimeInForce": None,
            },
            -1166,
        ),
        (
            {
                "belowType": "LIMIT_MAKER",
                "belowStopPrice": None,
                "belowTimeInForce": None,
            },
            -1168,
        ),
        ({"belowType": "TAKE_PROFIT_LIMIT"}, -1199),
        (
            {
                "aboveType": "STOP_LOSS",
                "abovePrice": None,
                "aboveStopPrice": "63000",
                "belowType": "LIMIT_MAKER",
            },
            -1197,
        ),
        ({"belowStopPrice": "61000"}, -2010),  # stop above the last price
    ],
)
def test_oco_refusals(alice, change, code):
    params = {k: v for k, v in {**OCO, **change}.items() if v is not None}
    refused(lambda: alice.api.post("orderList/oco", params), code)


def test_buy_oco_position_codes(alice):
    base = {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.1"}
    below_stop = {
        **base,
        "aboveType": "STOP_LOSS",
        "aboveStopPrice": "61000",
        "belowType": "STOP_LOSS",
        "belowStopPrice": "59000",
    }
    refused(lambda: alice.api.post("orderList/oco", below_stop), -1196)


def test_buy_oco_take_profit_above_is_1198(alice):
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "quantity": "0.1",
        "aboveType": "TAKE_PROFIT_LIMIT",
        "abovePrice": "61000",
        "aboveStopPrice": "61000",
        "aboveTimeInForce": "GTC",
        "belowType": "LIMIT_MAKER",
        "belowPrice": "59000",
    }
    refused(lambda: alice.api.post("orderList/oco", params), -1198)


def test_oto_and_otoco(alice):
    oto = alice.api.post(
        "orderList/oto",
        {
            "symbol": "BTCUSDT",
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": "59000",
            "workingQuantity": "0.1",
            "workingTimeInForce": "GTC",
            "pendingType": "LIMIT",
            "pendingSide": "SELL",
            "pendingPrice": "65000",
            "pendingQuantity": "0.1",
            "pendingTimeInForce": "GTC",
            "newOrderRespType": "RESULT",
        },
    )
    assert oto.status == 200, oto.body
    assert oto.body["contingencyType"] == "OTO"
    statuses = [r["status"] for r in oto.body["orderReports"]]
    assert statuses == ["NEW", "PENDING_NEW"]
    otoco = alice.api.post(
        "orderList/otoco",
        {
            "symbol": "BTCUSDT",
            "workingType": "LIMIT_MAKER",
            "workingSide": "BUY",
            "workingPrice": "59000",
            "workingQuantity": "0.1",
            "pendingSide": "SELL",
            "pendingQuantity": "0.1",
            "pendingAboveType": "LIMIT_MAKER",
            "pendingAbovePrice": "65000",
            "pendingBelowType": "STOP_LOSS",
            "pendingBelowStopPrice": "55000",
        },
    )
    assert otoco.status == 200, otoco.body
    assert otoco.body["contingencyType"] == "OTO"  # Binance reports OTOCO as OTO
    assert [r["status"] for r in otoco.body["orderReports"]] == [
        "NEW",
        "PENDING_NEW",
        "PENDING_NEW",
    ]
    assert len(alice.api.get("openOrderList").body) == 2


def test_oto_refusals(alice):
    params = {
        "symbol": "BTCUSDT",
        "workingType": "MARKET",
        "workingSide": "BUY",
        "workingPrice": "59000",
        "workingQuantity": "0.1",
        "pendingType": "LIMIT",
        "pendingSide": "SELL",
        "pendingPrice": "65000",
        "pendingQuantity": "0.1",
        "pendingTimeInForce": "GTC",
    }
    refused(lambda: alice.api.post("orderList/oto", params), -1116)
    params["workingType"] = "LIMIT"
    refused(
        lambda: alice.api.post("orderList/oto", params),
        -1102,
        "Mandatory parameter 'workingTimeInForce' was not sent, was empty/null, or "
        "malformed.",
    )


def test_unknown_lists(alice):
    refused(
        lambda: alice.api.get("orderList", {"orderListId": 999}),
        -2013,
        "Order list does not exist.",
    )
    refused(
        lambda: alice.api.delete("orderList", {"symbol": "BTCUSDT", "orderListId": 9}),
        -2011,
        "Unknown order list sent.",
    )
    refused(lambda: alice.api.get("orderList"), -1102)


def test_amend_keep_priority_and_amendments(alice):
    placed = alice.order(side="BUY", quantity="1", price="59000")
    order_id = placed.body["orderId"]
    amended = alice.api.put(
        "order/amend/keepPriority",
        {
            "symbol": "BTCUSDT",
            "orderId": order_id,
            "newQty": "0.25",
            "newClientOrderId": "after",
        },
    )
    assert amended.status == 200, amended.body
    order = amended.body["amendedOrder"]
    assert order["qty"] == "0.25000000" and order["clientOrderId"] == "after"
    assert order["origClientOrderId"] == placed.body["clientOrderId"]
    assert alice.balance("USDT") == (200000 - 14750, 14750)
    history = alice.api.get(
        "order/amendments", {"symbol": "BTCUSDT", "orderId": order_id}
    )
    assert history.status == 200
    assert [(a["origQty"], a["newQty"]) for a in history.body] == [
        ("1.00000000", "0.25000000")
    ]
    assert history.body[0]["executionId"] == amended.body["executionId"]


def test_amend_refusals(alice):
    placed = alice.order(side="BUY", quantity="1", price="59000")
    query = {"symbol": "BTCUSDT", "orderId": placed.body["orderId"]}
    refused(
        lambda: alice.api.put("order/amend/keepPriority", {**query, "newQty": "2"}),
        -2038,
        "Order amend (quantity increase) is not supported.",
    )
    refused(
        lambda: alice.api.put("order/amend/keepPriority", {**query, "newQty": "1"}),
        -2038,
        "The requested action would change no state; rejecting",
    )
    refused(
        lambda: alice.api.put(
            "order/amend/keepPriority", {**query, "newQty": "0.000001"}
        ),
        -1013,
        "Filter failure: LOT_SIZE",
    )
    refused(
        lambda: alice.api.put(
            "order/amend/keepPriority",
            {"symbol": "BTCUSDT", "orderId": 9999, "newQty": "0.1"},
        ),
        -2038,
        "Unknown order sent.",
    )


def test_exchange_info_lists_stops_lists_and_the_trailing_delta_filter(symbols):
    info = public("exchangeInfo", {"symbol": "BTCUSDT"}).body["symbols"][0]
    assert set(info["orderTypes"]) >= {
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
    }
    assert info["ocoAllowed"] and info["otoAllowed"] and info["allowTrailingStop"]
    assert info["amendAllowed"]
    trailing = [f for f in info["filters"] if f["filterType"] == "TRAILING_DELTA"]
    assert trailing == [
        {
            "filterType": "TRAILING_DELTA",
            "minTrailingAboveDelta": 10,
            "maxTrailingAboveDelta": 2000,
            "minTrailingBelowDelta": 10,
            "maxTrailingBelowDelta": 2000,
        }
    ]
