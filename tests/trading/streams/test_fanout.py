"""A once-a-second message to many connections goes out a chunk at a time, spread
over a quarter of a second, so that trades arriving meanwhile are not queued
behind it; depth diffs and trades are never split, their order across messages
is the protocol."""

import asyncio

from trading.streams import hub as hub_module
from trading.streams.hub import FANOUT_CHUNK, FANOUT_SPREAD_SECONDS, Hub, Subscriber
from trading.streams.names import stream_parse


class Counter(Subscriber):
    def __init__(self) -> None:
        self.received: list[str] = []

    def deliver(self, stream, payload, raw: str) -> None:
        self.received.append(stream.name)


class PayloadCounter(Counter):
    def deliver(self, stream, payload, raw: str) -> None:
        self.received.append(payload["k"])


def holding(hub: Hub, name: str, count: int, kind=Counter) -> list[Counter]:
    stream = stream_parse(name)
    conns = [kind() for _ in range(count)]
    holders = hub.topics.setdefault(stream.topic, {})
    for conn in conns:
        holders[conn] = [stream]
    return conns


def test_a_kline_to_many_connections_is_spread_over_a_quarter_second():
    hub = Hub()
    conns = holding(hub, "ethbtc@kline_1d", 3 * FANOUT_CHUNK + 10)
    topic = stream_parse("ethbtc@kline_1d").topic
    delivered: list[int] = []
    took: list[float] = []

    async def run() -> None:
        started = asyncio.get_running_loop().time()
        hub._publish(topic, {"e": "kline"})
        delivered.append(sum(len(c.received) for c in conns))
        await asyncio.sleep(0)  # the task's first chunk
        delivered.append(sum(len(c.received) for c in conns))
        del hub.topics[topic][conns[-1]]  # unsubscribed before its chunk
        await asyncio.gather(*hub.tasks)
        delivered.append(sum(len(c.received) for c in conns))
        took.append(asyncio.get_running_loop().time() - started)

    asyncio.run(run())
    assert delivered == [0, FANOUT_CHUNK, len(conns) - 1]
    # Four chunks, three pauses of a quarter second over the chunks' share each.
    pauses = 3 * FANOUT_SPREAD_SECONDS * FANOUT_CHUNK / len(conns)
    assert pauses * 0.9 <= took[0] < FANOUT_SPREAD_SECONDS + 1
    assert conns[-1].received == []
    assert all(c.received == ["ethbtc@kline_1d"] for c in conns[:-1])


def test_two_klines_reach_each_connection_in_their_order():
    hub = Hub()
    conns = holding(hub, "ethbtc@kline_1m", 2 * FANOUT_CHUNK + 1, PayloadCounter)
    topic = stream_parse("ethbtc@kline_1m").topic

    async def run() -> None:
        hub._publish(topic, {"e": "kline", "k": "closed"})
        hub._publish(topic, {"e": "kline", "k": "current"})
        await asyncio.gather(*hub.tasks)

    asyncio.run(run())
    assert all(c.received == ["closed", "current"] for c in conns)


def test_depth_diffs_and_trades_go_to_every_connection_at_once():
    hub = Hub()
    for name in ("btcusdt@depth@100ms", "btcusdt@trade"):
        conns = holding(hub, name, 3 * FANOUT_CHUNK)
        hub._publish(stream_parse(name).topic, {"e": "x"})
        assert all(c.received == [name] for c in conns)
    assert "depth" not in hub_module.SPREAD_KINDS
    assert "trade" not in hub_module.SPREAD_KINDS
