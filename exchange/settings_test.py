"""Test settings: the production module with test-only overrides."""

import os

os.environ.setdefault("EXCHANGE_TESTING", "1")
os.environ.setdefault(
    "CACHE_KEY_PREFIX", "test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")
)

from exchange.settings import *  # noqa: E402,F403

# Argon2 is deliberately slow; tests that check it ask for it explicitly.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303
SECURE_SSL_REDIRECT = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
