"""The event bus: ``flush`` returns only once what was queued before it has gone
out, even when both are delivered in one batch."""

import threading
import time

from exchange import bus


def test_flush_waits_for_the_messages_queued_before_it(settings):
    settings.REDIS_URL = ""  # the in-process listeners
    received: list[dict] = []

    def slow_listener(channel: str, message: dict) -> None:
        time.sleep(0.2)
        received.append(message)

    stop = bus.subscribe_local(slow_listener)
    running, release = threading.Event(), threading.Event()

    def held() -> None:
        running.set()
        release.wait(5)  # keeps the bus thread busy while the next two queue

    seen: list[list[dict]] = []

    def flush() -> None:
        assert bus.flush()
        seen.append(list(received))

    flusher = threading.Thread(target=flush)
    try:
        bus.publish(bus.USER, held)
        assert running.wait(5)
        bus.publish(bus.USER, lambda: {"k": "test"})
        flusher.start()
        deadline = time.monotonic() + 5
        while bus._queue.qsize() < 2:  # the message and the flush marker
            assert time.monotonic() < deadline
            time.sleep(0.01)
        release.set()
        flusher.join(5)
        assert seen == [[{"k": "test"}]]
    finally:
        release.set()
        stop()


def test_channels_of_two_redis_databases_are_apart(settings):
    """Pub/sub ignores the database number: two deployments on databases 1 and
    2 of one Redis, with the same key prefix, must not hear each other."""
    settings.REDIS_URL = "redis://127.0.0.1:6379/1"
    first = bus.channel_name(bus.MARKET)
    settings.REDIS_URL = "redis://127.0.0.1:6379/2"
    assert bus.channel_name(bus.MARKET) != first
    settings.REDIS_URL = "redis://127.0.0.1:6379?db=1"
    assert bus.channel_name(bus.MARKET) == first
