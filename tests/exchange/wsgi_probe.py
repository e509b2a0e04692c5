"""A WSGI app for the worker tests: answers with the request's path and body, and
which thread served it."""

import threading


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    thread = (
        "main" if threading.current_thread() is threading.main_thread() else "other"
    )
    answer = f"{environ['PATH_INFO']} {thread} {body.decode()}".encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))]
    )
    return [answer]
