"""exchange.redis.commands_send: one round trip, and no connection returned to the
pool with replies still pending."""

from unittest import mock

import pytest
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
