"""Every gunicorn worker's in-process books, read through ``GET /internal/books``.

Workers cannot be addressed one by one, but a keep-alive connection stays with
the worker that accepted it. So, on each new connection: ask for the books (the
answer names the worker's pid); on the same connection place, per symbol, one
order from an account with no funds, which the worker refuses only after
bringing its book up to the symbol's ``book_seq`` (the refusal changes nothing);
ask for the books again. New connections are opened until every worker has
answered, or the attempts run out.
"""

from __future__ import annotations

import json

from tools.chaos.client import Clock, Connection, Record, send, signed_path

INSUFFICIENT = "Account has insufficient balance for requested action."


def _get_books(conn: Connection) -> tuple[int, dict | None]:
    status, body = conn.request("GET", "/internal/books")
    if status != 200:
        return status, None
    return status, json.loads(body)


def collect(
    *,
    port: int,
    probe: dict,
    symbols: dict[str, str],
    workers: list[int],
    clock: Clock,
    attempts: int = 200,
) -> tuple[dict[int, dict] | None, list[str], list[Record]]:
    """({pid: books after the probe}, problems, probe records); None for the books
    when the endpoint is absent (404: not enabled, or not in this version).

    ``symbols`` maps each symbol to the price of its probe order."""
    seen: dict[int, dict] = {}
    problems: list[str] = []
    records: list[Record] = []
    for _ in range(attempts):
        if set(workers) <= set(seen):
            break
        conn = Connection(port, timeout=10)
        try:
            status, before = _get_books(conn)
            if status == 404:
                return None, [], records
            if before is None:
                problems.append(f"GET /internal/books answered {status}")
                continue
            pid = before["pid"]
            if pid in seen:
                continue
            for symbol, price in symbols.items():
                record = Record("probe", "book sync", -1, 0.0, symbol=symbol)
                url = signed_path(
                    "/api/v3/order",
                    {
                        "symbol": symbol,
                        "side": "BUY",
                        "type": "LIMIT",
                        "timeInForce": "GTC",
                        "quantity": "1",
                        "price": price,
                    },
                    probe["secretKey"],
                )
                send(
                    conn, record, clock, "POST", url, {"X-MBX-APIKEY": probe["apiKey"]}
                )
                records.append(record)
                if record.msg != INSUFFICIENT:
                    problems.append(
                        f"worker {pid}: the {symbol} sync probe got "
                        f"{record.status} {record.code} {record.msg or record.error}"
                    )
            status, after = _get_books(conn)
            if after is None or after["pid"] != pid:
                problems.append(f"worker {pid}: the connection moved to another worker")
                continue
            seen[pid] = after
        except OSError as exc:
            problems.append(f"reading books: {type(exc).__name__}")
        finally:
            conn.close()
    for pid in workers:
        if pid not in seen:
            problems.append(f"worker {pid} never answered in {attempts} connections")
    return seen, problems, records
