"""End to end: stop orders and OCO lists from unmodified client libraries
(python-binance, ccxt, Binance's binance-sdk-spot) against a served stack, only
their base URL pointed at us."""

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


def test_binance_sdk_order_list_oco(live_server, symbols):
    spot = pytest.importorskip("binance_sdk_spot.spot")
    configuration = pytest.importorskip("binance_common.configuration")
    owner = funded_user(BTC="1")
    client = binance_client(live_server, owner)
    last_trade_at(client, "60000")
    key, secret = account_services.apikey_create(
        user_id=owner.id, permissions=["read", "trade"]
    )
    # Binance's SDK, unmodified but for its base URL; its REST client retries
    # and waits on errors, so none here.
    sdk = spot.Spot(
        config_rest_api=configuration.ConfigurationRestAPI(
            api_key=key.key,
            api_secret=secret,
            base_path=live_server.url,
            timeout=10_000,
            retries=0,
        )
    ).rest_api

    placed = sdk.order_list_oco(
        symbol="BTCUSDT",
        side="SELL",
        quantity=0.5,
        above_type="LIMIT_MAKER",
        above_price=62000.0,
        below_type="STOP_LOSS_LIMIT",
        below_stop_price=59000.0,
        below_price=58500.0,
        below_time_in_force="GTC",
        list_client_order_id="sdk-oco-1",
    ).data()
    assert (placed.contingency_type, placed.list_client_order_id) == (
        "OCO",
        "sdk-oco-1",
    )
    assert (placed.list_status_type, placed.list_order_status) == (
        "EXEC_STARTED",
        "EXECUTING",
    )
    stop, limit = placed.order_reports
    assert (stop.type, stop.stop_price, stop.price, stop.working_time) == (
        "STOP_LOSS_LIMIT",
        "59000.00000000",
        "58500.00000000",
        -1,
    )
    assert (limit.type, limit.price, limit.status) == (
        "LIMIT_MAKER",
        "62000.00000000",
        "NEW",
    )
    assert {r.order_list_id for r in placed.order_reports} == {placed.order_list_id}
    leg_ids = [o.order_id for o in placed.orders]
    assert leg_ids == [stop.order_id, limit.order_id]
    assert balances(client)["BTC"] == (Decimal("0.5"), Decimal("0.5"))

    seen = sdk.get_order_list(order_list_id=placed.order_list_id).data()
    assert (seen.order_list_id, seen.list_client_order_id) == (
        placed.order_list_id,
        "sdk-oco-1",
    )
    assert (seen.list_status_type, seen.list_order_status) == (
        "EXEC_STARTED",
        "EXECUTING",
    )
    assert [o.order_id for o in seen.orders] == leg_ids

    cancelled = sdk.delete_order_list(
        symbol="BTCUSDT", order_list_id=placed.order_list_id
    ).data()
    assert (cancelled.list_status_type, cancelled.list_order_status) == (
        "ALL_DONE",
        "ALL_DONE",
    )
    assert [(r.order_id, r.status) for r in cancelled.order_reports] == [
        (leg_ids[0], "CANCELED"),
        (leg_ids[1], "CANCELED"),
    ]
    done = sdk.get_order_list(orig_client_order_id="sdk-oco-1").data()
    assert (done.order_list_id, done.list_status_type) == (
        placed.order_list_id,
        "ALL_DONE",
    )
    assert balances(client)["BTC"] == (Decimal("1"), Decimal(0))
