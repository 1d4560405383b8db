"""An order for an unmapped SKU is held; mapping the listing releases it and reserves its stock."""

from __future__ import annotations

from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory import services
from inventory.models import Listing, Reservation
from orders.models import HoldReason, Order, OrderHold, OrderStatus
from orders.services import store_sync
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_mapping_a_listing_releases_the_held_orders_and_reserves_them(
    tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    with organization_scope(tenant.organization):
        store_sync(store=store)
        order = (
            Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, is_held=True, line_count=1)
            .exclude(holds__reason__in=[HoldReason.ADDRESS_INVALID, HoldReason.CANCEL_REQUESTED])
            .first()
        )
        hold = OrderHold.objects.get(order=order, released_at=None)
        assert hold.reason == HoldReason.UNMAPPED_SKU
        line = order.lines.get()
        listing = Listing.objects.get(store=store, platform_sku_id=line.sku_id)
        assert listing.sku is None

        warehouse = WarehouseFactory(organization=tenant.organization)
        sku = SkuFactory(organization=tenant.organization, code="OUR-CODE-FOR-IT")
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=100, actor=Actor.system())
        with django_capture_on_commit_callbacks(execute=True):
            services.listing_map(listing=listing, sku=sku, actor=Actor.system())

        order.refresh_from_db()
        assert not order.is_held
        hold.refresh_from_db()
        assert hold.released_at is not None
        assert Reservation.objects.get(order_id=order.pk).sku == sku


def test_new_listings_match_our_skus_by_seller_sku(tenant: Any, tiktok: Any) -> None:
    tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    seller_skus = {
        line.seller_sku
        for o in tiktok.sandbox.world.orders.values()
        if o.shop_id == store.external_id
        for line in o.line_items
    }
    with organization_scope(tenant.organization):
        code = sorted(seller_skus)[0]
        sku = SkuFactory(organization=tenant.organization, code=code)
        store_sync(store=store)
        listing = Listing.objects.get(store=store, seller_sku=code)
        assert listing.sku == sku
        assert listing.auto_matched


def test_stock_arriving_releases_out_of_stock_orders(
    tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    seller_skus = {
        line.seller_sku
        for o in tiktok.sandbox.world.orders.values()
        if o.shop_id == store.external_id
        for line in o.line_items
    }
    with organization_scope(tenant.organization):
        warehouse = WarehouseFactory(organization=tenant.organization)
        skus = [SkuFactory(organization=tenant.organization, code=code) for code in seller_skus]
        store_sync(store=store)
        short = OrderHold.objects.filter(reason=HoldReason.OUT_OF_STOCK, released_at=None)
        assert short.exists()
        with django_capture_on_commit_callbacks(execute=True):
            for sku in skus:
                services.stock_receive(sku=sku, warehouse=warehouse, quantity=500, actor=Actor.system())
        assert not OrderHold.objects.filter(reason=HoldReason.OUT_OF_STOCK, released_at=None).exists()
