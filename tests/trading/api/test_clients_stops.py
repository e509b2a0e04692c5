"""End to end: stop orders and OCO lists from unmodified client libraries
(python-binance, ccxt) against a served stack, only their base URL pointed at us."""

import warnings
from decimal import Decimal

import pytest

from accounts import services as account_services
from tests.factories import funded_user
from tests.trading.api.conftest import API_DB
from tests.trading.api.test_python_binance import balances, binance_client

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance.client import Client

pytestmark = [pytest.mark.e2e, API_DB]


def last_trade_at(client: Client, price: str) -> None:
    """Print a trade so that stops have a last price to be held against."""
    seller = binance_client_for(client, funded_user(BTC="1"))
    buyer = binance_client_for(client, funded_user(USDT="100000"))
    seller.order_limit_sell(symbol="BTCUSDT", quantity="0.001", price=price)
    trade = buyer.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=price)
    assert trade["status"] == "FILLED"


def binance_client_for(client: Client, user) -> Client:
    key, secret = account_services.apikey_create(
        user_id=user.id, permissions=["read", "trade"]
    )
    other = Client(key.key, secret, ping=False)
    other.API_URL = client.API_URL
    return other


def test_python_binance_create_oco_order(live_server, symbols):
    owner = funded_user(BTC="1")
    client = binance_client(live_server, owner)
    last_trade_at(client, "60000")
    placed = client.create_oco_order(
        symbol="BTCUSDT",
        side=Client.SIDE_SELL,
        quantity="0.5",
        aboveType="LIMIT_MAKER",
        abovePrice="62000",
        belowType="STOP_LOSS_LIMIT",
        belowStopPrice="59000",
        belowPrice="58500",
        belowTimeInForce=Client.TIME_IN_FORCE_GTC,
        listClientOrderId="protect-1",
    )
    assert placed["contingencyType"] == "OCO"
    assert placed["listClientOrderId"] == "protect-1"
    assert [r["type"] for r in placed["orderReports"]] == [
        "STOP_LOSS_LIMIT",
        "LIMIT_MAKER",
    ]
    assert balances(client)["BTC"] == (Decimal("0.5"), Decimal("0.5"))
    [open_list] = client.get_open_oco_orders()
    assert open_list["orderListId"] == placed["orderListId"]

    # The price falls through the stop: the stop leg sells, the limit leg expires.
    buyer = binance_client_for(client, funded_user(USDT="100000"))
    buyer.order_limit_buy(symbol="BTCUSDT", quantity="0.5", price="58600")
    last_trade_at(client, "59000")
    legs = {
        r["type"]: client.get_order(symbol="BTCUSDT", orderId=r["orderId"])
        for r in placed["orderReports"]
    }
    assert legs["STOP_LOSS_LIMIT"]["status"] == "FILLED"
    assert legs["LIMIT_MAKER"]["status"] == "EXPIRED"
    assert client.get_open_oco_orders() == []
    assert balances(client)["BTC"] == (Decimal("0.5"), Decimal(0))


ccxt = pytest.importorskip("ccxt")


def ccxt_client(live_server, user):
    key, secret = account_services.apikey_create(
        user_id=user.id, permissions=["read", "trade"]
    )
    exchange = ccxt.binance(
        {
            "apiKey": key.key,
            "secret": secret,
            "options": {
                "fetchCurrencies": False,
                "fetchMargins": False,
                "fetchMarkets": {"types": ["spot"]},
                "defaultType": "spot",
            },
        }
    )
    # Every API family at us: nothing may leave the machine.
    base = live_server.url + "/api/v3"
    for name in exchange.urls["api"]:
        exchange.urls["api"][name] = base
    return exchange


@pytest.mark.parametrize("param", ["stopPrice", "triggerPrice"])
def test_ccxt_create_order_with_a_trigger_price(live_server, symbols, param):
    owner = funded_user(BTC="1")
    exchange = ccxt_client(live_server, owner)
    last_trade_at(binance_client(live_server, owner), "60000")
    exchange.load_markets()
    order = exchange.create_order(
        "BTC/USDT", "limit", "sell", 0.2, 58500, {param: 59000}
    )
    assert order["info"]["type"] == "STOP_LOSS_LIMIT"
    fetched = exchange.fetch_order(order["id"], "BTC/USDT")
    assert fetched["status"] == "open"
    assert Decimal(fetched["info"]["stopPrice"]) == Decimal(59000)
    assert fetched["info"]["isWorking"] is False
    exchange.cancel_order(order["id"], "BTC/USDT")
    assert exchange.fetch_order(order["id"], "BTC/USDT")["status"] == "canceled"
