"""Reads of shipping: batches with their progress."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

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
