"""The per-user security log: record an event, list a user's events."""

from __future__ import annotations

import ipaddress

from accounts.models import SecurityEvent

Kind = SecurityEvent.Kind
LIST_LIMIT_MAX = 500


def security_event_record(
    *, user_id: int, kind: str, ip: str | None = None, detail: str = ""
) -> SecurityEvent:
    """Append one event to the user's log. ``ip`` that is not an address (an
    empty one, a test client's) is stored as unknown."""
    try:
        address = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        address = None
    return SecurityEvent.objects.create(
        user_id=user_id, kind=kind, ip=address, detail=detail[:200]
    )


def security_event_list(*, user_id: int, limit: int = 100) -> list[SecurityEvent]:
    """The user's latest events, newest first."""
    limit = max(1, min(limit, LIST_LIMIT_MAX))
    return list(SecurityEvent.objects.filter(user_id=user_id).order_by("-id")[:limit])
