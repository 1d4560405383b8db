"""Sending deliveries: claim the due ones under a lease, POST each signed, record the outcome, schedule a retry.

Claiming is `SELECT … FOR UPDATE SKIP LOCKED` in a short transaction that writes `lease_until`; the HTTP call runs
outside any transaction. A worker SIGKILLed mid-send leaves the row pending with a lease that expires, and the next
claim (the beat sweep's, or the next event's) takes it again: at least once, never lost. Per (endpoint, object)
deliveries go out in order: one waits while an earlier one for the same endpoint and object is pending.
Schedule and guarantees: docs/webhooks.md, docs/adr/0024-outbound-webhooks.md.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from erp import metrics
from webhooks.addresses import Target, UnsafeURL, url_check
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

# Retries: full jitter over an exponential ceiling (60 s · 2^(n-1), capped at 6 h), until the delivery has been
# retried for RETRY_WINDOW; the first failed attempt after that marks it failed. Nominal ceilings: 1, 2, 4, 8, 16,
# 32 min, 1h04, 2h08, 4h16, then 6 h: about 15 attempts over the first day.
RETRY_BASE_SECONDS = 60
RETRY_CAP_SECONDS = 6 * 3600
RETRY_WINDOW = timedelta(hours=24)
# Full jitter may draw short waits: after this many attempts the next one is due at the window's end, so a delivery
# makes at most RETRY_ATTEMPTS_CAP + 1 attempts and still retries for the whole window.
RETRY_ATTEMPTS_CAP = 25
# An endpoint whose every delivery has failed this long is disabled (an hour of 500s is far from it).
AUTO_DISABLE_AFTER = timedelta(days=3)
CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 10.0
# Longer than one send can take (connect + read + writing the outcome): an expired lease means a dead worker.
LEASE = timedelta(seconds=60)
CLAIM_BATCH = 20
EXCERPT_BYTES = 1024
USER_AGENT = "Dropline-Webhooks/1.0"


def retry_delay(attempts: int, *, rand: Any = random.random) -> timedelta:
    """The wait after the `attempts`-th failed attempt: uniform in [0, min(cap, base·2^(attempts-1))]."""
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=max(1.0, rand() * ceiling))


def event_payload(event: WebhookEvent) -> dict[str, Any]:
    return {
        "id": event.public_id,
        "type": event.type,
        "created": event.created_at.isoformat(),
        "organization": str(event.organization_id),
        "data": {"object": event.data},
    }


def event_body(event: WebhookEvent) -> bytes:
    return json.dumps(event_payload(event), cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def deliveries_due(now: datetime) -> QuerySet[WebhookDelivery]:
    """Deliveries of the organization in scope that may be sent now: pending, due, not leased, endpoint enabled, and
    no earlier delivery for the same endpoint and object still pending (order per object)."""
    earlier_pending = WebhookDelivery.objects.filter(
        endpoint=OuterRef("endpoint"),
        object_type=OuterRef("object_type"),
        object_id=OuterRef("object_id"),
        status=DeliveryStatus.PENDING,
        id__lt=OuterRef("id"),
    )
    return (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__enabled=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .exclude(Exists(earlier_pending))
    )


def deliveries_claim(*, limit: int = CLAIM_BATCH, now: datetime | None = None) -> list[WebhookDelivery]:
    """Due deliveries (`deliveries_due`) of the organization in scope, leased to the caller; rows another worker
    holds are skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            deliveries_due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .order_by("next_attempt_at", "id")[:limit]
        )
        if claimed:
            lease_until = now + LEASE
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(lease_until=lease_until)
            for delivery in claimed:
                delivery.lease_until = lease_until
    return claimed


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    duration_ms: int
    excerpt: str
    error: str

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def outcome(self) -> str:
        """A small class for the metrics label: delivered, http_3xx/4xx/5xx, timeout, unsafe_url or connection."""
        if self.status_code is not None:
            return "delivered" if self.delivered else f"http_{self.status_code // 100}xx"
        if self.error.startswith(("ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout")):
            return "timeout"
        return "unsafe_url" if self.error.startswith(UNSAFE_PREFIX) else "connection"


def _request_url(url: str, target: Target) -> str:
    """The URL with its host replaced by the checked address (the Host header and SNI keep the name)."""
    if target.address is None:
        return url
    return str(httpx.URL(url).copy_with(host=target.address))


def http_post(url: str, body: bytes, headers: dict[str, str]) -> AttemptResult:
    """One POST: no redirects, no proxies from the environment, connect and read timeouts, at most 1 KB read back.
    The host is checked (and resolved) here again; the connection goes to the checked address."""
    started = time.monotonic()
    try:
        target = url_check(url)
        extensions = {"sni_hostname": target.host} if target.address and url.startswith("https") else {}
        request_headers = {**headers, "Host": httpx.URL(url).netloc.decode()} if target.address else headers
        timeout = httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST", _request_url(url, target), content=body, headers=request_headers, extensions=extensions
            ) as response,
        ):
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            text = excerpt[:EXCERPT_BYTES].decode("utf-8", errors="replace")
            return AttemptResult(response.status_code, _elapsed_ms(started), text, "")
    except UnsafeURL as error:
        return AttemptResult(None, _elapsed_ms(started), "", f"{UNSAFE_PREFIX}{error}"[:500])
    except httpx.HTTPError as error:
        return AttemptResult(None, _elapsed_ms(started), "", f"{type(error).__name__}: {error}"[:500])


UNSAFE_PREFIX = "Refused: "  # the error of a URL whose address is not public (kept in the delivery log)


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def delivery_attempt(delivery: WebhookDelivery) -> AttemptResult:
    """Sign and send a claimed delivery, then record the outcome (if the lease is still ours)."""
    endpoint, event = delivery.endpoint, delivery.event
    body = event_body(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Dropline-Event-Id": event.public_id,
        "Dropline-Event-Type": event.type,
        SIGNATURE_HEADER: signature_header(endpoint.signing_secrets(), timestamp, body),
    }
    started_at = timezone.now()
    result = http_post(endpoint.url, body, headers)
    metrics.webhook_delivery_observe(outcome=result.outcome, seconds=result.duration_ms / 1000)
    delivery_record(delivery, result, started_at=started_at)
    return result


def delivery_record(delivery: WebhookDelivery, result: AttemptResult, *, started_at: datetime) -> None:
    from webhooks.services import endpoint_auto_disable_if_due  # services imports this module

    now = timezone.now()
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "lease_until": None,
        "last_attempt_at": started_at,
        "last_status_code": result.status_code,
        "last_duration_ms": result.duration_ms,
        "last_response_excerpt": result.excerpt,
        "last_error": result.error,
    }
    if result.delivered:
        fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now)
    elif now - delivery.retry_from >= RETRY_WINDOW:
        fields.update(status=DeliveryStatus.FAILED)
    elif attempts >= RETRY_ATTEMPTS_CAP:
        fields.update(next_attempt_at=max(now, delivery.retry_from + RETRY_WINDOW))
    else:
        fields.update(next_attempt_at=now + retry_delay(attempts))
    with transaction.atomic():
        # Fenced by the lease: a worker that outlived its lease (the row was claimed again) records nothing.
        updated = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.PENDING, lease_until=delivery.lease_until
        ).update(**fields)
        if not updated:
            logger.info("webhook delivery %s: lease lost before the outcome was recorded", delivery.pk)
            return
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=attempts,
            started_at=started_at,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            response_excerpt=result.excerpt,
            error=result.error,
        )
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if result.delivered:
            endpoints.exclude(failing_since=None).update(failing_since=None)
        else:
            endpoints.filter(failing_since=None).update(failing_since=started_at)
            endpoint_auto_disable_if_due(endpoint_id=delivery.endpoint_id, now=now)


def deliveries_send_due(*, time_budget_seconds: float = 60.0) -> int:
    """Claim and send due deliveries of the organization in scope until none is due or the budget is spent."""
    deadline = time.monotonic() + time_budget_seconds
    sent = 0
    while time.monotonic() < deadline:
        claimed = deliveries_claim()
        if not claimed:
            break
        for delivery in claimed:
            delivery_attempt(delivery)
            sent += 1
    return sent


def organizations_with_due_deliveries(now: datetime | None = None) -> list[str]:
    # cross-tenant: beat's sweeper asks which organizations have deliveries due (new, retries, expired leases);
    # each organization's deliveries are then claimed and sent inside its own scope.
    now = now or timezone.now()
    ids = (
        WebhookDelivery.unscoped.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__enabled=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by()  # the model's ordering would make DISTINCT keep one row per delivery
        .values_list("organization_id", flat=True)
        .distinct()
    )
    return [str(pk) for pk in ids]
