"""The packing station in Chromium, driven as a USB barcode scanner drives it: keystrokes into the focused input, each
code followed by Enter, never a mouse click."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from erp import services as erp_services
from erp.roles import Role
from erp.tenancy import organization_scope
from shipping.models import LabelPurchase, PurchaseState
from tests.browser.conftest import screenshot
from tests.factories import (
    LabelPurchaseFactory,
    MembershipFactory,
    OrderFactory,
    OrderLineFactory,
    SkuFactory,
    UserFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_packer_scans_the_label_then_every_unit_without_touching_the_mouse(page: Any) -> None:
    owner = UserFactory()
    organization = erp_services.organization_create(name="Glow Candles", owner=owner)
    packer = MembershipFactory(organization=organization, role=Role.WAREHOUSE).user
    with organization_scope(organization):
        reno = WarehouseFactory(organization=organization, name="Reno DC")
        SkuFactory(organization=organization, code="CANDLE-VAN", name="Vanilla candle", barcode="0850001000017")
        SkuFactory(organization=organization, code="MATCHES", name="Matchbox", barcode="0850001000024")
        SkuFactory(organization=organization, code="CAST-12IN", name="Cast iron pan", barcode="0850001000031")
        order = OrderFactory(
            organization=organization,
            external_id="576400000000000901",
            warehouse=reno,
            buyer_message="Happy birthday Sam! <3",
        )
        for code, name in (("CANDLE-VAN", "Vanilla candle"), ("CANDLE-VAN", "Vanilla candle"), ("MATCHES", "Matchbox")):
            OrderLineFactory(organization=organization, order=order, seller_sku=code, product_name=name)
        purchase = LabelPurchaseFactory(
            organization=organization, order=order, state=PurchaseState.PURCHASED, tracking_number="9400111000000000901"
        )

    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(packer.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto("/shipping/scan/")
    scanner = page.locator("#scan-code")
    expect(scanner).to_be_focused()
    result = page.get_by_test_id("scan-result")

    page.keyboard.type("9400111000000000901\n")
    expect(result).to_have_attribute("data-verdict", "packing")
    expect(page.get_by_test_id("scan-notes")).to_contain_text("Happy birthday Sam! <3")
    expect(scanner).to_be_focused()

    page.keyboard.type("0850001000031\n")  # the pan belongs to another order
    expect(result).to_have_attribute("data-verdict", "wrong_item")
    expect(result).to_contain_text("“0850001000031” is CAST-12IN (Cast iron pan), not in this order")
    expect(scanner).to_be_focused()
    screenshot(page, "packing-wrong-item")

    page.keyboard.type("0850001000017\n")
    expect(result.get_by_test_id("scanned-CANDLE-VAN")).to_have_text("1")
    page.reload()  # the count is kept on the server
    expect(result.get_by_test_id("scanned-CANDLE-VAN")).to_have_text("1")
    expect(scanner).to_be_focused()
    page.keyboard.type("0850001000017\n")
    expect(result.get_by_test_id("scanned-CANDLE-VAN")).to_have_text("2")
    page.keyboard.type("0850001000017\n")  # one too many
    expect(result).to_have_attribute("data-verdict", "extra_unit")
    expect(scanner).to_be_focused()  # the station gives the focus back after each answer; Tab starts from there
    page.keyboard.press("Tab")  # Check
    page.keyboard.press("Tab")  # Finish box
    page.keyboard.press("Enter")
    expect(result).to_have_attribute("data-verdict", "missing")
    expect(result).to_contain_text("the box is missing 1 × MATCHES (Matchbox)")
    expect(scanner).to_be_focused()
    page.keyboard.type("0850001000024\n")
    expect(result).to_have_attribute("data-verdict", "packed")
    screenshot(page, "packing-packed")
    assert LabelPurchase.unscoped.get(pk=purchase.pk).packed_at is not None
