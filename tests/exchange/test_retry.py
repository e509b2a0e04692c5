from unittest import mock

import pytest
from django.db import OperationalError

from exchange.retry import ATTEMPTS, retry_on_conflict


class DriverError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def conflict(sqlstate="40P01") -> OperationalError:
    error = OperationalError("conflict")
    error.__cause__ = DriverError(sqlstate)
    return error


def test_a_deadlock_is_retried_and_counted():
    calls = []

    @retry_on_conflict("test_op")
    def work():
        calls.append(1)
        if len(calls) < 3:
            raise conflict()
        return "done"

    with mock.patch("exchange.retry.DB_RETRIES") as counter:
        assert work() == "done"
    assert len(calls) == 3
    assert counter.labels.call_count == 2


def test_retries_are_bounded():
    calls = []

    @retry_on_conflict("test_op")
    def work():
        calls.append(1)
        raise conflict("40001")

    with pytest.raises(OperationalError):
        work()
    assert len(calls) == ATTEMPTS


def test_other_database_errors_are_not_retried():
    calls = []

    @retry_on_conflict("test_op")
    def work():
        calls.append(1)
        raise conflict("08006")  # connection failure: fail fast instead

    with pytest.raises(OperationalError):
        work()
    assert len(calls) == 1
