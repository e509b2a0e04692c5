"""exchange.redis.commands_send: one round trip, on the thread's own connection
(or, for a pool of another kind, one checked out and back), and no connection
used again with replies still pending."""

import threading
import time
from unittest import mock

import pytest
from django.conf import settings
from redis.exceptions import TimeoutError as RedisTimeout

from exchange.redis import commands_send


def client_with(connection):
    pool = mock.Mock()
    pool.get_connection.return_value = connection
    return mock.Mock(connection_pool=pool), pool


def test_commands_go_in_one_write_and_their_replies_come_back_in_order():
    connection = mock.Mock()
    connection.pack_commands.return_value = [b"packed"]
    connection.read_response.side_effect = [7, 1]
    client, pool = client_with(connection)
    commands = [("INCRBY", "k", 2), ("EXPIRE", "k", 61, "NX")]
    assert commands_send(client, commands) == [7, 1]
    connection.pack_commands.assert_called_once_with(commands)
    connection.send_packed_command.assert_called_once_with([b"packed"])
    pool.release.assert_called_once_with(connection)
    connection.disconnect.assert_not_called()


def test_a_connection_that_failed_midway_is_dropped_before_it_is_released():
    connection = mock.Mock()
    connection.read_response.side_effect = [7, RedisTimeout("slow")]
    client, pool = client_with(connection)
    with pytest.raises(RedisTimeout):
        commands_send(client, [("INCRBY", "k", 1), ("EXPIRE", "k", 61, "NX")])
    connection.disconnect.assert_called_once()
    pool.release.assert_called_once_with(connection)


def test_a_cache_key_is_the_cache_apis_own_and_follows_the_settings(settings):
    from django.core.cache import caches

    from exchange.redis import cache_key

    def redis_cache(prefix, version=1):
        return {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/15",
                "KEY_PREFIX": prefix,
                "VERSION": version,
            }
        }

    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    settings.CACHES = redis_cache("one")
    assert cache_key("rl:x") == caches["default"].make_key("rl:x") == "one:1:rl:x"
    settings.CACHES = redis_cache("two", version=3)
    assert cache_key("rl:x") == "two:3:rl:x"
    settings.REDIS_URL = ""
    assert cache_key("rl:x") == "rl:x"


needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs Redis: set REDIS_URL"
)


def _held_connection():
    from exchange import redis as exchange_redis

    return exchange_redis._held.__dict__.get("connection")


@needs_redis
def test_a_thread_keeps_its_own_connection_and_another_thread_gets_another():
    from exchange.redis import redis_client

    client = redis_client()
    commands_send(client, [("SET", "t:held", 1)])
    mine = _held_connection()
    assert commands_send(client, [("INCRBY", "t:held", 2)]) == [3]
    assert _held_connection() is mine
    theirs = []

    def other():
        commands_send(client, [("GET", "t:held")])
        theirs.append(_held_connection())

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(10)
    assert theirs and theirs[0] is not None and theirs[0] is not mine
    assert _held_connection() is mine


@needs_redis
def test_a_connection_the_server_closed_is_made_again_before_sending():
    """As after a Redis restart: the pool checks a connection before handing it
    out, and so does the thread's own."""
    from exchange.redis import redis_client

    client = redis_client()
    (me,) = commands_send(client, [("CLIENT", "ID")])
    client.execute_command("CLIENT", "KILL", "ID", me)
    deadline = time.monotonic() + 5
    while int(me) in _client_ids(client) and time.monotonic() < deadline:
        time.sleep(0.01)
    replies = commands_send(client, [("SET", "t:held", 5), ("GET", "t:held")])
    assert replies == [b"OK", b"5"]
    (again,) = commands_send(client, [("CLIENT", "ID")])
    assert again != me


def _client_ids(client) -> set[int]:
    return {int(c["id"]) for c in client.client_list()}


@needs_redis
def test_a_connection_that_failed_midway_is_not_used_again():
    from exchange.redis import redis_client

    client = redis_client()
    commands_send(client, [("PING",)])
    broken = _held_connection()
    with mock.patch.object(broken, "read_response", side_effect=RedisTimeout("slow")):
        with pytest.raises(RedisTimeout):
            commands_send(client, [("PING",)])
    assert _held_connection() is None
    assert commands_send(client, [("PING",)]) == [b"PONG"]
    assert _held_connection() is not broken


@needs_redis
def test_a_new_process_makes_its_own_connection(monkeypatch):
    """A forked worker must not share its parent's socket."""
    from exchange import redis as exchange_redis

    client = exchange_redis.redis_client()
    commands_send(client, [("PING",)])
    parents = _held_connection()
    monkeypatch.setattr(exchange_redis.os, "getpid", lambda: -1)
    commands_send(client, [("PING",)])
    assert _held_connection() is not parents
