"""Order import tasks: thin wrappers over orders.services. Safe to run twice (upserts, a lease per store)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from erp.models import Organization
from erp.tasks import task
from integrations import registry
from integrations.base import Capability
from integrations.errors import PlatformError
from integrations.models import Store, StoreStatus
from orders import services
from orders.models import BackfillWindow

log = logging.getLogger(__name__)


@task(name="orders.sync_store")
def sync_store(*, organization: Organization, store_id: str) -> str:
    store = Store.objects.select_related("authorization").filter(pk=store_id, status=StoreStatus.ACTIVE).first()
    if store is None:
        return "store gone or not active"
    try:
        result = services.store_sync(store=store)
    except PlatformError as error:
        # Recorded on the store (and shown in the dashboard); the next poll tries again.
        log.warning("sync of %s failed: %s", store, error)
        return f"failed: {error.code}"
    for window_id in result.windows:  # a first import cut into windows: one worker each (docs/adr/0037)
        import_backfill_window.delay(organization_id=str(organization.pk), window_id=window_id)
    if result.acquired and not result.finished:
        sync_store.delay(organization_id=str(organization.pk), store_id=store_id)  # continue from the cursor
    return f"{result}"


@task(name="orders.import_backfill_window")
def import_backfill_window(*, organization: Organization, window_id: str) -> str:
    """One window of a store's first import. Safe twice: the window's lease, upserts, and a finished window is
    skipped. A window whose worker died is handed out again by the store's next sync (beat) once its lease expires."""
    window = (
        BackfillWindow.objects.select_related("store__authorization")
        .filter(pk=window_id, finished_at__isnull=True, store__status=StoreStatus.ACTIVE)
        .first()
    )
    if window is None:
        return "window done or store gone"
    try:
        result = services.backfill_window_import(window=window)
    except PlatformError as error:
        log.warning("backfill window %s of %s failed: %s", window_id, window.store, error)
        return f"failed: {error.code}"
    task_kwargs = {"organization_id": str(organization.pk)}
    if result.acquired and not result.finished:
        import_backfill_window.delay(**task_kwargs, window_id=window_id)  # continue from the window's cursor
    if result.backfilled:  # the store's own sync takes over from the end of the backfill, now
        sync_store.delay(**task_kwargs, store_id=str(window.store_id))
    return f"{result}"


@task(name="orders.sync_due_stores", tenant=False)
def sync_due_stores() -> int:
    """Beat: enqueue a sync for every active store not polled within the interval and not being synced now."""
    now = timezone.now()
    due = now - timedelta(seconds=settings.ORDER_SYNC_INTERVAL_SECONDS)
    # The scheduler serves every organization: a deliberate cross-tenant read of ids only.
    stores = (
        Store.unscoped.filter(status=StoreStatus.ACTIVE, platform__in=registry.platforms_with(Capability.ORDERS))
        .filter(Q(last_sync_started_at__isnull=True) | Q(last_sync_started_at__lt=due))
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .values_list("pk", "organization_id")
    )
    count = 0
    for store_id, organization_id in stores:
        sync_store.delay(organization_id=str(organization_id), store_id=str(store_id))
        count += 1
    return count


@task(name="orders.reallocate")
def reallocate(*, organization: Organization, order_ids: list[str]) -> int:
    """Held orders get another chance at stock (a listing was mapped, stock arrived)."""
    from orders.stock import orders_reallocate

    return orders_reallocate(order_ids=order_ids)


@task(name="orders.tracking_refresh")
def tracking_refresh(*, organization: Organization, store_id: str) -> str:
    from orders.tracking import store_tracking_refresh

    store = Store.objects.select_related("authorization").filter(pk=store_id, status=StoreStatus.ACTIVE).first()
    return str(store_tracking_refresh(store=store)) if store is not None else "store gone or not active"


@task(name="orders.tracking_refresh_all", tenant=False)
def tracking_refresh_all() -> int:
    """Beat: every active store's parcels on their way, where the channel reports carrier scans."""
    stores = Store.unscoped.filter(  # the scheduler serves every organization
        status=StoreStatus.ACTIVE, platform__in=registry.platforms_with(Capability.TRACKING)
    ).values_list("pk", "organization_id")
    for store_id, organization_id in stores:
        tracking_refresh.delay(organization_id=str(organization_id), store_id=str(store_id))
    return len(stores)


# ----------------------------------------------------------------------------------------------- seller shipping
@task(name="orders.seller_shipment_send")
def seller_shipment_send(*, organization: Organization, shipment_id: str) -> str:
    """Mark a seller-shipping order shipped on the platform (exactly once: orders.seller_shipping)."""
    from orders import seller_shipping

    outcome = seller_shipping.seller_shipment_send(shipment_id=shipment_id)
    _after_seller_shipment(organization, shipment_id, outcome)
    return outcome


@task(name="orders.seller_shipment_reconcile")
def seller_shipment_reconcile(*, organization: Organization, shipment_id: str) -> str:
    # Called by the worker that lost the answer (nobody else is sending it) or by beat for a stale row.
    from orders import seller_shipping

    outcome = seller_shipping.seller_shipment_reconcile(shipment_id=shipment_id, stale_after=timedelta(0))
    _after_seller_shipment(organization, shipment_id, outcome)
    return outcome


def _after_seller_shipment(organization: Organization, shipment_id: str, outcome: str) -> None:
    from orders.seller_shipping import SendOutcome

    if outcome == SendOutcome.UNKNOWN:
        # A short pause lets a request still in flight at the platform finish before we ask about it.
        seller_shipment_reconcile.apply_async(
            kwargs={"organization_id": str(organization.pk), "shipment_id": shipment_id}, countdown=10
        )


@task(name="orders.seller_shipments_resume", tenant=False)
def seller_shipments_resume() -> int:
    """Beat: rows whose message was lost (PENDING) are sent again, rows left SUBMITTING are reconciled; either way
    the row's claim decides who calls the platform, so a message that was only slow does no harm."""
    from orders.models import SellerShipment, SellerShipmentState
    from orders.seller_shipping import seller_shipments_stuck

    stuck = seller_shipments_stuck()
    states = dict(SellerShipment.unscoped.filter(pk__in=[pk for _, pk in stuck]).values_list("pk", "state"))
    for organization_id, shipment_id in stuck:
        kwargs = {"organization_id": str(organization_id), "shipment_id": str(shipment_id)}
        if states.get(shipment_id) == SellerShipmentState.PENDING:
            seller_shipment_send.delay(**kwargs)
        else:
            seller_shipment_reconcile.delay(**kwargs)
    return len(stuck)
