"""Claiming a side effect that must happen exactly once (an official label bought, a shipment reported to a
platform), on a row recorded before the call (docs/adr/0007-label-purchase.md).

The rows share one shape: `state` (pending → submitting → done, or failed with `retryable`), `attempts`,
`submitting_since` and `updated_at`. Only the worker whose conditional UPDATE matched may call the platform: the
UPDATE's WHERE is the lock, so two workers delivered the same task never both call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

PENDING, SUBMITTING, FAILED = "pending", "submitting", "failed"


def side_effect_claim(rows: QuerySet[Any]) -> bool:
    """Move the row to SUBMITTING if nobody else may be calling the platform for it (it waits, or it failed in a
    way that may be retried)."""
    now = timezone.now()
    return bool(
        rows.filter(Q(state=PENDING) | Q(state=FAILED, retryable=True)).update(
            state=SUBMITTING, attempts=F("attempts") + 1, submitting_since=now, updated_at=now
        )
    )


def side_effect_take_over(rows: QuerySet[Any], *, submitting_since: datetime | None, count_attempt: bool) -> bool:
    """Take a SUBMITTING row whose worker died (or whose outcome was unknown) as it was seen: exactly one worker
    wins, because the first one moves `submitting_since` on."""
    now = timezone.now()
    changes: dict[str, object] = {"submitting_since": now, "updated_at": now}
    if count_attempt:
        changes["attempts"] = F("attempts") + 1
    return bool(rows.filter(state=SUBMITTING, submitting_since=submitting_since).update(**changes))
