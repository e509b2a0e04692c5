"""Benchmarks: ``python -m tools.bench`` drives the served stack under locust
(``locustfile.py``); ``order_place`` times the order path in one process."""
