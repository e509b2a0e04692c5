"""The server going away: Binance's ``serverShutdown`` on every connection, then
a clean close, before the process stops (a Kubernetes rollout's SIGTERM, Ctrl-C
under ``make run``), so clients reconnect at once, elsewhere.

uvicorn, once it decides to stop, closes every WebSocket at once (1012) and only
then runs the lifespan shutdown: too late to say anything. So
:func:`signals_install`, called at lifespan startup in the server's main thread,
puts a handler in front of the server's for SIGTERM and SIGINT. The first signal
sends the notice to every open connection, waits until they have closed (at
most :data:`DRAIN_SECONDS`), then hands the signal to the server, which stops as
it always does. A second signal goes straight to the server (uvicorn: a second
Ctrl-C forces the exit). A connection opened meanwhile gets the notice at once.

A connection is anything with ``leave(event_time)``
(:class:`~trading.streams.connection.Connection`), counted from its accept to
its end by :func:`opened` and :func:`closed`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
import weakref

logger = logging.getLogger(__name__)

# How long the notices may take to go out before the server closes what is
# left. Within the pods' grace period (infra/k8s/base/streams-deployment.yaml).
DRAIN_SECONDS = 3.0
SIGNALS = (signal.SIGTERM, signal.SIGINT)

_open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set] = (
    weakref.WeakKeyDictionary()
)
_leaving: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
_tasks: set[asyncio.Task] = set()  # held until done (the loop keeps weak refs)


def _now_ms() -> int:
    return int(time.time() * 1000)


def opened(conn) -> None:
    """Count ``conn`` as open; if the server is already leaving, tell it now."""
    loop = asyncio.get_running_loop()
    _open.setdefault(loop, set()).add(conn)
    if loop in _leaving:
        conn.leave(_now_ms())


def closed(conn) -> None:
    conns = _open.get(asyncio.get_running_loop())
    if conns is not None:
        conns.discard(conn)


async def connections_leave(timeout: float = DRAIN_SECONDS) -> int:
    """Send ``serverShutdown`` to every open connection of this event loop and
    close them; return once they have all closed, or after ``timeout`` seconds.
    From now on a new connection is told at once. Returns how many were told."""
    loop = asyncio.get_running_loop()
    _leaving.add(loop)
    conns = list(_open.get(loop, ()))
    event_time = _now_ms()
    for conn in conns:
        conn.leave(event_time)
    deadline = loop.time() + timeout
    while _open.get(loop) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    if _open.get(loop):
        logger.warning(
            "server shutdown: %d connections still open after %.0f s",
            len(_open[loop]),
            timeout,
        )
    return len(conns)


def signals_install() -> bool:
    """Put the notice in front of the server's SIGTERM and SIGINT handlers.

    Precondition: called on the server's event loop. Only in the main thread
    (where signal handlers live) and only over a handler the server set (a
    Python callable: a server that stops gracefully); returns whether it did.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()
    installed = False
    for sig in SIGNALS:
        original = signal.getsignal(sig)
        if callable(original):
            signal.signal(sig, _in_front_of(loop, original))
            installed = True
    return installed


def _in_front_of(loop: asyncio.AbstractEventLoop, original):
    def handle(sig, frame) -> None:
        if loop in _leaving or loop.is_closed():
            original(sig, frame)
            return
        _leaving.add(loop)
        loop.call_soon_threadsafe(_leave_then, loop, original, sig)

    return handle


def _leave_then(loop: asyncio.AbstractEventLoop, original, sig) -> None:
    async def leave() -> None:
        try:
            await connections_leave()
        finally:
            original(sig, None)

    task = loop.create_task(leave())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
