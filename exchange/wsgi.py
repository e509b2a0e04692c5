import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
django_application = get_wsgi_application()

# Needs Django set up.
from exchange.front import ApiFront  # noqa: E402
from trading.api import lean  # noqa: E402


def front(django_app) -> ApiFront:
    """The /api/v3 front (exchange/front.py) before ``django_app``."""
    return ApiFront(django_app, routes=lean.ROUTES, serve=lean.serve)


application = front(django_application)
