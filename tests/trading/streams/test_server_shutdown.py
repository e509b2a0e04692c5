"""``serverShutdown``: a graceful stop tells every connection in its own shape
(raw stream, combined stream, WebSocket API, microseconds when asked), then
closes it with 1001, as Binance documents (web-socket-streams.md and
web-socket-api.md, "Server Shutdown"). Against the live side as it is served
(scripts/serve-streams.sh, uvicorn) and sent SIGTERM, as Kubernetes does on a
rollout."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import websockets

from tests.trading.api.conftest import API_DB
from tests.trading.streams.conftest import free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]
GOING_AWAY = 1001


def shutdown_of(frame: dict) -> dict:
    """The serverShutdown event in ``frame``, whatever its wrapper."""
    event = frame.get("data") or frame.get("event") or frame
    assert set(event) == {"e", "E"} and event["e"] == "serverShutdown"
    assert type(event["E"]) is int
    return event


@pytest.fixture
def uvicorn_process(tmp_path):
    port = free_port()
    log = (tmp_path / "uvicorn.log").open("w+")
    env = {
        **os.environ,
        "DEBUG": "1",
        "STREAMS_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
        # On the embedded default, a database of its own, not the checkout's.
        "SQLITE_PATH": str(tmp_path / "exchange.sqlite3"),
    }
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [shutil.which("bash") or "/bin/bash", "scripts/serve-streams.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "uvicorn exited at start"
        assert time.monotonic() < deadline, "uvicorn did not start"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield process, f"127.0.0.1:{port}", log
    if process.poll() is None:
        process.kill()
        process.wait(10)
    log.close()


def test_sigterm_tells_every_connection_then_closes_them(uvicorn_process):
    process, host, log = uvicorn_process

    async def scenario():
        raw = await websockets.connect(f"ws://{host}/ws/btcusdt@trade")
        combined = await websockets.connect(f"ws://{host}/stream?streams=btcusdt@trade")
        bare = await websockets.connect(f"ws://{host}/ws/0?timeUnit=MICROSECOND")
        api = await websockets.connect(f"ws://{host}/ws-api/v3")
        # Each is served (not just accepted) before the signal.
        for ws in (raw, combined, bare):
            await ws.send('{"method":"LIST_SUBSCRIPTIONS","id":1}')
            assert json.loads(await ws.recv())["id"] == 1
        await api.send('{"id":"p","method":"ping"}')
        assert json.loads(await api.recv())["status"] == 200

        before = int(time.time() * 1000)
        process.send_signal(signal.SIGTERM)
        frames = [json.loads(await ws.recv()) for ws in (raw, combined, bare, api)]
        after = int(time.time() * 1000)

        assert set(frames[0]) == {"e", "E"}
        assert set(frames[1]) == {"stream", "data"}
        assert frames[1]["stream"] == "!serverShutdown"
        assert set(frames[3]) == {"event"}
        for frame in (frames[0], frames[1], frames[3]):
            assert before <= shutdown_of(frame)["E"] <= after
        assert before * 1000 <= shutdown_of(frames[2])["E"] <= after * 1000
        for ws in (raw, combined, bare, api):
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            assert ws.close_code == GOING_AWAY

    asyncio.run(asyncio.wait_for(scenario(), 30))
    # Then the server stops as uvicorn does on SIGTERM (it re-raises the signal
    # once it has stopped).
    assert process.wait(15) in (0, -signal.SIGTERM)
    log.seek(0)
    output = log.read()
    assert "Traceback" not in output, output
    assert "Shutting down" in output, output


def test_ctrl_c_too(uvicorn_process):
    """SIGINT, as Ctrl-C under ``make run``, is a graceful stop as well."""
    process, host, _ = uvicorn_process

    async def scenario():
        ws = await websockets.connect(f"ws://{host}/ws/0")
        await ws.send('{"method":"LIST_SUBSCRIPTIONS","id":1}')
        assert json.loads(await ws.recv())["id"] == 1
        process.send_signal(signal.SIGINT)
        shutdown_of(json.loads(await ws.recv()))
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == GOING_AWAY

    asyncio.run(asyncio.wait_for(scenario(), 30))
    process.wait(15)


def test_a_second_signal_goes_to_the_server_at_once():
    """Ctrl-C twice: the second is uvicorn's at once (it forces the exit), not
    held behind the notices."""
    from trading.streams import shutdown

    calls: list = []

    async def scenario():
        loop = asyncio.get_running_loop()
        handle = shutdown._in_front_of(loop, lambda sig, frame: calls.append(sig))
        handle(signal.SIGINT, None)
        assert calls == []  # the notices first
        handle(signal.SIGINT, None)
        assert calls == [signal.SIGINT]  # straight through
        await asyncio.sleep(0.2)  # no connection to tell: then the first one
        assert calls == [signal.SIGINT, signal.SIGINT]

    asyncio.run(scenario())


@API_DB
def test_a_connection_opened_while_leaving_is_told_at_once(served):
    """The lifespan path (a server that stops without a signal) and a client
    that connects after the notices went out."""
    from trading.streams import app, shutdown

    async def scenario():
        first = await websockets.connect(f"ws://{served}/stream")
        await first.send('{"method":"LIST_SUBSCRIPTIONS","id":1}')
        assert json.loads(await first.recv()) == {"result": [], "id": 1}
        (loop,) = list(app._hubs)
        told = asyncio.run_coroutine_threadsafe(shutdown.connections_leave(), loop)
        frame = json.loads(await first.recv())
        assert frame["stream"] == "!serverShutdown"
        shutdown_of(frame)
        with pytest.raises(websockets.ConnectionClosed):
            await first.recv()
        assert first.close_code == GOING_AWAY
        assert await asyncio.wrap_future(told) == 1
        late = await websockets.connect(f"ws://{served}/ws")
        shutdown_of(json.loads(await late.recv()))
        with pytest.raises(websockets.ConnectionClosed):
            await late.recv()
        assert late.close_code == GOING_AWAY

    asyncio.run(asyncio.wait_for(scenario(), 20))
