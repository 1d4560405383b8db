"""A seller opens the compliance view in Chromium after a month of orders: am I compliant, which orders shipped late,
what am I spending. The month comes from the TikTok sandbox (a real server), imported through the real connect and
sync; the store's cut-off is set on its settings page; each figure opens the orders behind it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from erp import services as erp_services
from erp.tenancy import organization_scope
from orders.models import Order
from shipping.models import PurchaseState
from tests.browser.conftest import screenshot
from tests.factories import LabelPurchaseFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SELLER = "Dropline Month US"


def _labels_bought_through_dropline(platform: Any, organization: Any) -> None:
    """The month's TikTok Shipping labels, as Dropline would have recorded buying them (price from the platform)."""
    world = platform.world
    with organization_scope(organization):
        for order in Order.objects.filter(label_source="platform", shipped_at__isnull=False).exclude(
            fulfilled_by="platform"
        ):
            package = next(world.packages[p] for p in world.orders[order.external_id].package_ids)
            price = Decimal(package.service["price"]) if package.service else Decimal("5.10")
            LabelPurchaseFactory(
                organization=organization,
                order=order,
                state=PurchaseState.PURCHASED,
                price=price,
                currency="USD",
                purchased_at=order.shipped_at,
                package_id=package.id,
                tracking_number=package.tracking_number,
            )


def test_a_seller_reads_compliance_follows_a_figure_and_sees_spend(page: Any, platform: Any) -> None:
    httpx.post(
        f"{settings.TIKTOK_API_BASE_URL}/sandbox/scenarios/month", json={"name": SELLER, "seed": 5}
    ).raise_for_status()
    user = UserFactory(email="owner@example.com")
    organization = erp_services.organization_create(name="Glow Candles", owner=user)
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("owner@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Stores").click()
    page.get_by_role("button", name="Connect TikTok Shop").first.click()
    page.get_by_label(re.compile(SELLER)).check()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text(f"{SELLER} Shop is connected")).to_be_visible()

    # TikTok moved this shop's cut-off: the seller types it into the store's settings.
    cut_off = (timezone.localdate() - timezone.timedelta(days=12)).isoformat()
    page.get_by_role("link", name=f"{SELLER} Shop").first.click()
    page.get_by_label("Official TikTok logistics required from").fill(cut_off)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Store settings saved.")).to_be_visible()
    expect(page.get_by_label("Official TikTok logistics required from")).to_have_value(cut_off)
    screenshot(page, "compliance-store-settings")
    _labels_bought_through_dropline(platform, organization)

    page.get_by_role("link", name="Compliance").click()
    expect(page.get_by_role("heading", name="Compliance")).to_be_visible()
    status = page.get_by_test_id("compliance-status")
    expect(status).to_contain_text(re.compile(r"\d+ orders? seller-shipped after the cut-off"))
    expect(page.get_by_test_id("logistics-chart")).to_be_visible()
    expect(page.get_by_test_id("figure-official")).to_contain_text("%")
    screenshot(page, "compliance")

    with organization_scope(organization):
        from shipping.compliance import compliance_report

        report = compliance_report()
    assert report.violations > 0
    assert report.late_dispatch.count > 0

    # One store: its cut-off is marked on the chart.
    page.get_by_label("Store").select_option(label=f"{SELLER} Shop")
    expect(page.get_by_role("heading", name=f"Compliance: {SELLER} Shop")).to_be_visible()
    expect(page.get_by_test_id("logistics-chart")).to_contain_text("Cut-off")
    screenshot(page, "compliance-store")

    # The late dispatch figure opens exactly the orders it counts.
    late = report.late_dispatch
    page.get_by_role("link", name=f"{late.count} of {late.of} orders").first.click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(page.get_by_test_id("report-filters")).to_contain_text("Dispatched late")
    expect(page.locator("table tbody tr")).to_have_count(min(late.count, 50))
    screenshot(page, "compliance-late-orders")

    page.goto("/shipping/spend/")
    expect(page.get_by_role("heading", name="Label spend")).to_be_visible()
    expect(page.get_by_test_id("spend-chart")).to_be_visible()
    expect(page.get_by_test_id("spend-totals")).to_contain_text(f"{SELLER} Shop")
    screenshot(page, "spend")
    csv_body = page.request.get("/shipping/spend.csv?group=day").text()
    assert csv_body.startswith("day,currency,orders")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text("On official TikTok logistics")).to_be_visible()
    screenshot(page, "compliance-dashboard")
