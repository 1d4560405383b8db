"""Partners create manual orders through the API; a retried POST with the same Idempotency-Key changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from inventory.models import StockLevel, StockMovement
from orders.models import Order
from tests.factories import SkuFactory, StockLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

ORDER = {
    "reference": "WMS-5001",
    "recipient": {
        "name": "Ada Park",
        "line1": "500 Main St",
        "city": "Austin",
        "state": "Texas",
        "postal_code": "78701",
    },
    "lines": [{"seller_sku": "MUG-RED", "quantity": 2, "unit_price": "9.50"}],
}


def post(tenant: Any, path: str, body: dict, key: str | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {tenant.api_key}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(path, json.dumps(body), content_type="application/json", **headers)


def test_a_partner_creates_a_manual_order_that_reserves_stock(tenant: Any) -> None:
    warehouse = WarehouseFactory(organization=tenant.organization)
    StockLevelFactory(
        organization=tenant.organization,
        warehouse=warehouse,
        on_hand=5,
        sku=SkuFactory(organization=tenant.organization, code="MUG-RED"),
    )
    response = post(tenant, "/api/v1/orders/", ORDER, key="order-5001")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["external_id"] == "WMS-5001"
    assert StockLevel.unscoped.get().reserved == 2
    again = post(tenant, "/api/v1/orders/", ORDER, key="order-5001")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == body
    assert Order.unscoped.count() == 1
    assert StockLevel.unscoped.get().reserved == 2


def test_bad_orders_get_field_errors_and_change_nothing(tenant: Any) -> None:
    bad = {
        **ORDER,
        "recipient": {**ORDER["recipient"], "postal_code": "7870"},
        "lines": [{"seller_sku": "X", "quantity": 0}],
    }
    response = post(tenant, "/api/v1/orders/", bad)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "validation_error"
    assert "lines" in error["fields"]
    assert Order.unscoped.count() == 0


def test_a_receipt_retried_with_its_key_is_received_once(tenant: Any) -> None:
    warehouse = WarehouseFactory(organization=tenant.organization, name="Reno")
    SkuFactory(organization=tenant.organization, code="MUG-RED")
    receipt = {"kind": "receipt", "sku": "MUG-RED", "warehouse": "Reno", "quantity": 12, "reference": "ASN-77"}
    first = post(tenant, "/api/v1/stock-movements/", receipt, key="asn-77")
    retry = post(tenant, "/api/v1/stock-movements/", receipt, key="asn-77")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert StockLevel.unscoped.get(warehouse=warehouse).on_hand == 12
    assert StockMovement.unscoped.count() == 1
    reused = post(tenant, "/api/v1/stock-movements/", {**receipt, "quantity": 99}, key="asn-77")
    assert reused.status_code == 422  # Stripe's answer: the key names another request
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert "different request" in reused.json()["error"]["message"]
