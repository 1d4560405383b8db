"""The API shell: one error body, cursor pagination, throttling per key, the OpenAPI schema and its docs page."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.test import Client
from rest_framework.settings import api_settings

from erp.roles import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_unknown_api_paths_answer_json_404() -> None:
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


def test_unauthenticated_calls_get_401_with_the_error_body() -> None:
    response = Client().get("/api/v1/members/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["error"]["type"] == "not_authenticated"


def test_lists_use_cursor_pagination_newest_first(tenant: Any) -> None:
    for _ in range(5):
        MembershipFactory(organization=tenant.organization, role=Role.VIEWER)
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {tenant.api_key}"}
    first = Client().get("/api/v1/members/?page_size=4", **auth).json()
    assert len(first["results"]) == 4
    assert first["next"]
    assert "cursor=" in first["next"]
    second = Client().get(first["next"], **auth).json()
    assert len(second["results"]) == 2
    assert second["next"] is None
    ids = [m["id"] for m in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 6


def test_list_endpoints_do_not_query_per_row(tenant: Any, django_assert_max_num_queries: Any) -> None:
    for _ in range(20):
        MembershipFactory(organization=tenant.organization, role=Role.VIEWER)
    with django_assert_max_num_queries(8):
        response = Client().get("/api/v1/members/", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")
    assert len(response.json()["results"]) == 21


def test_each_key_has_its_own_throttle_budget(tenant: Any, make_tenant: Any, monkeypatch: Any) -> None:
    from erp.api.throttling import ClientRateThrottle

    cache.clear()
    monkeypatch.setattr(
        ClientRateThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "client": "3/min"}
    )
    other = make_tenant("Other")
    statuses = [
        Client().get("/api/v1/organization/", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}").status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    throttled = Client().get("/api/v1/organization/", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")
    assert throttled.json()["error"]["type"] == "rate_limited"
    assert "Retry-After" in throttled
    assert Client().get("/api/v1/organization/", HTTP_AUTHORIZATION=f"Api-Key {other.api_key}").status_code == 200


def test_the_openapi_schema_documents_the_api_and_its_auth() -> None:
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/members/" in schema["paths"]
    assert "/api/v1/audit-log/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["in"] == "header"
    docs = Client().get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content  # served locally: works with no internet
