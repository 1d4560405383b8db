"""Reads of the core."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from erp.models import AuditEntry, Heartbeat, Invitation, Membership, OrganizationExport, User
from erp.tenancy import cross_tenant


def memberships_of_user(*, user: User) -> list[Membership]:
    """All of a user's memberships, across organizations: how the current organization is resolved, so it is a
    deliberate cross-tenant read keyed by the signed-in user."""
    with cross_tenant(reason="a user's memberships span organizations"):
        return list(Membership.unscoped.filter(user=user).select_related("organization").order_by("organization__name"))


def members_list() -> QuerySet[Membership]:
    return Membership.objects.select_related("user").order_by("created_at")


def invitations_open() -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def organization_exports_recent(*, limit: int = 5) -> list[OrganizationExport]:
    return list(OrganizationExport.objects.order_by("-created_at")[:limit])


def audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.all()


HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


def background_is_running() -> bool:
    """Whether beat and a worker ran the heartbeat task recently (imports, label purchases depend on them)."""
    return Heartbeat.objects.filter(name="background", seen_at__gte=timezone.now() - HEARTBEAT_STALE_AFTER).exists()
