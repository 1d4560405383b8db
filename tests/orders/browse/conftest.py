"""Fixtures of the order screens and the orders API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.conftest import Tenant
from tests.factories import OrderFactory, StoreFactory

API = "/api/v1/orders/"


@pytest.fixture
def store(tenant: Tenant) -> Any:
    return StoreFactory(organization=tenant.organization, name="Main shop")


@pytest.fixture
def make_order(tenant: Tenant, store: Any) -> Callable[..., Any]:
    def make(**fields: Any) -> Any:
        fields.setdefault("store", store)
        return OrderFactory(organization=tenant.organization, **fields)

    return make


@pytest.fixture
def api(tenant: Tenant) -> Callable[..., Any]:
    """GET an orders API path with the tenant's API key; returns the response."""
    client = Client()

    def get(path: str = "", **params: Any) -> Any:
        url = path if path.startswith(("http", "/")) else API + path
        return client.get(url, params, HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")

    return get
