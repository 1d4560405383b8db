"""Shopify beside TikTok in Chromium, as a new seller and their dropship supplier work it (issue 15's journey): a
rule sends both channels' orders to the supplier; the seller connects a TikTok shop and a Shopify store, sees both
channels' orders in one list, and buys the TikTok order's official label (it lands in the supplier's handoff); the
supplier, in its portal, finds that label in the handoff and enters the tracking of a Shopify order it shipped on its
own label; the Shopify sandbox then holds exactly one fulfillment with that tracking number."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from erp import services as erp_services
from erp.actors import Actor
from erp.models import Membership
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory.models import WarehouseKind
from orders.models import Order, SellerShipment
from sandboxes.tiktok.seed import bulk_create_orders
from shipping import handoffs
from shipping.models import HandoffItem, LabelPurchase, PurchaseState
from tests.browser.conftest import screenshot
from tests.browser.test_labels_acceptance import sign_in
from tests.factories import SkuFactory, SkuSupplierFactory, UserFactory, WarehouseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOP = "dropline-demo.myshopify.com"
TRACKING = "1Z999AA10123456784"


def test_both_channels_in_one_list_a_supplier_ships_each_the_way_its_channel_allows(
    page: Any, browser: Any, live_server: Any, platform: Any, shopify_platform: tuple[Any, str]
) -> None:
    shopify, shopify_url = shopify_platform
    home_us = next(shop for shop in platform.world.shops.values() if shop.name == "Dropline Home US")
    bulk_create_orders(
        platform.world,
        home_us,
        3,
        platform.clock.now(),
        seed=15,
        status_mix={"AWAITING_SHIPMENT": 1},
        shipping_mix={"TIKTOK": 1},
    )
    owner = UserFactory(email="owner@glow.example")
    supplier_user = UserFactory(email="lin@shenzhen-sun.example")
    organization = erp_services.organization_create(name="Glow Candles", owner=owner)
    with organization_scope(organization):
        shenzhen = WarehouseFactory(
            organization=organization, name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER, tracks_stock=False
        )
        membership = Membership.objects.create(organization=organization, user=supplier_user, role=Role.SUPPLIER)
        handoffs.supplier_access_grant(membership=membership, warehouse=shenzhen, actor=Actor.for_user(owner))
        # One catalogue for both channels: the seller's SKUs, made to order by the supplier.
        codes = {line.seller_sku for order in platform.world.orders.values() for line in order.line_items}
        codes |= {variant.sku for variant in shopify.world.variants.values()}
        for code in sorted(c for c in codes if c):
            sku = SkuFactory(organization=organization, code=code, name=code.title())
            SkuSupplierFactory(organization=organization, sku=sku, warehouse=shenzhen)

    # --- a rule with a channel condition: both channels' orders ship from the dropship supplier
    sign_in(page, owner.email)
    page.goto("/shipping/rules/new/")
    page.get_by_label("Name", exact=True).fill("Dropship via Shenzhen")
    page.get_by_label("Sales channels").select_option(["tiktok", "shopify"])
    page.get_by_label("Ship from warehouse").select_option(label="Shenzhen Sun")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("cell", name="Dropship via Shenzhen", exact=True)).to_be_visible()
    expect(page.get_by_text("channel TikTok Shop, Shopify")).to_be_visible()

    # --- connect a TikTok shop, then a Shopify store by its address
    page.get_by_role("link", name="Stores").click()
    page.get_by_role("button", name="Connect TikTok Shop").first.click()
    page.get_by_label(re.compile("Dropline Demo US")).check()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("Dropline Home US is connected")).to_be_visible()
    page.get_by_label("Your Shopify store address").fill("dropline-demo")
    page.get_by_role("button", name="Connect Shopify").click()
    expect(page.get_by_text("Dropline Demo Store is connected")).to_be_visible()
    screenshot(page, "shopify-stores-connected")

    # --- one order list: both channels, filterable by channel
    page.goto("/orders/?status=to_ship")
    rows = page.locator("tr[data-order]")
    expect(rows.filter(has_text="Shopify ·").first).to_be_visible()
    expect(rows.filter(has_text="TikTok Shop ·").first).to_be_visible()
    page.get_by_label("Channel").select_option("shopify")
    expect(page.locator("tr[data-order]").filter(has_text="TikTok Shop ·")).to_have_count(0)
    expect(page.locator("tr[data-order]").first).to_contain_text("Shopify ·")
    screenshot(page, "shopify-one-order-list")
    with organization_scope(organization):
        shopify_order = (
            Order.objects.filter(
                store__platform="shopify", status="AWAITING_SHIPMENT", warehouse=shenzhen, is_held=False
            )
            .order_by("ship_by")
            .first()
        )
        tiktok_order = Order.objects.filter(
            store__platform="tiktok",
            status="AWAITING_SHIPMENT",
            label_source="platform",
            warehouse=shenzhen,
            is_held=False,
        ).first()
    assert shopify_order is not None, "the rule sent no Shopify order to the supplier"
    assert tiktok_order is not None, "the rule sent no TikTok order to the supplier"
    assert shopify_order.ship_by is not None  # Shopify sets none: the store's handling time does

    # --- the TikTok order's official label is bought; it goes to the supplier's handoff
    page.goto("/orders/?status=to_ship&channel=tiktok")
    page.get_by_label(f"Select order {tiktok_order.external_id}").check()
    page.get_by_role("button", name="Buy labels").click()
    page.get_by_test_id("confirm-buy").click()
    expect(page.get_by_text("Done: 1 of 1 labels bought.")).to_be_visible()
    with organization_scope(organization):
        purchase = LabelPurchase.objects.get(order=tiktok_order)
    assert purchase.state == PurchaseState.PURCHASED
    assert HandoffItem.unscoped.filter(purchase=purchase, handoff__warehouse=shenzhen).exists()

    # --- the supplier: the TikTok order on its official label in the handoff, the Shopify order on its own label
    supplier_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    supplier = supplier_context.new_page()
    supplier.set_default_timeout(10_000)
    sign_in(supplier, supplier_user.email)
    expect(supplier.get_by_role("heading", name="Label handoffs")).to_be_visible()
    supplier.locator("table tbody tr").first.get_by_role("link").first.click()
    expect(supplier.get_by_text(tiktok_order.external_id)).to_be_visible()
    expect(supplier.get_by_text(purchase.tracking_number)).to_be_visible()
    supplier.goto("/supplier/")
    supplier.get_by_role("link", name=re.compile("Enter their tracking numbers")).click()
    to_ship = supplier.locator("table[data-own-label='to-ship']")
    expect(to_ship).not_to_contain_text(tiktok_order.external_id)  # never on its own label
    expect(to_ship).not_to_contain_text("TikTok Shop ·")  # not even TikTok's legacy seller-shipping orders
    form = supplier.get_by_role("form", name=f"Tracking for order {shopify_order.external_id}")
    form.get_by_label("Carrier").select_option(label="UPS")
    form.get_by_label("Tracking number").fill(TRACKING)
    form.get_by_role("button", name="Save").click()
    expect(supplier.get_by_text(f"Order {shopify_order.external_id}: UPS {TRACKING} recorded")).to_be_visible()
    sent = supplier.locator("table[data-own-label='sent'] tr", has_text=TRACKING)
    expect(sent).to_contain_text("Told Shopify")
    screenshot(supplier, "shopify-supplier-own-label")
    supplier_context.close()

    # --- Shopify holds exactly one fulfillment with that tracking, and Dropline knows it shipped
    answer = httpx.get(
        f"{shopify_url}/sandbox/orders/{shopify_order.external_id}/fulfillments", params={"tracking_number": TRACKING}
    )
    assert answer.status_code == 200, answer.text
    fulfillments = answer.json()["fulfillments"]
    assert len(fulfillments) == 1
    assert fulfillments[0]["tracking"][0] == {
        "company": "UPS",
        "number": TRACKING,
        "url": fulfillments[0]["tracking"][0]["url"],
    }
    with organization_scope(organization):
        shipment = SellerShipment.objects.get(order=shopify_order)
        shopify_order.refresh_from_db()
    assert (shipment.state, shipment.source) == ("shipped", "supplier")
    assert shopify_order.status in ("IN_TRANSIT", "PARTIALLY_SHIPPING")
