"""Helpers for API tests: a JSON client for one key, a read-only key, and a key bound to one warehouse."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from erp import services as erp_services
from erp.actors import Actor
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


def sync_key(tenant: Any) -> str:
    """A key that may ask for a store's sync now: the write preset plus `stores:write`, which no preset grants."""
    _, raw = erp_services.api_key_create(
        organization=tenant.organization,
        actor=Actor.for_user(tenant.owner),
        name="Scheduler",
        scope=APIKeyScope.WRITE,
        scopes=["stores:write"],
    )
    return raw


def warehouse_key(tenant: Any, warehouse: Warehouse) -> str:
    """A supplier's or 3PL's key: bound to `warehouse`, working its handoffs (`handoffs:write`)."""
    _, raw = erp_services.api_key_create(
        organization=tenant.organization,
        actor=Actor.for_user(tenant.owner),
        name=f"{warehouse.name} WMS",
        scopes=["handoffs:write"],
        warehouse=warehouse,
    )
    return raw
