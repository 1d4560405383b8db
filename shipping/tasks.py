"""Label tasks (queue `labels`) and document tasks (queue `documents`): thin wrappers over shipping.labels."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from erp.models import Organization
from erp.tasks import task
from integrations.errors import PlatformError
from shipping.combine import ChangeOutcome, package_change_execute, package_change_reconcile, package_changes_stuck
from shipping.labels.batches import batch_completed_publish, batch_settled_after
from shipping.labels.documents import label_document_fetch
from shipping.labels.purchase import PurchaseOutcome, label_purchase_execute, label_purchase_reconcile, purchases_stuck
from shipping.labels.recovery import RESUME_AFTER, LostWork, lost_work_claim, work_lost

log = logging.getLogger(__name__)


@task(name="shipping.labels_purchase")
def labels_purchase(*, organization: Organization, purchase_id: str) -> str:
    outcome = label_purchase_execute(purchase_id=purchase_id)
    _after(organization, purchase_id, outcome)
    return outcome


@task(name="shipping.labels_reconcile")
def labels_reconcile(*, organization: Organization, purchase_id: str) -> str:
    # Called by the worker that lost the answer (nobody else is buying it) or by beat for a stale row.
    outcome = label_purchase_reconcile(purchase_id=purchase_id, stale_after=timedelta(0))
    _after(organization, purchase_id, outcome)
    return outcome


def _after(organization: Organization, purchase_id: str, outcome: str) -> None:
    if outcome in (PurchaseOutcome.BOUGHT, PurchaseOutcome.ADOPTED):
        documents_fetch_label.delay(organization_id=str(organization.pk), purchase_id=purchase_id)
    elif outcome == PurchaseOutcome.UNKNOWN:
        # A short pause lets a request still in flight at the platform finish before we ask about it.
        labels_reconcile.apply_async(
            kwargs={"organization_id": str(organization.pk), "purchase_id": purchase_id}, countdown=10
        )


@task(name="shipping.labels_reconcile_stuck", tenant=False)
def labels_reconcile_stuck() -> int:
    """Beat: purchases left SUBMITTING by a worker that died are taken over, checked with the platform, finished."""
    stuck = purchases_stuck()
    for organization_id, purchase_id in stuck:
        labels_reconcile.delay(organization_id=str(organization_id), purchase_id=str(purchase_id))
    return len(stuck)


# Combine / uncombine / split on the platform (shipping.combine): the same once-only claim as a label, on `labels`.
@task(name="shipping.labels_package_change")
def labels_package_change(*, organization: Organization, change_id: str) -> str:
    outcome = package_change_execute(change_id=change_id)
    if outcome == ChangeOutcome.UNKNOWN:
        labels_package_change_reconcile.apply_async(
            kwargs={"organization_id": str(organization.pk), "change_id": change_id}, countdown=10
        )
    return outcome


@task(name="shipping.labels_package_change_reconcile")
def labels_package_change_reconcile(*, organization: Organization, change_id: str) -> str:
    # By the worker that lost the answer, or by beat for a change whose worker died: read the platform first.
    return package_change_reconcile(change_id=change_id, stale_after=timedelta(0))


@task(name="shipping.labels_package_changes_stuck", tenant=False)
def labels_package_changes_stuck() -> int:
    """Beat: combines and splits left SUBMITTING by a worker that died are read back from the platform, finished."""
    stuck = package_changes_stuck()
    for organization_id, change_id in stuck:
        labels_package_change_reconcile.delay(organization_id=str(organization_id), change_id=str(change_id))
    return len(stuck)


@task(name="shipping.orders_route")
def orders_route_task(*, organization: Organization, order_ids: list[str] | None = None) -> int:
    from shipping.routing import orders_route

    return orders_route(order_ids=order_ids).routed


@task(name="shipping.orders_quote_refresh", autoretry_for=(PlatformError,), retry_backoff=15, max_retries=5)
def orders_quote_refresh(*, organization: Organization, order_ids: list[str]) -> int:
    """The buyer changed the address before the label was bought: quote each order again (shipping.address_changes)."""
    from shipping.address_changes import order_quote_refresh

    return sum(bool(order_quote_refresh(order_id=order_id)) for order_id in order_ids)


@task(name="shipping.orders_route_pending", tenant=False)
def orders_route_pending() -> int:
    """Beat: route orders whose routing message was lost or that a released hold made ready."""
    from shipping.routing import organizations_with_unrouted_orders

    organizations = organizations_with_unrouted_orders()
    for organization_id in organizations:
        orders_route_task.delay(organization_id=str(organization_id))
    return len(organizations)


@task(name="shipping.documents_fetch_label", autoretry_for=(PlatformError,), retry_backoff=15, max_retries=8)
def documents_fetch_label(*, organization: Organization, purchase_id: str) -> bool:
    stored = label_document_fetch(purchase_id=purchase_id)
    batch_id = batch_settled_after(purchase_id=purchase_id)
    if stored and batch_id is not None:  # the batch's last label is in: hand the suppliers theirs
        _log_batch_settled(batch_id)
        batch_completed_publish(batch_id=batch_id)
        handoffs_prepare.delay(organization_id=str(organization.pk), batch_id=str(batch_id))
    return stored


def _log_batch_settled(batch_id: object) -> None:
    """The console's one line for a bought batch (routine task lines are at DEBUG)."""
    from shipping.models import LabelBatch, LabelPurchase

    reference = LabelBatch.objects.filter(pk=batch_id).values_list("reference", flat=True).first()
    states = Counter(LabelPurchase.objects.filter(batch_id=batch_id).values_list("state", flat=True))
    log.info("label batch %s settled: %s", reference, ", ".join(f"{n} {state}" for state, n in sorted(states.items())))


@task(name="shipping.handoffs_prepare")
def handoffs_prepare(*, organization: Organization, batch_id: str) -> int:
    """Put the batch's bought labels for supplier and 3PL warehouses into their handoffs (idempotent)."""
    from shipping.handoffs import handoffs_for_batch
    from shipping.models import LabelBatch

    batch = LabelBatch.objects.filter(pk=batch_id).first()
    return len(handoffs_for_batch(batch=batch)) if batch is not None else 0


@task(name="shipping.handoffs_alert_unacknowledged", tenant=False)
def handoffs_alert_unacknowledged() -> int:
    """Beat: tell owners and admins, once per handoff, that a supplier has not acknowledged it in time."""
    from shipping.handoffs import handoffs_alert_due

    return handoffs_alert_due()


@task(name="shipping.labels_resume_lost", tenant=False)
def labels_resume_lost(*, grace_seconds: float | None = None) -> int:
    """Beat: label work whose message was lost (a broker restart loses every queued message) is sent again from the
    rows: purchases still waiting, bought labels without their stored PDF, settled batches without their handoffs.
    Each resent task is safe to run twice. `grace_seconds` overrides `shipping.labels.recovery.RESUME_AFTER` (tests)."""
    grace = RESUME_AFTER if grace_seconds is None else timedelta(seconds=grace_seconds)
    resent: Counter[str] = Counter()
    for lost in work_lost(grace=grace):
        if not lost_work_claim(lost=lost):
            continue  # it moved on since the sweep read it
        ids = {"organization_id": str(lost.organization_id)}
        if lost.kind in (LostWork.PURCHASE, LostWork.RETRY):
            labels_purchase.delay(**ids, purchase_id=str(lost.target_id))
        elif lost.kind == LostWork.DOCUMENT:
            documents_fetch_label.delay(**ids, purchase_id=str(lost.target_id))
        else:
            handoffs_prepare.delay(**ids, batch_id=str(lost.target_id))
        resent[lost.kind] += 1
    if resent:
        log.warning("resent label work whose message was lost: %s", dict(resent))
    return sum(resent.values())


@task(name="shipping.at_risk_alerts")
def at_risk_alerts(*, organization: Organization) -> int:
    """Mail the organization's owners and admins the orders at risk that crossed an alert threshold (once each)."""
    from shipping.at_risk import at_risk_alerts_send

    return at_risk_alerts_send(organization=organization).announced


@task(name="shipping.at_risk_check", tenant=False)
def at_risk_check() -> int:
    """Beat: one at-risk alert run per organization with a store."""
    from shipping.at_risk import organizations_to_check

    organization_ids = organizations_to_check()
    for organization_id in organization_ids:
        at_risk_alerts.delay(organization_id=str(organization_id))
    return len(organization_ids)
