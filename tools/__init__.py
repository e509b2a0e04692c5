"""Test and benchmark tooling: the load test, the served and in-process benchmarks,
the chaos suite, the smoke driver and the one Binance signing client they share.

Not part of the exchange: the production image leaves this package out
(``.dockerignore``), and the settings install it as a Django app only when it is
importable, for its ``manage.py`` commands (``matching_bench``, ``history_bench``,
``request_profile``, ``bench_setup``). Nothing in the application packages imports it.
"""
