"""What the schema promises and the answers it describes: the one error body documented on every operation (one
postprocessing hook), JSON request bodies only, and the answers schemathesis found outside that body or type."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from erp.api.exceptions import error_body
from erp.api.schema import ERROR_SCHEMA
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def openapi() -> dict[str, Any]:
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
    ]


def test_every_operation_documents_the_one_error_body_for_every_refusal(openapi: dict[str, Any]) -> None:
    assert openapi["components"]["schemas"]["Error"] == ERROR_SCHEMA
    sample = error_body(type_="not_found", code="not_found", message="No such thing.")
    assert set(sample) == set(ERROR_SCHEMA["required"])
    assert set(sample["error"]) == set(ERROR_SCHEMA["properties"]["error"]["required"])
    operations = _operations(openapi)
    assert len(operations) > 25
    for method, path, operation in operations:
        expected = {"400", "401", "403", "404", "405", "406", "409", "429", "503"}
        if "requestBody" in operation:
            expected.add("415")
        assert expected <= set(operation["responses"]), f"{method.upper()} {path}"
        for status in expected:
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, f"{method.upper()} {path} {status}"
        assert "Retry-After" in operation["responses"]["503"]["headers"]


def test_an_error_a_view_explains_keeps_its_words_and_gains_the_body(openapi: dict[str, Any]) -> None:
    refused = openapi["paths"]["/api/v1/label-batches/{id}/documents/{kind}/"]["get"]["responses"]["400"]
    assert refused["description"].startswith("The batch ships from several warehouses")
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_request_bodies_are_documented_as_json_only(openapi: dict[str, Any]) -> None:
    bodies = {
        f"{method.upper()} {path}": set(operation["requestBody"]["content"])
        for method, path, operation in _operations(openapi)
        if "requestBody" in operation
    }
    assert bodies
    assert {name: types for name, types in bodies.items() if types != {"application/json"}} == {}


def test_no_tracking_yet_is_a_404_in_the_one_error_body(tenant: Any) -> None:
    order = OrderFactory(organization=tenant.organization)
    response = Client().get(
        f"/api/v1/orders/{order.pk}/seller-shipment/", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}"
    )
    assert response.status_code == 404
    assert response.json()["error"] == {
        "type": "not_found",
        "code": "not_found",
        "message": "No tracking sent for this order.",
        "fields": {},
    }


@pytest.mark.parametrize("how", [{"path": "?format=pdf"}, {"HTTP_ACCEPT": "application/pdf"}])
def test_a_document_error_is_labelled_json_even_when_a_pdf_was_asked_for(tenant: Any, how: dict[str, str]) -> None:
    path = f"/api/v1/label-batches/{uuid.uuid4()}/documents/labels/{how.get('path', '')}"
    headers = {key: value for key, value in how.items() if key != "path"}
    response = Client().get(path, HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}", **headers)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "not_found"


def test_a_form_with_too_many_fields_is_a_json_400_not_an_html_page(tenant: Any) -> None:
    fields = "&".join(f"orders={uuid.UUID(int=n)}" for n in range(1500))  # over DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = Client().post(
        "/api/v1/label-batches/estimate/",
        fields,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "invalid_request"
    assert "fields" in response.json()["error"]["message"]


def test_a_body_over_the_upload_limit_is_a_json_400_also_with_an_idempotency_key(tenant: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client().post(
        "/api/v1/stock-movements/",
        '{"reason": "' + "x" * 2000 + '"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}",
        HTTP_IDEMPOTENCY_KEY="too-big-1",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "invalid_request"


@pytest.mark.parametrize("path", ["/api/v1/orders/a%0Ab/", "/api/v1/label-batches/x%0A/documents/labels/", "/api/%0A"])
def test_a_newline_in_an_api_path_is_the_json_404(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "not_found"


def test_every_operation_documents_its_error_codes_examples_and_shared_headers(openapi: dict[str, Any]) -> None:
    """docs/adr/0021: codes per status as named examples, an example of every JSON success answer, and the headers
    and parameters the base view gives every operation of a kind."""
    for method, path, operation in _operations(openapi):
        name = f"{method.upper()} {path}"
        responses = operation["responses"]
        codes = set(responses["403"]["content"]["application/json"]["examples"])
        assert {"insufficient_scope", "warehouse_scope_required"} <= codes, name
        assert "throttled" in responses["429"]["content"]["application/json"]["examples"], name
        parameters = {p["name"] for p in operation.get("parameters", [])}
        for status, response in responses.items():
            if status.startswith("2"):
                assert "RateLimit-Remaining" in response["headers"], name
                json_body = response.get("content", {}).get("application/json")
                if json_body is not None:
                    assert json_body.get("examples"), f"{name} {status} has no example"
        if method == "post":
            assert "Idempotency-Key" in parameters, name
            assert "idempotency_key_reused" in responses["422"]["content"]["application/json"]["examples"], name
        if method == "get":
            assert {"If-None-Match", "fields"} <= parameters, name
            assert "304" in responses, name
        if method == "patch":
            assert "If-Match" in parameters, name
            assert "precondition_failed" in responses["412"]["content"]["application/json"]["examples"], name
    orders = openapi["paths"]["/api/v1/orders/"]
    assert {"expand", "updated_since"} <= {p["name"] for p in orders["get"]["parameters"]}
    request = orders["post"]["requestBody"]["content"]["application/json"]["examples"]["request"]["value"]
    assert request["reference"] == "WMS-5001"
