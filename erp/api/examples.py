"""Hand-written examples for the operations a partner starts with (the quick start's, docs/api.md), by operationId.
Kept in one place and applied by the schema hook (erp/api/schema.py), so the views stay about behaviour; every other
operation gets an example made from its schema. A request example is sent by schemathesis' examples phase too, so
each must be a request the API answers as documented."""

from __future__ import annotations

from typing import Any

ORDER_ID = "0193a5f2-7c1e-7b2a-9d4e-2f6a8c1b3e5d"

REQUESTS: dict[str, dict[str, Any]] = {
    "orders_create": {
        "reference": "WMS-5001",
        "recipient": {
            "name": "Ada Lovelace",
            "phone": "+1 775 555 0100",
            "line1": "100 Main Street",
            "city": "Reno",
            "state": "NV",
            "postal_code": "89501",
            "country_code": "US",
        },
        "lines": [{"seller_sku": "MUG-RED", "quantity": 2, "unit_price": "9.50"}],
        "currency": "USD",
    },
    "label_batches_estimate_create": {"orders": [ORDER_ID]},
    "label_batches_create": {"orders": [ORDER_ID]},
    "stock_movements_create": {
        "kind": "receipt",
        "sku": "MUG-RED",
        "warehouse": "Reno",
        "quantity": 24,
        "reference": "ASN-77",
    },
    "skus_create": {"code": "MUG-RED", "name": "Red mug"},
    "skus_partial_update": {"name": "Red mug, 12 oz"},
    "listings_map_create": {"sku": "MUG-RED"},
    "orders_seller_shipment_create": {"carrier": "USPS", "tracking_number": "9400111899223856924117"},
    "cancellation_requests_decision_create": {"approve": True},
    "return_requests_decision_create": {"decision": "approve_refund"},
}

RESPONSES: dict[str, dict[str, Any]] = {
    "label_batches_estimate_create": {
        "count": 2,
        "quoted": 2,
        "totals": {"USD": "11.84"},
        "not_quoted": {},
        "skipped": {"held": 1},
        "warnings": {},
    },
}


def apply(operation: dict[str, Any]) -> None:
    operation_id = operation.get("operationId", "")
    body = REQUESTS.get(operation_id)
    json_body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and json_body is not None:
        json_body["examples"] = {"request": {"summary": "A request", "value": body}}
    answer = RESPONSES.get(operation_id)
    if answer is not None:
        for status, response in operation.get("responses", {}).items():
            content = response.get("content", {}).get("application/json")
            if status.startswith("2") and content is not None:
                content["examples"] = {"answer": {"summary": "An answer", "value": answer}}
