"""End to end with ccxt.pro (ccxt 4.5.90), unmodified but for its URLs and the
spot-only options: watchOrderBook keeps its nonce check across a burst of random
orders and ends equal to /api/v3/depth; watchTrades and watchOHLCV deliver;
watchOrders and watchBalance receive the account's events through the WebSocket
API's userDataStream.subscribe.signature."""

from __future__ import annotations

import asyncio

import pytest

from accounts import services as account_services
from exchange import bus
from tests.factories import funded_user
from tests.trading.api.conftest import API_DB
from tests.trading.conftest import place
from tests.trading.streams.burst import FUNDS, order_burst
from tests.trading.streams.conftest import wait_for_user_subscription
from trading.marketdata import selectors as market_selectors
from trading.models import Trade

ccxtpro = pytest.importorskip("ccxt.pro")

pytestmark = [pytest.mark.e2e, API_DB]


def exchange_for(host: str, key: str = "", secret: str = ""):
    return ccxtpro.binance(
        {
            "apiKey": key,
            "secret": secret,
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
            },
            "urls": {
                "api": {
                    "public": f"http://{host}/api/v3",
                    "private": f"http://{host}/api/v3",
                    "v1": f"http://{host}/api/v1",
                    "ws": {
                        "spot": f"ws://{host}/ws",
                        "ws-api": {"spot": f"ws://{host}/ws-api/v3"},
                    },
                }
            },
        }
    )


def test_watch_order_book_trades_and_ohlcv_across_a_burst(served, background):
    traders = [funded_user(**FUNDS) for _ in range(3)]
    order_burst(users=traders[:2], count=30, seed=4)
    state: dict = {}

    async def start():
        exchange = exchange_for(served)
        await exchange.load_markets()
        book = await exchange.watch_order_book("BTC/USDT")
        state.update(exchange=exchange, book=book)

    async def until(update_id: int):
        """The book ccxt keeps, once it has applied every update."""
        exchange = state["exchange"]
        for _ in range(200):
            book = exchange.orderbooks.get("BTC/USDT")
            if book is not None and book["nonce"] >= update_id:
                return book
            await asyncio.sleep(0.05)
        raise AssertionError(f"book stuck at {book and book['nonce']}")

    async def trades_and_candles():
        exchange = state["exchange"]
        trades = await asyncio.wait_for(exchange.watch_trades("BTC/USDT"), 10)
        candles = await asyncio.wait_for(exchange.watch_ohlcv("BTC/USDT", "1m"), 10)
        return trades, candles

    async def close():
        await state["exchange"].close()

    background.run(start())
    order_burst(users=traders, count=150, seed=5)
    assert bus.flush()
    rest = market_selectors.depth_get(symbol="BTCUSDT", limit=1000)
    try:
        book = background.run(until(rest["lastUpdateId"]))
        # Every diff passed ccxt's nonce check: a gap raises ChecksumError and
        # drops the book, so the one kept since the start would not be this one.
        assert book is state["book"]
        assert book["nonce"] == rest["lastUpdateId"]
        assert list(book["bids"]) == [[float(p), float(q)] for p, q in rest["bids"]]
        assert list(book["asks"]) == [[float(p), float(q)] for p, q in rest["asks"]]

        # A trade while watching trades and candles.
        pending = asyncio.run_coroutine_threadsafe(
            trades_and_candles(), background.loop
        )
        maker, taker = funded_user(**FUNDS), funded_user(**FUNDS)
        for _ in range(20):
            place(maker, "SELL", "0.01", "70000")
            place(taker, "BUY", "0.01", "70000")
            try:
                trades, candles = pending.result(0.5)
                break
            except TimeoutError:
                continue
        else:
            trades, candles = pending.result(5)
        assert trades and trades[-1]["symbol"] == "BTC/USDT"
        last = Trade.objects.get(symbol_id="BTCUSDT", trade_id=int(trades[-1]["id"]))
        assert trades[-1]["price"] == float(last.price)
        assert trades[-1]["amount"] == float(last.qty)
        assert candles and len(candles[-1]) == 6
    finally:
        background.run(close())


def test_watch_orders_and_balance(served, background):
    maker = funded_user(**FUNDS)
    taker = funded_user(**FUNDS)
    key, secret = account_services.apikey_create(
        user_id=taker.id, permissions=["read", "trade"]
    )
    state: dict = {}

    async def start():
        exchange = exchange_for(served, key.key, secret)
        await exchange.load_markets()
        state["exchange"] = exchange
        state["orders"] = asyncio.ensure_future(exchange.watch_orders("BTC/USDT"))
        state["balance"] = asyncio.ensure_future(exchange.watch_balance())

    async def results():
        return await asyncio.wait_for(
            asyncio.gather(state["orders"], state["balance"]), 10
        )

    async def close():
        await state["exchange"].close()

    background.run(start())
    wait_for_user_subscription(taker.id)
    try:
        place(maker, "SELL", "0.5", "60000")
        placed = place(taker, "BUY", "0.2", "60100")
        orders, balance = background.run(results())
        assert orders[0]["id"] == str(placed.order.order_id)
        assert orders[0]["symbol"] == "BTC/USDT"
        assert balance["BTC"]["free"] == pytest.approx(1000.1998)
        assert balance["USDT"]["total"] is not None
    finally:
        background.run(close())
