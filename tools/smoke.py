"""Drive a served exchange through its public API: market data, then a signed order
placed, queried and cancelled, and a crossing trade. Exits non-zero on any failure.

Usage: python -m tools.smoke BASE_URL API_KEY SECRET_KEY
"""

import sys

from tools.binance_client import BinanceClient


def expect(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        sys.exit(1)


def main(base, key, secret):
    api = BinanceClient(base, key, secret)
    status, body = api.get("/api/v3/ping")
    expect(status == 200 and body == {}, "ping")
    status, body = api.get("/api/v3/exchangeInfo")
    symbols = {s["symbol"] for s in body.get("symbols", [])}
    expect({"BTCUSDT", "ETHUSDT", "ETHBTC"} <= symbols, "exchangeInfo lists the pairs")
    status, depth = api.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5})
    expect(status == 200 and depth["bids"] and depth["asks"], "depth has both sides")
    best_ask = depth["asks"][0][0]

    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "50000",
    }
    status, placed = api.signed_post("/api/v3/order", order)
    expect(status == 200 and placed["status"] == "NEW", "a resting limit order")
    lookup = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    status, queried = api.signed_get("/api/v3/order", lookup)
    expect(status == 200 and queried["orderId"] == placed["orderId"], "query it")
    status, cancelled = api.signed_delete("/api/v3/order", lookup)
    expect(status == 200 and cancelled["status"] == "CANCELED", "cancel it")
    taker = {**order, "price": best_ask, "timeInForce": "IOC"}
    status, filled = api.signed_post("/api/v3/order", taker)
    expect(status == 200 and filled["fills"], "a crossing order trades")
    bad = {**order, "quantity": "0.0000001"}
    status, refused = api.signed_post("/api/v3/order", bad)
    expect(status == 400 and refused["code"] == -1013, "a filter failure is -1013")
    status, account = api.signed_get("/api/v3/account")
    expect(status == 200 and account["balances"], "account balances")
    status, trades = api.signed_get("/api/v3/myTrades", {"symbol": "BTCUSDT"})
    expect(status == 200 and trades, "myTrades")
    print("smoke: all checks passed")


if __name__ == "__main__":
    main(*sys.argv[1:4])
