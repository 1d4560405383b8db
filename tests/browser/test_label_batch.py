"""A seller buys official labels in Chromium: select orders → Buy labels → watch the batch → print the 4x6 PDF and
the pick list. The sandbox runs as a real server; tasks run inline, as the test settings say."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from erp import services as erp_services
from erp.actors import Actor
from erp.tenancy import organization_scope
from inventory import services as inventory
from shipping.models import LabelPurchase, PurchaseState
from tests.browser.conftest import screenshot
from tests.factories import SkuFactory, UserFactory, WarehouseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_select_orders_buy_labels_and_print(page: Any, platform: Any) -> None:
    user = UserFactory(email="ship@example.com")
    organization = erp_services.organization_create(name="Glow Candles", owner=user)
    seller_skus = {line.seller_sku for order in platform.world.orders.values() for line in order.line_items}
    with organization_scope(organization):  # every SKU stocked: imported orders reserve and are not held
        warehouse = WarehouseFactory(organization=organization, name="Reno DC")
        for code in sorted(seller_skus):
            sku = SkuFactory(organization=organization, code=code, name=code.title())
            inventory.stock_receive(sku=sku, warehouse=warehouse, quantity=500, actor=Actor.system())
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("ship@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Stores").click()
    page.get_by_role("button", name="Connect TikTok Shop").first.click()
    page.get_by_label(re.compile("Dropline Demo US")).check()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("Dropline Home US is connected")).to_be_visible()

    page.goto("/orders/?status=to_ship&hold=")
    rows = (
        page.locator("table tbody tr")
        .filter(has_not_text="Held")
        .filter(has_not_text="Seller shipping")
        .filter(has_not_text="Fulfilled by TikTok")
    )
    for index in range(3):
        rows.nth(index).locator("input[type=checkbox]").check()
    expect(page.get_by_text("3 selected")).to_be_visible()
    page.get_by_role("button", name="Buy labels").click()

    # Nothing is bought before the person has seen what it will cost.
    expect(page.get_by_role("heading", name="Buy 3 official TikTok labels?")).to_be_visible()
    expect(page.get_by_test_id("estimate-total")).to_have_text(re.compile(r"^\$\d+\.\d\d$"))
    assert len(platform.world.labels) == 0
    screenshot(page, "batch-confirm")
    page.get_by_test_id("confirm-buy").click()

    expect(page.get_by_role("heading", name=re.compile("Batch B-"))).to_be_visible()
    expect(page.get_by_test_id("bought")).to_have_text("3")
    expect(page.get_by_text("Done: 3 of 3 labels bought.")).to_be_visible()
    expect(page.get_by_test_id("batch-cost")).to_contain_text("Final cost")
    screenshot(page, "batch-done")
    assert LabelPurchase.unscoped.filter(state=PurchaseState.PURCHASED).count() == 3
    assert len(platform.world.labels) == 3

    labels_url = page.get_by_role("link", name="Print labels (4×6)").get_attribute("href")
    pdf = PdfReader(io.BytesIO(page.request.get(labels_url).body()))
    assert len(pdf.pages) == 3
    assert round(float(pdf.pages[0].mediabox.width)) == 288  # 4 in x 72 pt
    pick_list_url = page.get_by_role("link", name="Pick list").get_attribute("href")
    pick_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(page.request.get(pick_list_url).body())).pages)
    assert "Warehouse: Reno DC" in pick_text  # where the batch ships from
    page.request.get(labels_url)  # a reprint: nothing is bought again
    assert len(platform.world.labels) == 3
