"""Every endpoint answers Binance's field names, in Binance's order, with Binance's
JSON types: decimals as strings, ids and times as integers, flags as booleans.

The expected shapes are written from the examples in Binance's rest-api.md.
"""

import re

import pytest

from tests.trading.api.conftest import API_DB, public

pytestmark = API_DB

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
    "TRAILING_DELTA": fields(
        "filterType:str minTrailingAboveDelta:int maxTrailingAboveDelta:int "
        "minTrailingBelowDelta:int maxTrailingBelowDelta:int"
    ),
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


TRADE = fields(
    "id:int price:decimal qty:decimal quoteQty:decimal time:int isBuyerMaker:bool "
    "isBestMatch:bool"
)
AGG_TRADE = fields("a:int p:decimal q:decimal f:int l:int T:int m:bool M:bool")
KLINE = [
    "int",
    "decimal",
    "decimal",
    "decimal",
    "decimal",
    "decimal",
    "int",
    "decimal",
    "int",
    "decimal",
    "decimal",
    "decimal",
]
DEPTH = fields("lastUpdateId:int bids:list asks:list")
AVG_PRICE = fields("mins:int price:decimal closeTime:int")
TICKER_24HR = fields(
    "symbol:str priceChange:decimal priceChangePercent:decimal "
    "weightedAvgPrice:decimal prevClosePrice:decimal lastPrice:decimal "
    "lastQty:decimal bidPrice:decimal bidQty:decimal askPrice:decimal "
    "askQty:decimal openPrice:decimal highPrice:decimal lowPrice:decimal "
    "volume:decimal quoteVolume:decimal openTime:int closeTime:int firstId:int "
    "lastId:int count:int"
)
TICKER_MINI = fields(
    "symbol:str openPrice:decimal highPrice:decimal lowPrice:decimal "
    "lastPrice:decimal volume:decimal quoteVolume:decimal openTime:int "
    "closeTime:int firstId:int lastId:int count:int"
)
TICKER_ROLLING = fields(
    "symbol:str priceChange:decimal priceChangePercent:decimal "
    "weightedAvgPrice:decimal openPrice:decimal highPrice:decimal "
    "lowPrice:decimal lastPrice:decimal volume:decimal quoteVolume:decimal "
    "openTime:int closeTime:int firstId:int lastId:int count:int"
)
TICKER_PRICE = fields("symbol:str price:decimal")
BOOK_TICKER = fields(
    "symbol:str bidPrice:decimal bidQty:decimal askPrice:decimal askQty:decimal"
)

ORDER_ACK = fields(
    "symbol:str orderId:int orderListId:int clientOrderId:str transactTime:int"
)
ORDER_RESULT = ORDER_ACK + fields(
    "price:decimal origQty:decimal executedQty:decimal origQuoteOrderQty:decimal "
    "cummulativeQuoteQty:decimal status:str timeInForce:str type:str side:str "
    "workingTime:int selfTradePreventionMode:str"
)
ORDER_FULL = ORDER_RESULT + fields("fills:list")
FILL = fields(
    "price:decimal qty:decimal commission:decimal commissionAsset:str tradeId:int"
)
CANCEL_REPLACE = fields(
    "cancelResult:str newOrderResult:str cancelResponse:object newOrderResponse:object"
)
CANCEL_REPLACE_ERROR = fields("code:int msg:str data:object")
ACCOUNT = fields(
    "makerCommission:int takerCommission:int buyerCommission:int "
    "sellerCommission:int commissionRates:object canTrade:bool canWithdraw:bool "
    "canDeposit:bool brokered:bool requireSelfTradePrevention:bool preventSor:bool "
    "updateTime:int accountType:str balances:list permissions:list uid:int"
)
COMMISSION_RATES = fields("maker:decimal taker:decimal buyer:decimal seller:decimal")
BALANCE = fields("asset:str free:decimal locked:decimal")
MY_TRADE = fields(
    "symbol:str id:int orderId:int orderListId:int price:decimal qty:decimal "
    "quoteQty:decimal commission:decimal commissionAsset:str time:int "
    "isBuyer:bool isMaker:bool isBestMatch:bool"
)
ORDER_COUNT = RATE_LIMIT + fields("count:int")
ERROR = fields("code:int msg:str")


@pytest.fixture
def market(trader):
    """Two traders and a trade on BTCUSDT, with a bid and an ask left resting."""
    seller = trader(BTC="1", USDT="1000")
    buyer = trader(USDT="10000")
    assert (
        seller.order(side="SELL", price="60000", newClientOrderId="ask").status == 200
    )
    taker = buyer.order(quantity="0.005", price="60000", newClientOrderId="taker")
    assert taker.status == 200 and taker.body["status"] == "FILLED"
    assert buyer.order(price="59000", newClientOrderId="bid").status == 200
    return seller, buyer


def test_market_data_answers_binance_fields(market):
    assert public("ping").body == {}
    assert shape(public("time").body) == fields("serverTime:int")

    depth = public("depth", {"symbol": "BTCUSDT"}).body
    assert shape(depth) == DEPTH
    for level in depth["bids"] + depth["asks"]:
        assert [kind(x) for x in level] == ["decimal", "decimal"]
    assert depth["bids"] == [["59000.00000000", "0.01000000"]]
    assert depth["asks"] == [["60000.00000000", "0.00500000"]]

    for path in ("trades", "historicalTrades"):
        body = public(path, {"symbol": "BTCUSDT"}).body
        assert [shape(t) for t in body] == [TRADE], path
    assert [shape(a) for a in public("aggTrades", {"symbol": "BTCUSDT"}).body] == [
        AGG_TRADE
    ]
    for path in ("klines", "uiKlines"):
        rows = public(path, {"symbol": "BTCUSDT", "interval": "1m"}).body
        assert [[kind(x) for x in row] for row in rows] == [KLINE], path
        assert rows[0][-1] == "0"
    assert shape(public("avgPrice", {"symbol": "BTCUSDT"}).body) == AVG_PRICE

    one = {"symbol": "BTCUSDT"}
    two = {"symbols": '["BTCUSDT","ETHUSDT"]'}
    for path, full, mini in [
        ("ticker/24hr", TICKER_24HR, TICKER_MINI),
        ("ticker", TICKER_ROLLING, TICKER_MINI),
    ]:
        assert shape(public(path, one).body) == full, path
        assert [shape(t) for t in public(path, two).body] == [full] * 2, path
        assert shape(public(path, {**one, "type": "MINI"}).body) == mini, path
        mini_list = public(path, {**two, "type": "MINI"}).body
        assert [shape(t) for t in mini_list] == [mini] * 2, path
    all_24hr = public("ticker/24hr").body
    assert [shape(t) for t in all_24hr] == [TICKER_24HR] * 3
    for path, expected in [
        ("ticker/price", TICKER_PRICE),
        ("ticker/bookTicker", BOOK_TICKER),
    ]:
        assert shape(public(path, one).body) == expected, path
        assert [shape(t) for t in public(path, two).body] == [expected] * 2, path
        assert [shape(t) for t in public(path).body] == [expected] * 3, path


def test_account_endpoints_answer_binance_fields(market):
    seller, buyer = market
    for response_type, expected in [
        ("ACK", ORDER_ACK),
        ("RESULT", ORDER_RESULT),
        ("FULL", ORDER_FULL),
    ]:
        placed = buyer.order(price="58000", newOrderRespType=response_type)
        assert shape(placed.body) == expected, response_type
    full = buyer.order(quantity="0.005", price="60000", newClientOrderId="taker-2")
    assert shape(full.body) == ORDER_FULL
    assert [shape(f) for f in full.body["fills"]] == [FILL]
    # LIMIT_MAKER answers ACK unless asked otherwise, as on Binance.
    maker = seller.api.post(
        "order",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "LIMIT_MAKER",
            "quantity": "0.001",
            "price": "65000",
        },
    )
    assert shape(maker.body) == ORDER_ACK

    replaced = seller.api.post(
        "order/cancelReplace",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.001",
            "price": "66000",
            "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrderId": maker.body["orderId"],
        },
    )
    assert shape(replaced.body) == CANCEL_REPLACE
    assert shape(replaced.body["cancelResponse"]) == ORDER_CANCELLED
    assert shape(replaced.body["newOrderResponse"]) == ORDER_FULL
    failed = seller.api.post(
        "order/cancelReplace",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "MARKET",
            "quantity": "0.001",
            "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrderId": 999,
        },
    )
    assert shape(failed.body) == CANCEL_REPLACE_ERROR
    assert shape(failed.body["data"]) == fields(
        "cancelResult:str newOrderResult:str cancelResponse:object "
        "newOrderResponse:null"
    )
    assert shape(failed.body["data"]["cancelResponse"]) == ERROR

    account = buyer.api.get("account").body
    assert shape(account) == ACCOUNT
    assert shape(account["commissionRates"]) == COMMISSION_RATES
    assert [shape(b) for b in account["balances"]] == [BALANCE] * 2
    assert account["permissions"] == ["SPOT"] and account["accountType"] == "SPOT"

    trades = buyer.api.get("myTrades", {"symbol": "BTCUSDT"}).body
    assert [shape(t) for t in trades] == [MY_TRADE] * 2

    counts = buyer.api.get("rateLimit/order").body
    assert [shape(c) for c in counts] == [ORDER_COUNT] * 2
    assert [(c["interval"], c["intervalNum"]) for c in counts] == [
        ("SECOND", 10),
        ("DAY", 1),
    ]


def test_errors_answer_code_and_msg_only(market):
    seller, _ = market
    for response in (
        public("depth", {"symbol": "NOPE"}),
        public("nope"),
        seller.api.get("order", {"symbol": "BTCUSDT", "orderId": 999}),
        seller.api.get("account", signature="0" * 64),
    ):
        assert shape(response.body) == ERROR
