"""The error catalogue: every Binance code the exchange returns is named once, in
exchange/errors.py, and nowhere else is a code written as a number."""

import io
import tokenize
from pathlib import Path

from exchange import errors

ROOT = Path(__file__).resolve().parents[2]


def raw_codes(source: str) -> list[int]:
    """Line numbers of a minus sign followed by a Binance-like code in code (not in
    strings or comments)."""
    found = []
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for before, token in zip(tokens, tokens[1:], strict=False):
        if (
            before.type == tokenize.OP
            and before.string == "-"
            and token.type == tokenize.NUMBER
            and len(token.string) == 4
            and token.string[0] in "12"
        ):
            found.append(token.start[0])
    return found


def test_every_code_is_named_once_in_the_catalogue():
    codes = {
        name: value
        for name, value in vars(errors).items()
        if name.isupper() and isinstance(value, int)
    }
    assert len(codes) > 30
    assert len(set(codes.values())) == len(codes), "a code named twice"
    assert all(-2100 < code <= -1000 for code in codes.values())


def test_no_module_writes_a_code_as_a_number():
    offenders = []
    for package in ("accounts", "trading", "exchange", "matching"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "errors.py" or "migrations" in path.parts:
                continue
            for number in raw_codes(path.read_text()):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
