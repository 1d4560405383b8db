"""API key scopes per resource family, warehouse-bound keys, and the family every API view must declare
(docs/adr/0021-partner-api-semantics.md)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.test import Client

from erp import services
from erp.actors import Actor
from erp.api.views import OrganizationAPIMixin, OrganizationGenericAPIView
from erp.models import APIKey
from erp.roles import API_KEY_PRESETS, KEY_SCOPES, APIKeyScope, Perm, ResourceFamily, scope_permissions
from erp.tenancy import organization_scope
from inventory.models import WarehouseKind
from tests.factories import MembershipFactory, SkuFactory, SupplierAccessFactory, WarehouseFactory
from tests.urlwalk import routes


def _key(tenant: Any, scopes: list[str] | None = None, **kwargs: Any) -> str:
    _, raw = services.api_key_create(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), name="Partner", scopes=scopes, **kwargs
    )
    return raw


def _call(method: str, path: str, key: str, **kwargs: Any) -> Any:
    return getattr(Client(), method)(
        path, HTTP_AUTHORIZATION=f"Api-Key {key}", content_type="application/json", **kwargs
    )


def test_every_api_view_declares_its_resource_family() -> None:
    api_views = [
        r for r in routes() if isinstance(r.view_class, type) and issubclass(r.view_class, OrganizationAPIMixin)
    ]
    assert len(api_views) > 10
    for route in api_views:
        assert isinstance(route.view_class.resource_family, ResourceFamily), route.name


def test_a_view_without_a_family_fails_at_import() -> None:
    with pytest.raises(TypeError, match="resource_family"):

        class Forgetful(OrganizationGenericAPIView):
            pass

    with pytest.raises(ValueError, match="'parcels'"):

        class Misnamed(OrganizationGenericAPIView):
            resource_family = "parcels"


def test_a_write_scope_implies_read_and_lends_only_within_its_family() -> None:
    assert scope_permissions(["catalog:write"], ResourceFamily.CATALOG) >= {Perm.VIEW, Perm.INVENTORY_MANAGE}
    assert scope_permissions(["catalog:write"], ResourceFamily.INVENTORY) == frozenset()
    assert scope_permissions(["orders:read"], ResourceFamily.ORDERS) == {Perm.VIEW}


@pytest.mark.django_db
def test_a_key_reads_and_writes_only_the_families_its_scopes_name(tenant: Any) -> None:
    key = _key(tenant, ["orders:read", "catalog:write"])
    assert _call("get", "/api/v1/orders/", key).status_code == 200
    refused = _call("post", "/api/v1/orders/", key, data={})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    assert "`orders:write`" in refused.json()["error"]["message"]
    assert _call("get", "/api/v1/label-batches/", key).json()["error"]["code"] == "insufficient_scope"
    created = _call("post", "/api/v1/skus/", key, data={"code": "MUG-1", "name": "Mug"})
    assert created.status_code == 201, created.content
    # catalog:write lends inventory.manage, but only on catalog endpoints: stock is inventory:write.
    with organization_scope(tenant.organization):
        warehouse = WarehouseFactory(organization=tenant.organization)
    movement = {"kind": "receipt", "sku": "MUG-1", "warehouse": str(warehouse.pk), "quantity": 5}
    stock = _call("post", "/api/v1/stock-movements/", key, data=movement)
    assert stock.status_code == 403
    assert stock.json()["error"]["code"] == "insufficient_scope"


@pytest.mark.django_db
def test_the_audit_log_needs_its_own_scope(tenant: Any) -> None:
    assert _call("get", "/api/v1/audit-log/", tenant.api_key).status_code == 403  # the write preset leaves it out
    assert _call("get", "/api/v1/audit-log/", _key(tenant, ["audit:read"])).status_code == 200
    assert _call("get", "/api/v1/api-keys/", _key(tenant, ["organization:read"])).status_code == 403  # people only


@pytest.mark.django_db
def test_scopes_are_checked_when_the_key_is_made(tenant: Any) -> None:
    with pytest.raises(services.APIKeyRefused, match="reports:write"):
        _key(tenant, ["reports:write"])
    with pytest.raises(services.APIKeyRefused, match="at least one"):
        _key(tenant, [])
    with organization_scope(tenant.organization):
        own = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.OWN)
    with pytest.raises(services.APIKeyRefused, match="3PL"):
        _key(tenant, ["handoffs:write"], warehouse=own)
    with organization_scope(tenant.organization):
        api_key = APIKey.objects.get(prefix=_key(tenant, ["orders:write", "orders:read", "labels:read"]).split("_")[1])
    assert api_key.scopes == ["orders:write", "labels:read"]  # in KEY_SCOPES order; write stands for read


@pytest.mark.django_db
@pytest.mark.urls("tests.erp.api_test_urls")
def test_a_warehouse_bound_key_uses_only_warehouse_scoped_views_and_sees_its_warehouse(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        supplier = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.SUPPLIER)
    bound = _key(tenant, ["handoffs:write", "orders:read"], warehouse=supplier)
    echo = _call("get", "/api/v1/test-warehouse-echo/", bound)
    assert echo.status_code == 200
    assert echo.json() == {"warehouse": str(supplier.pk)}
    for path in ("/api/v1/orders/", "/api/v1/organization/", "/api/v1/skus/"):
        refused = _call("get", path, bound)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "warehouse_scope_required"
    # An unbound key sees every warehouse: no scope.
    assert _call("get", "/api/v1/test-warehouse-echo/", _key(tenant, ["handoffs:read"])).json() == {"warehouse": None}


@pytest.mark.django_db
@pytest.mark.urls("tests.erp.api_test_urls")
def test_a_supplier_member_is_warehouse_bound_like_a_key(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        supplier = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.SUPPLIER)
    membership = MembershipFactory(organization=tenant.organization, role="supplier")
    client = Client()
    client.force_login(membership.user)
    assert client.get("/api/v1/test-warehouse-echo/").json()["error"]["code"] == "warehouse_scope_required"
    SupplierAccessFactory(organization=tenant.organization, membership=membership, warehouse=supplier)
    assert client.get("/api/v1/test-warehouse-echo/").json() == {"warehouse": str(supplier.pk)}
    assert client.get("/api/v1/orders/").status_code == 403


@pytest.mark.django_db
def test_the_dashboard_makes_a_key_with_chosen_scopes_and_a_warehouse(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        tpl = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.THREE_PL, name="ShipBob Reno")
        SkuFactory(organization=tenant.organization)
    page = tenant.client.get("/settings/api-keys/")
    assert b"Supplier handoffs" in page.content
    response = tenant.client.post(
        "/settings/api-keys/",
        {"name": "ShipBob", "scope_handoffs": "handoffs:write", "scope_orders": "orders:read", "warehouse": tpl.pk},
    )
    assert response.status_code == 200
    assert response.context["new_key"].startswith("dl_")
    with organization_scope(tenant.organization):
        key = APIKey.objects.get(name="ShipBob")
    assert (key.scopes, key.warehouse_id) == (["orders:read", "handoffs:write"], tpl.pk)
    listed = tenant.client.get("/settings/api-keys/").content.decode()
    assert "Only ShipBob Reno" in listed
    assert "handoffs:write" in listed
    nothing = tenant.client.post("/settings/api-keys/", {"name": "Empty"})
    assert "at least one scope" in nothing.content.decode()


def test_the_migration_gave_old_keys_what_the_presets_give_today() -> None:
    migration = importlib.import_module("erp.migrations.0008_api_key_scopes_from_scope")
    assert {preset.value: list(API_KEY_PRESETS[preset]) for preset in APIKeyScope} == migration.SCOPES
    assert set(migration.SCOPES["write"]) <= set(KEY_SCOPES)


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_old_keys_without_widening_them() -> None:
    """Back to the single `scope`, a read and a write key, then forward: each gets its preset's scopes."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("erp", "0007_api_key_scopes_and_warehouse")], [("erp", "0009_remove_apikey_scope")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    organization = old.get_model("erp", "Organization").objects.create(name="Before scopes")
    OldKey = old.get_model("erp", "APIKey")
    for scope in ("read", "write"):
        OldKey._base_manager.create(
            organization=organization, name=scope, prefix=f"old{scope}", secret_hash="0" * 64, scope=scope
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    # Every later migration again (going back to 0007 unapplied them too), for the tests that run after this one.
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    converted = dict(APIKey.unscoped.filter(organization_id=organization.pk).values_list("name", "scopes"))
    assert converted == {preset.value: list(API_KEY_PRESETS[preset]) for preset in APIKeyScope}
    assert "audit:read" not in converted["read"]
    assert "rules:write" not in converted["write"]
    assert "labels:write" in converted["write"]
