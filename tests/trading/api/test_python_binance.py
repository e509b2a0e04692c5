"""End to end: a real server driven by the unmodified python-binance client, only
its base URL pointed at us."""

import warnings
from decimal import Decimal

import pytest

from accounts import services as account_services
from tests.factories import funded_user
from tests.trading.api.conftest import API_DB, now_ms

with warnings.catch_warnings():
    # The client imports websocket modules that warn about their own deprecations.
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance.client import Client
    from binance.exceptions import BinanceAPIException

pytestmark = [pytest.mark.e2e, API_DB]


def binance_client(live_server, user) -> Client:
    key, secret = account_services.apikey_create(
        user_id=user.id, permissions=["read", "trade"]
    )
    client = Client(key.key, secret, ping=False)
    client.API_URL = live_server.url + "/api"
    return client


def balances(client: Client) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        b["asset"]: (Decimal(b["free"]), Decimal(b["locked"]))
        for b in client.get_account()["balances"]
    }


def test_python_binance_trades_against_the_exchange(live_server, symbols):
    seller_user = funded_user(BTC="1")
    buyer_user = funded_user(USDT="10000")
    seller = binance_client(live_server, seller_user)
    buyer = binance_client(live_server, buyer_user)

    # Public market data.
    seller.ping()
    assert abs(seller.get_server_time()["serverTime"] - now_ms()) < 60_000
    info = seller.get_exchange_info()
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHBTC", "ETHUSDT"]
    btcusdt = seller.get_symbol_info("BTCUSDT")
    filters = {f["filterType"]: f for f in btcusdt["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert seller.get_order_book(symbol="BTCUSDT") == {
        "lastUpdateId": 0,
        "bids": [],
        "asks": [],
    }
    assert (
        seller.get_klines(symbol="BTCUSDT", interval=Client.KLINE_INTERVAL_1MINUTE)
        == []
    )

    # A LIMIT GTC that rests: place, query, cancel.
    resting = buyer.order_limit_buy(
        symbol="BTCUSDT", quantity="0.01", price="50000", newClientOrderId="rest-1"
    )
    assert (resting["status"], resting["fills"]) == ("NEW", [])
    assert resting["clientOrderId"] == "rest-1"
    queried = buyer.get_order(symbol="BTCUSDT", orderId=resting["orderId"])
    assert (queried["status"], queried["price"], queried["origQty"]) == (
        "NEW",
        "50000.00000000",
        "0.01000000",
    )
    assert buyer.get_order_book(symbol="BTCUSDT", limit=5)["bids"] == [
        ["50000.00000000", "0.01000000"]
    ]
    assert [o["orderId"] for o in buyer.get_open_orders(symbol="BTCUSDT")] == [
        resting["orderId"]
    ]
    assert balances(buyer)["USDT"] == (Decimal(9500), Decimal(500))
    cancelled = buyer.cancel_order(symbol="BTCUSDT", orderId=resting["orderId"])
    assert cancelled["status"] == "CANCELED"
    assert cancelled["origClientOrderId"] == "rest-1"
    assert buyer.get_open_orders(symbol="BTCUSDT") == []
    assert balances(buyer)["USDT"] == (Decimal(10000), Decimal(0))

    # Two users' orders cross: the seller rests (maker), the buyer takes.
    maker = seller.create_order(
        symbol="BTCUSDT",
        side=Client.SIDE_SELL,
        type=Client.ORDER_TYPE_LIMIT,
        timeInForce=Client.TIME_IN_FORCE_GTC,
        quantity="0.00777",
        price="61234.57",
    )
    assert maker["status"] == "NEW"
    taker = buyer.create_order(
        symbol="BTCUSDT",
        side=Client.SIDE_BUY,
        type=Client.ORDER_TYPE_LIMIT,
        timeInForce=Client.TIME_IN_FORCE_GTC,
        quantity="0.01",
        price="62000",
        newOrderRespType=Client.ORDER_RESP_TYPE_FULL,
    )
    # 0.00777 BTC at the maker's price; 0.1% fees, rounded down to 8 places:
    # the buyer pays 0.00000777 BTC, the seller 0.475792608... -> 0.47579260 USDT.
    assert taker["status"] == "PARTIALLY_FILLED"
    assert taker["executedQty"] == "0.00777000"
    assert taker["cummulativeQuoteQty"] == "475.79260890"
    assert taker["fills"] == [
        {
            "price": "61234.57000000",
            "qty": "0.00777000",
            "commission": "0.00000777",
            "commissionAsset": "BTC",
            "tradeId": 1,
        }
    ]
    maker_now = seller.get_order(symbol="BTCUSDT", orderId=maker["orderId"])
    assert (maker_now["status"], maker_now["executedQty"]) == ("FILLED", "0.00777000")

    [bought] = buyer.get_my_trades(symbol="BTCUSDT")
    assert (bought["isBuyer"], bought["isMaker"]) == (True, False)
    assert (bought["commission"], bought["commissionAsset"]) == ("0.00000777", "BTC")
    [sold] = seller.get_my_trades(symbol="BTCUSDT")
    assert (sold["isBuyer"], sold["isMaker"]) == (False, True)
    assert (sold["commission"], sold["commissionAsset"]) == ("0.47579260", "USDT")
    assert sold["quoteQty"] == "475.79260890"

    # The rest of the buy (0.00223 BTC at 62000 = 138.26 USDT) stays locked.
    assert balances(buyer) == {
        "BTC": (Decimal("0.00776223"), Decimal(0)),
        "USDT": (Decimal("9385.9473911"), Decimal("138.26")),
    }
    assert balances(seller) == {
        "BTC": (Decimal("0.99223"), Decimal(0)),
        "USDT": (Decimal("475.3168163"), Decimal(0)),
    }

    # Market data now shows the trade.
    [trade] = seller.get_recent_trades(symbol="BTCUSDT")
    assert (trade["price"], trade["qty"], trade["isBuyerMaker"]) == (
        "61234.57000000",
        "0.00777000",
        False,
    )
    [aggregate] = seller.get_aggregate_trades(symbol="BTCUSDT")
    assert (aggregate["a"], aggregate["q"]) == (1, "0.00777000")
    [kline] = seller.get_klines(
        symbol="BTCUSDT", interval=Client.KLINE_INTERVAL_1MINUTE
    )
    assert kline[1:6] == [
        "61234.57000000",
        "61234.57000000",
        "61234.57000000",
        "61234.57000000",
        "0.00777000",
    ]
    assert kline[8] == 1
    ticker = seller.get_ticker(symbol="BTCUSDT")
    assert (ticker["lastPrice"], ticker["volume"], ticker["count"]) == (
        "61234.57000000",
        "0.00777000",
        1,
    )
    assert ticker["bidPrice"] == "62000.00000000"
    assert seller.get_symbol_ticker(symbol="BTCUSDT") == {
        "symbol": "BTCUSDT",
        "price": "61234.57000000",
    }
    assert seller.get_orderbook_ticker(symbol="BTCUSDT") == {
        "symbol": "BTCUSDT",
        "bidPrice": "62000.00000000",
        "bidQty": "0.00223000",
        "askPrice": "0.00000000",
        "askQty": "0.00000000",
    }
    assert seller.get_avg_price(symbol="BTCUSDT")["price"] == "61234.57000000"
    book = seller.get_order_book(symbol="BTCUSDT")
    assert book["bids"] == [["62000.00000000", "0.00223000"]]
    assert book["lastUpdateId"] == 4

    # Refusals come back as BinanceAPIException with Binance's code.
    with pytest.raises(BinanceAPIException) as refused:
        buyer.order_limit_buy(symbol="BTCUSDT", quantity="1", price="62000")
    assert (refused.value.status_code, refused.value.code) == (400, -2010)
    with pytest.raises(BinanceAPIException) as unknown:
        buyer.get_order(symbol="BTCUSDT", orderId=999)
    assert unknown.value.code == -2013

    # What is left can be cancelled in one call.
    [left] = buyer.cancel_all_open_orders(symbol="BTCUSDT")
    assert (left["orderId"], left["status"]) == (taker["orderId"], "CANCELED")
    assert balances(buyer)["USDT"] == (Decimal("9524.2073911"), Decimal(0))
