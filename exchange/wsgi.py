import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
django_application = get_wsgi_application()

# Load the URL configuration and every view now, not on the first request: the
# worker then freezes what it has built (gunicorn.conf.py), and the first
# request does not pay for the imports.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018

# Needs Django set up.
from exchange.front import ApiFront  # noqa: E402
from trading.api import lean  # noqa: E402


def front(django_app) -> ApiFront:
    """The /api/v3 front (exchange/front.py) before ``django_app``."""
    return ApiFront(django_app, routes=lean.ROUTES, serve=lean.serve)


application = front(django_application)
