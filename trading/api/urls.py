from django.urls import path

from trading.api import market, orders

urlpatterns = [
    path("ping", market.PingApi.as_view()),
    path("time", market.TimeApi.as_view()),
    path("exchangeInfo", market.ExchangeInfoApi.as_view()),
    path("depth", market.DepthApi.as_view()),
    path("trades", market.TradesApi.as_view()),
    path("historicalTrades", market.HistoricalTradesApi.as_view()),
    path("aggTrades", market.AggTradesApi.as_view()),
    path("klines", market.KlinesApi.as_view()),
    path("uiKlines", market.KlinesApi.as_view()),
    path("avgPrice", market.AvgPriceApi.as_view()),
    path("ticker/24hr", market.Ticker24hrApi.as_view()),
    path("ticker/price", market.TickerPriceApi.as_view()),
    path("ticker/bookTicker", market.BookTickerApi.as_view()),
    path("ticker", market.TickerApi.as_view()),
    path("order", orders.OrderApi.as_view()),
    path("order/test", orders.OrderTestApi.as_view()),
    path("order/cancelReplace", orders.CancelReplaceApi.as_view()),
    path("openOrders", orders.OpenOrdersApi.as_view()),
    path("allOrders", orders.AllOrdersApi.as_view()),
    path("account", orders.AccountApi.as_view()),
    path("myTrades", orders.MyTradesApi.as_view()),
    path("rateLimit/order", orders.RateLimitOrderApi.as_view()),
]
