"""Test settings: the production module with test-only overrides."""

import os

os.environ.setdefault("EXCHANGE_TESTING", "1")
# Redis pub/sub channels are shared by every database number of a server, so the
# prefix (which names the channels too, exchange/bus.py) tells apart test runs on
# different databases sharing one Redis, and xdist's workers.
_database = os.environ.get("DATABASE_URL", "").split("?")[0].rsplit("/", 1)[-1]
os.environ.setdefault(
    "CACHE_KEY_PREFIX",
    f"test-{_database or 'embedded'}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}",
)

from exchange.settings import *  # noqa: E402,F403

# Argon2 is deliberately slow; tests that check it ask for it explicitly.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303
SECURE_SSL_REDIRECT = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
