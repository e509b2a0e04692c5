"""Every endpoint answers Binance's field names, in Binance's order, with Binance's
JSON types: decimals as strings, ids and times as integers, flags as booleans.

The expected shapes are written from the examples in Binance's rest-api.md.
"""

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def kind(value) -> str:
    """The JSON type of a value, telling decimal strings from other strings."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "decimal" if _DECIMAL.match(value) else "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    raise AssertionError(f"not a JSON value: {value!r}")


def shape(body: dict) -> list[tuple[str, str]]:
    return [(key, kind(value)) for key, value in body.items()]


def fields(spec: str) -> list[tuple[str, str]]:
    """``"symbol:str orderId:int ..."`` as a list of (name, tag)."""
    return [tuple(item.split(":")) for item in spec.split()]


ORDER_CANCELLED = fields(
    "symbol:str origClientOrderId:str orderId:int orderListId:int clientOrderId:str "
    "transactTime:int price:decimal origQty:decimal executedQty:decimal "
    "origQuoteOrderQty:decimal cummulativeQuoteQty:decimal status:str "
    "timeInForce:str type:str side:str selfTradePreventionMode:str"
)


def test_cancel_answers_binance_fields(trader):
    alice = trader(USDT="1000")
    placed = alice.order(newClientOrderId="first").body
    cancelled = alice.api.delete(
        "order",
        {
            "symbol": "BTCUSDT",
            "orderId": placed["orderId"],
            "newClientOrderId": "cancel-1",
        },
    )
    assert cancelled.status == 200
    assert shape(cancelled.body) == ORDER_CANCELLED
    assert cancelled.body["origClientOrderId"] == "first"
    assert cancelled.body["clientOrderId"] == "cancel-1"
    assert alice.order(newClientOrderId="second").status == 200
    every = alice.api.delete("openOrders", {"symbol": "BTCUSDT"})
    assert [shape(o) for o in every.body] == [ORDER_CANCELLED]
