"""Market data through /api/v3: klines of every interval, trades, aggregate trades."""

import pytest

from tests.api.conftest import public

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("interval", ["1s", "1m", "1w", "1M"])
@pytest.mark.parametrize(
    "params",
    [
        {"startTime": "99999999999999999"},
        {"startTime": "9223372036854775807"},
        {"endTime": "9223372036854775807"},
        {"startTime": "0", "endTime": "9223372036854775807", "limit": "1000"},
    ],
)
def test_klines_far_in_the_future_are_empty_not_a_server_error(
    symbols, interval, params
):
    response = public("klines", {"symbol": "BTCUSDT", "interval": interval, **params})
    assert (response.status, response.body) == (200, [])
