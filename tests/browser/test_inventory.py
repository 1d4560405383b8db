"""Inventory in Chromium: fix an unmapped SKU (its held order is released) and adjust stock at a warehouse."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from erp import services as erp_services
from erp.actors import Actor
from erp.tenancy import organization_scope
from inventory import services
from inventory.models import StockLevel
from orders.models import HoldReason, OrderHold
from tests.browser.conftest import screenshot
from tests.factories import (
    ListingFactory,
    OrderFactory,
    OrderHoldFactory,
    OrderLineFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seller(page: Any) -> Any:
    user = UserFactory(email="stock@example.com")
    organization = erp_services.organization_create(name="Hoodie Hut", owner=user)
    with organization_scope(organization):
        store = StoreFactory(organization=organization, name="Hoodie Hut US")
        warehouse = WarehouseFactory(organization=organization, name="Reno DC")
        sku = SkuFactory(organization=organization, code="HOOD-GRY-L", name="Hoodie grey L")
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=10, actor=Actor.system())
        ListingFactory(
            organization=organization,
            store=store,
            platform_sku_id="1729600000000001",
            seller_sku="HOODIE-GRY-L",
            title="Acme Hoodie grey L",
        )
        order = OrderFactory(organization=organization, store=store, is_held=True, sku_summary="1 × HOODIE-GRY-L")
        OrderLineFactory(organization=organization, order=order, sku_id="1729600000000001", seller_sku="HOODIE-GRY-L")
        OrderHoldFactory(
            organization=organization,
            order=order,
            reason=HoldReason.UNMAPPED_SKU,
            detail="Not mapped to one of your SKUs: HOODIE-GRY-L.",
        )
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("stock@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hoodie Hut")).to_be_visible()
    return order, sku, warehouse


def test_map_a_listing_then_adjust_stock(page: Any, seller: Any) -> None:
    order, sku, warehouse = seller
    page.get_by_role("link", name="Inventory").click()
    page.get_by_role("link", name=re.compile("Listings")).click()
    row = page.locator("tr", has_text="HOODIE-GRY-L")
    expect(row.get_by_text("Unmapped")).to_be_visible()
    row.get_by_placeholder("SKU code").fill("HOOD-GRY-L")
    row.get_by_role("button", name="Map").click()
    expect(page.locator("tr", has_text="HOODIE-GRY-L").get_by_role("link", name="HOOD-GRY-L")).to_be_visible()
    screenshot(page, "listing-mapped")

    page.goto(f"/orders/{order.pk}/")
    expect(page.get_by_text("Why this order is held")).to_have_count(0)
    assert OrderHold.unscoped.get(order=order).released_at is not None
    assert StockLevel.unscoped.get(sku=sku, warehouse=warehouse).reserved == 1

    page.goto(f"/inventory/skus/{sku.pk}/")
    adjust = page.locator("section#adjust")
    adjust.get_by_label("Warehouse").select_option(label="Reno DC")
    adjust.get_by_label("Change (+ to add, - to remove)").fill("-2")
    adjust.get_by_label("Reason").fill("two arrived torn")
    adjust.get_by_role("button", name="Adjust").click()
    expect(page.locator("table", has_text="two arrived torn")).to_be_visible()
    screenshot(page, "stock-adjusted")
    level = StockLevel.unscoped.get(sku=sku, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (8, 1)
