"""How much a statement reads, from PostgreSQL's own account (EXPLAIN ANALYZE): for tests that a lookup reads what it
needs, not what the organization holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def rows_handled(send: Callable[[], object]) -> int:
    """Rows PostgreSQL's executor went through for the one statement `send` sends, run again under EXPLAIN ANALYZE:
    every plan node's rows, kept or filtered out, times its loops. A lookup that probes an index handles the rows it
    wants; one that reads the organization's index or its rows handles every one of them."""
    with CaptureQueriesContext(connection) as sent:
        send()
    (statement,) = [q["sql"] for q in sent.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}")
        (report,) = cursor.fetchone()
    plan = (json.loads(report) if isinstance(report, str) else report)[0]["Plan"]
    return _rows(plan)


def _rows(node: dict[str, Any]) -> int:
    kept_or_dropped = sum(
        int(node.get(key, 0))
        for key in (
            "Actual Rows",
            "Rows Removed by Filter",
            "Rows Removed by Join Filter",
            "Rows Removed by Index Recheck",
        )
    )
    return kept_or_dropped * int(node.get("Actual Loops", 1)) + sum(_rows(child) for child in node.get("Plans", []))
