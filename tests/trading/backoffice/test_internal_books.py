import pytest
from django.test import override_settings

from tests.factories import funded_user
from tests.trading.conftest import place

pytestmark = pytest.mark.django_db(transaction=True)


def test_books_endpoint_is_absent_unless_enabled_and_on_loopback(client, symbols):
    assert client.get("/internal/books").status_code == 404
    with override_settings(EXPOSE_INTERNAL_BOOKS=True):
        assert client.get("/internal/books", REMOTE_ADDR="10.1.2.3").status_code == 404
        assert client.get("/internal/books").status_code == 200


@override_settings(EXPOSE_INTERNAL_BOOKS=True)
def test_books_endpoint_shows_this_workers_resting_orders(client, symbols):
    user = funded_user(USDT="1000")
    order = place(user, "BUY", "0.001", "50000").order
    body = client.get("/internal/books").json()
    book = body["books"]["BTCUSDT"]
    assert body["pid"] > 0 and book["stale"] is False
    assert book["orders"] == [[order.order_id, user.id, "BUY", 5000000, 100]]
