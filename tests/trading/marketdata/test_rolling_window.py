"""The rolling-window ticker (``/api/v3/ticker?windowSize=``, ``@ticker_<w>``)
opens on a whole minute, as Binance's does: up to 59,999 ms wider than the
window, never narrower."""

import pytest
from django.core.cache import cache

from tests.factories import funded_user
from tests.trading.conftest import place
from trading.marketdata import selectors as market_selectors
from trading.marketdata.klines import HOUR, MINUTE
from trading.models import Trade

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("into_the_minute", [0, 1, 30_000, MINUTE - 1])
def test_the_window_opens_on_the_minute_of_its_start(symbols, into_the_minute):
    place(funded_user(BTC="1"), "SELL", "0.01", "60000")
    place(funded_user(USDT="100000"), "BUY", "0.01", "60000")
    trade = Trade.objects.get(symbol_id="BTCUSDT")
    minute = trade.time - trade.time % MINUTE
    # An hour later, and some way into the minute: the trade's minute is the
    # oldest one the window touches.
    now = minute + HOUR + into_the_minute
    cache.clear()
    body = market_selectors.ticker_window(
        symbol="BTCUSDT", window_ms=HOUR, now_ms=now, full=False
    )
    assert (body["openTime"], body["closeTime"]) == (minute, now)
    assert (body["count"], body["firstId"]) == (1, trade.trade_id)
    cache.clear()
    # A minute later it has left the window.
    body = market_selectors.ticker_window(
        symbol="BTCUSDT", window_ms=HOUR, now_ms=now + MINUTE, full=False
    )
    assert (body["openTime"], body["count"]) == (minute + MINUTE, 0)
