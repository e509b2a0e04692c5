from unittest import mock

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_readyz_reports_a_cache_outage_as_degraded(client):
    with mock.patch("exchange.health.cache.set", side_effect=ConnectionError):
        ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["cache"] == "degraded"


def test_readyz_is_503_when_the_database_is_down(client):
    with mock.patch(
        "exchange.health.connection.cursor", side_effect=OperationalError("down")
    ):
        ready = client.get("/readyz")
    assert ready.status_code == 503


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert len(client.get("/healthz")["X-Request-ID"]) == 32


def test_metrics_are_exported(client):
    client.get("/healthz")
    body = client.get("/metrics").content.decode()
    assert "exchange_request_seconds_bucket" in body


def test_each_request_logs_one_json_line_with_its_request_id(client, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="exchange.request"):
        client.get("/healthz", HTTP_X_REQUEST_ID="req-42")
    records = [r for r in caplog.records if r.name == "exchange.request"]
    assert len(records) == 1
    assert records[0].request_id == "req-42" and records[0].status == 200
