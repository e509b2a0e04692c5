"""The event bus from the order path to the live side (the WebSocket server).

Producers call :func:`publish` with a channel and a *builder*: a callable that
returns the message (a JSON-able dict) or None. ``publish`` only appends to a
queue; one daemon thread per process calls the builders (so formatting happens
off the pair lock) and delivers the messages, in the order they were published.
A server that serves one request at a time on one thread (the gunicorn worker,
``exchange/worker.py``) delivers its own instead, after each response is
written (:func:`deliver_here`, :func:`drain`): the hand-off to the bus thread
cost every write a thread wake-up and a contest for the GIL
(docs/performance.md). Such a thread may also :func:`stage` Redis commands of
its own (the order path's market-data cache writes) to go out first in the
round trip of its next drain, which the pair lock makes at its release: one
round trip for a commit's cache writes and its messages. Either way they go:

* with ``REDIS_URL`` set, to Redis pub/sub, channel ``<prefix>:<channel>``;
* on the embedded default, to the callbacks registered in this very process with
  :func:`subscribe_local` (the WebSocket server, when it runs in the same process).

Publishing never blocks and never raises: a full queue or a dead Redis drops the
message (counted, logged once per outage). Consumers that need continuity
(diff depth) see the gap in the sequence numbers and say so to their clients.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
from collections.abc import Callable

import orjson
from django.conf import settings
from redis.connection import parse_url

from exchange.redis import REDIS_DOWN, commands_send, redis_client, redis_failed

logger = logging.getLogger(__name__)

MARKET = "market"
USER = "user"
CHANNELS = (MARKET, USER)
QUEUE_SIZE = 100_000

Builder = Callable[[], dict | None]
Listener = Callable[[str, dict], None]

_queue: queue.SimpleQueue = queue.SimpleQueue()
_state: dict = {"pid": None, "thread": None, "dropped": 0}
_start_guard = threading.Lock()
_listeners: list[Listener] = []
# The thread that delivers its own messages (deliver_here), what it has
# published since its last drain, and the Redis commands it staged for it
# (commands, called if they fail).
_here: dict = {"thread": None}
_pending: list = []
_staged: list[tuple[list[tuple], Callable[[], None]]] = []
_listeners_guard = threading.Lock()


def channel_name(channel: str) -> str:
    """The Redis channel: the cache's key prefix and the database number keep
    test runs and deployments sharing one Redis apart (pub/sub channels are
    shared by every database of a server; keys are not)."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "exchange") or "exchange"
    return _channel_name(prefix, settings.REDIS_URL, channel)


@functools.lru_cache(maxsize=32)
def _channel_name(prefix: str, url: str | None, channel: str) -> str:
    database = int(parse_url(url).get("db", 0)) if url else 0
    return f"{prefix}:{database}:bus:{channel}"


def publish(channel: str, build: Builder) -> None:
    """Queue a message for delivery after the current code path; never blocks."""
    if _here["thread"] == threading.get_ident():
        _pending.append((channel, build))
        return
    if _state["pid"] != os.getpid():
        _start()
    if _queue.qsize() >= QUEUE_SIZE:
        _state["dropped"] += 1
        return
    _queue.put((channel, build))


def subscribe_local(listener: Listener) -> Callable[[], None]:
    """Deliver every message of this process to ``listener(channel, message)``
    (called on the bus thread: it must only hand the message over). Returns the
    function that unsubscribes it."""
    with _listeners_guard:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _listeners_guard:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def deliver_here() -> None:
    """Make the calling thread deliver what it publishes itself, when it calls
    :func:`drain`; other threads' messages still go through the bus thread."""
    _pending.clear()
    _staged.clear()
    _here["thread"] = threading.get_ident()


def stage(commands: list[tuple], failed: Callable[[], None]) -> bool:
    """Send ``commands`` to Redis with this thread's next :func:`drain`, in its
    round trip and before its messages; ``failed()`` is called if they could not
    be sent (Redis down). False, and nothing kept, for a thread that does not
    deliver its own or without Redis: the caller sends them itself."""
    if _here["thread"] != threading.get_ident() or not settings.REDIS_URL:
        return False
    _staged.append((commands, failed))
    return True


def drain() -> None:
    """Deliver what this thread published and staged since its last drain
    (after :func:`deliver_here`; a no-op otherwise). Never raises."""
    if not (_pending or _staged) or _here["thread"] != threading.get_ident():
        return
    batch, staged = _pending[:], _staged[:]
    _pending.clear()
    _staged.clear()
    try:
        _deliver(batch, staged)
    except Exception:  # noqa: BLE001 - the server must outlive any bad message
        logger.exception("event bus delivery failed")


def flush(timeout: float = 5.0) -> bool:
    """Wait until everything queued so far is delivered (tests, shutdown)."""
    drain()
    if _state["pid"] != os.getpid():
        return True
    done = threading.Event()
    _queue.put((None, done.set))
    return done.wait(timeout)


def _start() -> None:
    with _start_guard:
        if _state["pid"] == os.getpid():
            return
        # After a fork the parent's thread is gone and its queue is not ours.
        global _queue
        _queue = queue.SimpleQueue()
        thread = threading.Thread(target=_run, name="event-bus", daemon=True)
        _state.update(pid=os.getpid(), thread=thread)
        thread.start()


def _run() -> None:
    while True:
        batch = [_queue.get()]
        while len(batch) < 500:
            try:
                batch.append(_queue.get_nowait())
            except queue.Empty:
                break
        try:
            _deliver(batch)
        except Exception:  # noqa: BLE001 - the bus must outlive any bad message
            logger.exception("event bus delivery failed")


def _deliver(batch: list, staged: list = ()) -> None:
    messages = []
    for channel, build in batch:
        if channel is None:
            # A flush marker: what was queued before it goes out first.
            try:
                _send(messages)
            finally:
                messages = []
                build()
            continue
        try:
            message = build()
        except Exception:  # noqa: BLE001 - one bad builder must not stop the others
            logger.exception("event builder failed")
            continue
        if message is not None:
            messages.append((channel, message))
    _send(messages, staged)


def _send(messages: list[tuple[str, dict]], staged: list = ()) -> None:
    if not (messages or staged):
        return
    if settings.REDIS_URL:
        _to_redis(messages, staged)
    else:
        with _listeners_guard:
            listeners = list(_listeners)
        for listener in listeners:
            for channel, message in messages:
                listener(channel, message)


def _to_redis(messages: list[tuple[str, dict]], staged: list = ()) -> None:
    client = redis_client()
    if client is None:
        _failed(messages, staged)
        return
    commands = [command for batch, _ in staged for command in batch]
    commands.extend(
        (
            "PUBLISH",
            channel_name(channel),
            orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS),
        )
        for channel, message in messages
    )
    try:
        commands_send(client, commands)
    except REDIS_DOWN:
        redis_failed("event bus")
        _failed(messages, staged)


def _failed(messages: list, staged: list) -> None:
    _state["dropped"] += len(messages)
    for _, failed in staged:
        failed()


def dropped() -> int:
    """Messages dropped by this process so far (full queue or Redis down)."""
    return _state["dropped"]
