"""Tenant scoping: the one mechanism through which every query of tenant data goes.

An Organization is the tenant. Tenant-owned models inherit `TenantModel`; their default manager (`objects`) filters by
the organization in scope and RAISES when none is in scope, so a forgotten filter fails loudly instead of returning
every seller's rows (fail closed). The scope is a context variable opened by exactly three things:

* `erp.middleware.OrganizationMiddleware` for every dashboard request (the user's current organization),
* `erp.api.views.OrganizationAPIView` for every API request (from the session or the API key),
* `erp.tasks.task` for every Celery task (from its `organization_id` argument),

and by `organization_scope()` in management commands and tests. A deliberate cross-tenant read uses the
`unscoped` manager, whose name makes it stand out in review (resolving a membership, authenticating an API key,
a platform webhook that names a shop). See docs/adr/0001-tenancy.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from django.db import models

from erp.ids import uuid7

if TYPE_CHECKING:
    from erp.models import Organization

_current_organization: ContextVar[Organization | None] = ContextVar("dropline_organization", default=None)


class NoOrganizationInScope(RuntimeError):
    """Tenant data was queried with no organization in scope: a bug, never a user error."""


class CrossTenantWrite(RuntimeError):
    """A row of one organization was about to be saved while another organization is in scope."""


@contextmanager
def organization_scope(organization: Organization | None) -> Iterator[Organization | None]:
    token = _current_organization.set(organization)
    try:
        yield organization
    finally:
        _current_organization.reset(token)


def activate_organization(organization: Organization | None) -> Token:
    """Open a scope that must be closed with `reset_organization(token)` in a `finally` (for the API base view,
    whose organization is known only after authentication, in the middle of DRF's dispatch)."""
    return _current_organization.set(organization)


def reset_organization(token: Token) -> None:
    _current_organization.reset(token)


def current_organization() -> Organization:
    organization = _current_organization.get()
    if organization is None:
        raise NoOrganizationInScope(
            "Tenant data queried without an organization in scope. Open one with organization_scope(), "
            "or use Model.unscoped for a deliberate cross-tenant read."
        )
    return organization


def organization_in_scope() -> Organization | None:
    return _current_organization.get()


class TenantQuerySet(models.QuerySet):
    pass


# Named at module level: django-stubs resolves `from_queryset` only here, and so types every tenant `objects`.
_TenantManagerBase = models.Manager.from_queryset(TenantQuerySet)


class TenantManager(_TenantManagerBase):
    """Default manager of tenant-owned models: rows of the organization in scope, or an error."""

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().filter(organization=current_organization())

    def none(self) -> models.QuerySet[Any]:
        """Empty in every scope, so it needs none (schema generation, form fields declared at import)."""
        return TenantQuerySet(model=self.model, using=self._db).none()


class UnscopedManager(models.Manager):
    """Every organization's rows. Each use is a deliberate cross-tenant read; keep them few and obvious."""


class TenantModel(models.Model):
    """Base of every tenant-owned model: a UUIDv7 key, a non-null indexed organization, the fail-closed manager."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        "erp.Organization", on_delete=models.CASCADE, related_name="+", editable=False, db_index=True
    )

    objects = TenantManager()
    unscoped = UnscopedManager()

    # Django's internal lookups (FK access, refresh_from_db, save's UPDATE, cascades) use `_base_manager`, a plain
    # Manager: they are keyed by a primary key that was itself reached through a scoped query or a row in hand.

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        in_scope = organization_in_scope()
        if self.organization_id is None:
            self.organization = current_organization()
        elif in_scope is not None and in_scope.pk != self.organization_id:
            raise CrossTenantWrite(
                f"{type(self).__name__} of organization {self.organization_id} saved in the scope of {in_scope.pk}"
            )
        super().save(*args, **kwargs)
