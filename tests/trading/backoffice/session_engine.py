"""A session engine that cannot clear expired sessions, for prune_sessions."""

from django.contrib.sessions.backends.base import SessionBase


class SessionStore(SessionBase):
    """Keeps nothing; inherits ``clear_expired``, which is not implemented."""
