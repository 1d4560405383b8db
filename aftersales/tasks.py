"""After-sales tasks: thin wrappers over aftersales.services (decisions on `labels`, beside the other once-only
platform writes; syncs on the default queue)."""

from __future__ import annotations

from datetime import timedelta

from aftersales.services import (
    STALE_AFTER,
    Outcome,
    decision_execute,
    decision_reconcile,
    decisions_stuck,
    requests_refresh,
    seller_cancel_execute,
    seller_cancels_stuck,
    stores_with_after_sales,
)
from erp.models import Organization
from erp.tasks import task
from integrations.models import Store


@task(name="aftersales.decision_send")
def decision_send(*, organization: Organization, decision_id: str) -> str:
    outcome = decision_execute(decision_id=decision_id)
    if outcome == Outcome.UNKNOWN:  # the answer was lost: send the same decision (same key) again shortly
        decision_resend.apply_async(
            kwargs={"organization_id": str(organization.pk), "decision_id": decision_id}, countdown=10
        )
    return outcome


@task(name="aftersales.decision_resend")
def decision_resend(*, organization: Organization, decision_id: str) -> str:
    return decision_reconcile(decision_id=decision_id, stale_after=timedelta(0))


@task(name="aftersales.decisions_stuck", tenant=False)
def decisions_resend_stuck() -> int:
    """Beat: decisions left SUBMITTING by a worker that died are sent again with their key."""
    stuck = decisions_stuck()
    for organization_id, decision_id in stuck:
        decision_resend.delay(organization_id=str(organization_id), decision_id=str(decision_id))
    cancels = seller_cancels_stuck()
    for organization_id, cancel_id in cancels:
        seller_cancel.delay(organization_id=str(organization_id), cancel_id=str(cancel_id), resend=True)
    return len(stuck) + len(cancels)


@task(name="aftersales.seller_cancel")
def seller_cancel(*, organization: Organization, cancel_id: str, resend: bool = False) -> str:
    # `resend`: by the worker that lost the answer (or beat, for a dead worker's): read the platform, then act.
    outcome = seller_cancel_execute(cancel_id=cancel_id, stale_after=timedelta(0) if resend else STALE_AFTER)
    if outcome == Outcome.UNKNOWN and not resend:  # later ones are beat's (decisions_stuck), every 30 s
        seller_cancel.apply_async(
            kwargs={"organization_id": str(organization.pk), "cancel_id": cancel_id, "resend": True}, countdown=10
        )
    return outcome


@task(name="aftersales.sync_store")
def sync_store(*, organization: Organization, store_id: str) -> int:
    store = Store.objects.select_related("authorization").get(pk=store_id)
    return requests_refresh(store=store)


@task(name="aftersales.sync_all", tenant=False)
def sync_all() -> int:
    """Beat: every connected store's requests changed since the last copy (webhooks are the fast path; this catches
    what a lost notification missed)."""
    stores = stores_with_after_sales()
    for store in stores:
        sync_store.delay(organization_id=str(store.organization_id), store_id=str(store.pk))
    return len(stores)
