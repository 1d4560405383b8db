"""The orders REST API: list, detail and counts (filters and search are covered in test_list.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from orders.models import HoldReason, OrderStatus
from tests.factories import OrderFactory, OrderHoldFactory, OrderLineFactory, OrderStatusChangeFactory

pytestmark = pytest.mark.django_db


def test_list_rows_carry_store_holds_and_flags(tenant: Any, make_order: Any, api: Any) -> None:
    order = make_order(is_held=True, label_source="seller")
    OrderHoldFactory(organization=tenant.organization, order=order, reason=HoldReason.OUT_OF_STOCK)

    response = api()

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert body["previous"] is None
    [row] = body["results"]
    assert row["id"] == str(order.pk)
    assert row["store"]["name"] == "Main shop"
    assert row["status_label"] == order.get_status_display() == OrderStatus(order.status).label
    assert row["open_holds"][0]["reason"] == "out_of_stock"
    assert row["open_holds"][0]["reason_label"] == HoldReason.OUT_OF_STOCK.label
    assert row["open_holds"][0]["fix"]
    assert row["is_seller_shipping"] is True
    assert row["is_fulfilled_by_platform"] is False


def test_detail_has_items_lines_holds_and_status_history(tenant: Any, make_order: Any, api: Any) -> None:
    order = make_order(status=OrderStatus.AWAITING_SHIPMENT)
    for n in range(2):
        OrderLineFactory(organization=tenant.organization, order=order, external_id=f"L{n}", seller_sku="RED-TEE-L")
    OrderHoldFactory(organization=tenant.organization, order=order, reason=HoldReason.CANCEL_REQUESTED)
    OrderStatusChangeFactory(organization=tenant.organization, order=order)

    body = api(f"{order.pk}/").json()

    assert body["items"] == [
        {
            "seller_sku": "RED-TEE-L",
            "sku_id": body["lines"][0]["sku_id"],
            "product_name": "Crew tee",
            "sku_name": "",
            "quantity": 2,
            "unit_price": "24.90",
            "currency": "USD",
            "line_ids": ["L0", "L1"],
            "package_ids": [],
            "tracking_numbers": [],
            "cancelled": 0,
        }
    ]
    assert sorted(line["external_id"] for line in body["lines"]) == ["L0", "L1"]
    assert body["holds"][0]["reason_label"] == "Buyer asked to cancel"
    assert body["status_history"] == [
        {
            "from_status": "ON_HOLD",
            "to_status": "AWAITING_SHIPMENT",
            "changed_at": body["status_history"][0]["changed_at"],
        }
    ]
    assert body["address_masked"] is True


def test_lines_of_one_sku_aggregate_in_the_detail(tenant: Any, make_order: Any, api: Any) -> None:
    order = make_order()
    for n in range(3):
        OrderLineFactory(
            organization=tenant.organization, order=order, external_id=f"L{n}", seller_sku="RED-TEE-L", sku_id="SKU1"
        )
    [item] = api(f"{order.pk}/").json()["items"]
    assert item["quantity"] == 3
    assert item["line_ids"] == ["L0", "L1", "L2"]


def test_another_organizations_order_is_404(make_tenant: Any, api: Any) -> None:
    other = make_tenant("Other Co")
    theirs = OrderFactory(organization=other.organization)
    assert api(f"{theirs.pk}/").status_code == 404
    assert api().json()["results"] == []


def test_counts_endpoint(make_order: Any, api: Any) -> None:
    make_order(status=OrderStatus.ON_HOLD)
    body = api("counts/").json()
    assert body["on_hold"] == 1
    assert body["all"] == 1
    assert set(body) >= {"to_ship", "held", "awaiting_collection", "in_transit", "delivered", "cancelled", "at_least"}


def test_a_read_only_key_and_a_viewer_session_can_list(tenant: Any, make_order: Any) -> None:
    from erp.roles import Role

    make_order()
    viewer = tenant.client_as(Role.VIEWER)
    assert viewer.get("/api/v1/orders/").status_code == 200
    assert viewer.get("/api/v1/orders/counts/").status_code == 200


def test_the_whole_api_schema_validates_without_warnings(tmp_path: Any) -> None:
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    assert "/api/v1/orders/counts/" in schema
    assert "/api/v1/orders/{id}/" in schema
