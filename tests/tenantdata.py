"""Helpers for the generic tenancy and role tests: one row of every tenant model, and a snapshot of rows."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.forms.models import model_to_dict
from django.test import Client

from erp.tenancy import TenantModel
from tests.conftest import Tenant
from tests.factories import TENANT_FACTORIES


def tenant_models() -> list[type[TenantModel]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def populate(tenant: Tenant) -> list[TenantModel]:
    """One row of every tenant model (through its factory), plus what creating the tenant made."""
    for model in tenant_models():
        TENANT_FACTORIES[model](organization=tenant.organization)
    return [obj for model in tenant_models() for obj in model.unscoped.filter(organization=tenant.organization)]


def snapshot(objects: list[TenantModel]) -> dict[str, Any]:
    state = {}
    for obj in objects:
        row = type(obj).unscoped.filter(pk=obj.pk).first()
        state[f"{type(obj).__name__}:{obj.pk}"] = model_to_dict(row) if row is not None else None
    return state


def call(client: Client, method: str, url: str, api_key: str | None = None) -> int:
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"} if api_key else {}
    body = {} if method == "get" else {"name": "hijacked", "role": "owner", "email": "evil@example.com"}
    kwargs: dict[str, Any] = {"data": body, **headers}
    if method in ("put", "patch", "delete"):
        kwargs["content_type"] = "application/json"
    return getattr(client, method)(url, **kwargs).status_code


def one_per_model(objects: list[TenantModel]) -> list[TenantModel]:
    """The first object of each model: a view that leaks one object of its model leaks any of them, so trying the
    others adds time, not coverage."""
    seen: dict[type, TenantModel] = {}
    for obj in objects:
        seen.setdefault(type(obj), obj)
    return list(seen.values())


def tables_by_tenancy(cursor: Any) -> tuple[list[str], list[str]]:
    """(tables with an organization_id column, tables without one), from the database's own catalogue."""
    cursor.execute(
        "SELECT table_name, bool_or(column_name = 'organization_id') FROM information_schema.columns "
        "WHERE table_schema = current_schema() GROUP BY table_name ORDER BY table_name"
    )
    found = cursor.fetchall()
    return [name for name, tenant in found if tenant], [name for name, tenant in found if not tenant]


def row_counts(cursor: Any, organization_id: Any) -> dict[str, int]:
    """The organization's rows in every table that has an organization_id column, and its own row: counted with
    SQL, so a table no model knows about counts too."""
    tenant_tables, _ = tables_by_tenancy(cursor)
    counts = {}
    for table in tenant_tables:
        quoted = '"' + table.replace('"', '""') + '"'  # a name from the catalogue, quoted
        cursor.execute(f"SELECT count(*) FROM {quoted} WHERE organization_id = %s", [str(organization_id)])  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM erp_organization WHERE id = %s", [str(organization_id)])
    counts["erp_organization"] = cursor.fetchone()[0]
    return counts
