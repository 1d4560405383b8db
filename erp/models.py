"""The core: users, organizations (the tenants), memberships, invitations, API keys and the audit log."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone

from erp.ids import uuid7
from erp.roles import ROLE_PERMISSIONS, Perm, ResourceFamily, Role, scope_permissions
from erp.tenancy import TenantManager, TenantModel, TenantQuerySet
from erp.units import UnitSystem

TIME_ZONE_CHOICES = sorted((tz, tz) for tz in available_timezones() if "/" in tz and not tz.startswith("Etc/"))


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Signs in with an email address; belongs to organizations through memberships."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Organization(models.Model):
    """The tenant: a seller's business. Everything a seller owns hangs off one of these."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="America/Los_Angeles", choices=TIME_ZONE_CHOICES)
    # Packing slips: the seller's logo and a message to the buyer.
    slip_logo = models.FileField(upload_to="branding/", blank=True)
    slip_message = models.CharField(max_length=300, default="Thank you for your order!", blank=True)
    # The units people type and read weights and lengths in (erp.units); what is stored keeps its canonical unit.
    unit_system = models.CharField(max_length=8, choices=UnitSystem.choices, default=UnitSystem.IMPERIAL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_organization")
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def permissions(self) -> frozenset[Perm]:
        return ROLE_PERMISSIONS[Role(self.role)]


class Invitation(TenantModel):
    """An email invitation to join an organization. Only the SHA-256 of its token is stored."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class APIKey(TenantModel):
    """A partner system's key. The caller sends `dl_<prefix>_<secret>`; we keep the prefix and SHA-256(secret).

    `scopes` say what it may do, read or write per resource family (erp.roles.SCOPE_PERMISSIONS); a key bound to a
    `warehouse` (a supplier's or 3PL's system) may use only the endpoints that serve one warehouse's work, and sees
    only that warehouse's rows there (docs/adr/0021-partner-api-semantics.md)."""

    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)  # e.g. ["orders:read", "labels:write"]; erp.roles.KEY_SCOPES
    # Named by string: erp sits below inventory and imports nothing from it (the layer contract in pyproject.toml).
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys"
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"API key “{self.name}”"

    def permissions_for(self, family: ResourceFamily) -> frozenset[Perm]:
        """What this key may do on `family`'s endpoints (nothing on a family its scopes do not name)."""
        return scope_permissions(self.scopes, family)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEntryQuerySet(TenantQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only")


class AuditEntry(TenantModel):
    """Append-only: who did what to which object, and when. Rows are inserted, never updated or deleted through the
    ORM, and on PostgreSQL a trigger rejects every UPDATE (see the migration). Rows go only with their organization.
    The actor columns keep their id without a foreign-key constraint, so deleting a user never rewrites history;
    `actor_label` says who it was."""

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor_user = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        APIKey, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)  # kept even if the user or key is later deleted
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = TenantManager.from_queryset(AuditEntryQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_org_created")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_label}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("The audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only")


class Heartbeat(models.Model):
    """When each background process last proved it was alive; the dashboard warns when they go quiet."""

    name = models.CharField(max_length=32, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class IdempotencyKey(TenantModel):
    """A client's `Idempotency-Key` and the answer its request got (docs/adr/0021-partner-api-semantics.md).

    Inserted *before* the request's change, in the same transaction: while that transaction runs, a second request
    with the key waits on the unique index; once it commits, the key and the change exist together, and a retry
    replays `response_*` instead of changing anything a second time. A refused request rolls back and leaves no row.
    Keys belong to their owner (an API key, or a member) and expire after `IDEMPOTENCY_TTL`."""

    owner = models.CharField(max_length=64)  # "key:<api key id>" or "user:<user id>"
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body (JSON canonicalised): a key reused for another request is an error
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "owner", "key"], name="idempotency_unique_owner_key")
        ]

    def __str__(self) -> str:
        return f"Idempotency-Key {self.key}"


class ExportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"  # the zip was deleted from storage; ask for a new export


class OrganizationExport(TenantModel):
    """One "Export all data": a zip of CSV + the organization's files, built by a worker (erp.exports) and
    downloadable until `expires_at` by members who may export (docs/adr/0025-export-and-deletion.md)."""

    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_by_label = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=ExportState.choices, default=ExportState.QUEUED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export of {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_downloadable(self) -> bool:
        return (
            self.state == ExportState.READY
            and bool(self.file)
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )


class OrganizationDeletion(models.Model):
    """A platform-level record that an organization was deleted, kept after every row of it is gone (its audit log
    goes with it). No personal data: ids, when, and how many rows and files went (erp.deletion)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    deleted_organization_id = models.UUIDField(db_index=True)  # no foreign key: the organization is gone
    deleted_by_user_id = models.BigIntegerField(null=True, blank=True)  # no foreign key: a user may be deleted too
    deleted_at = models.DateTimeField(default=timezone.now)
    rows_deleted = models.JSONField(default=dict)  # {"app_label.Model": count}
    files_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"Organization {self.deleted_organization_id} deleted {self.deleted_at:%Y-%m-%d %H:%M}"
