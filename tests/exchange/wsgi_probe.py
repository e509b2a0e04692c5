"""A WSGI app for the worker tests: answers with the request's path and body, and
which thread served it; ``/pid`` answers which process, after sleeping
``?sleep=`` seconds. ``/publish`` publishes on the event bus a message whose
builder notes the thread that built it and whether the response had been
written by then; ``/published`` answers those notes."""

import os
import threading
import time
from urllib.parse import parse_qs

from exchange import bus

_answered = [False]
_built: list[str] = []


class _Body(list):
    """The response; gunicorn closes it once it has written it."""

    def close(self):
        _answered[0] = True


def _thread() -> str:
    return "main" if threading.current_thread() is threading.main_thread() else "other"


def _build():
    thread = _thread()
    _built.append(f"{thread}:{'after' if _answered[0] else 'before'}")
    # None: nothing to send, so the probe needs neither Redis nor settings.


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    thread = _thread()
    answer = f"{environ['PATH_INFO']} {thread} {body.decode()}".encode()
    if environ["PATH_INFO"] == "/pid":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        time.sleep(float(query.get("sleep", ["0"])[0]))
        answer = str(os.getpid()).encode()
    if environ["PATH_INFO"] == "/publish":
        _answered[0] = False
        bus.publish(bus.MARKET, _build)
    if environ["PATH_INFO"] == "/published":
        answer = " ".join(_built).encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))]
    )
    return _Body([answer])
