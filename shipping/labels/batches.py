"""Label batches: which orders may get a label now, the batch that buys them (each purchase through
`purchase.label_purchase_request`, so an order is never bought twice), retrying its failed purchases, and the moment
a batch is settled."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from erp.actors import Actor
from erp.models import Organization
from erp.services import audit_record
from erp.tasks import wake_on_commit
from erp.tenancy import current_organization
from integrations.interface import FulfilledBy, LabelSource
from orders.models import Order, OrderStatus
from shipping.labels.purchase import orders_label_purchases_request
from shipping.models import LabelBatch, LabelPurchase, PackageOrder, PurchaseState
from webhooks.services import event_publish


@transaction.atomic
def label_batch_create(*, actor: Actor, orders: list[Order], estimate: dict[str, object] | None = None) -> LabelBatch:
    """A batch buying these orders' labels. An order whose label another batch already has (two people, or a
    person and auto-buy, choosing it at the same moment) is not bought twice: it is listed in `left_out` with the
    batch that has it, so the page can say where it went."""
    # Batches are numbered per organization; its row lock makes two batches created at once (a person and auto-buy)
    # take turns for the next number.
    Organization.objects.select_for_update().filter(pk=current_organization().pk).first()
    number = LabelBatch.objects.count() + 1
    batch = LabelBatch.objects.create(
        reference=f"B-{number:04d}", created_by_label=actor.label[:200], estimate=estimate or {}
    )
    left_out = []
    # A split order's packages each get their label; a combined parcel's orders share one.
    requested = orders_label_purchases_request(orders=orders, batch=batch)
    for order in orders:
        purchases = requested[order.pk]
        purchase = next((p for p in purchases if p.batch_id != batch.pk), purchases[0])
        if purchase.batch_id != batch.pk:
            other = (
                LabelBatch.objects.filter(pk=purchase.batch_id).values_list("reference", flat=True).first()
                if purchase.batch_id
                else None
            )
            left_out.append(
                {
                    "order": order.external_id,
                    "order_id": str(order.pk),
                    "reason": f"bought by batch {other} a moment ago" if other else "its label was already requested",
                    "batch_id": str(purchase.batch_id) if purchase.batch_id else None,
                }
            )
    if left_out:
        LabelBatch.objects.filter(pk=batch.pk).update(left_out=left_out)
        batch.left_out = left_out
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="label_batch.created",
        target=batch,
        changes={"orders": len(orders) - len(left_out), "left_out": len(left_out)},
    )
    from shipping.tasks import labels_purchase  # tasks import this module

    for purchase_id in batch.purchases.values_list("pk", flat=True):
        wake_on_commit(labels_purchase, organization_id=str(batch.organization_id), purchase_id=str(purchase_id))
    return batch


MAX_BATCH = 1000


@dataclass(frozen=True)
class BatchPlan:
    orders: list[Order]
    skipped: dict[str, int]  # why → how many orders were left out


def batch_plan(orders: QuerySet[Order]) -> BatchPlan:
    """Which of these orders may get a label now. Held orders wait (a label bought for an order that cannot ship
    is money lost); orders TikTok fulfils or that ship on the seller's own label have nothing to buy here."""
    skipped: Counter[str] = Counter()
    chosen: list[Order] = []
    candidates = list(orders.select_related("store")[: MAX_BATCH * 2])
    # Requested: a package carrying the order is in a batch, or being bought. A combined or split package recorded
    # when the orders were combined or split waits, unbatched, for this batch to buy it.
    requested = dict(
        PackageOrder.objects.filter(order__in=[o.pk for o in candidates])
        .exclude(purchase__batch__isnull=True, purchase__state=PurchaseState.PENDING)
        .values_list("order_id", "purchase__batch__reference")
    )
    for order in candidates:
        if order.pk in requested:
            where = requested[order.pk]
            skipped[f"already in batch {where}" if where else "label already requested"] += 1
        elif order.status not in (OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING):
            skipped["not awaiting shipment"] += 1
        elif order.fulfilled_by == FulfilledBy.PLATFORM:
            skipped["fulfilled by TikTok"] += 1
        elif order.label_source != LabelSource.PLATFORM:
            # Seller shipping has no label to buy: its carrier and tracking are sent from the order's page or a CSV.
            skipped["seller shipping (no label to buy: enter carrier and tracking on the order, or import a CSV)"] += 1
        elif order.is_held:
            skipped["held (see each order's reason)"] += 1
        elif len(chosen) >= MAX_BATCH:
            skipped[f"over {MAX_BATCH} orders in one batch"] += 1
        else:
            chosen.append(order)
    return BatchPlan(orders=chosen, skipped=dict(skipped))


@transaction.atomic
def label_batch_retry_failed(*, actor: Actor, batch: LabelBatch) -> int:
    """Run again only the failed purchases of a batch (after the fix). Bought ones are never touched."""
    failed = list(batch.purchases.filter(state=PurchaseState.FAILED).values_list("pk", flat=True))
    LabelPurchase.objects.filter(pk__in=failed, state=PurchaseState.FAILED).update(
        state=PurchaseState.PENDING, error_code="", error_message="", error_fix="", updated_at=timezone.now()
    )
    from shipping.tasks import labels_purchase

    for purchase_id in failed:
        wake_on_commit(labels_purchase, organization_id=str(batch.organization_id), purchase_id=str(purchase_id))
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="label_batch.retried",
        target=batch,
        changes={"purchases": len(failed)},
    )
    return len(failed)


def batch_settled_after(*, purchase_id: UUID | str) -> UUID | None:
    """The purchase's batch id when none of its purchases is still waiting or being bought (and none bought lacks
    its stored label): the moment to prepare the suppliers' handoffs. None otherwise."""
    batch_id = LabelPurchase.objects.filter(pk=purchase_id).values_list("batch_id", flat=True).first()
    if batch_id is None:
        return None
    unsettled = LabelPurchase.objects.filter(batch_id=batch_id).filter(
        Q(state__in=[PurchaseState.PENDING, PurchaseState.SUBMITTING]) | Q(state=PurchaseState.PURCHASED, label_pdf="")
    )
    return None if unsettled.exists() else batch_id


def batch_completed_publish(*, batch_id: UUID | str) -> None:
    """batch.completed, when the batch has settled (every order bought or failed, every bought label stored). A
    batch whose failed orders are retried settles, and is announced, again."""
    from shipping.api.serializers import LabelBatchOutput

    batch = LabelBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return
    event_publish(
        organization=batch.organization,
        type="batch.completed",
        object_type="label_batch",
        object_id=batch.pk,
        data=lambda: dict(LabelBatchOutput(batch).data),
    )
