"""Issue 14's first acceptance, in Chromium over real HTTP against the sandbox.

Two buyers ask to cancel orders waiting to ship: the platform pushes webhook 11 to Dropline's live server, the
requests appear in the Cancellations inbox with what is at stake (stock reserved), the seller approves both in the
browser, each is decided once on the platform and the stock is released. Buying labels for the page leaves those two
out while they wait (a label bought with a request open is refused by TikTok, 21011007).

A buyer can no longer ask once the label is bought (the Return & Refund overview's table: AWAITING_COLLECTION, buyer
cancel N; the sandbox refuses it too). A labelled order is cancelled by the seller, from its page, with the platform's
reason; at once the label leaves the batch's printouts (label stack and pick list) and the supplier's handoff (the
supplier is mailed), the reservation is released, and the packing station refuses the parcel."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from aftersales.models import CancellationRequest, Decision, SellerCancellation
from erp import services as erp_services
from erp.actors import Actor
from erp.tenancy import organization_scope
from inventory import services as inventory
from inventory.models import Reservation, WarehouseKind
from orders.models import Order, OrderStatus
from sandboxes.tiktok.seed import bulk_create_orders
from shipping.models import HandoffItem, LabelBatch, LabelPurchase, PurchaseState
from tests.browser.conftest import screenshot
from tests.factories import SkuFactory, SkuSupplierFactory, UserFactory, WarehouseFactory
from tests.tiktok_harness import TikTokHarness

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"
SUPPLIER_SKU = "CAST-12IN"


def sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def pdf_text(page: Any, url: str) -> tuple[int, str]:
    response = page.request.get(url)
    assert response.ok, response.status
    reader = PdfReader(io.BytesIO(response.body()))
    return len(reader.pages), "".join(p.extract_text() for p in reader.pages)


def test_cancellations_are_decided_in_the_browser_and_every_place_that_would_ship_stops(
    page: Any, live_server: Any, platform: Any, settings: Any
) -> None:
    settings.DROPLINE_PUBLIC_URL = live_server.url  # where the platform pushes its webhooks
    home_us = next(shop for shop in platform.world.shops.values() if shop.name == "Dropline Home US")
    bulk_create_orders(
        platform.world,
        home_us,
        24,
        platform.clock.now(),
        seed=14,
        status_mix={"AWAITING_SHIPMENT": 1},
        shipping_mix={"TIKTOK": 1},
    )
    owner = UserFactory(email="owner@glow.example")
    organization = erp_services.organization_create(name="Glow Candles", owner=owner)
    seller_skus = {line.seller_sku for order in platform.world.orders.values() for line in order.line_items}
    with organization_scope(organization):
        reno = WarehouseFactory(organization=organization, name="Reno DC", kind=WarehouseKind.OWN)
        shenzhen = WarehouseFactory(
            organization=organization,
            name="Shenzhen Sun",
            kind=WarehouseKind.SUPPLIER,
            tracks_stock=False,
            contact_email="lin@shenzhen-sun.example",
        )
        for code in sorted(seller_skus):
            sku = SkuFactory(organization=organization, code=code, name=code.title())
            if code == SUPPLIER_SKU:
                SkuSupplierFactory(organization=organization, sku=sku, warehouse=shenzhen)
            else:
                inventory.stock_receive(sku=sku, warehouse=reno, quantity=500, actor=Actor.system())

    sign_in(page, owner.email)
    page.goto("/stores/")
    page.get_by_role("button", name="Connect TikTok Shop").first.click()
    page.get_by_label(re.compile("Dropline Demo US")).check()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("Dropline Home US is connected")).to_be_visible()
    store_id = str(Order.unscoped.filter(store__name="Dropline Home US").values_list("store_id", flat=True).first())
    control = TikTokHarness(sandbox=platform, http=httpx.Client(base_url=settings.TIKTOK_API_BASE_URL, timeout=30))

    # --- two buyers ask to cancel (the sandbox's control API); the platform pushes webhook 11 over HTTP
    waiting = Order.unscoped.filter(store_id=store_id, status=OrderStatus.AWAITING_SHIPMENT, warehouse=reno)
    asked = list(waiting.exclude(holds__isnull=False).order_by("external_id")[:2])
    assert len(asked) == 2
    for order in asked:
        assert Reservation.unscoped.filter(order_id=order.pk).exists()
        control.control("POST", f"orders/{order.external_id}/events", type="cancel_request")
    pushed = platform.deliver_due_webhooks()
    assert 11 in {push.get("type") for push in pushed}, pushed

    page.goto("/")
    expect(page.get_by_test_id("nav-cancellations-count")).to_have_text("2")
    page.get_by_role("link", name=re.compile("Cancellations")).first.click()
    for order in asked:
        row = page.locator(f'[data-testid="cancellation-row"][data-order="{order.external_id}"]')
        expect(row).to_be_visible()
        expect(row.locator('[data-testid="stake"][data-kind="reserved"]')).to_contain_text("reserved at Reno DC")
        expect(row.get_by_test_id("respond-by")).to_be_visible()
    screenshot(page, "acceptance-cancellation-inbox")
    for order in asked:
        page.get_by_label(f"Select request of order {order.external_id}").check()
    page.get_by_test_id("bulk-approve").click()
    expect(page.get_by_test_id("cancellations-empty")).to_be_visible()
    expect(page.get_by_text("Approved 2 requests")).to_be_visible()
    screenshot(page, "acceptance-cancellation-approved")
    for order in asked:
        (request,) = CancellationRequest.unscoped.filter(order=order)
        assert Decision.unscoped.filter(cancellation=request).count() == 1
        on_platform = control.control("GET", f"orders/{order.external_id}/aftersale")["cancellations"]
        assert [c["decided_by"] for c in on_platform] == ["SELLER"]
        assert Order.unscoped.get(pk=order.pk).status == OrderStatus.CANCELLED
        assert not Reservation.unscoped.filter(order_id=order.pk).exists()

    # --- labels for the page: the cancelled two are not bought
    page.goto(f"/orders/?status=to_ship&store={store_id}&logistics=tiktok_shipping")
    page.locator("#select-page").check()
    page.get_by_role("button", name="Buy labels").click()
    page.get_by_test_id("confirm-buy").click()
    expect(page.get_by_role("heading", name=re.compile("Batch B-"))).to_be_visible()
    batch = LabelBatch.unscoped.get()
    bought = LabelPurchase.unscoped.filter(batch=batch, state=PurchaseState.PURCHASED).select_related("order")
    assert not bought.filter(order__in=asked).exists()
    collected = bought.filter(order__status=OrderStatus.AWAITING_COLLECTION)  # every line in this one package
    own = collected.filter(order__warehouse=reno).order_by("order__external_id").first()
    dropship = collected.filter(order__warehouse=shenzhen).order_by("order__external_id").first()
    assert own is not None, "the batch needs a parcel of each kind"
    assert dropship is not None, "the batch needs a parcel of each kind"
    assert HandoffItem.unscoped.filter(purchase=dropship).exists()
    batch_url = page.url
    labels_href = page.get_by_role("link", name="Print labels (4×6)").get_attribute("href")
    pick_href = page.get_by_role("link", name="Pick list").get_attribute("href")
    labels_before, _ = pdf_text(page, labels_href)
    _, pick_before = pdf_text(page, pick_href)
    assert own.order.external_id[-6:] in pick_before  # the pick list names orders by their last six digits

    # --- out of stock at packing: the seller cancels both labelled orders from their pages
    for purchase in (own, dropship):
        page.goto(f"/orders/{purchase.order_id}/")
        page.get_by_test_id("seller-cancel").click()
        expect(page.get_by_test_id("cancel-impact")).to_contain_text("%")
        stakes = page.get_by_test_id("seller-cancel-stakes")
        expect(stakes.locator('[data-kind="label"]')).to_be_visible()
        if purchase is dropship:
            expect(stakes.locator('[data-kind="handoff"]')).to_contain_text("Shenzhen Sun")
        page.get_by_label(re.compile("Reason")).select_option("seller_cancel_reason_out_of_stock")
        if purchase is own:
            screenshot(page, "acceptance-seller-cancel")
        page.get_by_test_id("confirm-seller-cancel").click()
        expect(page.get_by_test_id("order-status")).to_have_text(re.compile("Cancelled"))
        expect(page.get_by_test_id("seller-cancellation")).to_contain_text("sent")
    for purchase in (own, dropship):
        assert SellerCancellation.unscoped.get(order_id=purchase.order_id).state == "done"
        on_platform = control.control("GET", f"orders/{purchase.order.external_id}/aftersale")["cancellations"]
        assert [c["role"] for c in on_platform] == ["SELLER"]

    # --- the batch page says so; the printouts no longer hold the own warehouse's label
    page.goto(batch_url)
    expect(page.get_by_test_id("cancelled-label").first).to_be_visible()
    labels_after, _ = pdf_text(page, labels_href)
    _, pick_after = pdf_text(page, pick_href)
    assert labels_after == labels_before - 1
    assert own.order.external_id[-6:] not in pick_after
    screenshot(page, "acceptance-cancelled-batch")

    # --- the supplier's handoff lost the parcel and the supplier was told; the reservation is released
    assert not HandoffItem.unscoped.filter(purchase=dropship).exists()
    told = [m for m in mail.outbox if "lin@shenzhen-sun.example" in m.to]
    assert told
    assert dropship.order.external_id in told[-1].subject
    assert not Reservation.unscoped.filter(order_id=own.order_id).exists()

    # --- the packing station refuses the cancelled parcel
    page.goto("/shipping/scan/")
    page.keyboard.type(own.tracking_number + "\n")
    result = page.get_by_test_id("scan-result")
    expect(result).to_have_attribute("data-verdict", "not_shippable")
    expect(result).to_contain_text("Cancelled: do not ship")
    screenshot(page, "acceptance-cancelled-scan")
