"""The exchange's own Prometheus metrics.

They work under several gunicorn workers when ``PROMETHEUS_MULTIPROC_DIR`` is set
(django-prometheus's ``/metrics`` view then aggregates every worker's files).
Only counters and histograms are used, so no gauge mode needs choosing.
"""

from prometheus_client import Counter, Histogram

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUEST_SECONDS = Histogram(
    "exchange_request_seconds",
    "Time to answer a request, by method, route and status.",
    ["method", "route", "status"],
    buckets=_FAST,
)
PAIR_LOCK_WAIT_SECONDS = Histogram(
    "exchange_pair_lock_wait_seconds",
    "Time spent waiting for a symbol's pair lock (process lock and row lock).",
    ["symbol"],
    buckets=(0.0001,) + _FAST,
)
MATCH_SECONDS = Histogram(
    "exchange_match_seconds",
    "Time the in-memory engine took to match one command.",
    ["symbol"],
    buckets=(0.00001, 0.00005, 0.0001, 0.00025) + _FAST,
)
BOOK_SYNC_ROWS = Histogram(
    "exchange_book_sync_lag",
    "Order rows a process applied to bring its book up to the symbol's seq.",
    ["symbol"],
    buckets=(0, 1, 2, 5, 10, 50, 100, 1000, 10000),
)
ORDERS_TOTAL = Counter(
    "exchange_orders_total",
    "Orders placed, by symbol and result.",
    ["symbol", "result"],
)
ORDERS_REJECTED = Counter(
    "exchange_orders_rejected_total", "Orders refused, by reason.", ["reason"]
)
TRADES_TOTAL = Counter("exchange_trades_total", "Trades executed.", ["symbol"])
CACHE_REQUESTS = Counter(
    "exchange_cache_requests_total", "Market-data cache look-ups.", ["result"]
)
DB_RETRIES = Counter(
    "exchange_db_retries_total",
    "Transactions retried after a deadlock or serialization failure.",
    ["operation"],
)
RATE_LIMIT_FAIL_OPEN = Counter(
    "exchange_rate_limit_fail_open_total",
    "Requests let through unlimited because Redis was unreachable.",
)
THROTTLE_LOCAL_FALLBACK = Counter(
    "exchange_throttle_local_fallback_total",
    "Login and other attempts counted in-process because Redis was unreachable.",
)
