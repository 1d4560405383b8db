"""Outbound webhooks: a seller's endpoints, the events Dropline publishes, and one delivery row per event and
endpoint, written in the transaction that causes the event (a transactional outbox, docs/adr/0024)."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from erp.crypto import EncryptedTextField
from erp.tenancy import TenantModel

EVENT_ID_PREFIX = "evt_"


class WebhookEndpoint(TenantModel):
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)  # event type names, or ["*"] for every event
    secret = EncryptedTextField()
    # Rotation overlap: deliveries are signed with both secrets until this expires (docs/webhooks.md).
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The first failed attempt since the last 2xx: auto-disable measures sustained failure from here.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events

    def signing_secrets(self, now: datetime | None = None) -> list[str]:
        """The current secret, then the previous one while its overlap lasts."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class WebhookEvent(TenantModel):
    """Something that happened, as sent to every subscribed endpoint. Its public id is `evt_<uuid7 hex>`."""

    type = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    data = models.JSONField()  # the object's API representation
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"

    @property
    def public_id(self) -> str:
        return f"{EVENT_ID_PREFIX}{self.pk.hex}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(TenantModel):
    """One event for one endpoint. It is a row before it is sent: a worker that dies mid-send leaves it pending with
    a lease that expires, and the sweeper sends it again."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # Copied from the event: deliveries for one (endpoint, object) go out in order, and the claim asks by index.
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Retries stop once a failed attempt comes this long after here (creation, or the last manual redeliver).
    retry_from = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker is sending it until then
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_response_excerpt = models.TextField(blank=True)  # at most 1 KB of the receiver's answer
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due", condition=models.Q(status="pending")),
            models.Index(
                fields=["endpoint", "object_type", "object_id", "id"],
                name="webhook_delivery_object_queue",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(TenantModel):
    """One HTTP attempt of a delivery: the history behind the delivery log's latest figures."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
