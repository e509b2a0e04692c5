import json

import pytest

from trading.streams.protocol import ProtocolError, control_parse


def error_of(text: str) -> dict:
    with pytest.raises(ProtocolError) as caught:
        control_parse(text)
    return caught.value.as_reply()


@pytest.mark.parametrize(
    "request_id", [1, 0, "c4b8e3a2-1d1b-4d8c-9a5e-2f0f2a6c7d11", None]
)
def test_ids_come_back_in_their_own_type(request_id):
    request = control_parse(
        json.dumps(
            {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": request_id}
        )
    )
    assert request.id == request_id and type(request.id) is type(request_id)
    assert [s.name for s in request.streams] == ["btcusdt@trade"]


def test_all_methods_parse():
    assert control_parse('{"method":"LIST_SUBSCRIPTIONS","id":3}').method == (
        "LIST_SUBSCRIPTIONS"
    )
    request = control_parse(
        '{"method":"SET_PROPERTY","params":["combined",true],"id":5}'
    )
    assert (request.property, request.value) == ("combined", True)
    assert (
        control_parse('{"method":"GET_PROPERTY","params":["combined"],"id":2}').id == 2
    )
    request = control_parse(
        '{"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":312}'
    )
    assert request.streams[0].kind == "depth"


def test_binance_errors():
    assert error_of("{bad") == {
        "error": {
            "code": 3,
            "msg": "Invalid JSON: expecting property name enclosed in double quotes "
            "at line 1 column 2",
        },
        "id": None,
    }
    assert error_of('{"method":"FOO","id":9}')["error"]["code"] == 2
    assert error_of('{"method":"FOO","id":9}')["id"] == 9
    assert error_of('{"params":[],"id":1}')["error"] == {
        "code": 2,
        "msg": "Invalid request: missing field `method`",
    }
    assert error_of('{"method":"SUBSCRIBE","params":["nope"],"id":2}') == {
        "error": {"code": 2, "msg": "Invalid request: invalid stream"},
        "id": 2,
    }
    assert error_of('{"method":"GET_PROPERTY","params":["colour"],"id":4}') == {
        "error": {"code": 0, "msg": "Unknown property"},
        "id": 4,
    }
    assert error_of('{"method":"SET_PROPERTY","params":["combined","yes"],"id":4}')[
        "error"
    ] == {"code": 1, "msg": "Invalid value type: expected Boolean"}
    assert error_of('{"method":"GET_PROPERTY","params":[7],"id":4}')["error"][
        "msg"
    ] == ("Invalid request: property name must be a string")
    assert error_of('{"method":"LIST_SUBSCRIPTIONS","params":[1],"id":4}')["error"][
        "msg"
    ] == ("Invalid request: too many parameters")
    assert error_of('{"method":"LIST_SUBSCRIPTIONS","id":{"a":1}}')["error"]["msg"] == (
        "Invalid request: request ID must be an unsigned integer"
    )
    assert error_of("[1, 2]")["error"]["code"] == 2
    # Deep nesting is malformed input, not a crash.
    assert error_of("[" * 100_000)["error"]["code"] == 3
