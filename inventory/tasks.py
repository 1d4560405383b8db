"""Stock push tasks: thin wrappers over inventory.push. Safe to run twice (absolute quantities, a lease per store,
markers cleared only for what was said)."""

from __future__ import annotations

import logging

from django.core.cache import cache

from erp.models import Organization
from erp.tasks import task
from integrations.models import Store
from inventory import push

log = logging.getLogger(__name__)

QUEUED_SECONDS = 60  # a queued push the broker lost is queued again after this


def _queued_key(store_id: object) -> str:
    return f"inventory:stock-push-queued:{store_id}"


@task(name="inventory.push_due_listings", tenant=False)
def push_due_listings() -> int:
    """Beat, every 5 s: mark the listings of the stock changed since the last beat, then queue one push task per
    store with listings marked for longer than the debounce window. A store whose push is already queued is not
    queued again, so a busy `sync` queue does not fill with duplicates."""
    push.changed_stock_mark()
    count = 0
    for store_id, organization_id in push.stores_due():
        if cache.add(_queued_key(store_id), 1, timeout=QUEUED_SECONDS):
            push_store.delay(organization_id=str(organization_id), store_id=str(store_id))
            count += 1
    return count


@task(name="inventory.push_store")
def push_store(*, organization: Organization, store_id: str) -> str:
    cache.delete(_queued_key(store_id))  # changes from now on may queue another push
    store = Store.objects.select_related("authorization").filter(pk=store_id).first()
    if store is None:
        return "store gone"
    result = push.store_push(store=store)
    if result.more:  # time budget spent: continue in a fresh task, the rest is still marked
        push_store.delay(organization_id=str(organization.pk), store_id=store_id)
    return str(result)


@task(name="inventory.low_stock_alerts")
def low_stock_alerts(*, organization: Organization) -> str:
    from inventory.alerts import low_stock_alerts_update

    return str(low_stock_alerts_update())


@task(name="inventory.low_stock_check", tenant=False)
def low_stock_check() -> int:
    """Beat: check every organization that has SKUs with a threshold."""
    from inventory.models import Sku

    organization_ids = Sku.unscoped.filter(low_stock_threshold__gt=0).values_list("organization_id", flat=True)
    organization_ids = set(organization_ids)
    for organization_id in organization_ids:
        low_stock_alerts.delay(organization_id=str(organization_id))
    return len(organization_ids)


# Named inventory.fbt_* before docs/adr/0017: messages queued under those names at the deploy are dropped, and the
# next beat run (15 minutes) pulls every store again; the pull sets absolute quantities, so nothing is lost.
@task(name="inventory.platform_fulfilment_sync_due_stores", tenant=False)
def platform_fulfilment_sync_due_stores() -> int:
    """Beat, every 15 minutes: one platform fulfilment pull (TikTok's FBT) per store with an authorization on a
    platform that fulfils from its own warehouses."""
    from inventory.platform_fulfilment import stores_to_sync

    stores = stores_to_sync()
    for store_id, organization_id in stores:
        platform_fulfilment_sync_store.delay(organization_id=str(organization_id), store_id=str(store_id))
    return len(stores)


@task(name="inventory.platform_fulfilment_sync_store")
def platform_fulfilment_sync_store(*, organization: Organization, store_id: str) -> str:
    """Read one store's platform warehouses and their stock from the platform (absolute quantities: safe to run
    twice)."""
    from inventory.platform_fulfilment import store_platform_fulfilment_sync

    store = Store.objects.select_related("authorization").filter(pk=store_id).first()
    if store is None or store.authorization is None:
        return "store gone or not connected"
    return str(store_platform_fulfilment_sync(store=store))


@task(name="inventory.catalog_sync_store")
def catalog_sync_store(*, organization: Organization, store_id: str, cursor: str | None = None) -> str:
    """Make a listing of every variant of one store's catalogue; a big catalogue goes on in a fresh task."""
    from inventory.catalog import store_catalog_sync

    store = Store.objects.select_related("authorization").filter(pk=store_id, authorization__isnull=False).first()
    if store is None:
        return "store gone or not connected"
    result = store_catalog_sync(store=store, cursor=cursor)
    if result.next_cursor:
        catalog_sync_store.delay(organization_id=str(organization.pk), store_id=store_id, cursor=result.next_cursor)
    return str(result)


@task(name="inventory.catalog_sync_all", tenant=False)
def catalog_sync_all() -> int:
    """Beat, hourly: read every connected catalogue store's catalogue (new variants become listings)."""
    from integrations import registry
    from integrations.base import Capability
    from integrations.models import StoreStatus

    stores = Store.unscoped.filter(  # the scheduler serves every organization: ids only
        status=StoreStatus.ACTIVE,
        authorization__isnull=False,
        platform__in=registry.platforms_with(Capability.CATALOG),
    ).values_list("pk", "organization_id")
    for store_id, organization_id in stores:
        catalog_sync_store.delay(organization_id=str(organization_id), store_id=str(store_id))
    return len(stores)
