"""The parameters' splitter answers exactly as ``parse_qsl`` does."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from trading.api.params import pairs

# Characters that matter to parse_qsl (separators, escapes, '+', ';'), a few
# plain ones and some beyond ASCII.
_ALPHABET = st.sampled_from(list("&=%+;ab0 .~-_") + ["%41", "%zz", "é", "\x00"])


@settings(max_examples=2000, derandomize=True, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_pairs_are_parse_qsls(source):
    assert pairs(source) == parse_qsl(source, keep_blank_values=True)


def test_a_signed_query_is_split_into_its_parameters():
    query = "symbol=BTCUSDT&side=BUY&quantity=0.001&&flag&empty=&signature=ab"
    assert pairs(query) == [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("quantity", "0.001"),
        ("flag", ""),
        ("empty", ""),
        ("signature", "ab"),
    ]
    assert pairs("a=1+2&b=%41") == [("a", "1 2"), ("b", "A")]
