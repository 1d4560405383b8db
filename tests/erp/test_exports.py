"""Organization export: every tenant model is exported or excluded with a reason, secrets never leave, the zip holds
every row and stored file of the organization and nothing of another, and only owners and admins get it."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from erp.crypto import EncryptedTextField
from erp.exports import EXCLUDED_FIELDS, EXCLUDED_MODELS, NOT_SECRETS, export_tables, organization_exports_expire
from erp.models import APIKey, AuditEntry, ExportState, Invitation, OrganizationExport
from erp.roles import Role
from erp.tenancy import organization_scope
from integrations.models import SellerAuthorization
from inventory.models import Sku
from shipping.models import LabelPurchase
from tests.conftest import Tenant
from tests.tenantdata import populate, tenant_models

SECRET_LOOKING = re.compile(r"token|secret|hash|password|key|cipher|signature|credential|salt", re.IGNORECASE)
LABEL_BYTES = b"%PDF-1.4 label of Alpha %%EOF"


def _labels(model: type) -> str:
    return model._meta.label


def test_every_tenant_model_is_exported_or_excluded_with_a_reason() -> None:
    exported = {_labels(table.model) for table in export_tables()}
    unclassified = [_labels(m) for m in tenant_models() if _labels(m) not in exported | set(EXCLUDED_MODELS)]
    assert not unclassified, f"export these (erp/exports.py) or exclude them with a reason: {unclassified}"
    assert all(reason.strip() for reason in EXCLUDED_MODELS.values())
    stale = set(EXCLUDED_MODELS) - {_labels(m) for m in tenant_models()}
    assert not stale, f"EXCLUDED_MODELS names models that do not exist: {stale}"


def test_every_secret_looking_column_is_excluded_or_declared_harmless() -> None:
    """A new column named like a secret (`webhook_secret`, `signing_key`) fails here until someone decides."""
    undecided = []
    for table in export_tables():
        label = _labels(table.model)
        for field in table.model._meta.concrete_fields:
            decided = field.name in EXCLUDED_FIELDS.get(label, {}) or field.name in NOT_SECRETS.get(label, {})
            if SECRET_LOOKING.search(field.name) and not decided and not isinstance(field, EncryptedTextField):
                undecided.append(f"{label}.{field.name}")
            if isinstance(field, EncryptedTextField):
                assert field.attname not in table.columns, f"{label}.{field.name} is encrypted: never exported"
            if field.name in EXCLUDED_FIELDS.get(label, {}):
                assert field.attname not in table.columns
    assert not undecided, f"exclude (EXCLUDED_FIELDS) or declare harmless (NOT_SECRETS) with a reason: {undecided}"
    for declared in (EXCLUDED_FIELDS, NOT_SECRETS):
        for label, fields in declared.items():
            model_fields = {f.name for m in tenant_models() if _labels(m) == label for f in m._meta.concrete_fields}
            assert set(fields) <= model_fields, f"{label}: {set(fields) - model_fields} do not exist"
            assert all(reason.strip() for reason in fields.values())


def _read_zip(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def _csv(archive: zipfile.ZipFile, path: str) -> list[dict[str, str]]:
    with archive.open(path) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


def _seed(tenant: Tenant) -> LabelPurchase:
    """One row of every tenant model, a stored label PDF, a SKU whose name is a formula."""
    populate(tenant)
    with organization_scope(tenant.organization):
        purchase = LabelPurchase.objects.order_by("pk").first()
        assert purchase is not None
        purchase.label_pdf.save(f"{tenant.organization.pk}.pdf", ContentFile(LABEL_BYTES), save=True)
        Sku.objects.filter(pk=Sku.objects.order_by("pk").values("pk")[:1]).update(name='=HYPERLINK("http://x","y")')
    return purchase


def _download(client: Client, export: OrganizationExport) -> bytes:
    response = client.get(reverse("settings_export_download", args=[export.pk]))
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


@pytest.mark.django_db(transaction=True)
def test_export_holds_every_row_and_file_of_the_organization_and_nothing_else(make_tenant: Any) -> None:
    # Given two populated organizations
    alpha, bravo = make_tenant("Alpha Goods"), make_tenant("Bravo Supply")
    purchase = _seed(alpha)
    _seed(bravo)
    bravo_ids = {
        str(pk)
        for model in tenant_models()
        for pk in model.unscoped.filter(organization=bravo.organization).values_list("pk", flat=True)
    }

    # When Alpha's owner exports all data (the task runs eagerly after commit)
    response = alpha.client.post(reverse("settings_export"))
    assert response.status_code == 302
    with organization_scope(alpha.organization):
        export = OrganizationExport.objects.get(requested_by=alpha.owner)
    assert export.state == ExportState.READY, export.error
    counts = {t.path: t.model.unscoped.filter(organization=alpha.organization).count() for t in export_tables()}
    archive = _read_zip(_download(alpha.client, export))

    # Then every exported table has exactly Alpha's rows
    names = set(archive.namelist())
    for table in export_tables():
        assert table.path in names
        rows = _csv(archive, table.path)
        assert len(rows) == counts[table.path], table.path
        assert all(row["organization_id"] == str(alpha.organization.pk) for row in rows)
        assert not {row["id"] for row in rows} & bravo_ids
    manifest = {row["file"]: int(row["rows"]) for row in _csv(archive, "manifest.csv")}
    assert manifest["shipping/labelpurchase.csv"] >= 1
    assert [row["name"] for row in _csv(archive, "erp/organization.csv")] == ["Alpha Goods"]
    assert alpha.owner.email in {row["email"] for row in _csv(archive, "erp/user.csv")}
    assert bravo.owner.email not in {row["email"] for row in _csv(archive, "erp/user.csv")}

    # and the label PDF under its storage key, and no secret anywhere
    assert archive.read(f"files/{purchase.label_pdf.name}") == LABEL_BYTES
    everything = b"".join(archive.read(name) for name in names if name.endswith(".csv")).decode()
    with organization_scope(alpha.organization):
        secrets = [
            *SellerAuthorization.objects.values_list("access_token", flat=True),
            *SellerAuthorization.objects.values_list("refresh_token", flat=True),
            *APIKey.objects.values_list("secret_hash", flat=True),
            *Invitation.objects.values_list("token_hash", flat=True),
        ]
    assert len(secrets) >= 4
    leaked = [secret for secret in secrets if secret and secret in everything]
    assert not leaked
    for excluded in EXCLUDED_MODELS:
        app, model = excluded.lower().split(".")
        assert f"{app}/{model}.csv" not in names

    # and a formula in a cell is text to a spreadsheet
    sku_names = {row["name"] for row in _csv(archive, "inventory/sku.csv")}
    assert '\'=HYPERLINK("http://x","y")' in sku_names

    # and the requester was emailed a link, and both the request and the download are audited
    assert [message.to for message in mail.outbox if "export" in message.subject] == [[alpha.owner.email]]
    assert reverse("settings_export_download", args=[export.pk]) in mail.outbox[-1].body
    with organization_scope(alpha.organization):
        actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"organization.export_requested", "organization.export_downloaded"} <= actions


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("role", "allowed"), [(Role.ADMIN, True), (Role.OPERATOR, False), (Role.VIEWER, False)])
def test_only_owners_and_admins_export(tenant: Tenant, role: Role, allowed: bool) -> None:
    client = tenant.client_as(role)
    response = client.post(reverse("settings_export"))
    assert response.status_code == (302 if allowed else 403)
    with organization_scope(tenant.organization):
        assert OrganizationExport.objects.count() == (1 if allowed else 0)
    page = client.get(reverse("settings_organization")).content.decode()
    assert ("Export all data" in page) is allowed


@pytest.mark.django_db(transaction=True)
def test_api_export_is_created_polled_and_downloaded(make_tenant: Any) -> None:
    alpha, bravo = make_tenant("Alpha Goods"), make_tenant("Bravo Supply")
    # Given an owner signed in (the dashboard's session): API keys never hold the export permission
    created = alpha.client.post("/api/v1/organization/exports/")
    assert created.status_code == 202, created.content
    export_id = created.json()["id"]
    detail = alpha.client.get(f"/api/v1/organization/exports/{export_id}/").json()
    assert detail["state"] == "ready"
    assert detail["download_url"].endswith(f"/api/v1/organization/exports/{export_id}/download/")
    download = alpha.client.get(detail["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    archive = _read_zip(b"".join(download.streaming_content))
    assert "orders/order.csv" in archive.namelist()
    # Another organization cannot tell it from a missing export; an API key is refused
    assert bravo.client.get(f"/api/v1/organization/exports/{export_id}/").status_code == 404
    assert bravo.client.get(f"/api/v1/organization/exports/{export_id}/download/").status_code == 404
    keyed = Client().post("/api/v1/organization/exports/", HTTP_AUTHORIZATION=f"Api-Key {alpha.api_key}")
    assert keyed.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_expired_export_is_deleted_and_answers_gone(tenant: Tenant) -> None:
    tenant.client.post(reverse("settings_export"))
    with organization_scope(tenant.organization):
        export = OrganizationExport.objects.get()
    name = export.file.name
    assert export.file.storage.exists(name)
    OrganizationExport.unscoped.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert organization_exports_expire() == 1

    assert not export.file.storage.exists(name)
    export.refresh_from_db()
    assert export.state == ExportState.EXPIRED
    assert tenant.client.get(reverse("settings_export_download", args=[export.pk])).status_code == 410
    api = tenant.client.get(f"/api/v1/organization/exports/{export.pk}/download/")
    assert api.status_code == 410
    assert api.json()["error"]["code"] == "export_expired"


@pytest.mark.postgres
@pytest.mark.django_db
def test_export_memory_stays_flat_however_many_rows(tenant: Tenant, tmp_path: Any) -> None:
    """Rows stream from a server-side cursor into the zip on disk: the peak of Python memory while exporting ~15 MB
    of audit log stays a fraction of it (one chunk of rows), instead of growing with the table."""
    import tracemalloc

    from erp.exports import export_write

    rows = 30_000
    with organization_scope(tenant.organization):
        AuditEntry.objects.bulk_create(
            AuditEntry(
                organization=tenant.organization, actor_label="x" * 200, action="load", target_label=f"{n:0200d}"
            )
            for n in range(rows)
        )
        tracemalloc.start()
        try:
            with (tmp_path / "export.zip").open("wb") as out:
                export_write(organization=tenant.organization, out=out)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        csv_size = archive.getinfo("erp/auditentry.csv").file_size
    assert csv_size > 12_000_000
    assert peak < csv_size / 3, f"peak {peak} bytes for a {csv_size}-byte CSV"


@pytest.mark.django_db(transaction=True)
def test_a_second_delivery_of_the_build_changes_nothing(tenant: Tenant) -> None:
    from erp.exports import organization_export_build

    tenant.client.post(reverse("settings_export"))
    with organization_scope(tenant.organization):
        export = OrganizationExport.objects.get()
        assert export.state == ExportState.READY
        mails = len(mail.outbox)

        assert organization_export_build(organization=tenant.organization, export_id=export.pk) == ExportState.READY

        again = OrganizationExport.objects.get()
    assert (again.file.name, again.finished_at) == (export.file.name, export.finished_at)
    assert len(mail.outbox) == mails


@pytest.mark.chaos
@pytest.mark.django_db(transaction=True)
def test_storage_failure_fails_the_export_with_a_reason_and_no_mail(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("storage down")

    monkeypatch.setattr("erp.exports.export_write", unreachable)
    tenant.client.post(reverse("settings_export"))
    with organization_scope(tenant.organization):
        export = OrganizationExport.objects.get()
    assert export.state == ExportState.FAILED
    assert "storage" in export.error
    assert not [message for message in mail.outbox if "export" in message.subject]
    page = tenant.client.get(reverse("settings_organization")).content.decode()
    assert "Failed" in page
    api = tenant.client.get(f"/api/v1/organization/exports/{export.pk}/download/")
    assert api.status_code == 409


@pytest.mark.django_db(transaction=True)
def test_a_file_missing_from_storage_is_listed_not_fatal(tenant: Tenant) -> None:
    purchase = _seed(tenant)
    purchase.label_pdf.storage.delete(purchase.label_pdf.name)
    tenant.client.post(reverse("settings_export"))
    with organization_scope(tenant.organization):
        export = OrganizationExport.objects.get(requested_by=tenant.owner)
    assert export.state == ExportState.READY
    archive = _read_zip(_download(tenant.client, export))
    assert [row["storage_key"] for row in _csv(archive, "files_missing.csv")] == [purchase.label_pdf.name]
    assert f"files/{purchase.label_pdf.name}" not in archive.namelist()
