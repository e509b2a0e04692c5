"""The back office (/admin/) is for active staff only: anonymous visitors and
non-staff users are sent to the login page, API credentials open nothing there,
non-staff cannot log in, and its forms need the CSRF token."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory, admin_login
from tests.security.clients import access_token


def admin_urls() -> list[str]:
    """The index, and every registered model's list and add pages."""
    urls = [reverse("admin:index"), reverse("admin:trading_symbol_overview")]
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        urls.append(reverse(f"admin:{app}_{name}_changelist"))
        urls.append(reverse(f"admin:{app}_{name}_add"))
    return urls


def assert_sent_to_login(response, url: str) -> None:
    assert response.status_code == 302, (url, response.status_code)
    assert response["Location"].startswith("/admin/login/"), url


def test_anonymous_visitors_are_sent_to_login(symbols):
    client = Client()
    for url in admin_urls():
        assert_sent_to_login(client.get(url), url)


def test_api_credentials_open_nothing_in_the_admin(alice):
    client = Client()
    for url in admin_urls():
        response = client.get(
            url,
            HTTP_AUTHORIZATION=f"Bearer {alice.bearer.token}",
            HTTP_X_MBX_APIKEY=alice.signed.key,
        )
        assert_sent_to_login(response, url)


def test_non_staff_users_are_sent_to_login(symbols):
    client = Client()
    client.force_login(UserFactory())
    for url in admin_urls():
        assert_sent_to_login(client.get(url), url)


@pytest.mark.parametrize(
    "flags",
    [{"is_staff": False}, {"is_staff": True, "is_active": False}],
    ids=["not staff", "inactive staff"],
)
def test_only_active_staff_can_log_in(db, flags):
    user = UserFactory(**flags)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": user.username, "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 200  # the login page again, with an error
    assert "_auth_user_id" not in client.session
    assert_sent_to_login(client.get("/admin/"), "/admin/")


def test_staff_without_permissions_are_refused_model_pages(symbols):
    client = admin_login(Client(), UserFactory(is_staff=True))
    assert client.get("/admin/").status_code == 200
    for url in admin_urls()[2:]:
        assert client.get(url).status_code == 403, url


def test_admin_posts_need_the_csrf_token(symbols):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = admin_login(Client(enforce_csrf_checks=True), staff)
    response = client.post(
        reverse("admin:trading_symbol_changelist"),
        {"action": "halt_trading", "_selected_action": ["BTCUSDT"]},
    )
    assert response.status_code == 403
    from trading.models import Symbol

    assert Symbol.objects.get(symbol="BTCUSDT").status == "TRADING"


def test_an_api_token_is_not_a_session(alice):
    """A JWT sent to the admin login does not log anyone in."""
    client = Client()
    client.get("/admin/login/", HTTP_AUTHORIZATION=f"Bearer {access_token(alice.user)}")
    assert "_auth_user_id" not in client.session
