"""Outbound webhooks: endpoints (create, change, rotate, enable, delete), publishing events as a transactional
outbox, test events and redelivery. Views, the API and workers all call these (docs/webhooks.md, ADR 0024)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from erp.actors import Actor
from erp.models import Membership, Organization
from erp.roles import Role
from erp.services import audit_record
from erp.tasks import email_send, wake
from erp.tenancy import organization_scope
from webhooks.addresses import UnsafeURL, url_check
from webhooks.events import ALL_EVENTS, PING, EventType
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.sender import AUTO_DISABLE_AFTER
from webhooks.signing import secret_generate
from webhooks.tasks import deliveries_send

ROTATION_OVERLAP = timedelta(hours=24)
AUTO_DISABLED_REASON_PREFIX = "Every delivery failed"  # the banner finds endpoints Dropline disabled by it


# ------------------------------------------------------------------------------------------------ publishing
@dataclass(frozen=True)
class EventDraft:
    type: str
    object_type: str
    object_id: str
    data: dict[str, Any]


Payload = dict[str, Any] | Callable[[], dict[str, Any]]


def event_publish(
    *, organization: Organization, type: str, object_type: str, object_id: Any, data: Payload
) -> WebhookEvent | None:
    """Record an event and its deliveries in the caller's transaction; the sender is woken after commit. Nothing is
    written when no enabled endpoint subscribes to `type` (one query). `data` may be a callable: it is called only
    when someone subscribes, so an unsubscribed event costs no serializer."""
    if callable(data):
        if type not in event_types_subscribed(organization=organization):
            return None
        data = data()
    events = events_publish(
        organization=organization,
        drafts=[EventDraft(type=type, object_type=object_type, object_id=str(object_id), data=data)],
    )
    return events[0] if events else None


def event_types_subscribed(*, organization: Organization) -> frozenset[str]:
    """The event types some enabled endpoint of `organization` wants (every type for a `*`): one query, so a hot
    path (an import of thousands of orders) builds payloads only for what is wanted, and nothing when nobody is."""
    with organization_scope(organization):
        wanted = set()
        for events in WebhookEndpoint.objects.filter(enabled=True).values_list("events", flat=True):
            wanted |= set(EventType.values) if ALL_EVENTS in events else set(events)
    return frozenset(wanted)


def events_publish(*, organization: Organization, drafts: Sequence[EventDraft]) -> list[WebhookEvent]:
    """Many events at once (an import of thousands of orders): one query for the endpoints, bulk inserts."""
    if not drafts:
        return []
    with organization_scope(organization):
        endpoints = list(WebhookEndpoint.objects.filter(enabled=True).only("id", "events"))
        if not endpoints:
            return []
        wanted = [(draft, [e for e in endpoints if e.subscribes_to(draft.type)]) for draft in drafts]
        wanted = [(draft, targets) for draft, targets in wanted if targets]
        if not wanted:
            return []
        now = timezone.now()
        events = [
            WebhookEvent(
                organization=organization,
                type=draft.type,
                object_type=draft.object_type,
                object_id=draft.object_id,
                data=draft.data,
                created_at=now,
            )
            for draft, _ in wanted
        ]
        WebhookEvent.objects.bulk_create(events)
        deliveries = [
            WebhookDelivery(
                organization=organization,
                event=event,
                endpoint=endpoint,
                object_type=event.object_type,
                object_id=event.object_id,
                next_attempt_at=now,
                retry_from=now,
                created_at=now,
            )
            for event, (_, targets) in zip(events, wanted, strict=True)
            for endpoint in targets
        ]
        WebhookDelivery.objects.bulk_create(deliveries)
    _wake_sender_on_commit(organization)
    return events


def _wake_sender_on_commit(organization: Organization) -> None:
    """Once per transaction and organization: a loop publishing per order must not queue a task per order."""
    organization_id = str(organization.pk)
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(entry[1], "webhooks_organization", None) == organization_id for entry in connection.run_on_commit
    ):
        return
    callback = functools.partial(wake, deliveries_send, organization_id=organization_id)
    callback.webhooks_organization = organization_id  # type: ignore[attr-defined]
    transaction.on_commit(callback)


# ------------------------------------------------------------------------------------------------- endpoints
def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(e).strip() for e in events))
    unknown = [e for e in chosen if e != ALL_EVENTS and e not in EventType.values]
    if unknown:
        raise ValidationError({"events": [f"Unknown event type(s): {', '.join(unknown)}."]})
    if not chosen:
        raise ValidationError({"events": ["Choose at least one event, or * for every event."]})
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


def _clean_url(url: str) -> str:
    url = url.strip()
    try:
        url_check(url)
    except UnsafeURL as error:
        raise ValidationError({"url": [str(error)]}) from None
    return url


def endpoint_create(
    *, organization: Organization, actor: Actor, url: str, events: Iterable[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret, which is shown once (stored encrypted)."""
    secret = secret_generate()
    with organization_scope(organization):
        endpoint = WebhookEndpoint.objects.create(
            url=_clean_url(url), events=_clean_events(events), description=description.strip(), secret=secret
        )
    audit_record(
        organization=organization,
        actor=actor,
        action="webhook_endpoint.created",
        target=endpoint,
        changes={"url": endpoint.url, "events": endpoint.events},
    )
    return endpoint, secret


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: Actor,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    changes: dict[str, Any] = {}
    if url is not None and url.strip() != endpoint.url:
        endpoint.url = changes["url"] = _clean_url(url)
    if events is not None:
        cleaned = _clean_events(events)
        if cleaned != endpoint.events:
            endpoint.events = changes["events"] = cleaned
    if description is not None and description.strip() != endpoint.description:
        endpoint.description = changes["description"] = description.strip()
    if changes:
        endpoint.updated_at = timezone.now()
        endpoint.save()
        audit_record(
            organization=endpoint.organization,
            actor=actor,
            action="webhook_endpoint.updated",
            target=endpoint,
            changes=changes,
        )
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    audit_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhook_endpoint.deleted",
        target=endpoint,
        changes={"url": endpoint.url},
    )
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: Actor, overlap: timedelta = ROTATION_OVERLAP) -> str:
    """A new secret, shown once. The old one keeps signing beside it for `overlap`, so the receiver can switch."""
    secret = secret_generate()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + overlap
    endpoint.secret = secret
    endpoint.updated_at = timezone.now()
    endpoint.save()
    audit_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhook_endpoint.secret_rotated",
        target=endpoint,
        changes={"previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()},
    )
    return secret


def endpoint_enable(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookEndpoint:
    """Enabled again; the deliveries that waited while it was disabled are due at once."""
    now = timezone.now()
    with transaction.atomic():
        endpoint.enabled = True
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        endpoint.updated_at = now
        endpoint.save()
        WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
            next_attempt_at=now, retry_from=now
        )
        audit_record(
            organization=endpoint.organization, actor=actor, action="webhook_endpoint.enabled", target=endpoint
        )
        _wake_sender_on_commit(endpoint.organization)
    return endpoint


def endpoint_disable(*, endpoint: WebhookEndpoint, actor: Actor, reason: str = "Disabled by a person.") -> None:
    """Nothing is sent, and no new event is queued for it, while disabled; the deliveries already pending wait and go
    out when it is enabled again."""
    endpoint.enabled = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason[:300]
    endpoint.updated_at = endpoint.disabled_at
    endpoint.save()
    audit_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhook_endpoint.disabled",
        target=endpoint,
        changes={"reason": endpoint.disabled_reason},
    )


def endpoint_auto_disable_if_due(*, endpoint_id: Any, now: datetime) -> bool:
    """Disable an endpoint whose every delivery has failed for AUTO_DISABLE_AFTER, and mail owners and admins."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id, enabled=True).first()
        if endpoint is None or endpoint.failing_since is None or now - endpoint.failing_since < AUTO_DISABLE_AFTER:
            return False
        days = (now - endpoint.failing_since).days
        endpoint_disable(
            endpoint=endpoint,
            actor=Actor.system("webhooks"),
            reason=f"{AUTO_DISABLED_REASON_PREFIX} for {days} days; re-enable it once the receiver answers 2xx.",
        )
        recipients = list(
            Membership.objects.filter(role__in=[Role.OWNER, Role.ADMIN]).values_list("user__email", flat=True)
        )
        if recipients:
            email_send.delay_on_commit(
                to=recipients,
                subject=f"Webhook endpoint disabled at {endpoint.organization.name}: {endpoint.url}",
                body=render_to_string("emails/webhook_disabled.txt", {"endpoint": endpoint, "days": days}),
            )
    return True


def endpoint_test(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookDelivery:
    """A `ping` event delivered to this endpoint only (whatever it subscribes to), through the usual sender."""
    organization = endpoint.organization
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            type=PING,
            object_type="webhook_endpoint",
            object_id=str(endpoint.pk),
            data={"id": str(endpoint.pk), "object": "webhook_endpoint", "url": endpoint.url, "test": True},
        )
        delivery = WebhookDelivery.objects.create(
            event=event, endpoint=endpoint, object_type="ping", object_id=event.public_id
        )
        audit_record(organization=organization, actor=actor, action="webhook_endpoint.tested", target=endpoint)
        _wake_sender_on_commit(organization)
    return delivery


# ------------------------------------------------------------------------------------------------ redelivery
def deliveries_redeliver(
    *,
    endpoint: WebhookEndpoint,
    actor: Actor,
    delivery_ids: Sequence[Any] | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Send the chosen deliveries again (by ids, or by status and creation time): each is pending and due now, with
    a fresh 24-hour retry window. Same event id: receivers that dedupe see a duplicate."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    if delivery_ids is not None:
        deliveries = deliveries.filter(pk__in=list(delivery_ids))
    if status:
        deliveries = deliveries.filter(status=status)
    if since:
        deliveries = deliveries.filter(created_at__gte=since)
    if until:
        deliveries = deliveries.filter(created_at__lt=until)
    now = timezone.now()
    with transaction.atomic():
        count = deliveries.update(status=DeliveryStatus.PENDING, next_attempt_at=now, retry_from=now)
        if count:
            audit_record(
                organization=endpoint.organization,
                actor=actor,
                action="webhook_endpoint.redelivered",
                target=endpoint,
                changes={"deliveries": count},
            )
            _wake_sender_on_commit(endpoint.organization)
    return count
