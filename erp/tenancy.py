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

On PostgreSQL the same scope is the second wall (docs/adr/0023-row-level-security.md): every tenant table has a
FORCEd row-level security policy, and the database backend (erp.db_backends.postgresql) copies the organization in
scope onto the connection before each query. A query that forgets the scope then sees nothing of another tenant.
Work that reaches across tenants on purpose says so with `cross_tenant(reason=...)`, which the policy accepts;
the `unscoped` manager enters it by itself outside any organization's scope (inside one, RLS still confines it),
and the sweeper tasks (`@task(tenant=False)`) run in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models.signals import class_prepared

from erp.ids import uuid7

if TYPE_CHECKING:
    from erp.models import Organization

_current_organization: ContextVar[Organization | None] = ContextVar("dropline_organization", default=None)
# Why the code in this context reads or writes every organization's rows (None: it does not). Only the database wall
# reads it: the application-level manager is unaffected (`objects` still needs an organization in scope).
_cross_tenant_reason: ContextVar[str | None] = ContextVar("dropline_cross_tenant", default=None)


class NoOrganizationInScope(RuntimeError):
    """Tenant data was queried with no organization in scope: a bug, never a user error."""


class CrossTenantWrite(RuntimeError):
    """A row of one organization was about to be saved while another organization is in scope."""


@contextmanager
def organization_scope(organization: Organization | None) -> Iterator[Organization | None]:
    """Tenant data of `organization` only, inside the block. It also narrows an enclosing `cross_tenant()`: a
    sweeper that serves every organization handles each one inside its scope, behind both walls."""
    token = _current_organization.set(organization)
    cross_token = _cross_tenant_reason.set(None)
    try:
        yield organization
    finally:
        _cross_tenant_reason.reset(cross_token)
        _current_organization.reset(token)


@contextmanager
def cross_tenant(*, reason: str) -> Iterator[None]:
    """Lift the database wall (row-level security) inside the block, for work that reaches across tenants on purpose:
    a sweeper iterating over every organization, authenticating an API key by its prefix, a platform webhook naming
    a shop, exporting or deleting an organization. `reason` says why, for the reader (and the query log).

    The application-level wall is untouched: `Model.objects` still needs an organization in scope, so inside the
    block cross-tenant reads are `Model.unscoped` (which enters this by itself), raw SQL, or related rows of a row
    already in hand. Keep the block as small as the work that needs it."""
    if not reason.strip():
        raise ValueError("cross_tenant() needs a reason")
    token = _cross_tenant_reason.set(reason)
    try:
        yield
    finally:
        _cross_tenant_reason.reset(token)


def database_scope() -> tuple[str, bool]:
    """What the database backend sets on the connection before a query: the organization id in scope ('' for none)
    and whether the row-level security policies let every organization's rows through."""
    organization = _current_organization.get()
    return ("" if organization is None else str(organization.pk), _cross_tenant_reason.get() is not None)


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


class UnscopedQuerySet(models.QuerySet):
    """Every organization's rows, as far as the application wall goes. The database wall decides by the scope:

    * outside any organization's scope (authenticating an API key, a platform webhook, a sweeper, a test's
      assertion), each statement it runs is a deliberate cross-tenant read and runs inside `cross_tenant()`;
    * inside an organization's scope (a dashboard request, an API call, a tenant task), row-level security still
      confines it to that organization, so an `unscoped` slipped into a view by mistake shows nothing foreign.
      Code that must see other organizations from there (is this seller account connected elsewhere?) says so
      with `with cross_tenant(reason=...)` around the query.

    Only the statement itself is lifted: a related row reached later from a row it returned (a foreign key not in
    `select_related`) is read under the caller's scope. Used as a subquery, it runs under the outer query's."""

    def _lifted(self) -> Any:
        if organization_in_scope() is not None:
            return nullcontext()
        return cross_tenant(reason=f"{self.model.__name__}.unscoped outside any organization's scope")

    def _fetch_all(self) -> None:
        with self._lifted():
            super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Iterator[Any]:
        rows = super().iterator(chunk_size)
        while True:  # lifted only while fetching, not while the caller handles each row between fetches
            with self._lifted():
                row = next(rows, _EXHAUSTED)
            if row is _EXHAUSTED:
                return
            yield row

    def count(self) -> int:
        with self._lifted():
            return super().count()

    def exists(self) -> bool:
        with self._lifted():
            return super().exists()

    def contains(self, obj: Any) -> bool:
        with self._lifted():
            return super().contains(obj)

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with self._lifted():
            return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        with self._lifted():
            return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        with self._lifted():
            return super().delete()

    def create(self, **kwargs: Any) -> Any:
        with self._lifted():
            return super().create(**kwargs)

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        with self._lifted():
            return super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        with self._lifted():
            return super().bulk_update(*args, **kwargs)

    def get_or_create(self, *args: Any, **kwargs: Any) -> tuple[Any, bool]:
        with self._lifted():
            return super().get_or_create(*args, **kwargs)

    def update_or_create(self, *args: Any, **kwargs: Any) -> tuple[Any, bool]:
        with self._lifted():
            return super().update_or_create(*args, **kwargs)

    def explain(self, **options: Any) -> str:
        with self._lifted():
            return super().explain(**options)


def _leads_with_organization(fields: Any) -> bool:
    return bool(fields) and str(fields[0]).lstrip("-") in ("organization", "organization_id")


def _organization_indexed_once(sender: type[models.Model], **kwargs: Any) -> None:
    """Drop the organization's own index where one of the model's indexes starts with it. Every tenant statement
    names the organization, and the planner, while a table has no statistics yet, may AND that index (which
    holds every row of the tenant) with the selective one: a lookup of one row then reads the whole tenant's index,
    every time (docs/adr/0036). Writes also keep one index fewer up to date. Partial indexes do not count: they do
    not hold every row."""
    if not issubclass(sender, TenantModel) or sender._meta.abstract or sender._meta.proxy:
        return
    indexes = [index.fields for index in sender._meta.indexes if index.condition is None]
    indexes += [
        constraint.fields
        for constraint in sender._meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None
    ]
    if any(_leads_with_organization(fields) for fields in indexes):
        sender._meta.get_field("organization").db_index = False  # type: ignore[attr-defined]


class_prepared.connect(_organization_indexed_once)


_EXHAUSTED = object()
_UnscopedManagerBase = models.Manager.from_queryset(UnscopedQuerySet)


class UnscopedManager(_UnscopedManagerBase):
    """Every organization's rows. Each use is a deliberate cross-tenant read; keep them few and obvious."""


class TenantModel(models.Model):
    """Base of every tenant-owned model: a UUIDv7 key, a non-null indexed organization, the fail-closed manager.

    The organization has an index of its own unless the model declares one that starts with it (an index or unique
    constraint on `organization, …`), which serves the same lookups (`_organization_indexed_once`)."""

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
        with self._own_scope_if_none():
            super().save(*args, **kwargs)

    def _own_scope_if_none(self) -> Any:
        """A row in hand saved, read again or deleted outside any scope (a platform webhook, a sweeper) is so in its
        own organization's scope: the database wall serves it, and it can touch nothing of another tenant. The
        organization is the loaded one or a stand-in with its id (no query). Not when the organization is deferred:
        reading it would come back here."""
        organization_id = self.__dict__.get("organization_id")
        if organization_in_scope() is not None or organization_id is None:
            return nullcontext()
        from erp.models import Organization  # erp.models imports this module

        organization = self._state.fields_cache.get("organization") or Organization(pk=organization_id)
        return organization_scope(organization)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        with self._own_scope_if_none():
            super().refresh_from_db(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with self._own_scope_if_none():  # the row and its cascade
            return super().delete(*args, **kwargs)

    delete.alters_data = True  # type: ignore[attr-defined]
