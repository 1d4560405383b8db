"""Roles are enforced everywhere by the permission each view names; docs/roles.md is the same table as the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from erp.api.views import OrganizationAPIMixin
from erp.roles import ROLE_PERMISSIONS, Perm, Role, roles_markdown_table
from erp.views_base import OrganizationViewMixin
from tests.tenantdata import call, one_per_model, populate, snapshot
from tests.urlwalk import Route, routes

UNSAFE = ("post", "put", "patch", "delete")


def tenant_routes() -> list[Route]:
    return [
        r
        for r in routes()
        if isinstance(r.view_class, type) and issubclass(r.view_class, OrganizationViewMixin | OrganizationAPIMixin)
    ]


def served_methods(view_class: Any) -> set[str]:
    return {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)} | (
        {"get"} if issubclass(view_class, OrganizationAPIMixin) else set()
    )


def test_docs_role_table_matches_the_code() -> None:
    text = (Path(settings.BASE_DIR) / "docs" / "roles.md").read_text()
    assert roles_markdown_table() in text, "docs/roles.md is stale: run `manage.py roles_table` and paste it"


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_refused_exactly_what_its_permissions_lack(tenant: Any, role: Role) -> None:
    client = tenant.client if role == Role.OWNER else tenant.client_as(role)
    objects = populate(tenant)
    own_id = next(str(o.pk) for o in objects)
    allowed = ROLE_PERMISSIONS[role]
    wrong = []
    for route in tenant_routes():
        view = route.view_class
        url = route.url(own_id) if route.id_kwarg else route.url()
        if role == Role.SUPPLIER and route.name == "dashboard":  # suppliers land in their portal
            response = client.get(url)
            if response.status_code != 302 or response.url != reverse("supplier_home"):
                wrong.append(f"GET dashboard -> {response.status_code}, not the supplier portal")
            continue
        status = client.get(url).status_code
        refused = status == 403 or (status == 405 and view.read_permission not in allowed)  # 405: GET not served
        if (view.read_permission in allowed) == refused:
            wrong.append(f"GET {route.name} -> {status} (needs {view.read_permission})")
        if view.write_permission not in allowed:  # refused writes must be refused, whatever the method
            for method in UNSAFE:
                status = call(client, method, url)
                if status not in (403, 405):
                    wrong.append(f"{method.upper()} {route.name} -> {status} (needs {view.write_permission})")
    assert not wrong, f"{role.label}:\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_viewers_change_nothing_anywhere(tenant: Any) -> None:
    viewer = tenant.client_as(Role.VIEWER)
    objects = populate(tenant)
    before = snapshot(objects)
    for route in tenant_routes():
        for obj in one_per_model(objects) if route.id_kwarg else [None]:
            url = route.url(str(obj.pk)) if obj else route.url()
            for method in UNSAFE:
                assert call(viewer, method, url) in (403, 405), f"viewer {method} {url}"
    assert snapshot(objects) == before


@pytest.mark.django_db
def test_warehouse_staff_cannot_manage_members_keys_or_the_organization(tenant: Any) -> None:
    warehouse = tenant.client_as(Role.WAREHOUSE)
    assert warehouse.post("/settings/members/", {"email": "x@example.com", "role": "viewer"}).status_code == 403
    assert warehouse.get("/settings/api-keys/").status_code == 403
    assert warehouse.post("/settings/", {"name": "Renamed", "time_zone": "UTC"}).status_code == 403
    assert warehouse.get("/settings/audit/").status_code == 403
    assert Perm.LABELS_PRINT in ROLE_PERMISSIONS[Role.WAREHOUSE]
    assert Perm.STORES_MANAGE not in ROLE_PERMISSIONS[Role.WAREHOUSE]
    assert Perm.RULES_MANAGE not in ROLE_PERMISSIONS[Role.WAREHOUSE]


@pytest.mark.django_db
def test_read_scoped_api_key_cannot_write(tenant: Any) -> None:
    from erp import services
    from erp.actors import Actor

    _, read_key = services.api_key_create(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), name="BI", scope="read"
    )
    client = Client()
    response = client.get("/api/v1/members/", HTTP_AUTHORIZATION=f"Api-Key {read_key}")
    assert response.status_code == 200
    assert client.get("/api/v1/audit-log/", HTTP_AUTHORIZATION=f"Api-Key {read_key}").status_code == 403
