"""``Order.build``: the order path's fast constructor makes the same model as
``Order(**values)``."""

from decimal import Decimal

import pytest

from trading.models import Order

VALUES = dict(
    symbol_id="BTCUSDT",
    order_id=7,
    user_id=3,
    client_order_id="abc",
    side="BUY",
    type="LIMIT",
    time_in_force="GTC",
    price=Decimal("1.5"),
    orig_qty=Decimal("2"),
    status="NEW",
    time=1,
    update_time=2,
    seq=0,
    working_time=1,
)


def test_build_gives_the_values_and_every_default_keywords_give():
    built, made = Order.build(**VALUES), Order(**VALUES)
    fields = Order._meta.concrete_fields
    assert [getattr(built, f.attname) for f in fields] == [
        getattr(made, f.attname) for f in fields
    ]
    assert built.executed_qty == 0 and built.order_list_id == -1
    assert built.self_trade_prevention_mode == "NONE" and built.priority is None
    assert built._state.adding and built.pk is None


def test_build_refuses_a_field_the_model_does_not_have():
    with pytest.raises(TypeError, match="symbol"):
        Order.build(**VALUES, symbol="BTCUSDT")
