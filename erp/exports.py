"""Per-organization data export: everything a seller owns, as one zip of CSV files plus the files it stored.

What goes in is discovered, not listed: every concrete `TenantModel` in the model registry becomes
`<app>/<model>.csv` (one row per row of the organization, every concrete column), so a model added tomorrow is
exported without touching this module. What stays out is said here, each with its reason, and
tests/erp/test_exports.py fails when a tenant model, or a field whose name looks like a secret, is in neither list:

* `EXCLUDED_MODELS`: whole tables that are not the seller's data;
* `EXCLUDED_FIELDS`: secrets (hashes of API keys and invitation links); every `EncryptedTextField` (platform tokens)
  is left out by its type too, so a new encrypted column can never leak into a zip;
* `NOT_SECRETS`: columns whose name looks like a secret but holds none (`package_key`, the shop `cipher`).

The zip is written by a worker (large organizations take minutes) into a temporary file on disk, one CSV row and one
file chunk at a time, so the worker's memory stays flat whatever the organization's size; it is then stored through
the storage API (streamed to the bucket) and downloadable until it expires. docs/adr/0025-export-and-deletion.md.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from erp.actors import Actor
from erp.crypto import EncryptedTextField
from erp.csv_cells import csv_writer
from erp.models import ExportState, Membership, Organization, OrganizationExport, User
from erp.roles import Perm
from erp.storage import storage_errors
from erp.tenancy import TenantModel, organization_scope

logger = logging.getLogger(__name__)

EXCLUDED_MODELS: dict[str, str] = {
    "erp.IdempotencyKey": "a 24-hour replay cache of API answers (Idempotency-Key), not the seller's data",
    "erp.OrganizationExport": "the exports themselves: links to earlier zips of this same data",
}

EXCLUDED_FIELDS: dict[str, dict[str, str]] = {
    "erp.APIKey": {"secret_hash": "the hash of an API key's secret: enough to attack the key offline"},
    "erp.Invitation": {"token_hash": "the hash of an invitation link's token"},
    "integrations.SellerAuthorization": {
        "access_token": "a platform access token (encrypted at rest): a credential, never handed out",
        "refresh_token": "a platform refresh token (encrypted at rest): a credential, never handed out",
    },
}

NOT_SECRETS: dict[str, dict[str, str]] = {
    "erp.AuditEntry": {"actor_api_key": "the id of the key that acted, never its secret"},
    "integrations.SellerAuthorization": {
        "access_token_expires_at": "when the token expires, not the token",
        "refresh_token_expires_at": "when the token expires, not the token",
    },
    "integrations.TikTokShopSettings": {"cipher": "TikTok's shop cipher: an identifier sent with every request"},
    "shipping.LabelPurchase": {"package_key": "which part of an order a package carries (docs/adr/0019)"},
    "shipping.PackageChange": {"key": "the change's own idempotency key toward the platform, no credential"},
    "aftersales.Decision": {"key": "the decision's own idempotency key toward the platform, no credential"},
    "webhooks.WebhookEndpoint": {"previous_secret_expires_at": "when the rotated-out secret stops signing, not it"},
}

# The members' accounts are not tenant rows (a person may belong to several organizations): only who they are.
USER_COLUMNS = ("id", "email", "first_name", "last_name", "date_joined", "last_login")
ORGANIZATION_COLUMNS = ("id", "name", "time_zone", "unit_system", "slip_message", "slip_logo", "created_at")
CHUNK_ROWS = 2000
COPY_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class ExportTable:
    model: type[TenantModel]
    path: str  # inside the zip
    columns: tuple[str, ...]  # attnames: `store_id`, not `store`
    file_columns: tuple[str, ...]  # FileFields: their files are copied under files/


def tenant_models() -> list[type[TenantModel]]:
    """Every concrete tenant model, in the registry's order."""
    return [model for model in apps.get_models() if issubclass(model, TenantModel)]


def _excluded_field(model: type[models.Model], field: models.Field) -> bool:
    return isinstance(field, EncryptedTextField) or field.name in EXCLUDED_FIELDS.get(model._meta.label, {})


def export_tables() -> list[ExportTable]:
    tables = []
    for model in tenant_models():
        if model._meta.label in EXCLUDED_MODELS:
            continue
        fields = [field for field in model._meta.concrete_fields if not _excluded_field(model, field)]
        tables.append(
            ExportTable(
                model=model,
                path=f"{model._meta.app_label}/{model._meta.model_name}.csv",
                columns=tuple(field.attname for field in fields),
                file_columns=tuple(field.attname for field in fields if isinstance(field, models.FileField)),
            )
        )
    return tables


def _cell(value: Any) -> Any:
    """A value as a CSV cell: numbers stay numbers (csv_cells neutralizes text only), the rest is text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False)
    if isinstance(value, UUID):
        return str(value)
    return str(value)


@dataclass
class ExportSummary:
    rows: dict[str, int]
    files: int
    files_missing: list[str]


class _ZipWriter:
    """CSV files and stored files written into one zip, each streamed: memory holds a chunk of rows at a time."""

    def __init__(self, out: IO[bytes]) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)

    def csv(self, path: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> int:
        count = 0
        with self.zip.open(path, "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv_writer(text)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_cell(value) for value in row])
                count += 1
            text.flush()
            text.detach()
        return count

    def file(self, path: str, head: bytes, rest: IO[bytes]) -> None:
        with self.zip.open(path, "w", force_zip64=True) as target:
            target.write(head)
            shutil.copyfileobj(rest, target, COPY_BUFFER)

    def text(self, path: str, content: str) -> None:
        self.zip.writestr(path, content)

    def close(self) -> None:
        self.zip.close()


def _rows(model: type[TenantModel], columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    # In the organization's scope: `objects` holds its rows only. A server-side cursor on PostgreSQL.
    return model.objects.order_by("pk").values_list(*columns).iterator(chunk_size=CHUNK_ROWS)


def _file_names(table: ExportTable) -> Iterator[str]:
    for column in table.file_columns:
        names = table.model.objects.exclude(**{column: ""}).order_by("pk").values_list(column, flat=True)
        yield from names.iterator(chunk_size=CHUNK_ROWS)


def organization_files(organization: Organization) -> Iterator[str]:
    """The storage key of every file the organization owns (its logo, label PDFs, any model's FileField), the
    exports' own zips included. Call inside the organization's scope."""
    if organization.slip_logo.name:
        yield organization.slip_logo.name
    for model in tenant_models():
        columns = tuple(f.attname for f in model._meta.concrete_fields if isinstance(f, models.FileField))
        if columns:
            yield from _file_names(ExportTable(model=model, path="", columns=columns, file_columns=columns))


def _copy_file(writer: _ZipWriter, name: str, summary: ExportSummary) -> None:
    from django.core.files.storage import default_storage

    try:
        with default_storage.open(name, "rb") as source:
            # A bucket opens lazily: a missing object raises on this first read, before the zip has an entry for it.
            head = source.read(COPY_BUFFER)
            writer.file(f"files/{name}", head, source)
        summary.files += 1
    except FileNotFoundError:
        summary.files_missing.append(name)


def export_write(*, organization: Organization, out: IO[bytes]) -> ExportSummary:
    """Write the organization's zip into `out` (a file open for binary writing). Call inside its scope."""
    writer = _ZipWriter(out)
    summary = ExportSummary(rows={}, files=0, files_missing=[])
    summary.rows["erp/organization.csv"] = writer.csv(
        "erp/organization.csv",
        ORGANIZATION_COLUMNS,
        [[getattr(organization, column) for column in ORGANIZATION_COLUMNS]],
    )
    members = User.objects.filter(pk__in=Membership.objects.values("user_id")).order_by("pk")
    summary.rows["erp/user.csv"] = writer.csv(
        "erp/user.csv", USER_COLUMNS, members.values_list(*USER_COLUMNS).iterator(chunk_size=CHUNK_ROWS)
    )
    for table in export_tables():
        summary.rows[table.path] = writer.csv(table.path, table.columns, _rows(table.model, table.columns))
    if organization.slip_logo.name:
        _copy_file(writer, organization.slip_logo.name, summary)
    for table in export_tables():
        for name in _file_names(table):
            _copy_file(writer, name, summary)
    writer.csv("manifest.csv", ("file", "rows"), sorted(summary.rows.items()))
    if summary.files_missing:
        writer.csv("files_missing.csv", ("storage_key",), ([name] for name in summary.files_missing))
    writer.text("README.txt", render_to_string("exports/README.txt", {"organization": organization}))
    writer.close()
    return summary


# ------------------------------------------------------------------------------------------------- services
def organization_export_request(
    *, organization: Organization, actor: Actor, permissions: frozenset[Perm]
) -> OrganizationExport:
    """Queue an export of everything the organization owns (owners and admins). Audited; the zip is built by
    `erp.organization_export_build` after commit, and the requester is emailed when it is ready."""
    if Perm.ORGANIZATION_EXPORT not in permissions:
        raise PermissionDenied("Only owners and admins can export the organization's data.")
    from erp.services import audit_record
    from erp.tasks import organization_export_build

    with transaction.atomic(), organization_scope(organization):
        export = OrganizationExport.objects.create(requested_by=actor.user, requested_by_label=actor.label[:200])
        audit_record(organization=organization, actor=actor, action="organization.export_requested", target=export)
        organization_export_build.delay_on_commit(organization_id=str(organization.pk), export_id=str(export.pk))
    return export


def organization_export_build(*, organization: Organization, export_id: UUID | str) -> str:
    """Build, store and announce one export. Safe to run twice (Celery delivers at least once; a long export may
    outlive the broker's visibility timeout): a finished export is left alone, and of two concurrent builds the
    second to finish deletes its own zip."""
    with organization_scope(organization):
        export = OrganizationExport.objects.filter(pk=export_id).first()
        if export is None or export.state != ExportState.QUEUED:
            return export.state if export is not None else "gone"
        try:
            with tempfile.NamedTemporaryFile(suffix=".zip") as spool:
                summary = export_write(organization=organization, out=spool)
                spool.flush()
                spool.seek(0)
                stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
                export.file.save(f"dropline-export-{organization.pk}-{stamp}.zip", File(spool), save=False)
        except storage_errors():
            logger.exception("export %s failed: file storage", export_id)
            return _export_settle(export, state=ExportState.FAILED, error="The file storage could not be reached.")
        except Exception:
            # Settled, not retried: a bug would fail again; the row says so and the seller can ask again.
            logger.exception("export %s failed", export_id)
            return _export_settle(export, state=ExportState.FAILED, error="The export failed. Try again.")
        return _export_settle(export, state=ExportState.READY, summary=summary)


def _export_settle(
    export: OrganizationExport, *, state: str, summary: ExportSummary | None = None, error: str = ""
) -> str:
    now = timezone.now()
    expires_at = now + timedelta(days=settings.ORGANIZATION_EXPORT_VALID_DAYS)
    won = OrganizationExport.objects.filter(pk=export.pk, state=ExportState.QUEUED).update(
        state=state,
        finished_at=now,
        expires_at=expires_at if state == ExportState.READY else None,
        file=export.file.name or "",
        size_bytes=export.file.size if export.file else None,
        error=error,
    )
    if not won:  # another delivery of this task finished first: keep its zip, drop ours
        if export.file:
            export.file.delete(save=False)
        return "duplicate"
    if state == ExportState.READY and export.requested_by is not None:
        _export_mail(export, expires_at=expires_at, summary=summary)
    return state


def _export_mail(export: OrganizationExport, *, expires_at: datetime, summary: ExportSummary | None) -> None:
    from erp.tasks import email_send

    assert export.requested_by is not None
    url = settings.DROPLINE_PUBLIC_URL + reverse("settings_export_download", args=[export.pk])
    email_send.delay_on_commit(
        to=[export.requested_by.email],
        subject=f"Your Dropline data export of {export.organization.name} is ready",
        body=render_to_string(
            "emails/export_ready.txt",
            {"export": export, "url": url, "expires_at": expires_at, "summary": summary},
        ),
    )


def organization_export_downloaded(*, organization: Organization, actor: Actor, export: OrganizationExport) -> None:
    from erp.services import audit_record

    audit_record(organization=organization, actor=actor, action="organization.export_downloaded", target=export)


def organization_exports_expire() -> int:
    """Beat: delete the zips of exports past their expiry (a zip is every buyer's address: keep it no longer than
    promised). The rows stay, marked expired, as the record that an export was made."""
    expired = 0
    # cross-tenant: one sweep over every organization's expired exports, each then handled in its own scope.
    due = OrganizationExport.unscoped.filter(state=ExportState.READY, expires_at__lte=timezone.now())
    for export in due.select_related("organization").order_by("pk").iterator(chunk_size=CHUNK_ROWS):
        with organization_scope(export.organization):
            if export.file:
                export.file.delete(save=False)
            OrganizationExport.objects.filter(pk=export.pk).update(state=ExportState.EXPIRED, file="")
        expired += 1
    return expired
