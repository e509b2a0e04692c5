"""Every endpoint answers Binance's field names, in Binance's order, with Binance's
JSON types: decimals as strings, ids and times as integers, flags as booleans.

The expected shapes are written from the examples in Binance's rest-api.md.
"""

import re

import pytest

from tests.api.conftest import public

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


_ORDER_HEAD = (
    "symbol:str orderId:int orderListId:int clientOrderId:str price:decimal "
    "origQty:decimal executedQty:decimal cummulativeQuoteQty:decimal status:str "
    "timeInForce:str type:str side:str stopPrice:decimal icebergQty:decimal "
    "time:int updateTime:int isWorking:bool "
)
# GET /api/v3/order.
ORDER_QUERY = fields(
    _ORDER_HEAD
    + "workingTime:int origQuoteOrderQty:decimal selfTradePreventionMode:str"
)
# openOrders and allOrders list the same fields, two of them the other way round.
ORDER_LISTED = fields(
    _ORDER_HEAD
    + "origQuoteOrderQty:decimal workingTime:int selfTradePreventionMode:str"
)


def test_order_query_open_orders_and_all_orders_answer_binance_fields(trader):
    alice = trader(USDT="1000")
    placed = alice.order().body
    query = alice.api.get("order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
    assert shape(query.body) == ORDER_QUERY
    listed = alice.api.get("openOrders", {"symbol": "BTCUSDT"})
    assert [shape(o) for o in listed.body] == [ORDER_LISTED]
    every = alice.api.get("openOrders")
    assert [shape(o) for o in every.body] == [ORDER_LISTED]
    history = alice.api.get("allOrders", {"symbol": "BTCUSDT"})
    assert [shape(o) for o in history.body] == [ORDER_LISTED]


EXCHANGE_INFO = fields(
    "timezone:str serverTime:int rateLimits:list exchangeFilters:list symbols:list"
)
RATE_LIMIT = fields("rateLimitType:str interval:str intervalNum:int limit:int")
EXCHANGE_INFO_SYMBOL = fields(
    "symbol:str status:str baseAsset:str baseAssetPrecision:int quoteAsset:str "
    "quotePrecision:int quoteAssetPrecision:int baseCommissionPrecision:int "
    "quoteCommissionPrecision:int orderTypes:list icebergAllowed:bool "
    "ocoAllowed:bool otoAllowed:bool opoAllowed:bool "
    "quoteOrderQtyMarketAllowed:bool allowTrailingStop:bool "
    "cancelReplaceAllowed:bool amendAllowed:bool pegInstructionsAllowed:bool "
    "isSpotTradingAllowed:bool isMarginTradingAllowed:bool filters:list "
    "permissions:list permissionSets:list defaultSelfTradePreventionMode:str "
    "allowedSelfTradePreventionModes:list"
)
FILTERS = {
    "PRICE_FILTER": fields(
        "filterType:str minPrice:decimal maxPrice:decimal tickSize:decimal"
    ),
    "LOT_SIZE": fields("filterType:str minQty:decimal maxQty:decimal stepSize:decimal"),
    "MARKET_LOT_SIZE": fields(
        "filterType:str minQty:decimal maxQty:decimal stepSize:decimal"
    ),
    "NOTIONAL": fields(
        "filterType:str minNotional:decimal applyMinToMarket:bool "
        "maxNotional:decimal applyMaxToMarket:bool avgPriceMins:int"
    ),
    "MAX_NUM_ORDERS": fields("filterType:str maxNumOrders:int"),
}


def test_exchange_info_answers_binance_fields(symbols):
    body = public("exchangeInfo").body
    assert shape(body) == EXCHANGE_INFO
    assert [shape(limit) for limit in body["rateLimits"]] == [RATE_LIMIT] * 3
    assert [s["symbol"] for s in body["symbols"]] == ["BTCUSDT", "ETHBTC", "ETHUSDT"]
    for symbol in body["symbols"]:
        assert shape(symbol) == EXCHANGE_INFO_SYMBOL
        assert [f["filterType"] for f in symbol["filters"]] == list(FILTERS)
        for item in symbol["filters"]:
            assert shape(item) == FILTERS[item["filterType"]]
        assert symbol["permissionSets"] == [["SPOT"]]


RATES = fields("maker:decimal taker:decimal")
TEST_ORDER_COMMISSIONS = fields(
    "standardCommissionForOrder:object specialCommissionForOrder:object "
    "taxCommissionForOrder:object discount:object"
)
DISCOUNT = fields(
    "enabledForAccount:bool enabledForSymbol:bool discountAsset:null discount:decimal"
)


def test_test_order_answers_binance_fields_and_weight(trader):
    alice = trader(USDT="1000")
    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": "50000",
    }
    plain = alice.api.post("order/test", order)
    assert (plain.status, plain.body) == (200, {})
    assert plain.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    rates = alice.api.post("order/test", {**order, "computeCommissionRates": "true"})
    assert shape(rates.body) == TEST_ORDER_COMMISSIONS
    for name in TEST_ORDER_COMMISSIONS[:3]:
        assert shape(rates.body[name[0]]) == RATES
    assert shape(rates.body["discount"]) == DISCOUNT
    assert rates.body["standardCommissionForOrder"] == {
        "maker": "0.00100000",
        "taker": "0.00100000",
    }
    # Binance weighs a test order with commission rates at 20.
    assert rates.headers["X-MBX-USED-WEIGHT-1M"] == "21"
