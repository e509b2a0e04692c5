import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
django_application = get_wsgi_application()

from exchange.front import ApiFront  # noqa: E402 - needs Django set up

application = ApiFront(django_application)
