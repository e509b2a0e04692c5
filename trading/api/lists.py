"""The signed /api/v3 endpoints of order lists (OCO, OTO, OTOCO: place, cancel,
query) and of keep-priority amendments. Each parses Binance's parameters, calls
one service or selector, and renders Binance's shape."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from accounts.authentication import CanRead
from exchange import errors
from exchange.errors import ExchangeError
from trading.api import list_params
from trading.api import representations as rep
from trading.api.base import (
    SIGNED_PARAMS,
    SYMBOL,
    SignedReadApi,
    SignedTradeApi,
    query_param,
)
from trading.api.orders import ORDER_LOOKUP, _time_window, order_lookup
from trading.orders import amend as order_amend
from trading.orders import lists as order_lists
from trading.orders import selectors as order_selectors
from trading.orders.services import client_order_id_new
from trading.symbols import selectors as symbol_selectors

_LIST_COMMON = [
    SYMBOL,
    query_param("listClientOrderId"),
    query_param("newOrderRespType", enum=["ACK", "RESULT", "FULL"]),
    query_param("selfTradePreventionMode"),
]


def _leg_params(prefix: str) -> list:
    return [
        query_param(f"{prefix}{name}")
        for name in (
            "Type",
            "ClientOrderId",
            "Price",
            "StopPrice",
            "TrailingDelta",
            "TimeInForce",
        )
    ]


class _ListPlaceApi(SignedTradeApi):
    counts_orders = True
    kind = "OCO"
    parse = staticmethod(list_params.oco_parse)

    def post(self, request):
        legs, list_client_id, response_type = self.parse(self.params)
        placement = order_lists.order_list_place(
            user_id=request.user.id,
            kind=self.kind,
            legs=legs,
            list_client_order_id=list_client_id,
        )
        return self.answer(rep.list_placed(placement, response_type))


class OrderListOcoApi(_ListPlaceApi):
    kind = "OCO"
    parse = staticmethod(list_params.oco_parse)

    @extend_schema(
        parameters=[
            *_LIST_COMMON,
            query_param("side", required=True, enum=["BUY", "SELL"]),
            query_param("quantity", required=True),
            *_leg_params("above"),
            *_leg_params("below"),
            *SIGNED_PARAMS,
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        return super().post(request)


class OcoLegacyApi(_ListPlaceApi):
    kind = "OCO"
    parse = staticmethod(list_params.oco_legacy_parse)

    @extend_schema(
        parameters=[
            *_LIST_COMMON,
            query_param("side", required=True, enum=["BUY", "SELL"]),
            query_param("quantity", required=True),
            query_param("price", required=True),
            query_param("stopPrice", required=True),
            query_param("stopLimitPrice"),
            query_param("stopLimitTimeInForce", enum=["GTC", "IOC", "FOK"]),
            query_param("trailingDelta", OpenApiTypes.INT64),
            query_param("limitClientOrderId"),
            query_param("stopClientOrderId"),
            *SIGNED_PARAMS,
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        return super().post(request)


class OrderListOtoApi(_ListPlaceApi):
    kind = "OTO"
    parse = staticmethod(list_params.oto_parse)

    @extend_schema(
        parameters=[
            *_LIST_COMMON,
            *_leg_params("working"),
            query_param("workingSide", required=True),
            query_param("workingQuantity", required=True),
            *_leg_params("pending"),
            query_param("pendingSide", required=True),
            query_param("pendingQuantity", required=True),
            *SIGNED_PARAMS,
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        return super().post(request)


class OrderListOtocoApi(_ListPlaceApi):
    kind = "OTOCO"
    parse = staticmethod(list_params.otoco_parse)

    @extend_schema(
        parameters=[
            *_LIST_COMMON,
            *_leg_params("working"),
            query_param("workingSide", required=True),
            query_param("workingQuantity", required=True),
            query_param("pendingSide", required=True),
            query_param("pendingQuantity", required=True),
            *_leg_params("pendingAbove"),
            *_leg_params("pendingBelow"),
            *SIGNED_PARAMS,
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        return super().post(request)


def _list_lookup(params, client_name: str) -> tuple[int | None, str | None]:
    list_id = params.integer("orderListId", minimum=0)
    client_id = params.client_order_id(client_name)
    if list_id is None and client_id is None:
        raise ExchangeError(
            errors.MANDATORY_PARAM,
            f"Param '{client_name}' or 'orderListId' must be sent, but both were "
            "empty/null!",
        )
    return list_id, client_id


class OrderListApi(SignedTradeApi):
    def request_weight(self, request, params):
        return 4 if request.method == "GET" else 1

    def get_permissions(self):
        if self.request.method == "GET":
            return [CanRead()]
        return super().get_permissions()

    @extend_schema(
        parameters=[
            query_param("orderListId", OpenApiTypes.INT64),
            query_param("origClientOrderId"),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        list_id, client_id = _list_lookup(self.params, "origClientOrderId")
        order_list = order_lists.order_list_find(
            user_id=request.user.id,
            symbol=None,
            order_list_id=list_id,
            list_client_order_id=client_id,
        )
        if order_list is None:
            raise errors.order_list_unknown()
        legs = order_selectors.order_list_legs([order_list])[order_list.pk]
        return self.answer(rep.list_status(order_list, legs))

    @extend_schema(
        parameters=[
            SYMBOL,
            query_param("orderListId", OpenApiTypes.INT64),
            query_param("listClientOrderId"),
            query_param("newClientOrderId"),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def delete(self, request):
        symbol = self.params.symbol()
        list_id, client_id = _list_lookup(self.params, "listClientOrderId")
        symbol_selectors.symbol_spec_get(symbol)
        cancel = order_lists.order_list_cancel(
            user_id=request.user.id,
            symbol=symbol,
            order_list_id=list_id,
            list_client_order_id=client_id,
        )
        new_id = self.params.client_order_id("newClientOrderId")
        return self.answer(
            rep.list_cancelled(
                cancel, (lambda: new_id) if new_id else client_order_id_new
            )
        )


def _lists_rendered(order_lists_found) -> list[dict]:
    legs = order_selectors.order_list_legs(order_lists_found)
    return [rep.list_status(lst, legs[lst.pk]) for lst in order_lists_found]


class AllOrderListApi(SignedReadApi):
    weight = 20

    @extend_schema(
        parameters=[
            query_param("fromId", OpenApiTypes.INT64),
            query_param("startTime", OpenApiTypes.INT64),
            query_param("endTime", OpenApiTypes.INT64),
            query_param("limit", OpenApiTypes.INT),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params
        from_id = p.integer("fromId", minimum=0)
        start, end = _time_window(p)
        if from_id is not None and (start is not None or end is not None):
            raise ExchangeError(
                errors.OPTIONAL_PARAMS_BAD_COMBO,
                "Combination of optional parameters invalid.",
            )
        found = order_selectors.order_lists_all(
            user_id=request.user.id,
            from_id=from_id,
            start_time=start,
            end_time=end,
            limit=min(p.integer("limit", default=500, minimum=1), 1000),
        )
        return self.answer(_lists_rendered(found))


class OpenOrderListApi(SignedReadApi):
    weight = 6

    @extend_schema(parameters=SIGNED_PARAMS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        found = order_selectors.order_lists_open(user_id=request.user.id)
        return self.answer(_lists_rendered(found))


class OrderAmendApi(SignedTradeApi):
    weight = 4

    @extend_schema(
        parameters=[
            *ORDER_LOOKUP,
            query_param("newClientOrderId"),
            query_param("newQty", required=True),
            *SIGNED_PARAMS,
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def put(self, request):
        p = self.params
        symbol = p.symbol()
        order_id, orig = order_lookup(p)
        new_qty = p.decimal("newQty", required=True)
        symbol_selectors.symbol_spec_get(symbol)
        amendment = order_amend.order_amend_keep_priority(
            user_id=request.user.id,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig,
            new_client_order_id=p.client_order_id("newClientOrderId"),
            new_qty=new_qty,
        )
        return self.answer(rep.order_amended(amendment))


class OrderAmendmentsApi(SignedReadApi):
    weight = 4

    @extend_schema(
        parameters=[
            SYMBOL,
            query_param("orderId", OpenApiTypes.INT64, required=True),
            query_param("fromExecutionId", OpenApiTypes.INT64),
            query_param("limit", OpenApiTypes.INT),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params
        symbol = p.symbol()
        order_id = p.integer("orderId", required=True, minimum=0)
        symbol_selectors.symbol_spec_get(symbol)
        found = order_selectors.order_amendments(
            user_id=request.user.id,
            symbol=symbol,
            order_id=order_id,
            from_execution_id=p.integer("fromExecutionId", minimum=0),
            limit=min(p.integer("limit", default=500, minimum=1), 1000),
        )
        return self.answer([rep.amendment_row(a) for a in found])
