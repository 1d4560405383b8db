"""Lost messages: label work resumed from the rows.

Redis keeps nothing on disk: when the broker restarts, every queued and unacknowledged message is gone, and with it
the task that would have bought a waiting label, stored a bought label's PDF or handed a settled batch's labels to
its suppliers. Beat (`shipping.labels_resume_lost`) finds that work in the rows and sends it again. Every task it
sends is safe to run twice, so a resend that crosses a message that was not lost after all does no harm
(docs/adr/0007-label-purchase.md "Lost messages"). Rows left SUBMITTING are not resent: reconciliation owns them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from shipping.labels.purchase import MAX_AUTO_ATTEMPTS
from shipping.models import HANDOFF_KINDS, LabelPurchase, PurchaseState

RESUME_AFTER = timedelta(minutes=2)  # longer than a 1,000-order batch's messages wait on a healthy queue (~1 min)
RESUME_LIMIT = 500  # per kind and sweep, oldest first: a larger backlog is resent over the next sweeps


class LostWork:
    PURCHASE = "purchase"  # PENDING, unclaimed: its `shipping.labels_purchase` message is gone
    DOCUMENT = "document"  # PURCHASED without its stored PDF: its `shipping.documents_fetch_label` message is gone
    HANDOFFS = "handoffs"  # a settled batch whose suppliers' labels are in no handoff: `handoffs_prepare` is gone
    RETRY = "retry"  # FAILED for a temporary reason (5xx, 429, timeout) with attempts left: bought again later


@dataclass(frozen=True)
class Lost:
    kind: str
    organization_id: UUID
    target_id: UUID  # the purchase; for HANDOFFS, the batch
    seen_at: datetime  # `updated_at` as the sweep read it (HANDOFFS: the newest of the batch's waiting labels)


# The test of `batches.batch_settled_after`: something in the batch is still waiting, being bought, or lacks its PDF.
_UNSETTLED = Q(state__in=[PurchaseState.PENDING, PurchaseState.SUBMITTING]) | Q(
    state=PurchaseState.PURCHASED, label_pdf=""
)


def work_lost(*, grace: timedelta = RESUME_AFTER, limit: int = RESUME_LIMIT) -> list[Lost]:
    """Label work nobody has touched for `grace`, for beat (all tenants): purchases still PENDING, bought labels
    without their PDF, settled batches whose labels for supplier and 3PL warehouses are in no handoff yet. A row
    still legitimately queued is rarely this old, and `lost_work_claim` moves `updated_at` on when it is resent, so
    no row is sent more than once per `grace`."""
    from django.db.models import Exists, Max, OuterRef

    cutoff = timezone.now() - grace
    old = LabelPurchase.unscoped.filter(updated_at__lt=cutoff)
    columns = ("organization_id", "pk", "updated_at")
    lost = [
        Lost(LostWork.PURCHASE, organization_id, pk, seen_at)
        for organization_id, pk, seen_at in old.filter(state=PurchaseState.PENDING)
        .order_by("updated_at")
        .values_list(*columns)[:limit]
    ]
    lost += [
        Lost(LostWork.DOCUMENT, organization_id, pk, seen_at)
        for organization_id, pk, seen_at in old.filter(state=PurchaseState.PURCHASED, label_pdf="")
        .order_by("updated_at")
        .values_list(*columns)[:limit]
    ]
    lost += [
        Lost(LostWork.RETRY, organization_id, pk, seen_at)
        for organization_id, pk, seen_at in old.filter(
            state=PurchaseState.FAILED, retryable=True, attempts__lt=MAX_AUTO_ATTEMPTS
        )
        .order_by("updated_at")
        .values_list(*columns)[:limit]
    ]
    unsettled = LabelPurchase.unscoped.filter(_UNSETTLED, batch_id=OuterRef("batch_id"))
    waiting = (
        old.filter(
            state=PurchaseState.PURCHASED,
            batch__isnull=False,
            handoff_item__isnull=True,
            order__warehouse__kind__in=HANDOFF_KINDS,
        )
        .exclude(label_pdf="")
        .exclude(Exists(unsettled))
        .values("organization_id", "batch_id")
        .annotate(seen_at=Max("updated_at"))
        .order_by("seen_at")[:limit]
    )
    lost += [Lost(LostWork.HANDOFFS, row["organization_id"], row["batch_id"], row["seen_at"]) for row in waiting]
    return lost


def lost_work_claim(*, lost: Lost) -> bool:
    """Take the resend of this work: move `updated_at` on, but only where the rows are still as the sweep read them
    (still waiting, untouched since). One sweep wins; the work is not resent for another grace period; work that
    moved on in the meantime (a worker claimed the purchase, the PDF was stored) is left alone."""
    rows = LabelPurchase.unscoped.filter(updated_at__lte=lost.seen_at)
    if lost.kind == LostWork.PURCHASE:
        rows = rows.filter(pk=lost.target_id, state=PurchaseState.PENDING)
    elif lost.kind == LostWork.DOCUMENT:
        rows = rows.filter(pk=lost.target_id, state=PurchaseState.PURCHASED, label_pdf="")
    elif lost.kind == LostWork.RETRY:
        rows = rows.filter(pk=lost.target_id, state=PurchaseState.FAILED, retryable=True)
    else:
        rows = rows.filter(batch_id=lost.target_id, state=PurchaseState.PURCHASED, handoff_item__isnull=True)
    return bool(rows.update(updated_at=timezone.now()))
