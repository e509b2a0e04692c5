"""Requests past the size limits are refused in Binance's shape, before the body is
read, and change nothing."""

import pytest
from django.test import Client

from tests.security.clients import snapshot
from tests.security.test_request_parsing import ORDER, form


@pytest.mark.parametrize("path", ["/api/v3/order", "/api/v3/order/test"])
def test_a_body_past_64_kib_is_413_in_binance_shape(alice, path):
    before = snapshot()
    body = form(ORDER) + "&pad=" + "x" * (64 * 1024)
    for client in alice.clients().values():
        answer = client.post(path, None, body)
        assert answer.status == 413, answer.body
        assert answer.body == {
            "code": -1101,
            "msg": "Request body too large: at most 65536 bytes.",
        }
    assert snapshot() == before


def test_an_oversized_json_body_on_the_account_api_is_413_in_binance_shape(db):
    answer = Client().post(
        "/api/v1/auth/login",
        data='{"username": "' + "a" * (64 * 1024) + '", "password": "x"}',
        content_type="application/json",
    )
    assert answer.status_code == 413
    assert answer.json()["code"] == -1101


def test_too_many_form_fields_are_1101_in_binance_shape(db):
    body = "&".join(f"f{i}=1" for i in range(1500))
    answer = Client().post(
        "/api/v1/auth/login",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "code": -1101,
        "msg": "Too many parameters sent for this endpoint.",
    }
