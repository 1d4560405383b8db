"""Fulfilled by TikTok orders, imported through the real sync from the sandbox: marked FBT, "nothing to do" on the
list and the detail, never reserving stock, never offered a label, and findable with the list's filter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory import services as inventory
from inventory.models import Reservation, Sku, StockMovement
from orders.models import OPEN_STATUSES, Order, OrderHold
from orders.services import store_sync
from shipping.labels.batches import batch_plan
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

FBT = "FULFILLMENT_BY_TIKTOK"


@pytest.fixture
def synced(tenant: Any, tiktok: Any) -> Store:
    """The demo US seller connected, every SKU mapped and stocked in our own warehouse, then one real sync: every
    order we ship ourselves can reserve, so an FBT order holding nothing says something."""
    tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    shop = tiktok.sandbox.world.shops[store.external_id]
    lines = [(s.id, s.seller_sku, p.id, p.title) for p in shop.products for s in p.skus]
    with organization_scope(tenant.organization):
        warehouse = WarehouseFactory(organization=tenant.organization, name="Garage")
        for _, code, _, title in lines:
            if not Sku.objects.filter(code=code).exists():
                sku = SkuFactory(organization=tenant.organization, code=code, name=title)
                inventory.stock_receive(sku=sku, warehouse=warehouse, quantity=1000, actor=Actor.system("test"))
        inventory.listings_for_lines(store=store, lines=lines)
        result = store_sync(store=store)
    assert result.finished
    return store


def platform_fbt_orders(tiktok: Any, store: Store) -> set[str]:
    """The sandbox's own FBT orders of this shop inside the store's backfill window (its state, not the client)."""
    window_start = tiktok.sandbox.clock.now() - store.backfill_days * 86400 - 300
    world = tiktok.sandbox.world
    return {
        order_id
        for order_id, (_, updated) in tiktok.platform_orders(store.external_id).items()
        if updated >= window_start and world.orders[order_id].fulfillment_type == FBT
    }


def test_fbt_orders_are_imported_as_fbt_and_hold_no_stock(tenant: Any, tiktok: Any, synced: Store) -> None:
    expected = platform_fbt_orders(tiktok, synced)
    assert len(expected) >= 10  # the seed sells FBT goods by FBT over the last month
    with organization_scope(tenant.organization):
        fbt = Order.objects.filter(store=synced, fulfilled_by="platform")
        assert set(fbt.values_list("external_id", flat=True)) == expected
        assert fbt.filter(status__in=OPEN_STATUSES).exists()  # some TikTok still has to ship: nothing to do for us
        ids = list(fbt.values_list("pk", flat=True))
        assert not Reservation.objects.filter(order_id__in=ids).exists()
        assert not StockMovement.objects.filter(order_id__in=ids).exists()
        assert not fbt.filter(warehouse__isnull=False).exists()
        assert not OrderHold.objects.filter(order__in=fbt).exists()
        assert not fbt.filter(is_held=True).exists()
        # The control: orders we ship ourselves did reserve, so stock was there to take.
        ours = Order.objects.filter(store=synced, status__in=OPEN_STATUSES, is_held=False).exclude(
            fulfilled_by="platform"
        )
        assert Reservation.objects.filter(order_id__in=list(ours.values_list("pk", flat=True))).exists()


def test_the_list_filters_them_and_says_nothing_to_do(tenant: Any, tiktok: Any, synced: Store) -> None:
    with organization_scope(tenant.organization):
        fbt_ids = set(Order.objects.filter(fulfilled_by="platform").values_list("external_id", flat=True))
    body = tenant.client.get("/orders/", {"status": "all", "logistics": "fbt"}).content.decode()
    rows = re.findall(r'<tr data-order="[^"]+">(.*?)</tr>', body, flags=re.S)
    shown = {re.search(r'class="mono"[^>]*>(\d+)<', row).group(1) for row in rows}  # type: ignore[union-attr]
    assert shown
    assert shown <= fbt_ids
    assert len(shown) == min(len(fbt_ids), 50)
    for row in rows:
        assert "Fulfilled by TikTok — nothing to do" in row
        assert 'name="order"' not in row  # nothing to tick: no label to buy
    assert 'id="id_logistics"' in body
    # Without the filter, the orders we ship ourselves keep their tick box.
    everything = tenant.client.get("/orders/", {"status": "all"}).content.decode()
    assert 'name="order"' in everything


def test_the_detail_says_nothing_to_do_and_no_label_is_offered(tenant: Any, tiktok: Any, synced: Store) -> None:
    with organization_scope(tenant.organization):
        open_fbt = Order.objects.filter(fulfilled_by="platform", status__in=OPEN_STATUSES)
        order = open_fbt.first()
        assert order is not None
        body = tenant.client.get(f"/orders/{order.pk}/").content.decode()
        assert "Fulfilled by TikTok — nothing to do" in body
        assert "TikTok's to meet" in body  # its deadlines are TikTok's: no countdown for us to chase
        plan = batch_plan(Order.objects.filter(pk__in=open_fbt.values("pk")))
        how_many = open_fbt.count()
    assert plan.orders == []
    assert plan.skipped == {"fulfilled by TikTok": how_many}
    response = tenant.client.post("/shipping/batches/new/", {"order": [str(order.pk)]}, follow=True)
    assert "No label to buy: 1 fulfilled by TikTok." in response.content.decode()
