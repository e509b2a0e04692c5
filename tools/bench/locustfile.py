"""A realistic mixed load on the exchange, signed the Binance way with API keys.

Half reads (depth, tickers, trades, klines, open orders, account), half writes
(limit orders near the mid, some crossing, cancels of the user's own resting orders,
a few market orders), across many users and the three symbols. Each simulated user
runs at a constant rate (``BENCH_RATE`` requests/s in total, split over the users),
so the offered load does not fall when the server slows down.

Users and keys come from ``BENCH_KEYS`` (written by ``manage.py bench_setup``).
Run by ``python -m tools.bench`` (``make bench``), from the repository root.
"""

import itertools
import json
import os
import random
import time
from collections import deque

import gevent
from locust import FastHttpUser, task

from tools.binance_client import API_KEY_HEADER, signed_query

KEYS = json.load(open(os.environ.get("BENCH_KEYS", "var/bench-keys.json")))  # noqa: SIM115
USERS = int(os.environ.get("BENCH_USERS", "50"))
RATE = float(os.environ.get("BENCH_RATE", "500"))

# Mid price, tick, quantity step, and a quantity range per symbol.
SYMBOLS = {
    "BTCUSDT": (60000, "0.01", 2, (1, 40), "0.0001"),
    "ETHUSDT": (3000, "0.01", 2, (1, 40), "0.001"),
    "ETHBTC": (0.05, "0.00001", 5, (1, 40), "0.01"),
}
_key_cycle = itertools.cycle(KEYS)


def paced(per_second: float):
    """A steady rate per user, each user on its own random phase.

    locust's ``constant_throughput`` keeps each user to a fixed schedule counted
    from the moment the user object was made; all of them are made together, so
    the whole population fires in the same millisecond every period, a herd no
    set of independent bots produces, and each request then queues behind the
    other users'. Here each user's schedule starts at a random point of its first
    period, then keeps to the period; a user that falls behind starts its next
    request at once instead of bursting to catch up.
    """
    period = 1 / per_second

    def wait(user) -> float:
        # A user's first request waits for its phase in on_start (start_phase).
        now = time.perf_counter()
        due = getattr(user, "next_due", None)
        due = now + random.random() * period if due is None else max(due + period, now)
        user.next_due = due
        return due - now

    return wait


def start_phase(user, per_second: float) -> None:
    """Hold a new user's first request to a random point of its first period.

    locust runs a user's first task as soon as the user starts, before any
    wait: all users started together fired their first request in the same
    millisecond, and that burst (50 requests queued at once) was the worst tail
    of every step.
    """
    delay = random.random() / per_second
    user.next_due = time.perf_counter() + delay
    gevent.sleep(delay)


def price_text(mid: float, ticks: int, tick: str, places: int) -> str:
    return f"{mid + ticks * float(tick):.{places}f}"


class Trader(FastHttpUser):
    wait_time = paced(RATE / USERS)

    def on_start(self):
        account = next(_key_cycle)
        self.key, self.secret = account["apiKey"], account["secretKey"]
        self.resting: deque = deque(maxlen=200)
        self.rng = random.Random(hash(self.key))
        start_phase(self, RATE / USERS)

    # --- signing -------------------------------------------------------------------

    def signed(self, method, path, params, name):
        url = f"{path}?{signed_query(self.secret, params, recv_window=10000)}"
        with self.client.request(
            method,
            url,
            headers={API_KEY_HEADER: self.key},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code >= 500 or response.status_code == 429:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            elif response.status_code >= 400:
                # A refusal (e.g. an order that would cross a LIMIT_MAKER, or a cancel
                # of an order that just filled) is a correct answer, not a failure.
                response.success()
            return response

    def symbol(self):
        return self.rng.choice(list(SYMBOLS))

    # --- writes (half the load) -----------------------------------------------------

    @task(18)
    def limit_passive(self):
        symbol = self.symbol()
        mid, tick, places, (low, high), step = SYMBOLS[symbol]
        side = self.rng.choice(["BUY", "SELL"])
        offset = 1 + int(self.rng.expovariate(1 / 30))
        ticks = -offset if side == "BUY" else offset
        response = self.signed(
            "POST",
            "/api/v3/order",
            {
                "symbol": symbol,
                "side": side,
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": f"{self.rng.randint(low, high) * float(step):.6f}",
                "price": price_text(mid, ticks, tick, places),
                "newOrderRespType": "ACK",
            },
            "POST /api/v3/order (passive)",
        )
        if response.status_code == 200:
            self.resting.append((symbol, response.json()["orderId"]))

    @task(12)
    def limit_crossing(self):
        symbol = self.symbol()
        mid, tick, places, (low, high), step = SYMBOLS[symbol]
        side = self.rng.choice(["BUY", "SELL"])
        reach = self.rng.randint(0, 40)
        ticks = reach if side == "BUY" else -reach
        self.signed(
            "POST",
            "/api/v3/order",
            {
                "symbol": symbol,
                "side": side,
                "type": "LIMIT",
                "timeInForce": "IOC",
                "quantity": f"{self.rng.randint(low, high) * float(step):.6f}",
                "price": price_text(mid, ticks, tick, places),
            },
            "POST /api/v3/order (crossing)",
        )

    @task(16)
    def cancel(self):
        if not self.resting:
            return self.limit_passive()
        symbol, order_id = self.resting.popleft()
        self.signed(
            "DELETE",
            "/api/v3/order",
            {"symbol": symbol, "orderId": order_id},
            "DELETE /api/v3/order",
        )

    @task(4)
    def market(self):
        symbol = self.symbol()
        _, _, _, (low, high), step = SYMBOLS[symbol]
        self.signed(
            "POST",
            "/api/v3/order",
            {
                "symbol": symbol,
                "side": self.rng.choice(["BUY", "SELL"]),
                "type": "MARKET",
                "quantity": f"{self.rng.randint(low, high // 4 + 1) * float(step):.6f}",
            },
            "POST /api/v3/order (market)",
        )

    # --- reads (half the load) ------------------------------------------------------

    @task(14)
    def depth(self):
        self.client.get(
            f"/api/v3/depth?symbol={self.symbol()}&limit=20", name="GET /api/v3/depth"
        )

    @task(8)
    def ticker(self):
        self.client.get(
            f"/api/v3/ticker/24hr?symbol={self.symbol()}",
            name="GET /api/v3/ticker/24hr",
        )

    @task(8)
    def trades(self):
        self.client.get(
            f"/api/v3/trades?symbol={self.symbol()}&limit=50", name="GET /api/v3/trades"
        )

    @task(6)
    def klines(self):
        self.client.get(
            f"/api/v3/klines?symbol={self.symbol()}&interval=1m&limit=60",
            name="GET /api/v3/klines",
        )

    @task(7)
    def open_orders(self):
        self.signed(
            "GET",
            "/api/v3/openOrders",
            {"symbol": self.symbol()},
            "GET /api/v3/openOrders",
        )

    @task(7)
    def account(self):
        self.signed("GET", "/api/v3/account", {}, "GET /api/v3/account")
