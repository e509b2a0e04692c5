"""The live side's ASGI application: market streams at ``/ws``, ``/ws/<...>`` and
``/stream``, the WebSocket API at ``/ws-api/v3``.

Served by uvicorn, whose WebSocket implementation pings every 20 s, drops a peer
that does not answer, and answers the client's pings (``--ws-ping-interval 20``,
the default here). One :class:`~trading.streams.hub.Hub` per event loop, started
with its first connection.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs

from trading.streams import shutdown, wsapi
from trading.streams.connection import Connection, serve
from trading.streams.hub import Hub
from trading.streams.names import streams_from_path
from trading.streams.protocol import ProtocolError, control_parse

MAX_STREAMS = 1024
WS_API_PATH = "/ws-api/v3"

_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}
_hub_guard: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


async def hub_get() -> Hub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        lock = _hub_guard.setdefault(loop, asyncio.Lock())
        async with lock:
            hub = _hubs.get(loop)
            if hub is None:
                hub = Hub()
                await hub.start()
                _hubs[loop] = hub
    return hub


async def hubs_stop() -> None:
    loop = asyncio.get_running_loop()
    hub = _hubs.pop(loop, None)
    if hub is not None:
        await hub.stop()


async def lifespan_startup() -> None:
    """The server has started (on its event loop, in its main thread under
    uvicorn): ``serverShutdown`` goes in front of its signal handlers."""
    shutdown.signals_install()


async def lifespan_shutdown() -> None:
    """The server is stopping. Under uvicorn every connection was told and
    closed on the signal, before this; a server that gets here with
    connections still open tells them now."""
    await shutdown.connections_leave()
    await hubs_stop()


def is_stream_path(path: str) -> bool:
    return (
        path in ("/ws", "/stream", WS_API_PATH)
        or path.startswith("/ws/")
        or path.startswith("/stream/")
    )


def _query(scope) -> dict[str, list[str]]:
    return parse_qs(scope.get("query_string", b"").decode("latin-1"))


def _micro(query: dict) -> bool:
    return any(v.lower() == "microsecond" for v in query.get("timeUnit", []))


async def application(scope, receive, send) -> None:
    """The ASGI entry point for WebSocket scopes on the stream paths."""
    if scope["type"] != "websocket":
        return
    hub = await hub_get()
    query = _query(scope)
    if scope["path"] == WS_API_PATH:
        await wsapi.serve_api(scope, receive, send, hub, micro=_micro(query))
        return
    await _serve_streams(scope, receive, send, hub, query)


async def _serve_streams(scope, receive, send, hub: Hub, query: dict) -> None:
    combined, streams = streams_from_path(
        scope["path"], scope.get("query_string", b"").decode("latin-1")
    )
    conn = Connection(send, combined=combined, micro=_micro(query))
    held: dict[str, object] = {}

    async def on_open() -> None:
        for stream in streams[:MAX_STREAMS]:
            held[stream.name] = stream
            hub.subscribe(conn, stream)

    async def on_text(text: str | None) -> None:
        if text is None:
            conn.put_json(
                {
                    "error": {"code": 3, "msg": "Invalid JSON: message too large"},
                    "id": None,
                }
            )
            return
        try:
            request = control_parse(text)
            conn.put_json(_control(request, conn, hub, held))
        except ProtocolError as exc:
            conn.put_json(exc.as_reply())

    def on_close() -> None:
        hub.drop(conn)

    await serve(scope, receive, send, conn, on_open, on_text, on_close)


def _control(request, conn: Connection, hub: Hub, held: dict) -> dict:
    if request.method == "SUBSCRIBE":
        new = [s for s in request.streams if s.name not in held]
        if len(held) + len(new) > MAX_STREAMS:
            raise ProtocolError(
                2,
                f"Invalid request: too many streams (at most {MAX_STREAMS} "
                "per connection)",
                request.id,
            )
        for stream in new:
            held[stream.name] = stream
            hub.subscribe(conn, stream)
        return {"result": None, "id": request.id}
    if request.method == "UNSUBSCRIBE":
        for stream in request.streams:
            if held.pop(stream.name, None) is not None:
                hub.unsubscribe(conn, stream)
        return {"result": None, "id": request.id}
    if request.method == "LIST_SUBSCRIPTIONS":
        return {"result": list(held), "id": request.id}
    if request.method == "SET_PROPERTY":
        conn.combined = bool(request.value)
        return {"result": None, "id": request.id}
    return {"result": conn.combined, "id": request.id}


def reply_text(value) -> str:
    return json.dumps(value, separators=(",", ":"))
