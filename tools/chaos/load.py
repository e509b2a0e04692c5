"""A steady mixed load of signed requests, with every answer recorded.

One thread per trader, each on its own keep-alive connection, at a constant rate
(the total split over the traders), so the offered load does not fall when the
server slows down. About half the requests are writes: limit orders resting near
the mid, crossing IOC/FOK orders, post-only orders (some refused for taking),
market orders, cancels of the trader's own resting orders; the rest are the
public and account reads. Every placement carries a fresh ``newClientOrderId``,
so the database can later be asked about exactly that request.

The :class:`Duplicator` sends the same order twice (same ``newClientOrderId``,
fresh timestamp and signature) on two connections: at the same moment, a few
milliseconds apart, or after the first answer.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from tools.chaos.client import ACCEPTED, Clock, Connection, Record, send, signed_path

# symbol: (mid, tick, quantity step, smallest and largest quantity in steps)
SYMBOLS = {
    "BTCUSDT": (Decimal("60000"), Decimal("0.01"), Decimal("0.0001"), (2, 40)),
    "ETHUSDT": (Decimal("3000"), Decimal("0.01"), Decimal("0.001"), (3, 40)),
    "ETHBTC": (Decimal("0.05"), Decimal("0.00001"), Decimal("0.01"), (1, 40)),
}
OPEN = ("NEW", "PARTIALLY_FILLED")

# action: weight. Writes about half of the requests, as in the locust load test.
ACTIONS = {
    "passive": 18,
    "crossing": 11,
    "maker": 3,
    "market": 4,
    "cancel": 14,
    "depth": 14,
    "ticker": 8,
    "trades": 8,
    "klines": 6,
    "open_orders": 7,
    "account": 7,
}


@dataclass(frozen=True, slots=True)
class Account:
    index: int  # bench-<index>
    key: str
    secret: str


class Sink:
    """Where every record goes; appends from many threads are safe."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def add(self, record: Record) -> Record:
        self.records.append(record)
        return record


class ClientIds:
    """Unique ``newClientOrderId`` values (Binance allows 36 of [A-Za-z0-9_-])."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._lock = threading.Lock()
        self._next = 0

    def new(self, prefix: str) -> str:
        with self._lock:
            self._next += 1
            return f"{prefix}{self.tag}{self._next:x}"


def price(symbol: str, ticks_from_mid: int) -> str:
    mid, tick, _, _ = SYMBOLS[symbol]
    return str(mid + tick * ticks_from_mid)


def quantity(symbol: str, rng: random.Random, most: int | None = None) -> str:
    _, _, step, (low, high) = SYMBOLS[symbol]
    return str(step * rng.randint(low, most or high))


class Trader(threading.Thread):
    """One trader at a constant rate until ``stop`` is set or ``until`` passes."""

    def __init__(
        self,
        account: Account,
        *,
        port: int,
        rate: float,
        until: float,
        clock: Clock,
        sink: Sink,
        ids: ClientIds,
        stop: threading.Event,
        seed: int,
        timeout: float,
    ) -> None:
        super().__init__(name=f"trader-{account.index}", daemon=True)
        self.owner = account
        self.interval = 1.0 / rate
        self.until = until
        self.clock = clock
        self.sink = sink
        self.ids = ids
        self.stop = stop
        self.rng = random.Random(seed)
        self.conn = Connection(port, timeout)
        self.resting: deque = deque(maxlen=300)
        self.names = list(ACTIONS)
        self.weights = list(ACTIONS.values())

    def run(self) -> None:
        next_at = self.clock.now() + self.rng.uniform(0, self.interval)
        # Bounded in count as well as in time.
        for _ in range(int(self.until / self.interval) + 10):
            if self.stop.is_set():
                break
            wait = next_at - self.clock.now()
            if wait > 0 and self.stop.wait(wait):
                break
            if self.clock.now() >= self.until:
                break
            next_at = max(next_at + self.interval, self.clock.now() - 1.0)
            action = self.rng.choices(self.names, self.weights)[0]
            getattr(self, action)()
        self.conn.close()

    # --- requests ------------------------------------------------------------------

    def _signed(self, record: Record, method: str, path: str, params: dict) -> Record:
        url = signed_path(path, params, self.owner.secret)
        headers = {"X-MBX-APIKEY": self.owner.key}
        return self.sink.add(send(self.conn, record, self.clock, method, url, headers))

    def _public(self, name: str, path: str) -> Record:
        record = Record("read", name, self.owner.index, 0.0)
        return self.sink.add(send(self.conn, record, self.clock, "GET", path))

    def _place(self, name: str, symbol: str, params: dict) -> Record:
        cid = self.ids.new("c")
        record = Record("place", name, self.owner.index, 0.0, symbol=symbol, cid=cid)
        params = {"symbol": symbol, **params, "newClientOrderId": cid}
        self._signed(record, "POST", "/api/v3/order", params)
        if record.outcome == ACCEPTED and record.order_status in (*OPEN, ""):
            self.resting.append((symbol, record.order_id, cid))
        return record

    def symbol(self) -> str:
        return self.rng.choice(list(SYMBOLS))

    # --- writes --------------------------------------------------------------------

    def passive(self) -> None:
        symbol, side = self.symbol(), self.rng.choice(["BUY", "SELL"])
        offset = 1 + int(self.rng.expovariate(1 / 30))
        self._place(
            "passive",
            symbol,
            {
                "side": side,
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": quantity(symbol, self.rng),
                "price": price(symbol, -offset if side == "BUY" else offset),
                "newOrderRespType": self.rng.choice(["ACK", "RESULT", "FULL"]),
            },
        )

    def crossing(self) -> None:
        symbol, side = self.symbol(), self.rng.choice(["BUY", "SELL"])
        reach = self.rng.randint(0, 40)
        self._place(
            "crossing",
            symbol,
            {
                "side": side,
                "type": "LIMIT",
                "timeInForce": self.rng.choice(["IOC", "IOC", "FOK"]),
                "quantity": quantity(symbol, self.rng),
                "price": price(symbol, reach if side == "BUY" else -reach),
                "newOrderRespType": "RESULT",
            },
        )

    def maker(self) -> None:
        """Post-only near the touch: some would take, and are refused."""
        symbol, side = self.symbol(), self.rng.choice(["BUY", "SELL"])
        offset = self.rng.randint(-15, 10)
        self._place(
            "maker",
            symbol,
            {
                "side": side,
                "type": "LIMIT_MAKER",
                "quantity": quantity(symbol, self.rng),
                "price": price(symbol, -offset if side == "BUY" else offset),
                "newOrderRespType": "RESULT",
            },
        )

    def market(self) -> None:
        symbol, side = self.symbol(), self.rng.choice(["BUY", "SELL"])
        params = {"side": side, "type": "MARKET", "newOrderRespType": "FULL"}
        if self.rng.random() < 0.8:
            params["quantity"] = quantity(symbol, self.rng, most=10)
        else:
            mid, _, step, _ = SYMBOLS[symbol]
            params["quoteOrderQty"] = str(
                (mid * step * self.rng.randint(3, 10)).quantize(Decimal("0.00001"))
            )
        self._place("market", symbol, params)

    def cancel(self) -> None:
        if not self.resting:
            return self.passive()
        symbol, order_id, cid = self.resting.popleft()
        record = Record(
            "cancel",
            "cancel",
            self.owner.index,
            0.0,
            symbol=symbol,
            cid=cid,
            order_id=order_id,
        )
        if order_id is not None and self.rng.random() < 0.8:
            params = {"symbol": symbol, "orderId": order_id}
        else:
            record.name = "cancel by client id"
            params = {"symbol": symbol, "origClientOrderId": cid}
        self._signed(record, "DELETE", "/api/v3/order", params)

    # --- reads ---------------------------------------------------------------------

    def depth(self) -> None:
        self._public("depth", f"/api/v3/depth?symbol={self.symbol()}&limit=20")

    def ticker(self) -> None:
        self._public("ticker", f"/api/v3/ticker/24hr?symbol={self.symbol()}")

    def trades(self) -> None:
        self._public("trades", f"/api/v3/trades?symbol={self.symbol()}&limit=50")

    def klines(self) -> None:
        self._public(
            "klines", f"/api/v3/klines?symbol={self.symbol()}&interval=1m&limit=60"
        )

    def open_orders(self) -> None:
        record = Record("read", "open_orders", self.owner.index, 0.0)
        self._signed(record, "GET", "/api/v3/openOrders", {"symbol": self.symbol()})

    def account(self) -> None:
        record = Record("read", "account", self.owner.index, 0.0)
        self._signed(record, "GET", "/api/v3/account", {})


class _Sender(threading.Thread):
    """Sends the jobs it is given, each on this thread's own connection."""

    def __init__(
        self, name: str, port: int, timeout: float, clock: Clock, until: float
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.conn = Connection(port, timeout)
        self.clock = clock
        # Jobs are sent until the duplicator closes this sender, and never after
        # the run's end plus two request timeouts.
        self.deadline = until + 2 * timeout + 10
        self.jobs: deque = deque()
        self.ready = threading.Condition()
        self.closed = False

    def submit(self, job) -> None:
        with self.ready:
            self.jobs.append(job)
            self.ready.notify()

    def close(self) -> None:
        with self.ready:
            self.closed = True
            self.ready.notify()

    def run(self) -> None:
        while self.clock.now() < self.deadline:
            with self.ready:
                while not self.jobs and not self.closed:
                    if self.clock.now() >= self.deadline:
                        break
                    self.ready.wait(1.0)
                if not self.jobs:
                    break
                job = self.jobs.popleft()
            job(self.conn)
        self.conn.close()


class Duplicator(threading.Thread):
    """Every ``every`` seconds, one order sent twice with the same client order id,
    far from the mid so that it rests; then, half the time, cancelled by that id."""

    MODES = ("together", "overlapping", "after the answer", "two symbols")

    def __init__(
        self,
        accounts: list[Account],
        *,
        port: int,
        every: float,
        until: float,
        clock: Clock,
        sink: Sink,
        ids: ClientIds,
        stop: threading.Event,
        seed: int,
        timeout: float,
    ) -> None:
        super().__init__(name="duplicator", daemon=True)
        self.accounts = accounts
        self.every = every
        self.until = until
        self.clock = clock
        self.sink = sink
        self.ids = ids
        self.stop = stop
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.senders = [
            _Sender(f"dup-{n}", port, timeout, clock, until) for n in (1, 2)
        ]
        self.conn = Connection(port, timeout)
        self.pairs = 0

    def run(self) -> None:
        for sender in self.senders:
            sender.start()
        try:
            for _ in range(int(self.until / self.every) + 10):
                if self.stop.is_set() or self.clock.now() >= self.until:
                    break
                started = self.clock.now()
                self.pairs += 1
                self._pair(self.pairs)
                left = self.every - (self.clock.now() - started)
                if left > 0 and self.stop.wait(left):
                    break
        finally:
            for sender in self.senders:
                sender.close()
            for sender in self.senders:
                sender.join(timeout=2 * self.timeout + 5)
            self.conn.close()

    def _order(self, symbol: str, side: str, cid: str) -> dict:
        """A resting order far from the mid, so that it stays open."""
        mid, tick, _, _ = SYMBOLS[symbol]
        far = int(mid * Decimal("0.2") / tick) + self.rng.randint(0, 500)
        return {
            "symbol": symbol,
            "side": side,
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": quantity(symbol, self.rng, most=5),
            "price": price(symbol, -far if side == "BUY" else far),
            "newClientOrderId": cid,
            "newOrderRespType": "RESULT",
        }

    def _pair(self, number: int) -> None:
        account = self.rng.choice(self.accounts)
        mode = self.rng.choice(self.MODES)
        side = self.rng.choice(["BUY", "SELL"])
        cid = self.ids.new("d")
        symbols = list(SYMBOLS)
        self.rng.shuffle(symbols)
        first = self._order(symbols[0], side, cid)
        # The very same request twice; or one client order id on two books.
        second = self._order(symbols[1], side, cid) if mode == "two symbols" else first
        orders = [first, second]
        records = [
            Record(
                "dup",
                mode,
                account.index,
                0.0,
                symbol=order["symbol"],
                cid=cid,
                pair=number,
            )
            for order in orders
        ]
        done = [threading.Event(), threading.Event()]

        def job(n: int, delay: float):
            def run(conn: Connection) -> None:
                if delay:
                    time.sleep(delay)
                url = signed_path("/api/v3/order", orders[n], account.secret)
                headers = {"X-MBX-APIKEY": account.key}
                send(conn, records[n], self.clock, "POST", url, headers)
                self.sink.add(records[n])
                done[n].set()

            return run

        if mode == "after the answer":
            self.senders[0].submit(job(0, 0.0))
            done[0].wait(self.timeout + 5)
            self.senders[1].submit(job(1, 0.0))
        else:
            delay = 0.0 if mode != "overlapping" else self.rng.uniform(0.001, 0.03)
            self.senders[0].submit(job(0, 0.0))
            self.senders[1].submit(job(1, delay))
        for event in done:
            event.wait(2 * self.timeout + 5)
        accepted = [r for r in records if r.outcome == ACCEPTED]
        if accepted and self.rng.random() < 0.5:
            symbol = accepted[0].symbol
            cancel = Record(
                "cancel",
                "cancel by client id",
                account.index,
                0.0,
                symbol=symbol,
                cid=cid,
                order_id=accepted[0].order_id,
            )
            url = signed_path(
                "/api/v3/order",
                {"symbol": symbol, "origClientOrderId": cid},
                account.secret,
            )
            headers = {"X-MBX-APIKEY": account.key}
            self.sink.add(send(self.conn, cancel, self.clock, "DELETE", url, headers))
