"""Reports over the API: the compliance figures and the at-risk list are the dashboard pages' own (same selectors),
filtered by store or warehouse; a filter naming nothing of the organization's is a 400."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from orders.models import HoldReason, OrderStatus
from tests.apiclient import API, read_key
from tests.factories import OrderFactory, OrderHoldFactory, StoreFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_the_at_risk_report_is_the_at_risk_page(tenant: Any) -> None:
    org = tenant.organization
    warehouse = WarehouseFactory(organization=org, name="Reno")
    held = OrderFactory(
        organization=org, warehouse=warehouse, is_held=True, ship_by=timezone.now() + timedelta(hours=1)
    )
    OrderHoldFactory(organization=org, order=held, reason=HoldReason.ADDRESS_INVALID, detail="ZIP code is wrong.")
    OrderFactory(organization=org, warehouse=warehouse, ship_by=timezone.now() + timedelta(days=6))  # time to spare

    report = API(read_key(tenant)).get("reports/at-risk/")
    assert report.status_code == 200, report.json()
    body = report.json()
    page = tenant.client.get("/shipping/at-risk/").context
    assert body["total"] == page["total"] == 1
    [row] = body["orders"]
    assert row["order"] == str(held.pk)
    assert [row["order"] for row in body["orders"]] == [str(r["order"].order_id) for r in page["rows"]]
    primary = page["rows"][0]["order"].primary  # the warehouse may be closed now: whatever the page says first
    assert (row["reasons"][0]["code"], row["reasons"][0]["fix"]) == (primary.code, primary.fix_text)
    other = WarehouseFactory(organization=org, name="Austin")
    assert API(tenant.api_key).get("reports/at-risk/", {"warehouse": str(other.pk)}).json()["total"] == 0


def test_the_compliance_report_is_the_compliance_page(tenant: Any) -> None:
    org = tenant.organization
    store = StoreFactory(organization=org)
    OrderFactory(organization=org, store=store, status=OrderStatus.IN_TRANSIT, shipped_at=timezone.now())
    body = API(tenant.api_key).get("reports/compliance/", {"store": str(store.pk)}).json()
    page = tenant.client.get("/shipping/compliance/", {"store": str(store.pk)}).context["report"]
    assert (body["shipped"], body["official"], body["violations"]) == (page.shipped, page.official, page.violations)
    assert body["shipped"] == 1
    assert body["store"] == str(store.pk)
    assert body["late_dispatch"]["of"] == page.late_dispatch.of
    assert len(body["days"]) == len(page.days)


def test_filters_naming_nothing_of_ours_are_400(tenant: Any, make_tenant: Any) -> None:
    theirs = StoreFactory(organization=make_tenant("Stranger").organization)
    api = API(tenant.api_key)
    for path, params in (
        ("reports/compliance/", {"store": str(theirs.pk)}),
        ("reports/compliance/", {"store": "nope"}),
        ("reports/at-risk/", {"store": str(theirs.pk)}),
        ("reports/at-risk/", {"warehouse": "01a21100-0000-7000-8000-000000000000"}),
    ):
        response = api.get(path, params)
        assert response.status_code == 400, (path, params)
        assert set(response.json()["error"]["fields"]) == set(params)
