"""The per-process hub of the live side: reads the bus, keeps each symbol's
stream state in order of ``book_seq``, and fans payloads out to the connections
subscribed to them.

One hub per event loop (the uvicorn worker). It never takes the pair lock and
never writes: market payloads come from the bus, with the REST selectors (Redis
first, then the database, through a thread) for snapshots a new subscriber needs
and for the once-a-second tickers and candles.

Diff depth continuity: every commit of a symbol publishes exactly one message
with its ``book_seq``. Messages from different processes may arrive out of
order, so the hub holds a message whose predecessor has not arrived for up to
:data:`GAP_WAIT_SECONDS`; after that (a message was lost: a process died after
its commit, or Redis dropped it) it moves on, and the next diff event's ``U``
jumps, which tells clients to take a new snapshot, as Binance's algorithm says.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings

from exchange import bus
from exchange.errors import ExchangeError
from exchange.redis import REDIS_DOWN
from trading.marketdata import selectors
from trading.marketdata.klines import (
    DAY,
    HOUR,
    INTERVALS,
    bucket_start,
    kline_row,
    klines_list,
)
from trading.marketdata.shapes import amount
from trading.streams import payloads, user_events
from trading.streams.names import TICKER_WINDOWS, Stream
from trading.symbols.selectors import symbols_list

logger = logging.getLogger(__name__)

GAP_WAIT_SECONDS = 0.5
# Topics pushed at most once a second, whose fan-out to many connections is
# spread over FANOUT_SPREAD_SECONDS, FANOUT_CHUNK connections at a time. Depth
# diffs and trades never are: their order across messages is the protocol.
SPREAD_KINDS = frozenset(
    {"kline", "ticker", "miniTicker", "windowTicker", "avgPrice"}
    | {"allMiniTicker", "allWindowTicker"}
)
FANOUT_CHUNK = 64
# A thousand sends at once took a core for a tenth of a second or more on a slow
# machine, and what shared the core queued behind it (docs/performance.md).
FANOUT_SPREAD_SECONDS = 0.25
KEY_CHECK_SECONDS = 30
SPEEDS = (100, 1000)
WINDOW_MS = {"1h": HOUR, "4h": 4 * HOUR, "1d": DAY}
# The tickers pushed once a second after a trade: the 24 h one (@ticker,
# @miniTicker) and the rolling windows. Each read that predates the trade (the
# selector caches a ticker for a second) is tried again the next second, up to
# this many times in all.
TICKERS = ("24h", *TICKER_WINDOWS)
TICKER_READS = 3
# A read that failed (the database away) is logged at most this often per hub.
READ_FAILURE_LOG_SECONDS = 60.0
# How long a new hub waits for Redis to take its subscription before serving.
LISTEN_WAIT_SECONDS = 2.0
# Nothing to send before the next event: real-time streams, and the names the
# exchange accepts but never sends on (it has no block trades and no reference
# prices; docs/api.md).
NO_FIRST_PAYLOAD = ("trade", "aggTrade", "depth", "blockTrade", "referencePrice")


def now_ms() -> int:
    return int(time.time() * 1000)


class Subscriber:
    """What the hub needs of a connection (see ``trading.streams.app``)."""

    def deliver(self, stream: Stream, payload, raw: str) -> None:
        raise NotImplementedError

    def deliver_user(self, subscription_id: int, event: dict) -> None:
        raise NotImplementedError


@dataclass(slots=True)
class _Diff:
    first: int | None = None
    last: int = 0
    bids: dict = field(default_factory=dict)
    asks: dict = field(default_factory=dict)

    def add(self, message: dict) -> None:
        if self.first is None:
            self.first = message["seq"]
        self.last = message["seq"]
        for price, qty in message["b"]:
            self.bids[price] = qty
        for price, qty in message["a"]:
            self.asks[price] = qty


@functools.lru_cache(maxsize=64)
def _decimal(text: str) -> Decimal:
    """A symbol's tick or step, as a commit names it."""
    return Decimal(text)


@dataclass(slots=True)
class _SymbolState:
    seq: int | None = None
    pending: dict = field(default_factory=dict)
    gap_deadline: float = 0.0
    # The book's best levels as the last commit sent them (ticks and lots, with
    # the symbol's tick and step), and as Binance writes them (price, quantity
    # strings), written out from them when a stream first needs them (top()).
    # A snapshot read from REST, or a commit of the older form, sets the
    # strings alone.
    raw: tuple | None = None
    bids: list = field(default_factory=list)
    asks: list = field(default_factory=list)
    written: bool = True  # bids and asks are up to date
    top_known: bool = False
    top_seq: int = 0
    diffs: dict = field(default_factory=lambda: {s: _Diff() for s in SPEEDS})
    partial_dirty: bool = False
    traded: bool = True  # candles and the average price to refresh
    last_trade: int = -1  # the newest trade id the bus told of
    # ticker -> reads left to find it up to date with last_trade
    tickers_due: dict = field(default_factory=lambda: dict.fromkeys(TICKERS, 1))

    def top(self) -> tuple[list, list]:
        """The best levels (bids, asks) as Binance writes them."""
        if not self.written:
            bids, asks, tick, step = self.raw
            self.bids = [[amount(p * tick), amount(q * step)] for p, q in bids]
            self.asks = [[amount(p * tick), amount(q * step)] for p, q in asks]
            self.written = True
        return self.bids, self.asks

    def top_set(self, bids: list, asks: list, tick=None, step=None) -> None:
        """New best levels: in ticks and lots with ``tick`` and ``step``, or
        already written out."""
        if tick is None:
            self.raw, self.bids, self.asks, self.written = None, bids, asks, True
        else:
            self.raw, self.written = (bids, asks, tick, step), False

    def best(self) -> tuple:
        """The best bid and ask as last set: to tell whether a commit moved
        them."""
        if self.raw is not None:
            return self.raw[0][:1], self.raw[1][:1]
        return self.bids[:1], self.asks[:1]


@dataclass(eq=False, slots=True)
class UserSubscription:
    conn: Subscriber
    subscription_id: int
    user_id: int
    key_id: int


class Hub:
    def __init__(self) -> None:
        # topic -> connection -> the streams (names) it holds on that topic
        self.topics: dict[tuple, dict[Subscriber, list[Stream]]] = {}
        self.symbols: dict[str, _SymbolState] = {}
        self.users: dict[int, list[UserSubscription]] = {}
        self.user_queue: asyncio.Queue = asyncio.Queue(maxsize=10_000)
        self.klines_sent: dict[tuple[str, str], list] = {}
        self.tasks: list[asyncio.Task] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.received = 0
        self.gaps = 0
        self._unsubscribe_local: Callable | None = None
        self._symbols: set[str] = set()
        self._symbols_read_at = -1e9
        self._read_failure_logged_at = -1e9
        self.listening = asyncio.Event()  # set once the bus reaches this hub

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening to the bus, and return once the hub hears what is
        published (or after :data:`LISTEN_WAIT_SECONDS` with Redis down): a
        first subscriber's diff depth then starts where its snapshot ends,
        instead of after the commits the hub missed while Redis took its
        subscription."""
        self.loop = asyncio.get_running_loop()
        if settings.REDIS_URL:
            self.tasks.append(asyncio.create_task(self._redis_loop()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.listening.wait(), LISTEN_WAIT_SECONDS)
        else:
            loop = self.loop

            def listener(channel: str, message: dict) -> None:
                loop.call_soon_threadsafe(self.on_message, channel, message)

            self._unsubscribe_local = bus.subscribe_local(listener)
            self.listening.set()
        self.tasks += [
            asyncio.create_task(self._every(0.1, self._tick_fast)),
            asyncio.create_task(self._every(1.0, self._tick_second)),
            asyncio.create_task(self._user_worker()),
        ]

    async def stop(self) -> None:
        if self._unsubscribe_local is not None:
            self._unsubscribe_local()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()

    async def _every(self, seconds: float, work) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bad tick must not stop the timer
                logger.exception("stream hub timer failed")

    async def _redis_loop(self) -> None:
        import redis.asyncio as aioredis

        names = {bus.channel_name(c): c for c in bus.CHANNELS}
        while True:
            client = aioredis.from_url(settings.REDIS_URL)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(*names)
                confirmed = 0
                while True:
                    item = await pubsub.get_message(timeout=5.0)
                    if item is None:
                        continue
                    if item["type"] == "subscribe":
                        # Redis has taken each SUBSCRIBE: what is published
                        # from now on reaches this hub.
                        confirmed += 1
                        if confirmed == len(names):
                            self.listening.set()
                        continue
                    if item["type"] != "message":
                        continue
                    channel = item["channel"]
                    if isinstance(channel, bytes):
                        channel = channel.decode()
                    self.on_message(names.get(channel, ""), orjson.loads(item["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis down: retry, clients resync
                logger.warning("stream hub: Redis bus lost, reconnecting")
                for state in self.symbols.values():
                    state.seq = None  # what was missed makes the next U jump
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(*REDIS_DOWN):  # closing a dead client
                    await client.aclose()

    # ------------------------------------------------------------ subscriptions

    def subscribe(self, conn: Subscriber, stream: Stream) -> None:
        holders = self.topics.setdefault(stream.topic, {})
        held = holders.setdefault(conn, [])
        if stream not in held:
            held.append(stream)
        if stream.kind not in NO_FIRST_PAYLOAD:
            self._spawn(self._first_payload(conn, stream))

    def unsubscribe(self, conn: Subscriber, stream: Stream) -> None:
        holders = self.topics.get(stream.topic)
        if not holders or conn not in holders:
            return
        held = holders[conn]
        if stream in held:
            held.remove(stream)
        if not held:
            del holders[conn]
        if not holders:
            del self.topics[stream.topic]

    def drop(self, conn: Subscriber) -> None:
        """Forget a closed connection everywhere."""
        for topic in [t for t, holders in self.topics.items() if conn in holders]:
            del self.topics[topic][conn]
            if not self.topics[topic]:
                del self.topics[topic]
        for user_id in list(self.users):
            self.users[user_id] = [s for s in self.users[user_id] if s.conn is not conn]
            if not self.users[user_id]:
                del self.users[user_id]

    def user_subscribe(self, sub: UserSubscription) -> None:
        self.users.setdefault(sub.user_id, []).append(sub)

    def user_unsubscribe(self, sub: UserSubscription) -> None:
        subs = self.users.get(sub.user_id, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self.users.pop(sub.user_id, None)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("stream hub task failed: %r", task.exception())

    # ------------------------------------------------------------ delivery

    def _publish(self, topic: tuple, payload) -> None:
        holders = self.topics.get(topic)
        if not holders:
            return
        raw = json.dumps(payload, separators=(",", ":"))
        targets = list(holders.items())
        if topic[0] in SPREAD_KINDS and len(targets) > FANOUT_CHUNK:
            self._spawn(self._deliver_spread(topic, targets, payload, raw))
            return
        for conn, streams in targets:
            for stream in streams:
                conn.deliver(stream, payload, raw)

    async def _deliver_spread(self, topic: tuple, targets, payload, raw) -> None:
        """A once-a-second message to many connections, a chunk at a time over
        :data:`FANOUT_SPREAD_SECONDS`, so that the trades and book events that
        arrive meanwhile, and whatever else shares the CPU, are not queued behind
        a thousand sends. A connection that left the topic in between is
        skipped. Messages of one topic keep their order: the chunks of each are
        paced alike."""
        pause = FANOUT_SPREAD_SECONDS * FANOUT_CHUNK / len(targets)
        for start in range(0, len(targets), FANOUT_CHUNK):
            if start:
                await asyncio.sleep(pause)
            holders = self.topics.get(topic, {})
            for conn, _ in targets[start : start + FANOUT_CHUNK]:
                for stream in holders.get(conn, ()):
                    conn.deliver(stream, payload, raw)

    def _has(self, *topic) -> bool:
        return topic in self.topics

    def _state(self, symbol: str) -> _SymbolState:
        state = self.symbols.get(symbol)
        if state is None:
            state = self.symbols[symbol] = _SymbolState()
        return state

    # ------------------------------------------------------------ the bus

    def on_message(self, channel: str, message: dict) -> None:
        self.received += 1
        try:
            if channel == bus.MARKET and message.get("k") == "commit":
                self._on_commit(message)
            elif channel == bus.USER:
                self._on_user(message)
        except Exception:  # noqa: BLE001 - one bad message must not stop the hub
            logger.exception("stream hub: message failed")

    def _on_commit(self, message: dict) -> None:
        state = self._state(message["s"])
        seq = message["seq"]
        if state.seq is None:
            state.seq = seq - 1
        if seq <= state.seq:
            return  # already applied, or older than where this hub started
        if seq > state.seq + 1:
            if not state.pending:
                state.gap_deadline = time.monotonic() + GAP_WAIT_SECONDS
            state.pending[seq] = message
            return
        self._apply(message["s"], state, message)
        while state.seq + 1 in state.pending:
            self._apply(message["s"], state, state.pending.pop(state.seq + 1))
        state.gap_deadline = time.monotonic() + GAP_WAIT_SECONDS

    def _skip_gap(self, symbol: str, state: _SymbolState) -> None:
        """The missing message is not coming: close the diffs so far and go on
        from the next message held."""
        self.gaps += 1
        logger.warning(
            "stream hub: %s seq %d never arrived; diff depth jumps to %d",
            symbol,
            state.seq + 1,
            min(state.pending),
        )
        self._flush_diffs(symbol, state, SPEEDS)
        state.seq = min(state.pending) - 1
        while state.seq + 1 in state.pending:
            self._apply(symbol, state, state.pending.pop(state.seq + 1))

    def _apply(self, symbol: str, state: _SymbolState, message: dict) -> None:
        state.seq = message["seq"]
        for diff in state.diffs.values():
            diff.add(message)
        old_best = state.best()
        if "top" in message:
            state.top_set(
                *message["top"], _decimal(message["tick"]), _decimal(message["step"])
            )
        else:  # from a process still writing the levels out
            state.top_set(message["tb"], message["ta"])
        state.top_seq = state.seq
        state.top_known = True
        state.partial_dirty = True
        if state.best() != old_best or message["b"] or message["a"]:
            if self._has("bookTicker", symbol, "", 0, 1000):
                self._publish(
                    ("bookTicker", symbol, "", 0, 1000),
                    payloads.book_ticker(state.top_seq, symbol, *state.top()),
                )
        if message["t"]:
            state.traded = True
            state.last_trade = max(state.last_trade, *(t["t"] for t in message["t"]))
            state.tickers_due = dict.fromkeys(TICKERS, TICKER_READS)
            event_time = message["E"]
            trade_topic = ("trade", symbol, "", 0, 1000)
            agg_topic = ("aggTrade", symbol, "", 0, 1000)
            for t in message["t"]:
                if trade_topic in self.topics:
                    self._publish(trade_topic, payloads.trade(symbol, event_time, t))
                if agg_topic in self.topics:
                    self._publish(agg_topic, payloads.agg_trade(symbol, event_time, t))

    def _flush_diffs(self, symbol: str, state: _SymbolState, speeds) -> None:
        for speed in speeds:
            diff = state.diffs[speed]
            if diff.first is None:
                continue
            topic = ("depth", symbol, "", 0, speed)
            if topic in self.topics:
                self._publish(
                    topic,
                    payloads.depth_update(
                        symbol, now_ms(), diff.first, diff.last, diff.bids, diff.asks
                    ),
                )
            state.diffs[speed] = _Diff()

    def _on_user(self, message: dict) -> None:
        if not any(user_id in self.users for user_id in message.get("users", [])):
            return
        try:
            self.user_queue.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning("stream hub: user events dropped (queue full)")

    async def _user_worker(self) -> None:
        while True:
            message = await self.user_queue.get()
            try:
                await self._user_message(message)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad notice must not stop the rest
                logger.exception("stream hub: user event failed")

    async def _user_message(self, message: dict) -> None:
        kind = message.get("k")
        wanted = {u for u in message.get("users", []) if u in self.users}
        if not wanted:
            return
        if kind == "orders":
            events = await sync_to_async(user_events.order_reports)(
                notice=message, user_ids=wanted
            )
        elif kind == "balance":
            event = user_events.balance_update(message)
            events = {user_id: [event] for user_id in wanted}
        elif kind == "revoked":
            keys = message.get("keys")
            for user_id in wanted:
                for sub in list(self.users.get(user_id, [])):
                    if keys is None or sub.key_id in keys:
                        self.user_unsubscribe(sub)
                        sub.conn.deliver_user(
                            sub.subscription_id,
                            {"e": "eventStreamTerminated", "E": now_ms()},
                        )
            return
        else:
            return
        for user_id, user_list in events.items():
            for sub in list(self.users.get(user_id, [])):
                for event in user_list:
                    sub.conn.deliver_user(sub.subscription_id, event)

    # ------------------------------------------------------------ timers

    async def _tick_fast(self) -> None:
        now = time.monotonic()
        for symbol, state in list(self.symbols.items()):
            if state.pending and now >= state.gap_deadline:
                self._skip_gap(symbol, state)
            self._flush_diffs(symbol, state, (100,))
            if state.partial_dirty and state.top_known:
                for levels in (5, 10, 20):
                    topic = ("depthN", symbol, "", levels, 100)
                    if topic in self.topics:
                        self._publish(
                            topic,
                            payloads.partial_depth(state.top_seq, *state.top(), levels),
                        )
                state.partial_dirty = False

    async def _tick_second(self) -> None:
        second = int(time.time())
        minis = []
        windowed: dict[str, list] = {window: [] for window in TICKER_WINDOWS}
        for symbol, state in list(self.symbols.items()):
            self._flush_diffs(symbol, state, (1000,))
            if state.top_known:
                for levels in (5, 10, 20):
                    topic = ("depthN", symbol, "", levels, 1000)
                    if topic in self.topics:
                        self._publish(
                            topic,
                            payloads.partial_depth(state.top_seq, *state.top(), levels),
                        )
            traded, state.traded = state.traded, False
            due, state.tickers_due = state.tickers_due, {}
            wants_ticker = self._has("ticker", symbol, "", 0, 1000) or self._has(
                "miniTicker", symbol, "", 0, 1000
            )
            all_mini = self._has("allMiniTicker", "", "", 0, 1000)
            if "24h" in due and (wants_ticker or all_mini):
                body = await self._ticker(symbol)
                if self._up_to_date(state, "24h", due, body):
                    event_time = now_ms()
                    self._publish(
                        ("ticker", symbol, "", 0, 1000),
                        payloads.ticker(event_time, body),
                    )
                    mini = payloads.mini_ticker(event_time, body)
                    self._publish(("miniTicker", symbol, "", 0, 1000), mini)
                    minis.append(mini)
            await self._window_tickers(symbol, state, due, windowed)
            if traded and self._has("avgPrice", symbol, "", 0, 1000):
                avg = await self._avg(symbol)
                if avg is not None:
                    self._publish(
                        ("avgPrice", symbol, "", 0, 1000),
                        payloads.avg_price(symbol, now_ms(), avg),
                    )
            if traded:
                for topic in [
                    t for t in self.topics if t[0] == "kline" and t[1] == symbol
                ]:
                    self.klines_sent.pop((symbol, topic[2]), None)
        if minis:
            self._publish(("allMiniTicker", "", "", 0, 1000), minis)
        for window, changed in windowed.items():
            if changed:
                self._publish(("allWindowTicker", "", window, 0, 1000), changed)
        await self._klines(second)
        if second % KEY_CHECK_SECONDS == 0:
            await self._keys_check()

    def _up_to_date(self, state: _SymbolState, ticker: str, due: dict, body) -> bool:
        """Whether to send ``body``: it tells of the symbol's last trade, or it is
        the last read allowed. A read that predates the trade, or failed, makes
        ``ticker`` due again next second (unless a trade since made it due
        afresh)."""
        if body is not None and (
            body["lastId"] >= state.last_trade or due[ticker] <= 1
        ):
            return True
        if due[ticker] > 1:
            left = state.tickers_due.get(ticker, 0)
            state.tickers_due[ticker] = max(left, due[ticker] - 1)
        return False

    async def _window_tickers(
        self, symbol: str, state: _SymbolState, due: dict, changed: dict[str, list]
    ) -> None:
        """``<symbol>@ticker_<w>`` for each window due that someone follows,
        directly or through ``!ticker_<w>@arr``; each payload sent is added to
        ``changed[w]``."""
        for window in TICKER_WINDOWS:
            topic = ("windowTicker", symbol, window, 0, 1000)
            if window not in due or (
                topic not in self.topics
                and not self._has("allWindowTicker", "", window, 0, 1000)
            ):
                continue
            body = await self._window_ticker(symbol, window)
            if self._up_to_date(state, window, due, body):
                payload = payloads.window_ticker(now_ms(), window, body)
                self._publish(topic, payload)
                changed[window].append(payload)

    async def _keys_check(self) -> None:
        """End the streams of keys deactivated without a notice on the bus (an
        operator editing the row): revokes through the services end them at
        once, this within :data:`KEY_CHECK_SECONDS`."""
        subs = [sub for subs in self.users.values() for sub in subs]
        if not subs:
            return
        active = await self._read(
            user_events.keys_active, key_ids={sub.key_id for sub in subs}
        )
        if active is None:
            return
        for sub in subs:
            if sub.key_id not in active:
                self.user_unsubscribe(sub)
                sub.conn.deliver_user(
                    sub.subscription_id, {"e": "eventStreamTerminated", "E": now_ms()}
                )

    async def _klines(self, second: int) -> None:
        """Candles: every second for 1s, every 2 s otherwise, when a trade changed
        the current one or it closed (then the closed one goes out with x=true)."""
        for topic in [t for t in self.topics if t[0] == "kline"]:
            _, symbol, interval, _, _ = topic
            if interval != "1s" and second % 2:
                continue
            key = (symbol, interval)
            sent = self.klines_sent.get(key)
            now = now_ms()
            current_start = _bucket(interval, now)
            if sent is not None and sent[0] == current_start:
                continue
            rows = await self._kline_rows(symbol, interval, 2)
            if rows is None:
                continue
            event_time = now_ms()
            if sent is not None and sent[0] != current_start:
                closed = [r for r in rows if r[0] == sent[0]]
                if closed:
                    self._publish(
                        topic,
                        payloads.kline(symbol, event_time, interval, closed[0], True),
                    )
            current = [r for r in rows if r[0] == current_start]
            if current:
                self._publish(
                    topic,
                    payloads.kline(symbol, event_time, interval, current[0], False),
                )
            self.klines_sent[key] = [current_start]

    # ------------------------------------------------------------ reads

    async def _first_payload(self, conn: Subscriber, stream: Stream) -> None:
        """What a new subscriber sees before the next change: the book, the
        ticker, the current candle."""
        symbol = stream.symbol
        if symbol and symbol not in await self._listed():
            return  # a valid name for a symbol we do not list: nothing, ever
        if stream.kind in ("depthN", "bookTicker"):
            state = self._state(symbol)
            if not state.top_known:
                depth = await self._read(selectors.depth_get, symbol=symbol, limit=20)
                if depth is None or state.top_known:
                    return
                state.top_set(depth["bids"], depth["asks"])
                state.top_seq = depth["lastUpdateId"]
                state.top_known = True
            if stream.kind == "bookTicker":
                payload = payloads.book_ticker(state.top_seq, symbol, *state.top())
            else:
                payload = payloads.partial_depth(
                    state.top_seq, *state.top(), stream.levels
                )
        elif stream.kind in ("ticker", "miniTicker"):
            body = await self._ticker(symbol)
            if body is None:
                return
            build = payloads.ticker if stream.kind == "ticker" else payloads.mini_ticker
            payload = build(now_ms(), body)
        elif stream.kind == "windowTicker":
            body = await self._window_ticker(symbol, stream.interval)
            if body is None:
                return
            payload = payloads.window_ticker(now_ms(), stream.interval, body)
        elif stream.kind == "avgPrice":
            avg = await self._avg(symbol)
            if avg is None:
                return
            payload = payloads.avg_price(symbol, now_ms(), avg)
        elif stream.kind == "kline":
            rows = await self._kline_rows(symbol, stream.interval, 1)
            if not rows:
                return
            payload = payloads.kline(symbol, now_ms(), stream.interval, rows[-1], False)
        elif stream.kind in ("allMiniTicker", "allWindowTicker"):
            # Every listed symbol once.
            rows = await self._read(symbols_list)
            now = now_ms()
            payload = []
            for row in rows or []:
                self._state(row.symbol)
                if stream.kind == "allMiniTicker":
                    body = await self._ticker(row.symbol)
                    if body is not None:
                        payload.append(payloads.mini_ticker(now, body))
                else:
                    body = await self._window_ticker(row.symbol, stream.interval)
                    if body is not None:
                        payload.append(
                            payloads.window_ticker(now, stream.interval, body)
                        )
            if not payload:
                return
        else:
            return
        conn.deliver(stream, payload, json.dumps(payload, separators=(",", ":")))

    async def _listed(self) -> set[str]:
        """The symbols the exchange lists, read at most once a minute."""
        now = time.monotonic()
        if self._symbols_read_at + 60 < now:
            rows = await self._read(symbols_list)
            if rows is not None:
                self._symbols = {row.symbol for row in rows}
                self._symbols_read_at = now
        return self._symbols

    async def _read(self, function, **kwargs):
        """A selector's answer through a thread, or None if it refused (an
        unknown symbol sends nothing, as on Binance) or failed. A failure (the
        database away) is logged, at most once every
        :data:`READ_FAILURE_LOG_SECONDS` seconds."""
        try:
            return await sync_to_async(function, thread_sensitive=True)(**kwargs)
        except ExchangeError:
            return None
        except Exception:  # noqa: BLE001 - the streams outlive a database hiccup
            now = time.monotonic()
            if now - self._read_failure_logged_at >= READ_FAILURE_LOG_SECONDS:
                self._read_failure_logged_at = now
                logger.warning(
                    "stream hub: %s failed; what it feeds waits for the next read",
                    getattr(function, "__name__", function),
                    exc_info=True,
                )
            return None

    async def _ticker(self, symbol: str) -> dict | None:
        return await self._read(
            selectors.ticker_window,
            symbol=symbol,
            window_ms=DAY,
            now_ms=now_ms(),
            full=True,
        )

    async def _window_ticker(self, symbol: str, window: str) -> dict | None:
        """The REST rolling-window ticker (``/api/v3/ticker?windowSize=``)."""
        return await self._read(
            selectors.ticker_window,
            symbol=symbol,
            window_ms=WINDOW_MS[window],
            now_ms=now_ms(),
            full=False,
        )

    async def _avg(self, symbol: str) -> dict | None:
        return await self._read(selectors.avg_price, symbol=symbol, now_ms=now_ms())

    async def _kline_rows(self, symbol: str, interval: str, limit: int):
        def rows():
            candles = klines_list(
                symbol=symbol,
                interval=interval,
                start_time=None,
                end_time=None,
                limit=limit,
                now_ms=now_ms(),
            )
            return [kline_row(interval, c) for c in candles]

        return await self._read(rows)


def _bucket(interval: str, ms: int) -> int:
    return bucket_start(interval, ms) if interval in INTERVALS else ms
