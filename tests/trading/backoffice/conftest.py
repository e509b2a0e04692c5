"""Fixtures for the back-office tests: symbols, fresh books, staff users."""

import pytest
from django.contrib.auth.models import Permission

from matching.registry import registry
from tests.browser import browser  # noqa: F401 - a fixture for the browser test
from tests.factories import UserFactory, standard_symbols


@pytest.fixture(autouse=True)
def _fresh_books():
    registry.clear()
    yield
    registry.clear()


@pytest.fixture
def symbols(db):
    return standard_symbols()


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def staff(db):
    """A staff member with only the permissions a test grants with ``grant``."""
    return UserFactory(username="clerk", is_staff=True)


def grant(user, *perms: str):
    """Give ``user`` the permissions named ``app_label.codename``."""
    for perm in perms:
        app_label, codename = perm.split(".")
        permission = Permission.objects.get(
            content_type__app_label=app_label, codename=codename
        )
        user.user_permissions.add(permission)
    # Django caches a user's permissions on the instance.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
