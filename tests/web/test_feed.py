"""The live-data module against a stream server: when /stream answers, the book
comes from the stream and polling stops; when the stream drops, polling takes over
at once and the socket is reopened. The stream server is Playwright's stand-in for
the exchange's /stream, speaking Binance's combined-stream frames."""

import json
import re

import pytest

from tests.factories import standard_symbols

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEPTH = "btcusdt@depth20@100ms"


def test_streams_when_they_answer_polling_when_they_drop(browser, live_server):
    _, context = browser
    standard_symbols()
    page = context.new_page()
    sockets = []
    subscriptions = []
    depth_polls = []
    page.on(
        "request",
        lambda r: "/api/v3/depth" in r.url and depth_polls.append(r.url),
    )

    def stream_server(ws):
        sockets.append(ws)
        ws.on_message(lambda text: subscriptions.append(json.loads(text)))

    page.route_web_socket(re.compile(r".*/stream(\?.*)?$"), stream_server)
    page.goto(live_server.url + "/trade/BTCUSDT")
    page.wait_for_selector("#feed-mode[data-mode=stream]")
    assert DEPTH in sockets[0].url
    page.wait_for_timeout(300)  # the REST polls that started before it opened
    polls_before = len(depth_polls)

    frame = {"lastUpdateId": 7, "bids": [["41000.50", "0.25"]], "asks": []}
    sockets[0].send(json.dumps({"stream": DEPTH, "data": frame}))
    bid = "#book-bids tr[data-price='41000.50']"
    page.wait_for_selector(f"{bid} td:text-is('41,000.50')")
    page.wait_for_timeout(2500)
    assert len(depth_polls) == polls_before, "no polling while the stream is open"

    # A new subscription on the open socket goes over SUBSCRIBE.
    page.click("button[data-interval='5m']")
    page.wait_for_timeout(300)
    assert {"method": "SUBSCRIBE", "params": ["btcusdt@kline_5m"]}.items() <= {
        k: v for k, v in subscriptions[-1].items() if k != "id"
    }.items()

    # The stream drops: REST polling at once, then a new socket.
    sockets[0].close()
    page.wait_for_selector("#feed-mode:not([data-mode=stream])")
    page.wait_for_selector("#book-bids td.empty")  # the empty book, from REST
    assert len(depth_polls) > polls_before
    page.wait_for_selector("#feed-mode[data-mode=stream]", timeout=10_000)
    assert len(sockets) == 2
