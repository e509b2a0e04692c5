"""Send reads marked for the replica there, when a replica is configured.

Writes and every read on the order path stay on ``default``. Account history
selectors wrap their queries in :func:`replica_reads`, which only has an effect when
``REPLICA_DATABASE_URL`` is set.
"""

import contextlib
import contextvars

from django.conf import settings

_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "use_replica", default=False
)


@contextlib.contextmanager
def replica_reads():
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


def read_alias() -> str:
    """The alias history reads should use right now."""
    if _use_replica.get() and "replica" in settings.DATABASES:
        return "replica"
    return "default"


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
