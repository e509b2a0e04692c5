"""The bare WSGI application the bench serves for its ceiling: what gunicorn with
the exchange's settings answers when the application does nothing."""


def app(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")]
    )
    return [b"{}"]
