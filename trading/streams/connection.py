"""One WebSocket connection's plumbing, shared by the market streams and the
WebSocket API: the outbox a writer task drains, the incoming-message budget, and
the ASGI send/close calls.

A client that does not read its frames fills its outbox; it is then disconnected
(as Binance drops slow consumers) rather than making the process hold an unbounded
backlog for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from trading.streams import payloads, shutdown
from trading.streams.hub import Subscriber
from trading.streams.names import Stream

OUTBOX_FRAMES = 4096
MAX_FRAME_BYTES = 64 * 1024
# Binance: 5 incoming messages a second. A bucket of 10 lets a client's burst of
# SUBSCRIBEs through (ccxt sends about 4 a second), and still cuts a flood.
MESSAGES_PER_SECOND = 5.0
MESSAGE_BURST = 10.0

GOING_AWAY = 1001
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013


class Connection(Subscriber):
    def __init__(
        self, send, *, combined: bool = False, micro: bool = False, api: bool = False
    ) -> None:
        self._send = send
        self.combined = combined
        self.micro = micro
        self.api = api  # a WebSocket API connection, not market streams
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=OUTBOX_FRAMES)
        self.closing: int | None = None
        self._tokens = MESSAGE_BURST
        self._refilled = time.monotonic()

    # -- outgoing

    def put(self, text: str) -> None:
        if self.closing is not None:
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.close(TRY_AGAIN_LATER)

    def put_json(self, value) -> None:
        self.put(json.dumps(value, separators=(",", ":")))

    def deliver(self, stream: Stream, payload, raw: str) -> None:
        if self.micro:
            raw = json.dumps(payloads.in_microseconds(payload), separators=(",", ":"))
        if self.combined:
            raw = f'{{"stream":{json.dumps(stream.name)},"data":{raw}}}'
        self.put(raw)

    def deliver_user(self, subscription_id: int, event: dict) -> None:
        if self.micro:
            event = payloads.in_microseconds(event)
        self.put_json({"subscriptionId": subscription_id, "event": event})

    def leave(self, event_time: int) -> None:
        """The server is shutting down: Binance's ``serverShutdown`` in this
        connection's shape (raw, combined, or the WebSocket API's event), then
        close."""
        event = payloads.server_shutdown(event_time)
        if self.micro:
            event = payloads.in_microseconds(event)
        if self.api:
            frame: dict = {"event": event}
        elif self.combined:
            frame = {"stream": "!serverShutdown", "data": event}
        else:
            frame = event
        self.put_json(frame)
        self.close(GOING_AWAY)

    def close(self, code: int) -> None:
        """Close after what is already queued (or at once if the outbox is full)."""
        if self.closing is None:
            self.closing = code
            with contextlib.suppress(asyncio.QueueFull):
                self.outbox.put_nowait(None)

    async def writer(self) -> None:
        """Send the outbox until closed; then close the socket."""
        while True:
            if self.closing is not None and self.outbox.empty():
                break
            text = await self.outbox.get()
            if text is None:
                break
            await self._send({"type": "websocket.send", "text": text})
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": self.closing or 1000})

    # -- incoming

    def allow_message(self) -> bool:
        """Spend one message of the budget; False once the client floods."""
        now = time.monotonic()
        self._tokens = min(
            MESSAGE_BURST, self._tokens + (now - self._refilled) * MESSAGES_PER_SECOND
        )
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def frame_text(message: dict) -> str | None:
    """The text of a ``websocket.receive`` event (binary frames decoded as UTF-8),
    or None if it is not valid UTF-8."""
    text = message.get("text")
    if text is not None:
        return text
    data = message.get("bytes") or b""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


async def serve(scope, receive, send, conn: Connection, on_open, on_text, on_close):
    """Accept, run the reader and the writer until either side closes."""
    event = await receive()
    if event["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    writer = asyncio.create_task(conn.writer())
    shutdown.opened(conn)
    try:
        await on_open()
        while conn.closing is None:
            receiving = asyncio.ensure_future(receive())
            done, _ = await asyncio.wait(
                {receiving, writer}, return_when=asyncio.FIRST_COMPLETED
            )
            if receiving not in done:
                receiving.cancel()
                break
            event = receiving.result()
            if event["type"] == "websocket.disconnect":
                break
            text = frame_text(event)
            if not conn.allow_message():
                conn.close(POLICY_VIOLATION)
                break
            if text is None or len(text) > MAX_FRAME_BYTES:
                await on_text(None)
                conn.close(MESSAGE_TOO_BIG if text is not None else POLICY_VIOLATION)
                break
            await on_text(text)
    finally:
        on_close()
        if conn.closing is None:
            conn.closing = 1000
        try:
            if not writer.done():
                with contextlib.suppress(asyncio.QueueFull):
                    conn.outbox.put_nowait(None)
                try:
                    await asyncio.wait_for(writer, timeout=5)
                except (TimeoutError, asyncio.CancelledError, Exception):  # noqa: BLE001
                    writer.cancel()
        finally:
            shutdown.closed(conn)
