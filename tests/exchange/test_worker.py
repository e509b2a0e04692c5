"""The inline gunicorn worker (exchange/worker.py), served for real in a subprocess."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(keepalive: int = 5, workers: int = 1, **env):
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            "exchange.worker.InlineWorker",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--keep-alive",
            str(keepalive),
            "--timeout",
            "30",
            "--log-level",
            "warning",
            # Several workers: a socket each, so the kernel spreads connections.
            *(["--reuse-port"] if workers > 1 else []),
            "tests.exchange.wsgi_probe:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.1)
    return process, port


@pytest.fixture(scope="module")
def server():
    process, port = _serve()
    yield port
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def impatient_server():
    """A worker that gives a client one second to send its request."""
    process, port = _serve(WEB_READ_TIMEOUT="1")
    yield port
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def closing_server():
    """A worker with keep-alive off (WEB_KEEPALIVE=0)."""
    process, port = _serve(keepalive=0)
    yield port
    process.terminate()
    process.wait(timeout=30)


def _get(connection, path):
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read().decode()


def _receive(client, *, until, count=1):
    received = b""
    deadline = time.monotonic() + 10
    while received.count(until) < count and time.monotonic() < deadline:
        received += client.recv(65536)
    return received


def test_serves_requests_on_the_loop_thread_over_one_connection(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    answers = [_get(connection, f"/n{i}") for i in range(5)]
    assert answers == [(200, f"/n{i} main ") for i in range(5)]
    connection.close()


def test_events_go_out_from_the_loop_thread_after_the_response(server):
    """What a request publishes is built and sent by the worker's own thread once
    the response is written: no bus thread, and no wait for the client."""
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    assert _get(connection, "/publish")[0] == 200
    assert _get(connection, "/publish")[0] == 200
    assert _get(connection, "/published") == (200, "main:after main:after")
    connection.close()


def test_with_keep_alive_off_each_request_is_answered_and_closed(closing_server):
    # A new connection waits for its request on the selector; with keep-alive
    # off it used to be given no time at all and was closed unanswered.
    for i in range(3):
        with socket.create_connection(("127.0.0.1", closing_server), timeout=5) as c:
            time.sleep(0.2)  # the worker has already seen the connection
            c.sendall(f"GET /k{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            answer = _receive(c, until=b"main ")
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert b"connection: close" in answer.lower()
            assert answer.endswith(f"/k{i} main ".encode())
            assert c.recv(1) == b""  # closed after the answer


def test_reads_the_body(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    connection.request("POST", "/order", body=b"symbol=BTCUSDT&side=BUY")
    response = connection.getresponse()
    assert response.read() == b"/order main symbol=BTCUSDT&side=BUY"
    connection.close()


def test_an_idle_connection_does_not_hold_the_worker(server):
    idle = socket.create_connection(("127.0.0.1", server))
    try:
        time.sleep(0.2)  # accepted by now, nothing sent on it
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
        assert _get(connection, "/after-idle") == (200, "/after-idle main ")
        # gthread's handler would wait up to 5 s for the idle client's first bytes.
        assert time.monotonic() - started < 2
        connection.close()
        idle.settimeout(5)
        idle.sendall(b"GET /late HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"/late main" in _receive(idle, until=b"/late main")
    finally:
        idle.close()


def test_pipelined_requests_are_answered_in_order(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as client:
        client.sendall(
            b"".join(
                f"GET /p{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(50)
            )
        )
        received = _receive(client, until=b" main ", count=50)
    bodies = [part.split(b" ")[0] for part in received.split(b"\r\n\r\n")[1:]]
    assert bodies == [f"/p{i}".encode() for i in range(50)]


def test_half_sent_requests_do_not_freeze_the_worker(impatient_server):
    stalled = []
    for partial in (
        b"GET /slow HTTP/1.1\r\nHost: x\r\n",  # headers never finished
        b"GET /slow HTTP/1.1\r\nHo",
        b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab",
    ):
        client = socket.create_connection(("127.0.0.1", impatient_server))
        client.sendall(partial)
        stalled.append(client)
    try:
        time.sleep(0.2)
        started = time.monotonic()
        connection = http.client.HTTPConnection(
            "127.0.0.1", impatient_server, timeout=20
        )
        assert _get(connection, "/after") == (200, "/after main ")
        # Each stalled request holds the worker at most its read timeout (1 s),
        # not gunicorn's 30 s worker timeout.
        assert time.monotonic() - started < 6
        connection.close()
    finally:
        for client in stalled:
            client.close()


def test_a_drip_fed_request_is_cut_at_the_deadline(impatient_server):
    with socket.create_connection(("127.0.0.1", impatient_server)) as client:
        client.settimeout(10)
        started = time.monotonic()
        closed = False
        for byte in b"GET /drip HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40:
            try:
                client.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.1)
        if not closed:
            closed = client.recv(100) == b""
        assert closed
        assert time.monotonic() - started < 6


def test_headers_over_the_limit_are_answered_in_binance_shape(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as client:
        client.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
        )
        received = _receive(client, until=b"}")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 4")
    assert b"Content-Type: application/json" in head
    answer = json.loads(body)
    assert set(answer) == {"code", "msg"} and answer["code"] < 0


def test_a_malformed_request_line_is_answered_in_binance_shape(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as client:
        client.sendall(b"GARBAGE\r\n\r\n")
        received = _receive(client, until=b"}")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["code"] == -1100


class _Socket:
    """Records each send, as the kernel sees it."""

    def __init__(self):
        self.sends: list[bytes] = []

    def sendall(self, data):
        self.sends.append(bytes(data))


def _response(method="GET"):
    from gunicorn.config import Config

    from exchange.worker import OneSendResponse

    request = SimpleNamespace(method=method, version=(1, 1), should_close=lambda: False)
    sock = _Socket()
    return OneSendResponse(request, sock, Config()), sock.sends


def test_a_response_goes_out_in_one_send_head_and_body():
    response, sends = _response()
    response.start_response("200 OK", [("Content-Length", "7")])
    response.write(b'{"a":1}')
    response.close()
    assert len(sends) == 1
    head, _, body = sends[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 7" in head and b"\r\nDate: " in head
    assert body == b'{"a":1}'


def test_a_response_without_body_bytes_sends_its_head_alone():
    head_request, sends = _response("HEAD")
    head_request.start_response("200 OK", [("Content-Length", "7")])
    head_request.write(b'{"a":1}')  # dropped: HEAD has no body
    assert [s.partition(b"\r\n\r\n")[2] for s in sends] == [b""]
    head_request.close()
    assert len(sends) == 1

    empty, sends = _response()
    empty.start_response("204 No Content", [])
    empty.close()
    assert len(sends) == 1 and sends[0].startswith(b"HTTP/1.1 204 No Content\r\n")


def test_a_chunked_response_sends_its_head_first_then_the_chunks():
    response, sends = _response()
    response.start_response("200 OK", [("Content-Type", "text/plain")])
    response.write(b"ab")
    response.write(b"cde")
    response.close()
    assert b"Transfer-Encoding: chunked" in sends[0]
    assert sends[0].endswith(b"\r\n\r\n")
    assert b"".join(sends[1:]) == b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"


def _gunicorns(headers):
    """What gunicorn's own response keeps of ``headers``, or the error it raises."""
    from gunicorn.config import Config

    from exchange.worker import OneSendResponse

    request = SimpleNamespace(method="GET", version=(1, 1), should_close=lambda: False)
    (gunicorns,) = OneSendResponse.__bases__
    plain = gunicorns(request, _Socket(), Config())
    try:
        plain.process_headers(headers)
    except Exception as error:  # noqa: BLE001 - compared below
        return type(error)
    return plain.headers, plain.response_length


def _ours(headers):
    response, _ = _response()
    try:
        response.process_headers(headers)
    except Exception as error:  # noqa: BLE001 - compared below
        return type(error)
    return response.headers, response.response_length


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Frame-Options", "DENY"), ("Content-Length", "12"), ("Vary", " origin\t")],
        [("Connection", "close"), ("Keep-Alive", "timeout=5"), ("Cache-Control", "x")],
        [("Upgrade", "websocket"), ("Upgrade", "h2c"), ("Content-Length", "0012")],
        [("X-Frame-Options", "DENY\r\nSet-Cookie: a=b")],
        [("X-Frame-Options", 7)],
        [("Content-Length", "12a")],
        [("Content-Length", "\u00b2")],
        [(b"X-Frame-Options", "DENY")],
        [("Bad Name", "x")],
    ],
)
def test_headers_are_kept_and_refused_as_gunicorn_does(headers):
    """A header name is judged by gunicorn once per process; after that only
    the value is checked. Asked twice (the second time with the names known),
    the answer is gunicorn's: the same headers kept in the same order, the same
    length, the same error for a bad name or value."""
    expected = _gunicorns(headers)
    assert _ours(headers) == expected
    assert _ours(headers) == expected


def test_the_date_header_is_todays_and_kept_for_a_second(monkeypatch):
    from email.utils import formatdate

    from exchange import worker

    monkeypatch.setattr(worker.time, "time", lambda: 1_800_000_000.25)
    first = worker.http_date()
    monkeypatch.setattr(worker.time, "time", lambda: 1_800_000_000.75)
    assert worker.http_date() is first
    assert first == formatdate(1_800_000_000, usegmt=True)
    monkeypatch.setattr(worker.time, "time", lambda: 1_800_000_001.0)
    assert worker.http_date() == formatdate(1_800_000_001, usegmt=True)
    assert worker.http_date(0) == formatdate(0, usegmt=True)


def test_the_worker_reads_each_setting_as_gunicorn_would_and_asks_once(monkeypatch):
    from gunicorn.config import Config

    from exchange.worker import SettledConfig

    cfg = Config()
    cfg.set("keepalive", 7)
    cfg.set("limit_request_line", 123)
    settled = SettledConfig(cfg)
    for name in cfg.settings:
        assert getattr(settled, name) == getattr(cfg, name), name
    assert settled.keepalive == 7
    assert settled.limit_request_line == 123

    asked = []
    ask = Config.__getattr__
    monkeypatch.setattr(
        Config, "__getattr__", lambda self, name: asked.append(name) or ask(self, name)
    )
    assert settled.is_ssl == cfg.is_ssl  # a property, from the config
    assert not settled.is_ssl
    assert settled.forwarded_allow_networks() == cfg.forwarded_allow_networks()
    asked.clear()
    for _ in range(3):
        assert settled.keepalive == 7
        assert not settled.is_ssl
        assert settled.forwarded_allow_networks() == cfg.forwarded_allow_networks()
    # Only the real config's own method reads its settings.
    assert set(asked) <= {"forwarded_allow_ips"}
    assert settled.settings is cfg.settings


def test_a_worker_over_its_share_of_connections_is_told_so():
    from exchange import worker

    pids, counts = worker._pids, worker._counts
    saved = list(pids), list(counts)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    dead.wait()
    try:
        pids[:] = counts[:] = [0] * len(pids)
        pids[0], counts[0] = os.getpid(), 20
        pids[1], counts[1] = os.getppid(), 15
        assert worker.over_share(20) is True
        assert worker.over_share(15) is False
        # Even counts, or one over the average, stay as they are.
        counts[0], counts[1] = 17, 16
        assert worker.over_share(17) is False
        # A slot whose process is gone does not count.
        pids[2], counts[2] = dead.pid, 0
        counts[0], counts[1] = 20, 15
        assert worker.over_share(20) is True
        pids[1], counts[1] = 0, 0
        assert worker.over_share(20) is False  # alone: nothing to balance with
    finally:
        pids[:], counts[:] = saved


def test_a_stopping_worker_passes_on_the_connections_handed_to_it():
    """A busy worker hands a connection to the slot of a worker it saw idle; if
    that worker stops first, the connection goes on to another live worker
    instead of waiting in a pair nobody reads."""
    from types import SimpleNamespace

    from exchange import worker

    arrays = worker._pids, worker._idle
    saved = [list(a) for a in arrays]
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    served, _ = listener.accept()
    try:
        for a in arrays:
            a[:] = [0] * len(a)
        worker._pids[5] = os.getpid()  # the stopping worker
        worker._pids[6], worker._idle[6] = os.getppid(), 1  # a live, idle one
        socket.send_fds(worker._hands[5][0], [b"c"], [served.fileno()])
        worker.InlineWorker._pass_on_handed(SimpleNamespace(_slot=5))
        _, fds, _, _ = socket.recv_fds(worker._hands[6][1], 1, 1)
        assert len(fds) == 1
        passed = socket.socket(fileno=fds[0])
        assert passed.getpeername() == client.getsockname()
        passed.close()
        with pytest.raises(BlockingIOError):  # nothing left behind
            socket.recv_fds(worker._hands[5][1], 1, 1)
    finally:
        for a, values in zip(arrays, saved, strict=True):
            a[:] = values
        for s in (client, served, listener):
            s.close()


def test_a_worker_woken_by_its_timeout_still_says_it_is_idle():
    """The loop wakes every second with nothing to do; a busy worker looking
    for an idle one just then must still find it, and a worker serving says so."""
    from types import SimpleNamespace

    from exchange import worker

    class Poller:
        def __init__(self, events):
            self.events = events

        def select(self, timeout):
            return self.events

    saved = worker._idle[7]
    serving: list[int] = []
    try:
        stub = SimpleNamespace(_slot=7, alive=True, poller=Poller([]))
        worker.InlineWorker.wait_for_and_dispatch_events(stub, 1.0)
        assert worker._idle[7] == 1
        key = SimpleNamespace(
            data=lambda fileobj: serving.append(worker._idle[7]), fileobj=None
        )
        stub.poller = Poller([(key, 1)])
        worker.InlineWorker.wait_for_and_dispatch_events(stub, 1.0)
        assert serving == [0]
    finally:
        worker._idle[7] = saved


def _connections_by_worker(port, connections):
    """Kept-alive connections, opened until one worker of two holds three and
    the other at least one (which worker accepts is the kernel's choice)."""
    owners: dict[int, list] = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len(connections) >= 8:
            time.sleep(0.1)  # the second worker may still be starting
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        status, pid = _get(connection, "/pid")
        assert status == 200
        connections.append(connection)
        owners.setdefault(int(pid), []).append(connection)
        if len(owners) == 2 and max(len(c) for c in owners.values()) >= 3:
            return owners
    raise AssertionError(f"connections by worker: {owners}")


def test_a_request_waiting_behind_another_goes_to_an_idle_worker():
    # Without the connection balancing, which would close some of them.
    process, port = _serve(workers=2, WEB_BALANCE_CONNECTIONS="0")
    connections = []
    try:
        owners = _connections_by_worker(port, connections)
        busy = max(owners, key=lambda pid: len(owners[pid]))
        (idle,) = set(owners) - {busy}
        slow, first, second = owners[busy][:3]
        slow.request("GET", "/pid?sleep=1")
        time.sleep(0.2)  # the busy worker is asleep in that request
        first.request("GET", "/pid")
        second.request("GET", "/pid")
        answers = [int(c.getresponse().read()) for c in (slow, first, second)]
        # Both waited behind the slow one; one of them is served by the worker
        # that had nothing to do, which keeps the connection from then on.
        assert answers[0] == busy
        assert sorted(answers[1:]) == sorted([busy, idle])
        moved = first if answers[1] == idle else second
        assert _get(moved, "/pid") == (200, str(idle))
        assert _get(moved, "/n1") == (200, "/n1 main ")
    finally:
        for connection in connections:
            connection.close()
        process.terminate()
        process.wait(timeout=30)


def test_with_hand_over_off_a_connection_stays_with_its_worker():
    process, port = _serve(workers=2, WEB_BALANCE_CONNECTIONS="0", WEB_HAND_OVER="0")
    connections = []
    try:
        owners = _connections_by_worker(port, connections)
        busy = max(owners, key=lambda pid: len(owners[pid]))
        slow, first, second = owners[busy][:3]
        slow.request("GET", "/pid?sleep=1")
        time.sleep(0.2)
        first.request("GET", "/pid")
        second.request("GET", "/pid")
        answers = [int(c.getresponse().read()) for c in (slow, first, second)]
        assert answers == [busy, busy, busy]
    finally:
        for connection in connections:
            connection.close()
        process.terminate()
        process.wait(timeout=30)
