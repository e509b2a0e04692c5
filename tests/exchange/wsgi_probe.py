"""A WSGI app for the worker tests: answers with the request's path and body, and
which thread served it; ``/pid`` answers which process, after sleeping
``?sleep=`` seconds."""

import os
import threading
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    thread = (
        "main" if threading.current_thread() is threading.main_thread() else "other"
    )
    answer = f"{environ['PATH_INFO']} {thread} {body.decode()}".encode()
    if environ["PATH_INFO"] == "/pid":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        time.sleep(float(query.get("sleep", ["0"])[0]))
        answer = str(os.getpid()).encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))]
    )
    return [answer]
