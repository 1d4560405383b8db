"""The labels flow end to end in Chromium, as a new seller and their supplier would work it (issue 11's journey): an
own warehouse with stock and a make-to-order supplier of one product, no routing rule → orders ship from the own
warehouse, only the supplier's product goes to the supplier, orders needing both are held → 50 orders selected →
cost confirmed → labels bought → the own warehouse's 4x6 PDF and pick list hold only its orders → a package
scan-verified unit by unit at the packing station; then the supplier, in their own portal, sees only their handoff,
downloads its labels, acknowledges and hands the packages to the carrier. Counted against the sandbox's own ledger."""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from erp import services as erp_services
from erp.actors import Actor
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory import services as inventory
from inventory.models import WarehouseKind
from orders.models import HoldReason, Order, OrderLine
from sandboxes.tiktok.seed import bulk_create_orders
from shipping.models import Handoff, HandoffItem, LabelBatch, LabelPurchase, PurchaseState
from tests.browser.conftest import screenshot
from tests.factories import SkuFactory, SkuSupplierFactory, UserFactory, WarehouseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"
SUPPLIER_SKU = "CAST-12IN"


def sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def pdf_at(page: Any, url: str) -> PdfReader:
    response = page.request.get(url)
    assert response.ok, response.status
    return PdfReader(io.BytesIO(response.body()))


def test_rule_to_printed_batch_to_scan_and_the_supplier_handoff(
    page: Any,
    browser: Any,
    live_server: Any,
    platform: Any,
) -> None:
    home_us = next(shop for shop in platform.world.shops.values() if shop.name == "Dropline Home US")
    now = platform.clock.now()
    bulk_create_orders(
        platform.world, home_us, 60, now, seed=11, status_mix={"AWAITING_SHIPMENT": 1}, shipping_mix={"TIKTOK": 1}
    )
    owner = UserFactory(email="owner@glow.example")
    supplier_user = UserFactory(email="lin@shenzhen-sun.example")
    organization = erp_services.organization_create(name="Glow Candles", owner=owner)
    seller_skus = {line.seller_sku for order in platform.world.orders.values() for line in order.line_items}
    with organization_scope(organization):
        reno = WarehouseFactory(organization=organization, name="Reno DC", kind=WarehouseKind.OWN)
        shenzhen = WarehouseFactory(
            organization=organization, name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER, tracks_stock=False
        )
        for code in sorted(seller_skus):
            sku = SkuFactory(organization=organization, code=code, name=code.title())
            if code == SUPPLIER_SKU:  # not stocked here: Shenzhen Sun makes it to order
                SkuSupplierFactory(organization=organization, sku=sku, warehouse=shenzhen)
            else:
                inventory.stock_receive(sku=sku, warehouse=reno, quantity=500, actor=Actor.system())
    erp_services.member_invite(
        organization=organization,
        actor=Actor.for_user(owner),
        email=supplier_user.email,
        role=Role.SUPPLIER,
        accept_url_template="/invitations/{token}/",
    )
    # The supplier accepts through the emailed link (the invitation pages have their own tests).
    token = re.search(r"/invitations/([\w-]+)/", mail.outbox[-1].body).group(1)
    erp_services.invitation_accept(token=token, user=supplier_user)

    # --- the seller connects the store (orders import and are routed)
    sign_in(page, owner.email)
    page.get_by_role("link", name="Stores").click()
    page.get_by_role("button", name="Connect TikTok Shop").first.click()
    page.get_by_label(re.compile("Dropline Demo US")).check()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("Dropline Home US is connected")).to_be_visible()

    # --- no routing rule: allocation sends each order where it can ship whole, and says why
    with organization_scope(organization):
        open_orders = Order.objects.filter(
            status="AWAITING_SHIPMENT", label_source="platform", store__name="Dropline Home US"
        )
        skus_of = {
            o.pk: set(OrderLine.objects.filter(order=o, is_cancelled=False).values_list("seller_sku", flat=True))
            for o in open_orders
        }
        to_supplier = set(open_orders.filter(warehouse__name="Shenzhen Sun").values_list("external_id", flat=True))
        for order in open_orders.select_related("warehouse"):
            if order.warehouse and order.warehouse.name == "Shenzhen Sun":
                assert skus_of[order.pk] == {SUPPLIER_SKU}, "the supplier got a SKU it does not supply"
            elif order.warehouse:
                assert order.warehouse == reno
                assert SUPPLIER_SKU not in skus_of[order.pk]
            elif {SUPPLIER_SKU} < skus_of[order.pk]:
                assert order.is_held
                assert order.holds.filter(reason=HoldReason.MIXED_SOURCES).exists()
        example = open_orders.filter(warehouse=reno).first()
    assert to_supplier, "no order of the supplier's product"
    page.goto(f"/orders/{example.pk}/")
    expect(page.get_by_test_id("warehouse-reason")).to_contain_text("Reno DC has all of it in stock")
    screenshot(page, "acceptance-order-allocation")

    # --- a rule that only tags: rules still work beside allocation
    page.goto("/shipping/rules/new/")
    page.get_by_label("Name", exact=True).fill("Tag cast iron")
    page.get_by_label("Contains any of these seller SKUs").fill(SUPPLIER_SKU)
    page.get_by_label("Tag the order").fill("cast-iron")
    page.get_by_test_id("test-rule").click()
    expect(page.get_by_test_id("rule-test-results")).to_contain_text(f"contains SKU {SUPPLIER_SKU}")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("cell", name="Tag cast iron", exact=True)).to_be_visible()

    # --- select 50 orders and buy their labels
    store_id = str(Order.unscoped.filter(store__name="Dropline Home US").values_list("store_id", flat=True).first())
    page.goto(f"/orders/?status=to_ship&store={store_id}&logistics=tiktok_shipping")
    page.locator("#select-page").check()
    page_orders = [row.get_attribute("data-order") for row in page.locator("tr[data-order]").all()]
    expect(page.get_by_text("50 selected")).to_be_visible()
    page.get_by_role("button", name="Buy labels").click()
    expect(page.get_by_test_id("batch-estimate")).to_be_visible()
    page.get_by_test_id("confirm-buy").click()
    expect(page.get_by_role("heading", name=re.compile("Batch B-"))).to_be_visible()
    batch = LabelBatch.unscoped.get()
    bought = LabelPurchase.unscoped.filter(batch=batch)
    n = bought.count()
    held = Order.unscoped.filter(pk__in=page_orders, is_held=True).count()
    assert n == 50 - held  # held orders on the page wait (each with its reason), the rest are bought
    expect(page.get_by_test_id("bought")).to_have_text(str(n))
    expect(page.get_by_text(f"Done: {n} of {n} labels bought.")).to_be_visible()
    screenshot(page, "acceptance-batch-done")
    assert set(bought.values_list("state", flat=True)) == {PurchaseState.PURCHASED}
    sold = [label for label in platform.world.labels if label.shop_id == home_us.id]
    assert len(sold) == n
    assert len({label.order_id for label in sold}) == n  # none bought twice

    # --- print: Reno's own 4x6 PDF and pick list hold only Reno's orders; the supplier's go to its handoff
    labels_before_print = len(platform.world.labels)
    own = bought.filter(order__warehouse=reno).count()
    assert 0 < own < n
    expect(page.get_by_test_id("handoff-share")).to_contain_text(f"{n - own} label")
    expect(page.get_by_test_id("handoff-share")).to_contain_text("Shenzhen Sun's handoff")
    screenshot(page, "acceptance-batch-documents")
    labels_pdf = pdf_at(page, page.get_by_role("link", name="Print labels (4×6)").get_attribute("href"))
    assert len(labels_pdf.pages) == own
    assert (round(float(labels_pdf.pages[0].mediabox.width)), round(float(labels_pdf.pages[0].mediabox.height))) == (
        288,
        432,
    )
    pick = pdf_at(page, page.get_by_role("link", name="Pick list").get_attribute("href"))
    pick_text = "".join(p.extract_text() for p in pick.pages)
    assert batch.reference in pick_text
    assert "Warehouse: Reno DC" in pick_text
    assert "Shenzhen Sun" not in pick_text
    assert SUPPLIER_SKU not in pick_text  # not one of the supplier's parcels: nobody packs it twice
    own_skus = set(bought.filter(order__warehouse=reno).values_list("order__lines__seller_sku", flat=True))
    assert all(sku in pick_text for sku in own_skus)
    pdf_at(page, page.get_by_role("link", name="Print labels (4×6)").get_attribute("href"))  # a reprint
    assert len(platform.world.labels) == labels_before_print  # buys nothing

    # --- packing station: scan one of Reno's packages, then each of its units as a scanner types them, then the
    # label again; a supplier's package is refused at the seller's station
    packed = bought.filter(order__warehouse=reno).select_related("order").first()
    units = [
        code
        for code, quantity in OrderLine.unscoped.filter(order=packed.order, is_cancelled=False).values_list(
            "seller_sku", "quantity"
        )
        for _ in range(quantity)
    ]
    page.goto("/shipping/scan/")
    result = page.get_by_test_id("scan-result")
    expect(page.locator("#scan-code")).to_be_focused()  # a loaded machine renders late: type once it has the focus
    page.keyboard.type(packed.tracking_number + "\n")  # the input has the focus: a USB scanner types and sends Enter
    expect(result).to_have_attribute("data-verdict", "packing")
    scanned: Counter[str] = Counter()
    for code in units:
        page.keyboard.type(code + "\n")
        scanned[code] += 1
        expect(result.get_by_test_id(f"scanned-{code}")).to_have_text(str(scanned[code]))
    expect(result).to_have_attribute("data-verdict", "packed")
    screenshot(page, "acceptance-scan-pack")
    page.keyboard.type(packed.tracking_number + "\n")
    expect(result).to_have_attribute("data-verdict", "already_packed")
    elsewhere = bought.filter(order__warehouse__name="Shenzhen Sun").first()
    page.keyboard.type(elsewhere.tracking_number + "\n")
    expect(result).to_have_attribute("data-verdict", "not_here")
    expect(result).to_contain_text("ships from Shenzhen Sun: do not pack here")

    # --- the seller gives the supplier member their warehouse
    handoff = Handoff.unscoped.select_related("warehouse").get(batch=batch)
    assert handoff.warehouse.name == "Shenzhen Sun"
    handed = set(HandoffItem.unscoped.filter(handoff=handoff).values_list("purchase__order__external_id", flat=True))
    assert handed == to_supplier & set(bought.values_list("order__external_id", flat=True))
    page.goto("/shipping/handoffs/")
    row = page.locator("#supplier-access tr", has_text=supplier_user.email)
    row.get_by_role("combobox").select_option(label="Shenzhen Sun (Dropship supplier)")
    row.get_by_role("button", name="Give access").click()
    expect(page.get_by_text("now sees Shenzhen Sun's handoffs, and only those")).to_be_visible()

    # --- the supplier, in their own browser: only their handoff; download, acknowledge, hand over
    supplier_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    supplier = supplier_context.new_page()
    supplier.set_default_timeout(10_000)
    sign_in(supplier, supplier_user.email)
    expect(supplier.get_by_role("heading", name="Label handoffs")).to_be_visible()
    rows = supplier.locator("table tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=batch.reference).click()
    labels_link = supplier.get_by_role("link", name="Labels (4×6)").get_attribute("href")
    supplier_labels = pdf_at(supplier, supplier.url.split("?")[0] + labels_link)
    assert len(supplier_labels.pages) == len(handed)
    supplier.get_by_role("button", name="Acknowledge receipt").click()
    expect(supplier.get_by_text("Acknowledged: the seller can see you have the labels.")).to_be_visible()
    supplier.get_by_role("button", name="Mark all handed over").click()
    expect(supplier.get_by_text(f"{len(handed)} package(s) marked handed over to the carrier.")).to_be_visible()
    screenshot(supplier, "acceptance-supplier-handoff")
    assert supplier.request.get("/orders/").status in (302, 403, 404)  # nothing else of the seller's business
    supplier_context.close()

    # --- the seller sees it acknowledged and handed over
    page.goto("/shipping/handoffs/")
    handoff_row = page.locator("table tbody tr", has_text="Shenzhen Sun").first
    expect(handoff_row).to_contain_text(f"{len(handed)}/{len(handed)}")
    expect(handoff_row.locator(".badge-ok")).to_be_visible()
    screenshot(page, "acceptance-seller-handoffs")
