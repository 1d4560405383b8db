"""The dashboard under its Content-Security-Policy in Chromium: a seller clicks through the main pages (HTMX swaps,
charts, the scripts of the order list, rules and packing station, the confirm dialogs, the organization switcher),
and the browser reports not one CSP violation (docs/adr/0013-security-hardening.md)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from erp import services as erp_services
from erp.actors import Actor
from erp.roles import APIKeyScope
from erp.tenancy import organization_scope
from inventory.models import WarehouseKind
from shipping import handoffs
from shipping.models import PurchaseState
from tests.factories import (
    HandoffFactory,
    HandoffItemFactory,
    LabelBatchFactory,
    LabelPurchaseFactory,
    OrderFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recorded in the page itself, before any of its scripts run: every violation the browser reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


def _world() -> dict[str, Any]:
    user = UserFactory(email="owner@example.com")
    org = erp_services.organization_create(name="Glow Candles", owner=user)
    erp_services.organization_create(name="Second Shop", owner=user)
    actor = Actor.for_user(user)
    store = StoreFactory(organization=org, name="Glow US")
    sun = WarehouseFactory(organization=org, name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER)
    SkuFactory(organization=org, code="CANDLE-1", name="Vanilla candle")
    batch = LabelBatchFactory(organization=org)
    handoff = HandoffFactory(organization=org, warehouse=sun, batch=batch)
    for n in range(3):
        order = OrderFactory(
            organization=org, store=store, warehouse=sun, ship_by=timezone.now() + timedelta(hours=5 + n)
        )
        purchase = LabelPurchaseFactory(
            organization=org,
            order=order,
            batch=batch,
            state=PurchaseState.PURCHASED,
            price=Decimal("5.10"),
            purchased_at=timezone.now() - timedelta(days=n),
        )
        HandoffItemFactory(organization=org, handoff=handoff, purchase=purchase)
    with organization_scope(org):
        handoffs.handoff_link_create(handoff=handoff, actor=actor, label="Maria")
    erp_services.api_key_create(organization=org, actor=actor, name="WMS", scope=APIKeyScope.READ)
    return {"org": org, "handoff": handoff}


def test_the_main_pages_run_under_the_policy_without_a_single_violation(page: Any) -> None:
    world = _world()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)
    violations: list[str] = []

    def check(where: str) -> None:
        page.wait_for_load_state("networkidle")
        violations.extend(f"{where}: {v}" for v in page.evaluate("window.__cspViolations || []"))

    response = page.goto("/accounts/login/")
    policy = response.headers["content-security-policy"]
    # Directives by name: the header lists them in no fixed order (script-src is sometimes last, with no ";").
    directives = dict(d.strip().partition(" ")[::2] for d in policy.split(";") if d.strip())
    assert directives["script-src"].split()[0] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in policy
    page.get_by_label("Email address").fill("owner@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("org-switcher")).to_be_visible()
    check("dashboard")

    # The organization switcher submits on change (dropline.js, not an inline handler).
    page.get_by_label("Organization").select_option(label="Glow Candles")
    expect(page.get_by_label("Organization")).to_have_value(str(world["org"].pk))
    check("switch organization")

    for path in (
        "/orders/",
        "/shipping/at-risk/",
        "/inventory/",
        "/inventory/stock/",
        "/inventory/listings/",
        "/inventory/ledger/",
        "/inventory/warehouses/",
        "/inventory/import/",
        "/inventory/replenishment/",
        "/shipping/",
        "/shipping/scan/",
        "/shipping/rules/",
        "/shipping/rules/new/",
        "/shipping/pickups/",
        "/shipping/compliance/",
        "/shipping/spend/",
        "/shipping/handoffs/",
        f"/shipping/handoffs/{world['handoff'].pk}/",
        f"/shipping/batches/{world['handoff'].batch_id}/",
        "/stores/",
        "/settings/",
        "/settings/members/",
        "/settings/api-keys/",
        "/settings/audit/",
        "/api/v1/docs/",
    ):
        page.goto(path)
        check(path)

    # HTMX: the SKU search swaps its results in place.
    page.goto("/inventory/")
    search = page.get_by_role("searchbox").or_(page.get_by_placeholder(re.compile("Search", re.I))).first
    search.fill("CANDLE")
    expect(page.get_by_text("Vanilla candle")).to_be_visible()
    check("htmx search")

    # The order list's selection script runs (it is an inline block with this response's nonce).
    page.goto("/orders/")
    page.locator("input[name=order][form=order-selection]").first.check()
    expect(page.get_by_text("1 selected")).to_be_visible()
    check("order selection")

    # The packing station's form answers through HTMX and is emptied for the next scan by its script.
    page.goto("/shipping/scan/")
    page.get_by_label("Scan a label, then each item").fill("NOT-A-LABEL")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("scan-result")).to_be_visible()
    expect(page.get_by_label("Scan a label, then each item")).to_have_value("")
    check("packing station")

    # A confirm dialog from a data attribute: dismissing it keeps the API key.
    page.goto("/settings/api-keys/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke").first.click()
    expect(page.get_by_role("button", name="Revoke")).to_have_count(1)
    check("confirm dialog")

    csp_console = [text for text in console if "Content Security Policy" in text or "Content-Security-Policy" in text]
    assert violations == []
    assert csp_console == []
