"""Drive a served exchange through its public API: market data, then a signed order
placed, queried and cancelled, and a crossing trade. Exits non-zero on any failure.

Usage: python scripts/smoke.py BASE_URL API_KEY SECRET_KEY
"""

import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def call(base, method, path, params=None, key=None, secret=None):
    params = dict(params or {})
    if key:
        params["timestamp"] = int(time.time() * 1000)
        query = urllib.parse.urlencode(params)
        signature = hmac.new(
            secret.encode(), query.encode(), hashlib.sha256
        ).hexdigest()
        query += f"&signature={signature}"
    else:
        query = urllib.parse.urlencode(params)
    url = f"{base}{path}?{query}"
    request = urllib.request.Request(url, method=method)  # noqa: S310 - http(s) base
    if key:
        request.add_header("X-MBX-APIKEY", key)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def expect(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        sys.exit(1)


def main(base, key, secret):
    status, body = call(base, "GET", "/api/v3/ping")
    expect(status == 200 and body == {}, "ping")
    status, body = call(base, "GET", "/api/v3/exchangeInfo")
    symbols = {s["symbol"] for s in body.get("symbols", [])}
    expect({"BTCUSDT", "ETHUSDT", "ETHBTC"} <= symbols, "exchangeInfo lists the pairs")
    status, depth = call(
        base, "GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}
    )
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
    status, placed = call(base, "POST", "/api/v3/order", order, key, secret)
    expect(status == 200 and placed["status"] == "NEW", "a resting limit order")
    lookup = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    status, queried = call(base, "GET", "/api/v3/order", lookup, key, secret)
    expect(status == 200 and queried["orderId"] == placed["orderId"], "query it")
    status, cancelled = call(base, "DELETE", "/api/v3/order", lookup, key, secret)
    expect(status == 200 and cancelled["status"] == "CANCELED", "cancel it")
    taker = {**order, "price": best_ask, "timeInForce": "IOC"}
    status, filled = call(base, "POST", "/api/v3/order", taker, key, secret)
    expect(status == 200 and filled["fills"], "a crossing order trades")
    bad = {**order, "quantity": "0.0000001"}
    status, refused = call(base, "POST", "/api/v3/order", bad, key, secret)
    expect(status == 400 and refused["code"] == -1013, "a filter failure is -1013")
    status, account = call(base, "GET", "/api/v3/account", {}, key, secret)
    expect(status == 200 and account["balances"], "account balances")
    status, trades = call(
        base, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, key, secret
    )
    expect(status == 200 and trades, "myTrades")
    print("smoke: all checks passed")


if __name__ == "__main__":
    main(*sys.argv[1:4])
