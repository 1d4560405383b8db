"""Webhook API serializers: explicit output shapes; inputs only validate (views call services)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webhooks.events import ALL_EVENTS, EventType
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

EVENT_CHOICES = [(ALL_EVENTS, "Every event"), *EventType.choices]


class EndpointInput(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="https:// URL that receives POSTs (public address only).")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES),
        allow_empty=False,
        help_text='The event types to send, or `["*"]` for every event.',
    )


class EndpointOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))
    previous_secret_expires_at = serializers.SerializerMethodField(
        help_text="While set, deliveries are also signed with the previous secret (rotation overlap)."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "enabled",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_previous_secret_expires_at(self, endpoint: WebhookEndpoint) -> str | None:
        expires = endpoint.previous_secret_expires_at
        if expires is None or len(endpoint.signing_secrets()) < 2:
            return None
        return serializers.DateTimeField().to_representation(expires)


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.SerializerMethodField(help_text="The signing secret. Shown only now: store it.")

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]

    def get_secret(self, endpoint: WebhookEndpoint) -> str:
        return endpoint.secret


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "status_code", "duration_ms", "response_excerpt", "error"]


class DeliveryOutput(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.public_id", help_text="`evt_…`: the receiver dedupes by it.")
    event_type = serializers.CharField(source="event.type")
    attempt_log = AttemptOutput(many=True, help_text="Every attempt, oldest first.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "object_type",
            "object_id",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_duration_ms",
            "last_response_excerpt",
            "last_error",
            "delivered_at",
            "created_at",
            "attempt_log",
        ]


class DeliveryPageOutput(serializers.Serializer):
    """One page of the delivery log (cursor pagination, newest first)."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DeliveryOutput(many=True)


class RedeliverInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=1000, help_text="Deliveries to send again."
    )
    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices, required=False, help_text="Or every delivery in this status…"
    )
    since = serializers.DateTimeField(required=False, help_text="…created at or after this moment…")
    until = serializers.DateTimeField(required=False, help_text="…and before this one.")

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("ids") and not attrs.get("status"):
            raise serializers.ValidationError("Give `ids`, or a `status` (with an optional `since`/`until`).")
        return attrs


class RedeliverOutput(serializers.Serializer):
    redelivered = serializers.IntegerField()


class SecretOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret. Shown only now: store it.")
    previous_secret_expires_at = serializers.DateTimeField(help_text="The old secret also signs until then.")
