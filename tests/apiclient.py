"""Helpers for API tests: a JSON client for one key, a read-only key, and a key bound to one warehouse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from erp import services as erp_services
from erp.actors import Actor
from erp.api.views import OrganizationAPIMixin
from erp.roles import APIKeyScope
from inventory.models import Warehouse


class API:
    """`Authorization: Api-Key …` on every call; bodies are JSON."""

    def __init__(self, key: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(f"/api/v1/{path}", params or {})

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(f"/api/v1/{path}", json.dumps(body or {}), content_type="application/json")

    def patch(self, path: str, body: Any = None) -> Any:
        return self.client.patch(f"/api/v1/{path}", json.dumps(body or {}), content_type="application/json")

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/api/v1/{path}")


def read_key(tenant: Any) -> str:
    """A read-only key of the tenant's organization."""
    _, raw = erp_services.api_key_create(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), name="BI", scope=APIKeyScope.READ
    )
    return raw


def bind_keys_to_warehouse(monkeypatch: pytest.MonkeyPatch, warehouse: Warehouse) -> None:
    """Every API request of the test runs as a caller bound to `warehouse` (a supplier's or 3PL's WMS, a supplier
    member): the `request.warehouse_bound` and `request.warehouse_scope` the API base view sets for such a caller,
    set here after authentication."""
    authenticate = OrganizationAPIMixin.perform_authentication

    def perform_authentication(self: Any, request: Any) -> None:
        authenticate(self, request)
        request.warehouse_bound = True
        request.warehouse_scope = warehouse

    monkeypatch.setattr(OrganizationAPIMixin, "perform_authentication", perform_authentication)
