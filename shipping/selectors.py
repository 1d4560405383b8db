"""Reads of shipping: batches with their progress; how an order's label was chosen (shown on the order's page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet, Sum

from inventory.models import Reservation
from orders.models import Order
from orders.selectors import ShippingDecision
from shipping.cancelled import label_cancelled_notice
from shipping.models import LabelBatch, LabelPurchase, PackageOrder, PrintEvent, PurchaseState


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


# --------------------------------------------------------------------------- what a cancellation would stop
@dataclass(frozen=True)
class Stake:
    """One thing already done for an order that a cancellation would waste or has to stop (shown in the after-sales
    inbox before the seller decides). `kind`: reserved | label | printed | packed | handoff | handed_over."""

    kind: str
    text: str


def order_stakes(order_ids: Sequence[UUID]) -> dict[UUID, list[Stake]]:
    """What is at stake for each order: its bought label (and price), whether the label was printed, packed, put in a
    supplier's handoff or already handed to the carrier; stock reserved for it. Five queries whatever the number of
    orders."""
    stakes: dict[UUID, list[Stake]] = {}
    if not order_ids:
        return stakes
    reserved = (
        Reservation.objects.filter(order_id__in=order_ids)
        .values("order_id", "warehouse__name")
        .annotate(units=Sum("quantity"))
        .order_by("order_id", "warehouse__name")
    )
    for row in reserved:
        stakes.setdefault(row["order_id"], []).append(
            Stake(
                "reserved",
                f"{row['units']} unit{'s' if row['units'] != 1 else ''} reserved at {row['warehouse__name']}",
            )
        )
    purchases = list(
        LabelPurchase.objects.filter(
            Q(order_id__in=order_ids) | Q(covers__order_id__in=order_ids),
            state=PurchaseState.PURCHASED,
            order_cancelled_at__isnull=True,
        )
        .select_related("handoff_item__handoff__warehouse")
        .distinct()
    )
    carried: dict[UUID, set[UUID]] = {}
    for purchase_id, order_id in PackageOrder.objects.filter(purchase__in=purchases).values_list(
        "purchase_id", "order_id"
    ):
        carried.setdefault(purchase_id, set()).add(order_id)
    printed = set(
        PrintEvent.objects.filter(batch_id__in={p.batch_id for p in purchases if p.batch_id}).values_list(
            "batch_id", flat=True
        )
    )
    wanted = set(order_ids)
    for purchase in purchases:
        found: list[Stake] = []
        price = f" ({purchase.price} {purchase.currency})" if purchase.price is not None else ""
        found.append(Stake("label", f"Label bought{price}, {purchase.tracking_number or 'no tracking yet'}"))
        if purchase.batch_id in printed:
            found.append(Stake("printed", "Printed: pull the label from the stack"))
        if purchase.packed_at:
            found.append(Stake("packed", "Packed: take it off the outgoing pile"))
        item = getattr(purchase, "handoff_item", None)
        if item is not None:
            supplier = item.handoff.warehouse.name
            if item.handed_over_at:
                found.append(Stake("handed_over", f"Already handed to the carrier by {supplier}"))
            else:
                found.append(Stake("handoff", f"In {supplier}'s handoff: removed and {supplier} told"))
        for order_id in (carried.get(purchase.pk, set()) | {purchase.order_id}) & wanted:
            stakes.setdefault(order_id, []).extend(found)
    return stakes
