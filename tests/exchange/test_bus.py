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


def test_a_thread_that_delivers_its_own_sends_on_drain_in_order(settings):
    """After ``deliver_here``, a thread's messages wait for its ``drain`` and go
    out from it, in order; another thread's still go through the bus thread."""
    settings.REDIS_URL = ""
    received: list[tuple[str, int]] = []

    def listener(channel: str, message: dict) -> None:
        received.append((message["k"], threading.get_ident()))

    stop = bus.subscribe_local(listener)
    seen: dict[str, object] = {}

    def server_thread() -> None:
        bus.deliver_here()
        bus.publish(bus.MARKET, lambda: {"k": "first"})
        bus.publish(bus.USER, lambda: {"k": "second"})
        seen["before drain"] = list(received)
        other = threading.Thread(
            target=lambda: bus.publish(bus.USER, lambda: {"k": "other"})
        )
        other.start()
        other.join()
        assert bus.flush()  # drains this thread's, then waits for the bus thread
        seen["me"] = threading.get_ident()
        bus.drain()  # nothing left: a no-op

    thread = threading.Thread(target=server_thread)
    try:
        thread.start()
        thread.join(5)
        assert seen["before drain"] == []
        mine = [k for k, ident in received if ident == seen["me"]]
        assert mine == ["first", "second"]
        assert [k for k, ident in received if ident != seen["me"]] == ["other"]
    finally:
        stop()
        bus._here["thread"] = None
