"""API keys (shown once, hashed, scoped, revocable, last use) and the append-only audit log."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError
from django.test import Client

from erp import services
from erp.actors import Actor
from erp.models import APIKey, AuditEntry
from erp.tenancy import organization_scope

pytestmark = pytest.mark.django_db


def test_a_key_is_shown_once_and_stored_hashed(tenant: Any) -> None:
    response = tenant.client.post("/settings/api-keys/", {"name": "ShipHero", "scope": "write"})
    raw_key = response.context["new_key"]
    assert raw_key.startswith("dl_")
    with organization_scope(tenant.organization):
        key = APIKey.objects.get(name="ShipHero")
    assert raw_key.split("_", 2)[2] not in str(vars(key))
    assert key.secret_hash == hashlib.sha256(raw_key.split("_", 2)[2].encode()).hexdigest()
    assert raw_key not in tenant.client.get("/settings/api-keys/").content.decode()


def test_a_key_authenticates_records_use_and_stops_when_revoked(tenant: Any) -> None:
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {tenant.api_key}"}
    response = client.get("/api/v1/organization/", **auth)
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Outfitters"
    with organization_scope(tenant.organization):
        key = APIKey.objects.get(name="Acme Outfitters WMS")
    assert key.last_used_at is not None
    tenant.client.post(f"/settings/api-keys/{key.pk}/revoke/")
    response = client.get("/api/v1/organization/", **auth)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_failed"


@pytest.mark.parametrize(
    "header", ["Api-Key dl_nope_nope", "Api-Key garbage", "Api-Key ", "Api-Key dl_deadbeef_wrongsecret"]
)
def test_bad_keys_are_refused_with_one_error_body(tenant: Any, header: str) -> None:
    response = Client().get("/api/v1/members/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"type", "code", "message", "fields"}


def test_the_audit_log_records_who_did_what(tenant: Any) -> None:
    tenant.client.post("/settings/api-keys/", {"name": "Looker", "scope": "read"})
    tenant.client.post("/settings/members/", {"email": "new@example.com", "role": "viewer"})
    page = tenant.client.get("/settings/audit/?action=api_key.")
    entries = list(page.context["page"].object_list)
    assert [e.action for e in entries] == ["api_key.created", "api_key.created"]
    assert all(e.actor_label == tenant.owner.email for e in entries)
    api = Client().get("/api/v1/audit-log/?action=member.invited", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")
    assert api.status_code == 403  # keys never read the audit log
    api = tenant.client.get("/api/v1/audit-log/?action=member.invited")
    assert [row["changes"]["email"] for row in api.json()["results"]] == ["new@example.com"]


def test_the_audit_log_is_append_only(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        entry = services.audit_record(
            organization=tenant.organization, actor=Actor.system(), action="thing.done", target=tenant.organization
        )
        entry.action = "thing.undone"
        with pytest.raises(TypeError):
            entry.save()
        with pytest.raises(TypeError):
            entry.delete()
        with pytest.raises(TypeError):
            AuditEntry.objects.filter(pk=entry.pk).update(action="x")
        with pytest.raises(TypeError):
            AuditEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.postgres
def test_postgres_refuses_updates_of_audit_rows_even_in_raw_sql(tenant: Any) -> None:
    with pytest.raises(InternalError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE erp_auditentry SET action = 'forged'")


def test_audit_filters_swap_only_the_results_with_htmx(tenant: Any) -> None:
    tenant.client.post("/settings/api-keys/", {"name": "Looker", "scope": "read"})
    full = tenant.client.get("/settings/audit/?action=api_key.")
    partial = tenant.client.get("/settings/audit/?action=api_key.", HTTP_HX_REQUEST="true")
    assert b"<html" in full.content
    assert b"<html" not in partial.content
    assert b'id="audit-results"' in partial.content
    assert b"api_key.created" in partial.content
    assert b"organization.created" not in partial.content
