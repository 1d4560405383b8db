"""Shipping services that the dashboard and the API share, so both behave identically."""

from __future__ import annotations

from django.db.models import QuerySet

from erp.actors import Actor
from orders.models import Order
from shipping.combine import combine_as_rules_say
from shipping.labels.batches import BatchPlan, batch_plan, label_batch_create
from shipping.models import LabelBatch


def label_batch_plan_and_create(
    *, actor: Actor, orders: QuerySet[Order], estimate: dict[str, object] | None = None
) -> tuple[BatchPlan, LabelBatch | None]:
    """The plan for these orders (`batch_plan`: which may get a label now, and why the others may not) and a batch
    buying the planned ones, or None when none may (the plan's `skipped` says why). `estimate` is the estimate the
    person confirmed, kept on the batch."""
    # Rules saying "combine when possible": those orders become one package (one purchase) before the plan is made.
    combine_as_rules_say(orders=list(orders), actor=actor)
    plan = batch_plan(orders)
    if not plan.orders:
        return plan, None
    return plan, label_batch_create(actor=actor, orders=plan.orders, estimate=estimate)
