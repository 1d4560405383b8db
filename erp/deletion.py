"""Deleting an organization: every row and every file it owns, and a platform-level record that it happened.

The order (docs/adr/0025-export-and-deletion.md):
1. the owner confirms by typing the organization's name; nothing happens otherwise;
2. files first (label PDFs, the slip logo, export zips), every version of each on a versioned bucket: if a later step
   fails, running the deletion again finishes it, while the other order could leave files no row points at;
3. then, in one transaction, every tenant table's rows of the organization, children before parents (a topological
   order of the foreign keys found in the model registry, so a new model needs no change here), then the
   organization itself. The audit log goes too: its trigger rejects UPDATE only; DELETE is how an organization's
   history leaves with it (the ORM's `delete()` on it stays refused for everyone else);
4. a log line and an `OrganizationDeletion` row with ids and counts only (the audit log is gone with the tenant).

The deletion runs inside the organization's own scope, so row-level security, once on, sees its rows and nothing
else. Platform grants: the platforms' published contracts offer no call that revokes a seller's authorization (TikTok
Shop ends it when the seller deauthorizes the app in Seller Center; Shopify when the app is uninstalled), so
Dropline destroys its copy of the tokens with the rows and the page tells the owner where to remove the app.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router, transaction

from erp.actors import Actor
from erp.exports import organization_files, tenant_models
from erp.models import Membership, Organization, OrganizationDeletion
from erp.roles import Perm
from erp.storage import storage_delete_everywhere
from erp.tenancy import TenantModel, organization_scope

logger = logging.getLogger(__name__)


def deletion_order(models_: Iterable[type[TenantModel]]) -> list[type[TenantModel]]:
    """Tenant models ordered so that every model comes before the models its foreign keys point at (children first).
    Raises on a cycle of foreign keys, which would need a column nulled first: a new model that makes one must say
    how here."""
    remaining = {model: _parents(model) for model in models_}
    ordered: list[type[TenantModel]] = []
    while remaining:
        # A model nobody left points at can go now.
        pointed_at = {parent for parents in remaining.values() for parent in parents}
        free = [model for model in remaining if model not in pointed_at]
        if not free:
            raise RuntimeError(f"Foreign keys form a cycle among {sorted(m._meta.label for m in remaining)}")
        for model in sorted(free, key=lambda m: m._meta.label):
            ordered.append(model)
            del remaining[model]
    return ordered


def _parents(model: type[TenantModel]) -> set[type[models.Model]]:
    parents: set[type[models.Model]] = set()
    for field in model._meta.concrete_fields:
        parent = field.related_model
        if isinstance(parent, type) and parent is not model and issubclass(parent, TenantModel):
            parents.add(parent)
    return parents


def _confirm(*, organization: Organization, actor: Actor, confirmation: str) -> None:
    if actor.user is None:
        raise PermissionDenied("Only the owner can delete the organization, from the dashboard.")
    with organization_scope(organization):
        membership = Membership.objects.filter(user=actor.user).first()
    if membership is None or Perm.ORGANIZATION_MANAGE not in membership.permissions:
        raise PermissionDenied("Only the owner can delete the organization.")
    if confirmation.strip() != organization.name:
        raise ValidationError({"confirmation": "Type the organization's name exactly as it is shown to delete it."})


def organization_delete(*, organization: Organization, actor: Actor, confirmation: str) -> OrganizationDeletion:
    """Delete the organization with every row and file it owns. Owner only, confirmed by its name typed."""
    _confirm(organization=organization, actor=actor, confirmation=confirmation)
    organization_id = organization.pk
    logger.warning("organization %s: deletion started by user %s", organization_id, actor.user.pk if actor.user else "")
    with organization_scope(organization):
        files = sorted(set(organization_files(organization)))
    for name in files:
        storage_delete_everywhere(name)
    rows: dict[str, int] = {}
    with transaction.atomic(), organization_scope(organization):
        for model in deletion_order(tenant_models()):
            # `_raw_delete`: one DELETE … WHERE organization_id = … per table, no per-row signals or collector
            # queries, and the audit log's QuerySet.delete() refusal does not apply (its trigger allows DELETE).
            queryset = model.objects.all()
            count = queryset._raw_delete(router.db_for_write(model))
            if count:
                rows[model._meta.label] = count
        Organization.objects.filter(pk=organization_id).delete()
        record = OrganizationDeletion.objects.create(
            deleted_organization_id=organization_id,
            deleted_by_user_id=actor.user.pk if actor.user else None,
            rows_deleted=rows,
            files_deleted=len(files),
        )
    logger.warning(
        "organization %s deleted by user %s: %d rows in %d tables, %d files",
        organization_id,
        actor.user.pk if actor.user else "",
        sum(rows.values()),
        len(rows),
        len(files),
    )
    return record
