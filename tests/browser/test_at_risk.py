"""A seller in Chromium opens Orders at risk from the menu: the orders that will miss their ship-by are ranked, each
says why in plain words and offers its fix; filters narrow it; the fix opens the right page; the dashboard counts
them. The clock is fixed at Tuesday 13:00 in Los Angeles (shipping.at_risk.clock)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from erp import services as erp_services
from inventory.models import WarehouseKind
from orders.models import HoldReason
from shipping.models import PurchaseState
from tests.browser.conftest import screenshot
from tests.factories import (
    HandoffFactory,
    HandoffItemFactory,
    LabelBatchFactory,
    LabelPurchaseFactory,
    OrderFactory,
    OrderHoldFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 24, 13, 0, tzinfo=LA)  # a Tuesday


@pytest.fixture
def seller(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr("shipping.at_risk.clock", lambda: NOW)
    user = UserFactory(email="risk@example.com")
    org = erp_services.organization_create(name="Glow Candles", owner=user)
    us = StoreFactory(organization=org, name="Glow Candles US")
    wholesale = StoreFactory(organization=org, name="Glow Wholesale")
    common = {"organization": org, "time_zone": "America/Los_Angeles"}
    reno = WarehouseFactory(name="Reno DC", cutoff_time=time(12, 0), working_hours="Mon–Fri 8:00–17:00", **common)
    ontario = WarehouseFactory(name="Ontario", cutoff_time=time(17, 0), daily_capacity=3, **common)  # 3 h each
    sun = WarehouseFactory(name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER, cutoff_time=time(18, 0), **common)

    def order(ref: str, store: Any, warehouse: Any, due: datetime, sku: str, **fields: Any) -> Any:
        return OrderFactory(
            organization=org, store=store, external_id=ref, warehouse=warehouse, ship_by=due, sku_summary=sku, **fields
        )

    def bought(order_row: Any, batch: Any) -> Any:
        return LabelPurchaseFactory(organization=org, order=order_row, batch=batch, state=PurchaseState.PURCHASED)

    batch = LabelBatchFactory(organization=org, reference="B-0042")
    # Late already: an invalid address held it all morning.
    late = order("576461413038785", us, ontario, NOW - timedelta(hours=2), "2 × SOY-CANDLE-8OZ", is_held=True)
    OrderHoldFactory(
        organization=org, order=late, reason=HoldReason.ADDRESS_INVALID, detail="ZIP code “9021” is not 5 or 9 digits."
    )
    # Past Reno's noon cut-off, due tonight.
    bought(order("576461413038811", us, reno, NOW + timedelta(hours=7), "1 × WICK-TRIMMER"), batch)
    # The supplier has not acknowledged since 08:00; due at 15:00.
    silent = order("576461413038902", wholesale, sun, NOW + timedelta(hours=2), "12 × TEALIGHT-SET")
    handoff = HandoffFactory(organization=org, warehouse=sun, batch=batch, created_at=NOW - timedelta(hours=5))
    HandoffItemFactory(organization=org, handoff=handoff, purchase=bought(silent, batch))
    # Held near its deadline: a product not mapped to a SKU.
    unmapped = order(
        "576461413039015", us, ontario, NOW + timedelta(hours=1, minutes=30), "1 × GIFT-BOX-XL", is_held=True
    )
    OrderHoldFactory(
        organization=org,
        order=unmapped,
        reason=HoldReason.UNMAPPED_SKU,
        detail="Not mapped to one of your SKUs: GIFT-BOX-XL.",
    )
    # A queue: Ontario packs 3 a day; five orders due Thursday 09:00 make it (the fifth is packed Wednesday 16:30),
    # the sixth, due a minute later, is packed Thursday 10:30.
    thursday_9am = NOW + timedelta(days=1, hours=20)
    for n in range(5):
        bought(order(f"57646141304{n:04d}", us, ontario, thursday_9am, "1 × SOY-CANDLE-8OZ"), batch)
    order("576461413049999", us, ontario, thursday_9am + timedelta(minutes=1), "3 × SOY-CANDLE-8OZ")
    # Fine: time to spare, and an order TikTok fulfils.
    bought(order("576461413050001", us, ontario, NOW + timedelta(days=3), "1 × WICK-TRIMMER"), batch)
    order("576461413050002", us, None, NOW - timedelta(hours=3), "1 × SOY", fulfilled_by="platform")
    return {"sun": sun, "handoff": handoff}


def test_at_risk_list_ranks_explains_filters_and_fixes(page: Any, seller: dict[str, Any]) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("risk@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    at_risk_card = page.get_by_role("link", name="At risk of shipping late")
    expect(at_risk_card).to_contain_text("5")
    expect(at_risk_card).to_contain_text("1 already late")
    screenshot(page, "at-risk-dashboard")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="At risk").click()
    expect(page.get_by_role("heading", name="Orders at risk")).to_be_visible()
    rows = page.get_by_test_id("at-risk-row")
    expect(rows).to_have_count(5)
    order_of = [rows.nth(i).get_attribute("data-order") for i in range(5)]
    assert order_of == [
        "576461413038811",  # Reno past its cut-off: out Wednesday 08:30 for 20:00 tonight, 12 h 30 min too late
        "576461413038785",  # late by 2 h already, and the address must be fixed first: out at 14:45
        "576461413049999",  # queued behind five at 3 a day: out Thursday 10:30 for 09:01
        "576461413038902",  # the supplier's lead: 30 min too late
        "576461413039015",  # held, unmapped SKU: 15 min too late
    ]
    expect(page.get_by_test_id("at-risk-late")).to_have_text("1")
    late = rows.nth(1)
    expect(late).to_contain_text("Late by 2 h")
    expect(late).to_contain_text("Held: the address looks invalid")
    expect(late.get_by_role("link", name="Fix the address")).to_be_visible()
    expect(rows.nth(0)).to_contain_text("Reno DC is past today's cut-off (12:00 PST); it ships again Wed 08:00 PST.")
    expect(rows.nth(2)).to_contain_text("5 orders due earlier are queued at Ontario, which ships 3 a day")
    expect(rows.nth(4).get_by_role("link", name="Map the SKU")).to_be_visible()
    expect(rows.nth(3)).to_contain_text("Shenzhen Sun has not acknowledged the label (sent Tue 08:00 PST).")
    screenshot(page, "at-risk-list")

    page.get_by_label("Warehouse").select_option(label="Shenzhen Sun")
    expect(rows).to_have_count(1)
    page.get_by_label("Store").select_option(label="Glow Candles US")
    expect(page.get_by_test_id("at-risk-empty")).to_contain_text("Nothing at risk here")
    page.get_by_role("link", name="Clear").click()
    expect(rows).to_have_count(5)

    rows.nth(3).get_by_role("link", name="Nudge Shenzhen Sun").click()
    expect(page).to_have_url(re.compile(f"/shipping/handoffs/{seller['handoff'].pk}/$"))
