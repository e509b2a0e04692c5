"""A hub serves once the bus reaches it: a commit published the moment
``start`` returns is heard. Through Redis that means once Redis has taken the
hub's SUBSCRIBE; before, a process's first subscriber got a diff depth that
began after the commits the hub missed, and python-binance's depth cache,
which takes any jump for a gap, fetched its snapshot again."""

import asyncio

from exchange import bus
from trading.streams.hub import Hub


def test_a_message_published_as_a_hub_starts_reaches_it():
    async def heard() -> int:
        hub = Hub()
        await hub.start()
        try:
            bus.publish(bus.MARKET, lambda: {"k": "noted"})  # counted, ignored
            assert await asyncio.to_thread(bus.flush)
            for _ in range(200):
                if hub.received:
                    break
                await asyncio.sleep(0.01)
            return hub.received
        finally:
            await hub.stop()

    assert asyncio.run(heard()) == 1
