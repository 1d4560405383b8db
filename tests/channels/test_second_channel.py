"""A second channel through the same services as TikTok: the seam proved without a real platform.

The fake channel (tests/channels/fake.py) is registered like any adapter; nothing in Dropline's core knows its
name. It is connected through the same OAuth services, its orders imported by the same sync, its stock pushed by the
same push and its shipments reported by the same exactly-once seller-shipping path, and what it does not declare is
never asked of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations import services
from integrations.models import Store, TikTokShopSettings
from inventory import push
from inventory.models import Listing, StockLevel
from inventory.services import skus_create_from_listings, stock_receive
from orders import seller_shipping
from orders.models import Order, OrderLine, SellerShipment, SellerShipmentState
from orders.services import store_sync
from orders.tasks import sync_due_stores, tracking_refresh_all
from shipping.labels.purchase import PurchaseOutcome, label_purchase_execute, label_purchase_request
from shipping.models import LabelPurchase, PurchaseState
from tests.channels.conftest import connect
from tests.channels.fake import PLATFORM, FakeAdapter, Market
from tests.factories import WarehouseFactory

pytestmark = pytest.mark.django_db

ROBOT = Actor.system("test")


def test_orders_are_imported_by_the_same_sync_following_the_channels_cursor(
    tenant: Any, market: Market, store: Store
) -> None:
    market.add_order("F-1", {"MUG": 3})
    market.add_order("F-2", {"MUG": 1, "TEE": 2})
    market.add_order("F-3", {"TEE": 1})
    with organization_scope(tenant.organization):
        first = store_sync(store=store)
        again = store_sync(store=store)
        orders = {o.external_id: o for o in Order.objects.filter(store=store)}
        assert sorted(orders) == ["F-1", "F-2", "F-3"]
        assert (orders["F-1"].unit_count, orders["F-2"].unit_count, orders["F-3"].unit_count) == (3, 3, 1)
        lines = list(OrderLine.objects.filter(order__store=store).values_list("quantity", "platform_line_ids"))
        assert sorted(quantity for quantity, _ in lines) == [1, 1, 2, 3]  # one line per SKU, with its quantity
        assert sum(len(ids) for _, ids in lines) == 7  # and every unit's platform line id, for its package
        listings = set(Listing.objects.filter(store=store).values_list("platform_sku_id", flat=True))
    assert (first.pages, first.created) == (2, 3)  # two per page: the cursor was followed
    assert (again.created, again.updated) == (0, 0)  # the overlap window re-reads, nothing changes twice
    assert listings == {"MUG", "TEE"}


def test_stock_is_pushed_by_the_same_push_and_a_second_push_says_nothing(
    tenant: Any, market: Market, store: Store, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    market.add_order("F-1", {"MUG": 3})
    with organization_scope(tenant.organization):
        store_sync(store=store)
        warehouse = WarehouseFactory(organization=tenant.organization)
        with django_capture_on_commit_callbacks(execute=True):
            skus_create_from_listings(actor=ROBOT)
            mug = Listing.objects.get(store=store, platform_sku_id="MUG").sku
            stock_receive(sku=mug, warehouse=warehouse, quantity=10, actor=ROBOT)
        level = StockLevel.objects.get(sku=mug, warehouse=warehouse)
        expected = level.on_hand - level.reserved - level.safety_buffer
        first = push.store_push(store=store)
        second = push.store_push(store=store)
    assert market.advertised == {"MUG": expected}
    assert expected == 7  # F-1's three units are reserved against the ten received
    assert (first.pushed, len(market.stock_pushes)) == (1, 1)
    assert (second.calls, len(market.stock_pushes)) == (0, 1)


def test_a_shipment_is_reported_exactly_once_even_when_its_answer_is_lost(
    tenant: Any, market: Market, store: Store
) -> None:
    market.add_order("F-9", {"TEE": 2})
    with organization_scope(tenant.organization):
        store_sync(store=store)
        order = Order.objects.get(store=store, external_id="F-9")
        shipment = seller_shipping.seller_shipment_request(
            order=order, carrier="FakePost", tracking_number="FP123456789GB", actor=ROBOT
        )
        sent = seller_shipping.seller_shipment_send(shipment_id=shipment.pk)
        # The answer was lost after the platform took it: the row is sent again, and the platform asked first.
        SellerShipment.objects.filter(pk=shipment.pk).update(state=SellerShipmentState.PENDING, attempts=1)
        again = seller_shipping.seller_shipment_send(shipment_id=shipment.pk)
        shipment.refresh_from_db()
        order.refresh_from_db()
    assert (sent, again) == (seller_shipping.SendOutcome.SHIPPED, seller_shipping.SendOutcome.ADOPTED)
    assert market.shipments == [("F-9", "fp", "FP123456789GB")]  # one report, never two
    assert (shipment.state, shipment.package_id) == (SellerShipmentState.SHIPPED, "pkg-F-9")
    assert (order.status, order.tracking_number) == ("IN_TRANSIT", "FP123456789GB")  # read back from the channel


def test_what_the_channel_does_not_declare_is_never_asked_of_it(tenant: Any, market: Market, store: Store) -> None:
    market.add_order("F-5", {"MUG": 1})
    with organization_scope(tenant.organization):
        store_sync(store=store)
        order = Order.objects.get(store=store, external_id="F-5")
        assert services.store_platform_warehouses(store) == []  # no locations: none asked for
        purchase = label_purchase_request(order=order)
    # No labels: a purchase that somehow reached it fails with the reason instead of crashing a worker.
    with organization_scope(tenant.organization):
        assert label_purchase_execute(purchase_id=purchase.pk) == PurchaseOutcome.FAILED
        purchase = LabelPurchase.objects.get(pk=purchase.pk)
    assert purchase.state == PurchaseState.FAILED
    assert "does not support labels" in purchase.error_message
    # No notifications: refused like an unsigned body. Orders are polled; tracking is not.
    assert tenant.client.post(f"/webhooks/{PLATFORM}/", b"{}", content_type="application/json").status_code == 401
    Store.unscoped.filter(pk=store.pk).update(last_sync_started_at=None)
    assert sync_due_stores() == 1  # polled like any store (the task runs at once in tests)
    assert tracking_refresh_all() == 0


def test_connecting_hands_the_shop_to_the_adapters_hook_and_keeps_no_tiktok_record(
    tenant: Any, market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[tuple[str, dict[str, str]]] = []
    monkeypatch.setattr(
        FakeAdapter, "store_connected", lambda self, store, shop: heard.append((store.external_id, dict(shop.settings)))
    )
    store = connect(tenant.organization, FakeAdapter(market))
    assert heard == [(market.shop_id, {})]  # the core calls the hook; what to keep is the adapter's business
    assert not TikTokShopSettings.unscoped.filter(store=store).exists()
