"""The ASGI entry point: the live side (market streams and the WebSocket API)
for WebSocket connections on its paths, Django for everything else.

Production serves REST from gunicorn (``exchange.wsgi``) and only the live side
from uvicorn; ``make run`` serves both from this one application.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
django_application = get_asgi_application()

# After Django is set up: the live side imports models.
from trading.streams import app as streams  # noqa: E402


async def application(scope, receive, send):
    kind = scope["type"]
    if kind == "websocket":
        if streams.is_stream_path(scope["path"]):
            await streams.application(scope, receive, send)
        else:
            await receive()
            await send({"type": "websocket.close", "code": 1008})
        return
    if kind == "lifespan":
        await _lifespan(receive, send)
        return
    await django_application(scope, receive, send)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await streams.lifespan_startup()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await streams.lifespan_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return
