"""The market-data cache: newest seq wins, rebuild from the database, outages."""

import threading
from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from exchange import bus
from exchange import redis as exchange_redis
from matching.registry import registry
from tests.factories import funded_user
from tests.trading.conftest import place
from trading.marketdata import cache as market_cache
from trading.marketdata import selectors as market_selectors

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_late_writer_never_overwrites_a_newer_snapshot(db):
    assert market_cache.store_if_newer("depth", "X", 5, {"bids": [[1, 1]], "asks": []})
    assert not market_cache.store_if_newer("depth", "X", 4, {"bids": [], "asks": []})
    assert not market_cache.store_if_newer("depth", "X", 5, {"bids": [], "asks": []})
    assert market_cache.load("depth", "X") == (5, {"bids": [[1, 1]], "asks": []})
    assert market_cache.trades_push("X", 3, [{"id": 1}, {"id": 2}])
    assert not market_cache.trades_push("X", 3, [{"id": 9}])
    assert market_cache.trades_push("X", 4, [{"id": 3}])
    assert market_cache.trades_recent("X", 3) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert (
        market_cache.trades_recent("X", 4) is None
    )  # not enough: the database answers


def test_depth_and_trades_after_orders_match_the_database(symbols):
    seller = funded_user(BTC="1")
    buyer = funded_user(USDT="100000")
    place(seller, "SELL", "0.01", "60000")
    place(seller, "SELL", "0.02", "60010")
    place(buyer, "BUY", "0.005", "60000")
    place(buyer, "BUY", "0.01", "59000")
    cached = market_selectors.depth_get(symbol="BTCUSDT", limit=10)
    market_cache.forget("depth", "BTCUSDT")
    from_database = market_selectors.depth_get(symbol="BTCUSDT", limit=10)
    assert cached == from_database
    assert cached["asks"][0] == ["60000.00000000", "0.00500000"]
    assert (
        market_selectors.trades_recent(symbol="BTCUSDT", limit=1)[0]["qty"]
        == "0.00500000"
    )


def test_rebuild_market_cache_refills_from_the_database(symbols):
    seller = funded_user(BTC="1")
    buyer = funded_user(USDT="100000")
    place(seller, "SELL", "0.01", "60000")
    place(buyer, "BUY", "0.004", "60000")
    before = market_selectors.depth_get(symbol="BTCUSDT", limit=5)
    market_cache.forget("depth", "BTCUSDT")
    market_cache.forget("trades", "BTCUSDT")
    out = StringIO()
    call_command("rebuild_market_cache", stdout=out)
    assert "BTCUSDT: seq" in out.getvalue()
    assert market_cache.load("depth", "BTCUSDT") is not None
    assert market_selectors.depth_get(symbol="BTCUSDT", limit=5) == before
    assert market_cache.trades_recent("BTCUSDT", 1)[0]["qty"] == "0.00400000"
    with pytest.raises(CommandError, match="Unknown symbol"):
        call_command("rebuild_market_cache", "NOPE", stdout=StringIO())


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis: set REDIS_URL")
def test_with_redis_down_orders_and_reads_still_work(symbols):
    """Market-data and rate-limit calls to Redis fail: orders go through, depth
    comes from the database."""
    seller = funded_user(BTC="1")
    buyer = funded_user(USDT="100000")
    down = ConnectionError("redis down")
    with mock.patch("exchange.redis.get_redis_connection", side_effect=down):
        place(seller, "SELL", "0.01", "60000")
        depth = market_selectors.depth_get(symbol="BTCUSDT", limit=5)
        assert depth["asks"][0] == ["60000.00000000", "0.01000000"]
        traded = place(buyer, "BUY", "0.01", "60000")
        assert traded.order.status == "FILLED"
    exchange_redis.breaker_reset()
    assert market_selectors.depth_get(symbol="BTCUSDT", limit=5)["asks"] == []


def test_a_lost_push_restarts_the_recent_trades_list_instead_of_leaving_a_hole(db):
    assert market_cache.trades_push("X", 1, [{"id": 1}, {"id": 2}])
    # The push of trade 3 is lost (Redis down, or a worker died after its commit).
    assert market_cache.trades_push("X", 3, [{"id": 4}])
    assert market_cache.trades_recent("X", 1) == [{"id": 4}]
    assert market_cache.trades_recent("X", 2) is None  # the database answers
    assert market_cache.trades_push("X", 4, [{"id": 5}])
    assert market_cache.trades_recent("X", 2) == [{"id": 4}, {"id": 5}]


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis: set REDIS_URL")
def test_what_could_not_be_published_during_an_outage_is_dropped_after_it(db):
    assert market_cache.store_if_newer("depth", "Y", 1, {"bids": [], "asks": []})
    exchange_redis.redis_failed("test")
    market_cache._unpublished.add("Y")
    assert market_cache.load("depth", "Y") is None  # breaker open: database
    exchange_redis._down_until[0] = 0  # the outage is over
    assert market_cache.load("depth", "Y") is None  # dropped, not stale
    assert not market_cache._unpublished


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis: set REDIS_URL")
def test_a_programming_error_is_raised_not_taken_for_an_outage(db):
    """Only Redis's own failures open the breaker; a bug surfaces as itself."""
    client = mock.Mock()
    sent = client.connection_pool.get_connection.return_value.send_packed_command
    sent.side_effect = TypeError("a bug")
    with mock.patch("exchange.redis.get_redis_connection", return_value=client):
        with pytest.raises(TypeError):
            market_cache.store_if_newer("depth", "Z", 1, {"bids": [], "asks": []})
    assert not exchange_redis.breaker_open()
    sent.side_effect = ConnectionError("redis down")
    with mock.patch("exchange.redis.get_redis_connection", return_value=client):
        assert not market_cache.store_if_newer("depth", "Z", 1, {"bids": []})
    assert exchange_redis.breaker_open()


def _in_a_worker_thread(work):
    """Run ``work`` on a thread that delivers its own events, as the gunicorn
    worker's does (exchange/worker.py); its result, or its exception raised."""
    outcome = {}

    def run():
        bus.deliver_here()
        try:
            outcome["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
        finally:
            bus._here["thread"] = None
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis: set REDIS_URL")
def test_a_commits_cache_writes_and_events_go_in_one_round_trip_under_the_pair_lock(
    symbols,
):
    seller = funded_user(BTC="1")
    buyer = funded_user(USDT="100000")
    place(seller, "SELL", "0.01", "60000")
    assert bus.flush()  # its events, sent by the bus thread
    lock = registry.slot("BTCUSDT").lock
    sent = []
    real_send = bus.commands_send

    def recording(client, commands):
        sent.append(([c[0] for c in commands], lock.locked()))
        return real_send(client, commands)

    with mock.patch.object(bus, "commands_send", recording):
        traded = _in_a_worker_thread(lambda: place(buyer, "BUY", "0.004", "60000"))
    assert traded.order.status == "FILLED"
    # The depth snapshot and the trade, then the market and user messages.
    assert sent == [(["EVAL", "EVAL", "PUBLISH", "PUBLISH"], True)]
    assert market_cache.load("depth", "BTCUSDT")[1]["asks"] == [[6000000, 600]]
    assert market_cache.trades_recent("BTCUSDT", 1)[0]["qty"] == "0.00400000"


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis: set REDIS_URL")
def test_a_staged_cache_write_that_fails_is_dropped_and_the_database_answers(symbols):
    seller = funded_user(BTC="1")
    place(seller, "SELL", "0.01", "60000")
    assert bus.flush()
    down = mock.Mock(side_effect=ConnectionError("redis down"))
    with mock.patch.object(bus, "commands_send", down):
        _in_a_worker_thread(lambda: place(seller, "SELL", "0.02", "60010"))
    assert down.call_count == 1
    assert market_cache._unpublished == {"BTCUSDT"}
    assert exchange_redis.breaker_open()
    exchange_redis.breaker_reset()
    # The snapshot of the first order is not served: the heal drops it and the
    # database answers with both.
    depth = market_selectors.depth_get(symbol="BTCUSDT", limit=5)
    assert depth["asks"] == [
        ["60000.00000000", "0.01000000"],
        ["60010.00000000", "0.02000000"],
    ]
    assert not market_cache._unpublished
