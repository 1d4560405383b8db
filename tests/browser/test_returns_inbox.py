"""The Returns inbox in Chromium over real HTTP: buyers of delivered orders ask for a return and for a refund; the
platform pushes webhook 12; the seller approves the return in the browser and rejects the refund with one of the
platform's reasons; each is decided once on the platform."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from aftersales.models import Decision, ReturnRequest
from erp import services as erp_services
from sandboxes.tiktok.seed import bulk_create_orders
from tests.browser.conftest import screenshot
from tests.browser.test_cancellation_acceptance import sign_in
from tests.factories import UserFactory
from tests.tiktok_harness import TikTokHarness

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_returns_are_approved_and_rejected_in_the_browser_once_each(
    page: Any, live_server: Any, platform: Any, settings: Any
) -> None:
    settings.DROPLINE_PUBLIC_URL = live_server.url
    home_us = next(shop for shop in platform.world.shops.values() if shop.name == "Dropline Home US")
    delivered = bulk_create_orders(
        platform.world,
        home_us,
        2,
        platform.clock.now(),
        seed=15,
        status_mix={"DELIVERED": 1},
        shipping_mix={"TIKTOK": 1},
    )
    owner = UserFactory(email="owner@glow.example")
    erp_services.organization_create(name="Glow Candles", owner=owner)
    sign_in(page, owner.email)
    page.goto("/stores/")
    page.get_by_role("button", name="Connect TikTok Shop").first.click()
    page.get_by_label(re.compile("Dropline Demo US")).check()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("Dropline Home US is connected")).to_be_visible()

    control = TikTokHarness(sandbox=platform, http=httpx.Client(base_url=settings.TIKTOK_API_BASE_URL, timeout=30))
    returned, refunded = (order.id for order in delivered)
    control.control("POST", f"orders/{returned}/events", type="return_request", return_type="RETURN_AND_REFUND")
    control.control("POST", f"orders/{refunded}/events", type="return_request", return_type="REFUND")
    pushed = platform.deliver_due_webhooks()
    assert 12 in {push.get("type") for push in pushed}, pushed

    page.goto("/")
    expect(page.get_by_test_id("nav-returns-count")).to_have_text("2")
    page.get_by_role("link", name=re.compile("Returns")).first.click()
    return_row = page.locator(f'[data-testid="return-row"][data-order="{returned}"]')
    expect(return_row).to_contain_text("Return and refund")
    screenshot(page, "returns-inbox")
    return_row.get_by_role("button", name="Approve return").click()
    expect(page.get_by_text("Approved 1 request")).to_be_visible()

    refund_row = page.locator(f'[data-testid="return-row"][data-order="{refunded}"]')
    refund_row.get_by_role("link", name="Reject…").click()
    page.get_by_label("Reason").select_option(index=1)
    page.get_by_label(re.compile("Comment")).fill("Tracking shows it was delivered to the front door.")
    page.get_by_test_id("confirm-reject").click()
    expect(page.get_by_test_id("returns-empty")).to_be_visible()
    screenshot(page, "returns-decided")

    for order_id, step in ((returned, "AWAITING_BUYER_SHIP"), (refunded, "REFUND_OR_RETURN_REQUEST_REJECT")):
        (request,) = ReturnRequest.unscoped.filter(order_external_id=order_id)
        assert Decision.unscoped.filter(return_request=request).count() == 1
        (on_platform,) = control.control("GET", f"orders/{order_id}/aftersale")["returns"]
        assert on_platform["status"] == step
