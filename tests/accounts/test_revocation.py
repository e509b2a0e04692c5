"""A password set by any path ends the refresh tokens and (by default) the API
keys issued before; a rotated refresh token used again revokes its family;
concurrent refreshes of one token succeed once."""

import io
import threading

import pytest
from django.contrib.auth.management.commands import changepassword
from django.core.management import call_command
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from accounts import services, tokens
from accounts.models import ApiKey, RevokedTokenFamily
from tests.factories import PASSWORD, UserFactory, admin_login

NEW_PASSWORD = "a-brand-new-pass-73"


def login(api, user, password=PASSWORD):
    response = api.post(
        "/api/v1/auth/login",
        {"username": user.username, "password": password},
        format="json",
        REMOTE_ADDR="10.7.0.1",
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(api, token):
    return api.post("/api/v1/auth/refresh", {"refresh": token}, format="json")


def holdings(user):
    """A live refresh token and a live API key of ``user``."""
    pair = tokens.token_pair_issue(user=user)
    key, _ = services.apikey_create(user_id=user.id, label="bot")
    return pair.refresh, key


def assert_revoked(api, token, key, *, key_kept=False):
    assert refresh(api, token).status_code == 401
    key.refresh_from_db()
    assert (key.revoked_at is None) is key_kept


@pytest.mark.django_db
def test_the_api_password_change_ends_tokens_and_keys(api):
    user = UserFactory()
    token, key = holdings(user)
    api.force_authenticate(user=user)
    changed = api.post(
        "/api/v1/me/password",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert changed.status_code == 204
    api.force_authenticate(user=None)
    assert_revoked(api, token, key)


@pytest.mark.django_db
def test_the_api_password_change_can_keep_the_keys(api):
    user = UserFactory()
    token, key = holdings(user)
    api.force_authenticate(user=user)
    api.post(
        "/api/v1/me/password",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "keepApiKeys": True},
        format="json",
    )
    api.force_authenticate(user=None)
    assert_revoked(api, token, key, key_kept=True)


@pytest.mark.django_db
def test_the_admin_password_form_ends_tokens_and_keys(api):
    user = UserFactory()
    token, key = holdings(user)
    client = admin_login(Client(), UserFactory(is_staff=True, is_superuser=True))
    page = f"/admin/accounts/user/{user.pk}/password/"
    assert "Keep API keys" in client.get(page).content.decode()
    response = client.post(
        page,
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set-password": "1"},
    )
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_revoked(api, token, key)


@pytest.mark.django_db
def test_the_changepassword_command_ends_tokens_and_keys(api, monkeypatch):
    user = UserFactory()
    token, key = holdings(user)
    monkeypatch.setattr(changepassword.getpass, "getpass", lambda *a, **k: NEW_PASSWORD)
    call_command("changepassword", user.username, stdout=io.StringIO())
    assert_revoked(api, token, key)


@pytest.mark.django_db
def test_a_refresh_token_rotated_then_reused_revokes_its_family(api, monkeypatch):
    monkeypatch.setattr(tokens, "ROTATION_GRACE_SECONDS", -1)
    user = UserFactory()
    first = login(api, user)
    other_login = login(api, user)
    second = refresh(api, first["refresh"])
    assert second.status_code == 200
    # The stolen copy of the first token comes back: refused, and the token
    # rotated from it dies with it.
    assert refresh(api, first["refresh"]).status_code == 401
    assert RevokedTokenFamily.objects.filter(user=user).count() == 1
    assert refresh(api, second.json()["refresh"]).status_code == 401
    # Another login of the same user is another family.
    assert refresh(api, other_login["refresh"]).status_code == 200


@pytest.mark.django_db
def test_a_reuse_within_the_grace_is_refused_without_revoking(api):
    user = UserFactory()
    first = login(api, user)
    second = refresh(api, first["refresh"])
    assert refresh(api, first["refresh"]).status_code == 401
    assert not RevokedTokenFamily.objects.exists()
    assert refresh(api, second.json()["refresh"]).status_code == 200


@pytest.mark.django_db
def test_logout_ends_the_token(api):
    user = UserFactory()
    pair = login(api, user)
    assert (
        api.post(
            "/api/v1/auth/logout", {"refresh": pair["refresh"]}, format="json"
        ).status_code
        == 205
    )
    assert refresh(api, pair["refresh"]).status_code == 401


@pytest.mark.django_db
def test_an_access_token_is_not_a_refresh_token(api):
    pair = login(api, UserFactory())
    answer = refresh(api, pair["access"])
    assert answer.status_code == 401 and answer.json()["code"] == -1002


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_succeed_once():
    user = UserFactory()
    token = tokens.token_pair_issue(user=user).refresh
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def worker():
        try:
            barrier.wait()
            statuses.append(refresh(APIClient(), token).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 7


@pytest.mark.django_db
def test_keys_created_after_the_change_work(api):
    user = UserFactory()
    services.user_password_set(user=user, password=NEW_PASSWORD)
    key, _ = services.apikey_create(user_id=user.id)
    assert ApiKey.objects.get(id=key.id).revoked_at is None
