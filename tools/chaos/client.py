"""The chaos run's HTTP client: signed Binance-style requests over one keep-alive
connection, and exactly what each answer told the client.

Every request becomes a :class:`Record`: when it started and ended, what it asked
(kind, symbol, client order id) and what came back, classified once by
:func:`classify` into accepted, refused (a Binance code) or unknown (no answer, or
a 5xx: the client cannot tell whether its order was taken).
"""

from __future__ import annotations

import http.client
import json
import select
import threading
import time
from dataclasses import dataclass

from tools.binance_client import signed_query

HOST = "127.0.0.1"

ACCEPTED = "accepted"
REFUSED = "refused"
UNKNOWN = "unknown"


@dataclass(slots=True)
class Record:
    """One request and what its client was told. Times are seconds since the run
    started; ``user`` is the trader's index (``bench-<user>``), -1 for the probe."""

    kind: str  # place, dup, cancel, read, probe
    name: str  # passive, crossing, market, maker, depth, ...
    user: int
    t0: float
    t1: float = 0.0
    symbol: str = ""
    cid: str = ""  # newClientOrderId of a placement; the target's for a cancel
    order_id: int | None = None  # orderId answered, or the cancel's target
    status: int = 0  # HTTP status; 0 when no answer came
    code: int | None = None  # Binance error code of a refusal or a 5xx body
    msg: str = ""
    error: str = ""  # why the outcome is unknown: "503 -1001", "connection reset"
    order_status: str = ""  # the order's status in the answer, when it says
    pair: int = 0  # duplicate pair number (dup records)

    @property
    def outcome(self) -> str:
        if self.error:
            return UNKNOWN
        return ACCEPTED if 200 <= self.status < 300 else REFUSED

    @property
    def latency(self) -> float:
        return self.t1 - self.t0

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


def classify(record: Record, status: int, body: bytes) -> None:
    """Fill ``record`` from an HTTP answer. A 2xx with a JSON body is accepted; a
    4xx with Binance's ``{"code", "msg"}`` is a refusal; anything else (5xx,
    a body that is not Binance's shape) leaves the outcome unknown, named."""
    record.status = status
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    binance_error = (
        isinstance(data, dict) and isinstance(data.get("code"), int) and "msg" in data
    )
    if binance_error:
        record.code = data["code"]
        record.msg = str(data["msg"])[:120]
    if 200 <= status < 300 and data is not None:
        if isinstance(data, dict):
            if isinstance(data.get("orderId"), int) and record.kind != "cancel":
                record.order_id = data["orderId"]
            record.order_status = str(data.get("status", ""))
        return
    if 400 <= status < 500 and binance_error:
        return
    if status >= 500 and binance_error:
        record.error = f"{status} {data['code']}"
    elif data is None:
        record.error = f"{status} not JSON"
    else:
        record.error = f"{status} not Binance-shaped"


def error_kind(exc: BaseException) -> str:
    """A short name for a request that got no answer."""
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed before answer"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, BrokenPipeError):
        return "broken pipe"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, http.client.IncompleteRead):
        return "incomplete answer"
    return type(exc).__name__


def signed_path(path: str, params: dict, secret: str) -> str:
    """``path?query&signature=...`` with a fresh timestamp, as Binance signs."""
    return f"{path}?{signed_query(secret, params, recv_window=10000)}"


class Connection:
    """One keep-alive HTTP connection to 127.0.0.1, reopened after any failure.
    Requests on one connection reach one gunicorn worker."""

    # Keep-alive connections found closed by the server before a request, in all.
    dropped = 0
    _count_lock = threading.Lock()

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _dropped(self) -> bool:
        """True if the server closed this idle connection (its worker died, or
        its keep-alive ran out): readable with nothing asked means EOF or reset.
        As HTTP client pools do, such a connection is replaced before use."""
        sock = self._conn.sock if self._conn is not None else None
        if sock is None:
            return False
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)

    def request(
        self, method: str, path: str, headers: dict | None = None
    ) -> tuple[int, bytes]:
        if self._dropped():
            with Connection._count_lock:
                Connection.dropped += 1
            self.close()
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                HOST, self.port, timeout=self.timeout
            )
        try:
            self._conn.request(method, path, headers=headers or {})
            response = self._conn.getresponse()
            body = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, body

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Clock:
    """Seconds since the run started, shared by every record and fault event."""

    def __init__(self) -> None:
        self.origin = time.monotonic()
        self.wall_origin = time.time()

    def now(self) -> float:
        return time.monotonic() - self.origin


def send(
    conn: Connection,
    record: Record,
    clock: Clock,
    method: str,
    path: str,
    headers: dict | None = None,
) -> Record:
    """Send one request and fill ``record`` with what came back."""
    record.t0 = clock.now()
    try:
        status, body = conn.request(method, path, headers)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded by kind
        record.error = error_kind(exc)
    else:
        classify(record, status, body)
    record.t1 = clock.now()
    return record
