"""Liveness and readiness probes."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """The process answers."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """The database answers; Redis down is reported as degraded, not unready."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return JsonResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status=503
        )
    checks["cache"] = "ok" if _cache_answers() else "degraded"
    status = "ok" if checks["cache"] == "ok" else "degraded"
    return JsonResponse({"status": status, **checks})


def _cache_answers() -> bool:
    try:
        cache.set("readyz", "1", 5)
        return cache.get("readyz") == "1"
    except Exception:  # noqa: BLE001 - a cache failure is degraded service
        return False
