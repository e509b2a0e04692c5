"""The served OpenAPI schema, tightened from the test side.

drf-spectacular describes every /api/v3 answer as a bare ``object`` and documents no
refusal at all, so a fuzzer could only check that nothing answered 500. This module
takes the schema the app serves and adds, without touching any view:

- the refusal every endpoint may answer, Binance's ``{"code": <negative>, "msg"}``
  with a 4xx status;
- the real shape of each /api/v3 answer (arrays where the view returns arrays,
  decimals as strings, the fields Binance's clients read);
- the real grammar of Binance parameters (decimal and client-id patterns, id and
  limit bounds, the enums the views check), so that generated values reach the
  services instead of being refused at the first parameter;
- the three demo symbols as the only symbols, for the same reason.

``docs/security.md`` lists these as the schema changes the views should make.
"""

from __future__ import annotations

import copy

# Binance's parameter grammar, as trading/params.py enforces it.
DECIMAL_PARAM = {"type": "string", "pattern": r"^([0-9]{1,20})(\.[0-9]{1,20})?$"}
CLIENT_ID_PARAM = {"type": "string", "pattern": r"^[a-zA-Z0-9_-]{1,36}$"}
INT64_MAX = (1 << 63) - 1
ID_PARAM = {"type": "integer", "format": "int64", "minimum": 0, "maximum": INT64_MAX}
TIME_PARAM = {"type": "integer", "format": "int64", "minimum": 0, "maximum": INT64_MAX}
# Larger limits are cut to the endpoint's maximum, as on Binance.
LIMIT_PARAM = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
SYMBOLS = ["BTCUSDT", "ETHUSDT", "ETHBTC"]
SYMBOL_PARAM = {"type": "string", "enum": SYMBOLS}
_QUOTED = r'\s*"(BTCUSDT|ETHUSDT|ETHBTC)"\s*'
# A JSON array of them (JSON allows blanks around the items).
SYMBOLS_PARAM = {
    "type": "string",
    "pattern": rf"^\s*\[{_QUOTED}(,{_QUOTED}){{0,2}}\]\s*$",
}
WINDOW_SIZE_PARAM = {
    "type": "string",
    "pattern": r"^(([1-9]|[1-5][0-9])m|([1-9]|1[0-9]|2[0-3])h|[1-7]d)$",
}

PARAMETERS: dict[str, dict] = {
    "symbol": SYMBOL_PARAM,
    "symbols": SYMBOLS_PARAM,
    "quantity": DECIMAL_PARAM,
    "quoteOrderQty": DECIMAL_PARAM,
    "price": DECIMAL_PARAM,
    "newClientOrderId": CLIENT_ID_PARAM,
    "origClientOrderId": CLIENT_ID_PARAM,
    "cancelOrigClientOrderId": CLIENT_ID_PARAM,
    "cancelNewClientOrderId": CLIENT_ID_PARAM,
    "orderId": ID_PARAM,
    "cancelOrderId": ID_PARAM,
    "fromId": ID_PARAM,
    "startTime": TIME_PARAM,
    "endTime": TIME_PARAM,
    "limit": LIMIT_PARAM,
    "windowSize": WINDOW_SIZE_PARAM,
    "stopPrice": DECIMAL_PARAM,
    "newQty": DECIMAL_PARAM,
    "orderListId": ID_PARAM,
    "fromExecutionId": ID_PARAM,
    "listClientOrderId": CLIENT_ID_PARAM,
    "type": None,  # an order type on order endpoints, FULL/MINI on tickers
    "timeZone": {"type": "string", "enum": ["0", "+0", "0:00", "+00:00"]},
}
TICKER_TYPE_PARAM = {"type": "string", "enum": ["FULL", "MINI"]}
# Added by the signer, never generated.
SIGNING_PARAMETERS = {"timestamp", "recvWindow", "signature"}

# --- Response shapes -------------------------------------------------------------

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}

ERROR = {
    "type": "object",
    "required": ["code", "msg"],
    "properties": {"code": {"type": "integer", "maximum": -1}, "msg": STR},
}


def obj(**fields) -> dict:
    return {"type": "object", "required": list(fields), "properties": fields}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


PRICE_LEVEL = {
    "type": "array",
    "items": DECIMAL,
    "minItems": 2,
    "maxItems": 2,
}
TRADE = obj(
    id=INT,
    price=DECIMAL,
    qty=DECIMAL,
    quoteQty=DECIMAL,
    time=INT,
    isBuyerMaker=BOOL,
    isBestMatch=BOOL,
)
AGG_TRADE = obj(a=INT, p=DECIMAL, q=DECIMAL, f=INT, l=INT, T=INT, m=BOOL, M=BOOL)
# Open time, OHLC, volume, close time, quote volume, trades, taker volumes, "0".
KLINE = {
    "type": "array",
    "minItems": 12,
    "maxItems": 12,
    "items": {"anyOf": [INT, DECIMAL]},
}
TICKER_MINI = obj(
    symbol=STR,
    openPrice=DECIMAL,
    highPrice=DECIMAL,
    lowPrice=DECIMAL,
    lastPrice=DECIMAL,
    volume=DECIMAL,
    quoteVolume=DECIMAL,
    openTime=INT,
    closeTime=INT,
    firstId=INT,
    lastId=INT,
    count=INT,
)
PRICE_TICKER = obj(symbol=STR, price=DECIMAL)
BOOK_TICKER = obj(
    symbol=STR, bidPrice=DECIMAL, bidQty=DECIMAL, askPrice=DECIMAL, askQty=DECIMAL
)


def one_or_many(item: dict) -> dict:
    """Tickers: an object for ``symbol``, an array for ``symbols`` or none."""
    return {"oneOf": [item, array(item)]}


ORDER_STATUS = {
    "type": "string",
    "enum": ["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED", "REJECTED"],
}
ORDER_CORE = dict(
    price=DECIMAL,
    origQty=DECIMAL,
    executedQty=DECIMAL,
    cummulativeQuoteQty=DECIMAL,
    status=ORDER_STATUS,
    timeInForce=STR,
    type={"type": "string", "enum": ["LIMIT", "MARKET", "LIMIT_MAKER"]},
    side={"type": "string", "enum": ["BUY", "SELL"]},
)
ORDER_ACK = dict(symbol=STR, orderId=INT, orderListId=INT, clientOrderId=STR)
ORDER_QUERY = obj(
    **ORDER_ACK,
    **ORDER_CORE,
    stopPrice=DECIMAL,
    icebergQty=DECIMAL,
    time=INT,
    updateTime=INT,
    isWorking=BOOL,
    workingTime=INT,
    origQuoteOrderQty=DECIMAL,
    selfTradePreventionMode=STR,
)
ORDER_CANCELLED = obj(
    symbol=STR,
    origClientOrderId=STR,
    orderId=INT,
    orderListId=INT,
    clientOrderId=STR,
    transactTime=INT,
    **ORDER_CORE,
    selfTradePreventionMode=STR,
)
FILL = obj(
    price=DECIMAL, qty=DECIMAL, commission=DECIMAL, commissionAsset=STR, tradeId=INT
)
# ACK, RESULT or FULL, as newOrderRespType asks: the ACK fields are always there.
ORDER_PLACED = {
    "type": "object",
    "required": [*ORDER_ACK, "transactTime"],
    "properties": {
        **ORDER_ACK,
        "transactTime": INT,
        **ORDER_CORE,
        "workingTime": INT,
        "selfTradePreventionMode": STR,
        "fills": array(FILL),
    },
}
MY_TRADE = obj(
    symbol=STR,
    id=INT,
    orderId=INT,
    orderListId=INT,
    price=DECIMAL,
    qty=DECIMAL,
    quoteQty=DECIMAL,
    commission=DECIMAL,
    commissionAsset=STR,
    time=INT,
    isBuyer=BOOL,
    isMaker=BOOL,
    isBestMatch=BOOL,
)
COMMISSION = obj(maker=DECIMAL, taker=DECIMAL)
TEST_ORDER = {
    "anyOf": [
        {"type": "object", "maxProperties": 0},
        obj(
            standardCommissionForOrder=COMMISSION,
            specialCommissionForOrder=COMMISSION,
            taxCommissionForOrder=COMMISSION,
            discount={"type": "object"},
        ),
    ]
}
RATE_LIMIT = obj(rateLimitType=STR, interval=STR, intervalNum=INT, limit=INT, count=INT)
ACCOUNT = obj(
    makerCommission=INT,
    takerCommission=INT,
    commissionRates=obj(maker=DECIMAL, taker=DECIMAL, buyer=DECIMAL, seller=DECIMAL),
    canTrade=BOOL,
    canWithdraw=BOOL,
    canDeposit=BOOL,
    updateTime=INT,
    accountType=STR,
    balances=array(obj(asset=STR, free=DECIMAL, locked=DECIMAL)),
    permissions=array(STR),
    uid=INT,
)
FILTER = {"type": "object", "required": ["filterType"]}
EXCHANGE_INFO = obj(
    timezone=STR,
    serverTime=INT,
    rateLimits=array(obj(rateLimitType=STR, interval=STR, intervalNum=INT, limit=INT)),
    exchangeFilters=array({"type": "object"}),
    symbols=array(
        obj(
            symbol=STR,
            status={"type": "string", "enum": ["TRADING", "HALT", "BREAK"]},
            baseAsset=STR,
            quoteAsset=STR,
            baseAssetPrecision=INT,
            quoteAssetPrecision=INT,
            orderTypes=array(STR),
            filters=array(FILTER),
            permissionSets=array(array(STR)),
        )
    ),
)
CANCEL_REPLACE = obj(
    cancelResult={"type": "string", "enum": ["SUCCESS", "FAILURE"]},
    newOrderResult={"type": "string", "enum": ["SUCCESS", "FAILURE", "NOT_ATTEMPTED"]},
    cancelResponse={"oneOf": [ORDER_CANCELLED, ERROR]},
    newOrderResponse={
        "anyOf": [
            ORDER_PLACED,
            ERROR,
            {"type": "object", "nullable": True, "maxProperties": 0},
        ]
    },
)

LIST_STATUS = obj(
    orderListId=INT,
    contingencyType={"type": "string", "enum": ["OCO", "OTO"]},
    listStatusType={"type": "string", "enum": ["EXEC_STARTED", "ALL_DONE"]},
    listOrderStatus={"type": "string", "enum": ["EXECUTING", "ALL_DONE"]},
    listClientOrderId=STR,
    transactionTime=INT,
    symbol=STR,
    orders=array(obj(symbol=STR, orderId=INT, clientOrderId=STR)),
)
AMENDMENT = obj(
    symbol=STR,
    orderId=INT,
    executionId=INT,
    origClientOrderId=STR,
    newClientOrderId=STR,
    origQty=DECIMAL,
    newQty=DECIMAL,
    time=INT,
)

V3_RESPONSES: dict[tuple[str, str], dict] = {
    ("get", "/api/v3/ping"): {"type": "object", "maxProperties": 0},
    ("get", "/api/v3/time"): obj(serverTime=INT),
    ("get", "/api/v3/exchangeInfo"): EXCHANGE_INFO,
    ("get", "/api/v3/depth"): obj(
        lastUpdateId=INT, bids=array(PRICE_LEVEL), asks=array(PRICE_LEVEL)
    ),
    ("get", "/api/v3/trades"): array(TRADE),
    ("get", "/api/v3/historicalTrades"): array(TRADE),
    ("get", "/api/v3/aggTrades"): array(AGG_TRADE),
    ("get", "/api/v3/klines"): array(KLINE),
    ("get", "/api/v3/uiKlines"): array(KLINE),
    ("get", "/api/v3/avgPrice"): obj(mins=INT, price=DECIMAL, closeTime=INT),
    ("get", "/api/v3/ticker/24hr"): one_or_many(TICKER_MINI),
    ("get", "/api/v3/ticker"): one_or_many(TICKER_MINI),
    ("get", "/api/v3/ticker/price"): one_or_many(PRICE_TICKER),
    ("get", "/api/v3/ticker/bookTicker"): one_or_many(BOOK_TICKER),
    ("post", "/api/v3/order"): ORDER_PLACED,
    ("get", "/api/v3/order"): ORDER_QUERY,
    ("delete", "/api/v3/order"): ORDER_CANCELLED,
    ("post", "/api/v3/order/test"): TEST_ORDER,
    ("post", "/api/v3/order/cancelReplace"): CANCEL_REPLACE,
    ("get", "/api/v3/openOrders"): array(ORDER_QUERY),
    ("delete", "/api/v3/openOrders"): array(ORDER_CANCELLED),
    ("get", "/api/v3/allOrders"): array(ORDER_QUERY),
    ("get", "/api/v3/myTrades"): array(MY_TRADE),
    ("get", "/api/v3/account"): ACCOUNT,
    ("get", "/api/v3/rateLimit/order"): array(RATE_LIMIT),
    ("post", "/api/v3/order/oco"): LIST_STATUS,
    ("post", "/api/v3/orderList/oco"): LIST_STATUS,
    ("post", "/api/v3/orderList/oto"): LIST_STATUS,
    ("post", "/api/v3/orderList/otoco"): LIST_STATUS,
    ("get", "/api/v3/orderList"): LIST_STATUS,
    ("delete", "/api/v3/orderList"): LIST_STATUS,
    ("get", "/api/v3/allOrderList"): array(LIST_STATUS),
    ("get", "/api/v3/openOrderList"): array(LIST_STATUS),
    ("put", "/api/v3/order/amend/keepPriority"): obj(
        transactTime=INT, executionId=INT, amendedOrder={"type": "object"}
    ),
    ("get", "/api/v3/order/amendments"): array(AMENDMENT),
}
# A refusal: Binance's shape; cancelReplace adds the two halves under "data".
REFUSAL = {
    "description": "A refusal in Binance's shape.",
    "content": {"application/json": {"schema": ERROR}},
}


# An optional parameter sent empty (``?symbol=``) counts as not sent.
EMPTY = {"type": "string", "enum": [""]}


def _json_response(schema: dict) -> dict:
    return {"description": "", "content": {"application/json": {"schema": schema}}}


def _parameter_schema(path: str, name: str, current: dict) -> dict | None:
    if name == "type":
        if path.startswith("/api/v3/ticker"):
            return TICKER_TYPE_PARAM
        return None
    return PARAMETERS.get(name)


def refined(raw: dict, *, signed: bool = False, only: list[str] | None = None) -> dict:
    """A copy of the served schema with the shapes above. ``signed``: the variant
    for Binance-signed requests, whose signing parameters the signer adds.
    ``only``: keep just these operations ("GET /api/v3/account")."""
    schema = copy.deepcopy(raw)
    if only is not None:
        for path, operations in schema["paths"].items():
            for method in [m for m in operations if f"{m.upper()} {path}" not in only]:
                del operations[method]
        schema["paths"] = {p: ops for p, ops in schema["paths"].items() if ops}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            kept = []
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if parameter["in"] == "query" and name in SIGNING_PARAMETERS:
                    # The JWT variant sends none; the signed variant computes them.
                    continue
                better = _parameter_schema(path, name, parameter["schema"])
                if better is not None:
                    parameter["schema"] = copy.deepcopy(better)
                if parameter["in"] == "query" and not parameter.get("required"):
                    parameter["schema"] = {"anyOf": [parameter["schema"], EMPTY]}
                kept.append(parameter)
            operation["parameters"] = kept
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                # A form or multipart body cannot carry what negative cases are
                # made of (an object where the schema wants a string, in an
                # array): the encoder drops it, a valid request goes out, and
                # its acceptance was reported as a failure. JSON carries the
                # case as made; the other encodings reach the same serializer.
                operation["requestBody"]["content"] = {
                    "application/json": content["application/json"]
                }
            if any("binanceSigned" in item for item in operation.get("security", [])):
                chosen = "binanceSigned" if signed else "jwtAuth"
                operation["security"] = [{chosen: []}]
            shape = V3_RESPONSES.get((method, path))
            if shape is not None:
                success = next(c for c in operation["responses"] if c.startswith("2"))
                operation["responses"][success] = _json_response(shape)
            operation["responses"]["4XX"] = copy.deepcopy(REFUSAL)
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            _numbers_as_strings(component)
    return schema


def _numbers_as_strings(node: dict) -> None:
    """DRF's CharField takes a JSON number for a string and keeps its text (an int
    label 7 becomes "7"): say so, for the string fields of request bodies."""
    for key in ("properties",):
        for name, child in list(node.get(key, {}).items()):
            if _plain_string(child):
                node[key][name] = {"anyOf": [child, {"type": "number"}]}
            else:
                _numbers_as_strings(child)
    items = node.get("items")
    if isinstance(items, dict):
        if _plain_string(items):
            node["items"] = {"anyOf": [items, {"type": "number"}]}
        else:
            _numbers_as_strings(items)


def _plain_string(node: dict) -> bool:
    return node.get("type") == "string" and "enum" not in node and "format" not in node
