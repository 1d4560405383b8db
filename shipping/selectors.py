"""Reads of shipping: batches with their progress; how an order's label was chosen (shown on the order's page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet, Sum

from orders.models import Order
from orders.selectors import ShippingDecision
from shipping.cancelled import label_cancelled_notice
from shipping.models import LabelBatch, LabelPurchase, PurchaseState


def batches_list() -> QuerySet[LabelBatch]:
    return LabelBatch.objects.annotate(
        total=Count("purchases", distinct=True),
        print_count=Count("prints", distinct=True),
        bought=Count("purchases", filter=Q(purchases__state=PurchaseState.PURCHASED), distinct=True),
        failed=Count("purchases", filter=Q(purchases__state=PurchaseState.FAILED), distinct=True),
        packed=Count("purchases", filter=Q(purchases__packed_at__isnull=False), distinct=True),
    ).order_by("-created_at")


@dataclass(frozen=True)
class Progress:
    total: int
    bought: int
    failed: int
    pending: int  # waiting or being bought
    spent: tuple[tuple[str, Decimal], ...] = ()  # (currency, sum of the prices of the labels bought so far)

    @property
    def done(self) -> bool:
        return self.pending == 0

    @property
    def percent(self) -> int:
        return round(100 * (self.bought + self.failed) / self.total) if self.total else 100


def batch_progress(batch: LabelBatch) -> Progress:
    counts = dict(batch.purchases.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    bought = counts.get(PurchaseState.PURCHASED, 0)
    failed = counts.get(PurchaseState.FAILED, 0)
    pending = counts.get(PurchaseState.PENDING, 0) + counts.get(PurchaseState.SUBMITTING, 0)
    spent = tuple(
        batch.purchases.filter(state=PurchaseState.PURCHASED, price__isnull=False)
        .values("currency")
        .annotate(total=Sum("price"))
        .order_by("currency")
        .values_list("currency", "total")
    )
    return Progress(total=bought + failed + pending, bought=bought, failed=failed, pending=pending, spent=spent)


def batch_purchases(batch: LabelBatch) -> QuerySet[LabelPurchase]:
    return batch.purchases.select_related("order", "order__store").order_by("state", "order__ship_by")


# ------------------------------------------------------------------------------------- an order's shipping decision
def _days_label(days: Any) -> str:
    earliest, latest = [*list(days or []), None, None][:2]
    if earliest is None and latest is None:
        return "not quoted"
    if earliest is None or latest is None or earliest == latest:
        n = latest if latest is not None else earliest
        return f"{n} day{'' if n == 1 else 's'}"
    return f"{earliest}–{latest} days"


def shipping_decision_of(order: Order) -> ShippingDecision | None:
    """The latest label purchase's decision (one query); None when no label was ever tried for the order. The order's
    page reads it through `orders.selectors.order_detail_sources` (registered in ShippingConfig.ready())."""
    purchase = (
        LabelPurchase.objects.filter(order=order)
        .order_by("-pk")
        .only("state", "decision", "order_cancelled_at", "price", "currency")
        .first()
    )
    if purchase is None:
        return None
    log = purchase.decision or {}
    chosen = log.get("chosen")
    services = [
        {
            **service,
            "chosen": chosen is not None and service.get("id") == chosen,
            "days_label": _days_label(service.get("days")),
        }
        for service in log.get("services") or []
    ]
    return ShippingDecision(
        state=purchase.get_state_display(),
        rule=log.get("rule"),
        services=services,
        reason=log.get("reason") or "",
        single_service=bool(log.get("single_service")),
        notices=tuple(notice for notice in [label_cancelled_notice(purchase)] if notice),
        address_changed=str(log.get("address_changed") or ""),
    )


# ------------------------------------------------------------------------------------- a batch's do-not-ship list
@dataclass(frozen=True)
class BatchWarning:
    """A bought label of the batch that must not go out as it is: its order was cancelled, or the buyer changed the
    address after it was bought."""

    order_id: Any
    order_ref: str
    tracking_number: str
    headline: str
    detail: str


def batch_warnings(batch: LabelBatch) -> list[BatchWarning]:
    from shipping.address_changes import OLD_ADDRESS
    from shipping.cancelled import CANCELLED_DO_NOT_SHIP

    # Each warehouse's first printout (the earliest wins): a label printed before its order was cancelled is in a stack.
    printed: dict[UUID | None, datetime] = dict(
        batch.prints.values_list("warehouse_id", "printed_at").order_by("-printed_at")
    )
    warnings = []
    for purchase in (
        batch.purchases.filter(state=PurchaseState.PURCHASED)
        .filter(Q(order_cancelled_at__isnull=False) | Q(order__label_shows_old_address=True))
        .select_related("order")
        .order_by("order__external_id")
    ):
        order = purchase.order
        if purchase.order_cancelled_at is not None:
            when = printed.get(order.warehouse_id)
            pull = (
                "Its label was printed before it was cancelled: take it out of the stack."
                if when is not None and when < purchase.order_cancelled_at
                else "Left out of this batch's labels, pick list and slips."
            )
            warnings.append(
                BatchWarning(order.pk, order.external_id, purchase.tracking_number, CANCELLED_DO_NOT_SHIP, pull)
            )
        else:
            warnings.append(
                BatchWarning(order.pk, order.external_id, purchase.tracking_number, OLD_ADDRESS, order.address_note)
            )
    return warnings
