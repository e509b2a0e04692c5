from django.urls import path

from trading import apis

urlpatterns = [
    path("ping", apis.PingApi.as_view()),
    path("time", apis.TimeApi.as_view()),
    path("exchangeInfo", apis.ExchangeInfoApi.as_view()),
    path("depth", apis.DepthApi.as_view()),
    path("trades", apis.TradesApi.as_view()),
    path("historicalTrades", apis.HistoricalTradesApi.as_view()),
    path("aggTrades", apis.AggTradesApi.as_view()),
    path("klines", apis.KlinesApi.as_view()),
    path("uiKlines", apis.KlinesApi.as_view()),
    path("avgPrice", apis.AvgPriceApi.as_view()),
    path("ticker/24hr", apis.Ticker24hrApi.as_view()),
    path("ticker/price", apis.TickerPriceApi.as_view()),
    path("ticker/bookTicker", apis.BookTickerApi.as_view()),
    path("ticker", apis.TickerApi.as_view()),
    path("order", apis.OrderApi.as_view()),
    path("order/test", apis.OrderTestApi.as_view()),
    path("order/cancelReplace", apis.CancelReplaceApi.as_view()),
    path("openOrders", apis.OpenOrdersApi.as_view()),
    path("allOrders", apis.AllOrdersApi.as_view()),
    path("account", apis.AccountApi.as_view()),
    path("myTrades", apis.MyTradesApi.as_view()),
    path("rateLimit/order", apis.RateLimitOrderApi.as_view()),
]
