"""A seller in Chromium: connect a TikTok shop through the platform's consent page, see its orders, open one and
see its deadlines and holds. The sandbox runs as a real HTTP server; the browser really goes there and back."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any) -> None:
    from erp import services

    user = UserFactory(email="owner@example.com")
    services.organization_create(name="Sunset Candles", owner=user)
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("owner@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sunset Candles")).to_be_visible()


def test_connect_a_shop_then_browse_its_orders(page: Any, platform: Any) -> None:
    sign_in(page)
    page.get_by_role("link", name="Stores").click()
    page.get_by_role("button", name="Connect TikTok Shop").first.click()

    expect(page.get_by_role("heading", name="Authorize app")).to_be_visible()  # the platform's consent page
    screenshot(page, "consent")
    page.get_by_label(re.compile("Dropline Demo US")).check()
    page.get_by_role("button", name="Authorize").click()

    expect(page.get_by_text("Dropline Home US is connected")).to_be_visible()
    expect(page.get_by_role("link", name="Dropline Outlet US")).to_be_visible()
    screenshot(page, "stores-connected")

    # The store's page: every store's policy, and TikTok's own 2026 policy dates (kept in its TikTok settings).
    page.get_by_role("link", name="Dropline Home US").click()
    expect(page.get_by_label("Buy labels automatically")).to_be_visible()
    expect(page.get_by_label("Opened on TikTok Shop")).to_be_visible()
    screenshot(page, "store-detail")
    page.get_by_role("link", name="Stores").first.click()

    page.get_by_role("link", name="Orders").first.click()
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() > 10
    screenshot(page, "orders-list")

    page.locator("table tbody tr a[href^='/orders/']").first.click()
    expect(page.get_by_text(re.compile("Ship by", re.IGNORECASE)).first).to_be_visible()
    screenshot(page, "order-detail")
