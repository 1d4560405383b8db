"""Writes of the core: sign-up, organizations, members, invitations, API keys, the audit log.

Dashboard views, API views, management commands and tasks all call these, so every path behaves the same and is
audited the same. Each takes the organization explicitly; tenant rows are created inside its scope.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.models import APIKey, AuditEntry, Heartbeat, Invitation, Membership, Organization, User
from erp.roles import API_KEY_PRESETS, KEY_SCOPES, ROLE_RANK, APIKeyScope, Role
from erp.tasks import email_send
from erp.tenancy import cross_tenant, organization_scope
from erp.units import UnitSystem

API_KEY_TAG = "dl"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --------------------------------------------------------------------------------------------------- audit log
def audit_record(
    *,
    organization: Organization,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. `action` is `<noun>.<verb>` (store.connected, label.bought, member.invited...)."""
    with organization_scope(organization):
        return AuditEntry.objects.create(
            actor_user=actor.user,
            actor_api_key=actor.api_key,
            actor_label=actor.label[:200],
            action=action,
            target_type=target._meta.model_name if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_label=str(target)[:200] if target is not None else "",
            changes=changes or {},
            ip_address=actor.ip_address,
        )


# ------------------------------------------------------------------------------------------ sign-up and orgs
@transaction.atomic
def organization_create(*, name: str, owner: User, actor: Actor | None = None) -> Organization:
    organization = Organization.objects.create(name=name.strip())
    with organization_scope(organization):
        Membership.objects.create(user=owner, role=Role.OWNER)
    audit_record(
        organization=organization,
        actor=actor or Actor.for_user(owner),
        action="organization.created",
        target=organization,
        changes={"name": organization.name},
    )
    return organization


def _user_create(*, email: str, password: str, full_name: str, active: bool = True) -> User:
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "An account with this email address already exists. Sign in instead."})
    first, _, last = full_name.strip().partition(" ")
    return User.objects.create_user(email=email, password=password, first_name=first, last_name=last, is_active=active)


@transaction.atomic
def user_sign_up(
    *, email: str, password: str, organization_name: str, full_name: str = "", active: bool = True
) -> User:
    """A new seller: the user, their organization, and their owner membership. `active=False`: the account cannot
    sign in until its address is confirmed (`user_sign_up_confirm`)."""
    user = _user_create(email=email, password=password, full_name=full_name, active=active)
    organization_create(name=organization_name, owner=user)
    return user


def user_sign_up_request(
    *, email: str, password: str, organization_name: str, base_url: str, full_name: str = ""
) -> None:
    """Self sign-up, answered the same way whether or not the address has an account (docs/adr/0013): the page
    always says "check your email", and one email goes to the address:
    - a free address: the account and its organization are made, unable to sign in until the emailed link confirms
      the address (otherwise signing in with the password just chosen would tell who already had an account);
    - an address whose account was never confirmed: the link again (the first email may be lost);
    - an address with an account: its owner is told someone tried, with sign-in and reset links."""
    from erp.lockout import email_send_now_or_queue

    email = User.objects.normalize_email(email).lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        user = user_sign_up(
            email=email, password=password, organization_name=organization_name, full_name=full_name, active=False
        )
        _sign_up_confirmation_send(user=user, base_url=base_url)  # user_sign_up has committed
    elif _unconfirmed(existing):
        _sign_up_confirmation_send(user=existing, base_url=base_url)
    else:
        context = {"login_url": f"{base_url}/accounts/login/", "reset_url": f"{base_url}/accounts/password-reset/"}
        email_send_now_or_queue(
            to=[email],
            subject="You already have a Dropline account",
            body=render_to_string("emails/signup_existing.txt", context),
        )


def _unconfirmed(user: User) -> bool:
    return not user.is_active and user.last_login is None


def _sign_up_confirmation_send(*, user: User, base_url: str) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from erp.lockout import email_send_now_or_queue

    # Django's password-reset token: it covers the last sign-in, so it works once (confirming signs the user in).
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    context = {
        "confirm_url": f"{base_url}/accounts/confirm/{uid}/{token}/",
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    email_send_now_or_queue(
        to=[user.email],
        subject="Confirm your Dropline account",
        body=render_to_string("emails/signup_confirm.txt", context),
    )


def user_sign_up_confirm_check(*, uidb64: str, token: str) -> User | None:
    """The unconfirmed account a confirmation link names, or None (forged, expired, already used)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.http import urlsafe_base64_decode

    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        user = User.objects.filter(pk=int(pk)).first()
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if user is None or not _unconfirmed(user) or not default_token_generator.check_token(user, token):
        return None
    return user


def user_sign_up_confirm(*, uidb64: str, token: str) -> User | None:
    """Confirm the address: the account can sign in from now on. The caller signs the user in, which uses up the
    link."""
    user = user_sign_up_confirm_check(uidb64=uidb64, token=token)
    if user is None:
        return None
    User.objects.filter(pk=user.pk, is_active=False).update(is_active=True)
    user.is_active = True
    return user


@transaction.atomic
def user_sign_up_by_invitation(*, email: str, password: str, token: str, full_name: str = "") -> User:
    """A new team member: the user and their membership in the inviting organization (no organization of their own)."""
    invitation = invitation_find(token=token)
    if invitation is None or not invitation.is_open:
        raise ValidationError("This invitation link is no longer valid. Ask for a new one.")
    if invitation.email.lower() != email.strip().lower():
        raise ValidationError({"email": f"This invitation was sent to {invitation.email}."})
    user = _user_create(email=email, password=password, full_name=full_name)
    invitation_accept(token=token, user=user)
    return user


def organization_update(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    time_zone: str,
    slip_message: str | None = None,
    slip_logo: File | None = None,
    remove_slip_logo: bool = False,
    unit_system: str | None = None,
) -> Organization:
    """Name, time zone, unit system and packing-slip branding (None leaves a field as it is). Audited."""
    wanted: dict[str, Any] = {"name": name.strip(), "time_zone": time_zone}
    if slip_message is not None:
        wanted["slip_message"] = slip_message.strip()
    if unit_system is not None:
        wanted["unit_system"] = UnitSystem(unit_system).value
    changes = {field: [getattr(organization, field), value] for field, value in wanted.items()}
    changes = {field: pair for field, pair in changes.items() if pair[0] != pair[1]}
    for field, (_, value) in changes.items():
        setattr(organization, field, value)
    if slip_logo is not None or (remove_slip_logo and organization.slip_logo):
        old = organization.slip_logo.name or None
        if organization.slip_logo:
            organization.slip_logo.delete(save=False)
        if slip_logo is not None:
            organization.slip_logo.save(f"{organization.pk}-{slip_logo.name}", slip_logo, save=False)
        changes["slip_logo"] = [old, organization.slip_logo.name or None]
    if changes:
        organization.save(update_fields=list(changes))
        audit_record(
            organization=organization, actor=actor, action="organization.updated", target=organization, changes=changes
        )
    return organization


# ------------------------------------------------------------------------------------- members and invitations
def _ensure_may_grant(*, organization: Organization, actor: Actor, role: str) -> None:
    """Nobody hands out a role above their own."""
    if actor.user is None:
        raise PermissionDenied("Only people can manage members.")
    with organization_scope(organization):
        mine = Membership.objects.get(user=actor.user).role
    if ROLE_RANK[Role(role)] > ROLE_RANK[Role(mine)]:
        raise PermissionDenied(f"A {Role(mine).label.lower()} cannot grant the {Role(role).label.lower()} role.")


@transaction.atomic
def member_invite(
    *, organization: Organization, actor: Actor, email: str, role: str, accept_url_template: str
) -> Invitation:
    """Create an invitation and email its one-time link. `accept_url_template` holds `{token}`."""
    _ensure_may_grant(organization=organization, actor=actor, role=role)
    email = User.objects.normalize_email(email).lower()
    with organization_scope(organization):
        if Membership.objects.filter(user__email__iexact=email).exists():
            raise ValidationError({"email": f"{email} is already a member of {organization.name}."})
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            email=email,
            role=role,
            token_hash=_sha256(token),
            invited_by=actor.user,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
        )
    accept_url = accept_url_template.format(token=token)
    context = {
        "organization": organization,
        "inviter": actor.label,
        "role": Role(role).label,
        "accept_url": accept_url,
        "days": settings.INVITATION_VALID_DAYS,
        # In the organization's zone, named: the email is rendered where no zone is active (docs/time.md).
        "expires": clock.format_local(invitation.expires_at, clock.organization_zone(organization), "year"),
    }
    email_send.delay_on_commit(
        to=[email],
        subject=f"You're invited to {organization.name} on Dropline",
        body=render_to_string("emails/invitation.txt", context),
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="member.invited",
        target=invitation,
        changes={"email": email, "role": role},
    )
    return invitation


def invitation_find(*, token: str) -> Invitation | None:
    """The invitation behind a link, whatever organization it belongs to (the invitee is not a member yet)."""
    with cross_tenant(reason="an invitation's token names its organization, not the one the reader has open"):
        return Invitation.unscoped.select_related("organization").filter(token_hash=_sha256(token)).first()


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_find(token=token)
    if invitation is None or not invitation.is_open:
        raise ValidationError("This invitation link is no longer valid. Ask for a new one.")
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(f"This invitation was sent to {invitation.email}. Sign in with that address.")
    organization = invitation.organization
    with organization_scope(organization):
        membership, created = Membership.objects.get_or_create(user=user, defaults={"role": invitation.role})
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    if created:
        audit_record(
            organization=organization,
            actor=Actor.for_user(user),
            action="member.joined",
            target=membership,
            changes={"role": membership.role},
        )
    return membership


def invitation_revoke(*, organization: Organization, actor: Actor, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(organization=organization, actor=actor, action="invitation.revoked", target=invitation)


def _owners_left_after(organization: Organization, leaving: Membership) -> int:
    with organization_scope(organization):
        return Membership.objects.filter(role=Role.OWNER).exclude(pk=leaving.pk).count()


@transaction.atomic
def member_remove(*, organization: Organization, actor: Actor, membership: Membership) -> None:
    _ensure_may_grant(organization=organization, actor=actor, role=membership.role)
    if membership.role == Role.OWNER and _owners_left_after(organization, membership) == 0:
        raise ValidationError("An organization needs at least one owner. Make someone else owner first.")
    audit_record(
        organization=organization,
        actor=actor,
        action="member.removed",
        target=membership,
        changes={"email": membership.user.email, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def member_change_role(*, organization: Organization, actor: Actor, membership: Membership, role: str) -> Membership:
    _ensure_may_grant(organization=organization, actor=actor, role=role)
    _ensure_may_grant(organization=organization, actor=actor, role=membership.role)
    if membership.role == Role.OWNER and role != Role.OWNER and _owners_left_after(organization, membership) == 0:
        raise ValidationError("An organization needs at least one owner. Make someone else owner first.")
    if membership.role != role:
        audit_record(
            organization=organization,
            actor=actor,
            action="member.role_changed",
            target=membership,
            changes={"role": [membership.role, role]},
        )
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


# ------------------------------------------------------------------------------------------------- API keys
class APIKeyRefused(ValueError):
    """What a key asked for cannot be granted (an unknown scope, a warehouse of the wrong kind)."""


# Kinds of warehouse a bound key may serve: another company's systems. Own and platform warehouses are the seller's
# or the platform's, so an unbound key with the right scopes serves them.
BINDABLE_WAREHOUSE_KINDS = ("3pl", "supplier")


def api_key_scopes_resolve(*, scopes: Iterable[str] | None = None, preset: str | None = None) -> list[str]:
    """The key's scopes from an explicit list and/or a preset (erp.roles.API_KEY_PRESETS), deduplicated, in
    erp.roles.KEY_SCOPES order; a write scope also stands for its read. Raises APIKeyRefused on an unknown one."""
    wanted = set(scopes or ())
    if preset:
        wanted |= set(API_KEY_PRESETS[APIKeyScope(preset)])
    unknown = sorted(wanted - set(KEY_SCOPES))
    if unknown:
        raise APIKeyRefused(f"Unknown scope(s): {', '.join(unknown)}.")
    writes = {name.rsplit(":", 1)[0] for name in wanted if name.endswith(":write")}
    wanted -= {f"{family}:read" for family in writes}  # "write" implies read: keep the list short
    if not wanted:
        raise APIKeyRefused("Give the key at least one scope.")
    return [name for name in KEY_SCOPES if name in wanted]


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    scopes: Iterable[str] | None = None,
    scope: str | None = None,
    warehouse: Any = None,
) -> tuple[APIKey, str]:
    """Returns the key row and the full key, which is shown once and never stored. `scopes` lists what it may do
    (erp.roles.KEY_SCOPES); `scope` adds a preset ("read" / "write", erp.roles.API_KEY_PRESETS). `warehouse`
    (a 3PL's or supplier's, of this organization) binds the key to it."""
    resolved = api_key_scopes_resolve(scopes=scopes, preset=scope)
    if warehouse is not None and (
        warehouse.organization_id != organization.pk or warehouse.kind not in BINDABLE_WAREHOUSE_KINDS
    ):
        raise APIKeyRefused("A key can be bound only to a 3PL's or a dropship supplier's warehouse.")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    with organization_scope(organization):
        api_key = APIKey.objects.create(
            name=name.strip(),
            prefix=prefix,
            secret_hash=_sha256(secret),
            scopes=resolved,
            warehouse=warehouse,
            created_by=actor.user,
        )
    changes: dict[str, Any] = {"name": api_key.name, "scopes": resolved}
    if warehouse is not None:
        changes["warehouse"] = str(warehouse)
    audit_record(organization=organization, actor=actor, action="api_key.created", target=api_key, changes=changes)
    return api_key, f"{API_KEY_TAG}_{prefix}_{secret}"


def api_key_revoke(*, organization: Organization, actor: Actor, api_key: APIKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(organization=organization, actor=actor, action="api_key.revoked", target=api_key)


API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_authenticate(*, raw_key: str) -> APIKey | None:
    """The active key behind `dl_<prefix>_<secret>`, or None. A cross-tenant lookup by design: the key is what tells
    us the organization. Constant-time comparison; last use recorded at most once a minute (not a write per call)."""
    tag, _, rest = raw_key.partition("_")
    prefix, _, secret = rest.partition("_")
    if tag != API_KEY_TAG or not prefix or not secret:
        return None
    with cross_tenant(reason="an API key is what names its organization"):
        api_key = (
            APIKey.unscoped.select_related("organization", "warehouse")
            .filter(prefix=prefix, revoked_at__isnull=True)
            .first()
        )
        if api_key is None or not secrets.compare_digest(api_key.secret_hash, _sha256(secret)):
            return None
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_LAST_USED_RESOLUTION:
            APIKey.unscoped.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
    return api_key


# ----------------------------------------------------------------------------------------- process heartbeats
def heartbeat_record(*, name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})
