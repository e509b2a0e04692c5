"""Test clients that reach the exchange as gunicorn does: through the front.

Production serves ``exchange.wsgi.application``, an :class:`~exchange.front.ApiFront`
in front of Django's handler; Django's test client calls Django's handler
directly. The handlers here call the front first, as production does, and give
Django's own test handler only what the front passes on, so the suite runs the
code that serves. Installed for every test client and the live server by
``install()`` (called from the root conftest).
"""

from __future__ import annotations

from django.core import signals
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import client as django_client
from django.test import testcases
from rest_framework import test as drf_test

from exchange.front import ApiFront
from exchange.wsgi import front

# Django's own test handler, kept for the tests that compare the two paths.
DjangoClientHandler = django_client.ClientHandler


class _ThroughFront:
    """Mixed into a test ClientHandler: the front answers what production's
    would, Django's test handler the rest (with its signals and checks)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.front = front(self._django)
        self._django_response = None

    def _django(self, environ, start_response):
        self._django_response = super().__call__(environ)
        return ()

    def __call__(self, environ):
        answer: list = []

        def start_response(status, headers, exc_info=None):
            answer.extend((status, headers))

        self._django_response = None
        # As Django's test handler does: the test's transaction owns the
        # connection, so the request signals must not close it.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            body = self.front(environ, start_response)
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        if self._django_response is not None:
            return self._django_response
        status, headers = answer
        response = HttpResponse(b"".join(body), status=int(status.split(" ", 1)[0]))
        for name, value in headers:
            response.headers[name] = value
        response.wsgi_request = WSGIRequest(environ)
        return response


class FrontClientHandler(_ThroughFront, django_client.ClientHandler):
    pass


class FrontForceAuthClientHandler(_ThroughFront, drf_test.ForceAuthClientHandler):
    pass


def live_server_handler() -> ApiFront:
    """The live server's application: the front, then Django's handler."""
    return front(WSGIHandler())


def install() -> None:
    django_client.ClientHandler = FrontClientHandler
    drf_test.ForceAuthClientHandler = FrontForceAuthClientHandler
    testcases.WSGIHandler = live_server_handler
