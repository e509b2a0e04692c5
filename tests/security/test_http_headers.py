"""Security headers on every kind of API answer, HSTS over HTTPS, the HTTPS
redirect, and CORS for the configured origins only."""

from __future__ import annotations

import pytest
from django.test import Client

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains; preload"


def answers(alice) -> dict:
    """A success, refusals of several kinds, a 404 and the admin, from /api/v1 and
    /api/v3."""
    client = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {alice.bearer.token}"}
    return {
        "public 200": client.get("/api/v3/ping"),
        "signed 200": client.get("/api/v3/account", **bearer),
        "account 200": client.get("/api/v1/me", **bearer),
        "401": client.get("/api/v3/account"),
        "400": client.get("/api/v3/depth", {"symbol": "nope!"}),
        "404": client.get("/api/v3/nothing-here"),
        "405": client.put("/api/v3/ping"),
        "admin": client.get("/admin/login/"),
        "schema": client.get("/api/schema/"),
    }


def test_security_headers_on_every_answer(alice):
    for label, response in answers(alice).items():
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (label, name)


def test_api_answers_are_json_not_sniffable(alice):
    for label, response in answers(alice).items():
        if label in ("admin", "schema"):
            continue
        assert response.headers["Content-Type"] == "application/json", label


def test_hsts_over_https_only(alice):
    client = Client()
    assert "Strict-Transport-Security" not in client.get("/api/v3/ping").headers
    secure = client.get("/api/v3/ping", secure=True)
    assert secure.headers["Strict-Transport-Security"] == HSTS
    # Behind the TLS-terminating proxy, which sets X-Forwarded-Proto.
    proxied = client.get("/api/v3/ping", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.headers["Strict-Transport-Security"] == HSTS


def test_plain_http_is_redirected_but_probes_are_not(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new client loads the middleware with these settings
    response = client.get("/api/v3/ping")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/v3/ping"
    assert client.get("/api/v3/ping", secure=True).status_code == 200
    assert client.get("/healthz").status_code == 200


# --- CORS ---------------------------------------------------------------------------

ALLOWED = "https://app.example.com"
OTHER = "https://evil.example.net"


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


def test_an_allowed_origin_gets_the_cors_headers(symbols, cors):
    response = Client().get("/api/v3/ping", HTTP_ORIGIN=ALLOWED)
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "origin" in response.headers["Vary"].lower()
    # No cookies across origins: the API authenticates with headers.
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(
    "origin",
    [OTHER, "null", "https://app.example.com.evil.net", "http://app.example.com"],
)
def test_another_origin_gets_none(symbols, cors, origin):
    response = Client().get("/api/v3/ping", HTTP_ORIGIN=origin)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def preflight(origin: str):
    return Client().options(
        "/api/v3/order",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-mbx-apikey, content-type",
    )


def test_a_preflight_from_an_allowed_origin_is_answered(symbols, cors):
    response = preflight(ALLOWED)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    for name in ("x-mbx-apikey", "content-type", "authorization"):
        assert name in allowed_headers
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_a_preflight_from_another_origin_is_not(symbols, cors):
    response = preflight(OTHER)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


def test_with_no_origins_configured_nothing_is_allowed(symbols, settings):
    settings.CORS_ALLOWED_ORIGINS = []
    assert "Access-Control-Allow-Origin" not in preflight(ALLOWED).headers
    response = Client().get("/api/v3/ping", HTTP_ORIGIN=ALLOWED)
    assert "Access-Control-Allow-Origin" not in response.headers
