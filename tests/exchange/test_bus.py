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


def test_staged_commands_go_first_in_the_drains_round_trip(settings, monkeypatch):
    """A thread that delivers its own sends what it staged and what it published
    in one round trip, staged first; another thread's stage is refused (it
    sends its own), as is any without Redis."""
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    sent: list[list[tuple]] = []
    monkeypatch.setattr(bus, "redis_client", lambda: "client")
    monkeypatch.setattr(bus, "commands_send", lambda client, c: sent.append(c))
    failures: list[str] = []
    seen: dict[str, object] = {}

    def server_thread() -> None:
        bus.deliver_here()
        bus.publish(bus.MARKET, lambda: {"k": "commit"})
        seen["staged"] = bus.stage([("EVAL", "a"), ("EVAL", "b")], failures.append)
        seen["before drain"] = list(sent)
        bus.drain()
        bus.drain()  # nothing left: a no-op

    thread = threading.Thread(target=server_thread)
    try:
        thread.start()
        thread.join(5)
        assert seen["staged"] is True and seen["before drain"] == []
        assert len(sent) == 1
        assert [c[0] for c in sent[0]] == ["EVAL", "EVAL", "PUBLISH"]
        assert sent[0][:2] == [("EVAL", "a"), ("EVAL", "b")]
        assert sent[0][2][1] == bus.channel_name(bus.MARKET)
        assert not bus.stage([("EVAL", "c")], failures.append)  # not that thread
        settings.REDIS_URL = ""
        bus._here["thread"] = threading.get_ident()
        assert not bus.stage([("EVAL", "d")], failures.append)  # no Redis
        assert failures == []
    finally:
        bus._here["thread"] = None


def test_staged_commands_that_cannot_be_sent_call_back_and_drop_the_messages(
    settings, monkeypatch
):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    failures: list[str] = []

    def down(client, commands):
        raise ConnectionError("redis down")

    monkeypatch.setattr(bus, "redis_client", lambda: "client")
    monkeypatch.setattr(bus, "commands_send", down)
    monkeypatch.setattr(bus, "redis_failed", lambda what: failures.append(what))
    dropped = bus.dropped()
    bus.deliver_here()
    try:
        bus.publish(bus.USER, lambda: {"k": "one"})
        assert bus.stage([("EVAL", "a")], lambda: failures.append("staged"))
        bus.drain()
        assert failures == ["event bus", "staged"]
        assert bus.dropped() == dropped + 1
        # With the breaker open there is no client: the same, without a send.
        monkeypatch.setattr(bus, "redis_client", lambda: None)
        assert bus.stage([("EVAL", "b")], lambda: failures.append("again"))
        bus.drain()
        assert failures[-1] == "again"
    finally:
        bus._here["thread"] = None
