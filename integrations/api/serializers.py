"""Output serializers of the stores API: what the Stores page shows, explicit fields, nothing written through them."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.api.serializers import ChoiceLabelField
from integrations import selectors
from integrations.models import Store


class StoreAttentionOutput(serializers.Serializer[Any]):
    reason = serializers.ChoiceField(
        choices=["disconnected", "authorization", "sync_error"],
        help_text="`disconnected`; `authorization`: the seller's grant failed, was revoked or is ending; `sync_error`: "
        "the last sync failed.",
    )
    detail = serializers.CharField()
    fix = serializers.CharField(help_text="What to do about it.")


class StoreSyncOutput(serializers.Serializer[Any]):
    last_started_at = serializers.DateTimeField(source="last_sync_started_at", allow_null=True)
    last_synced_at = serializers.DateTimeField(allow_null=True, help_text="The last sync that finished without error.")
    last_error = serializers.CharField(
        source="last_sync_error", help_text="The last sync's error; blank after a good one."
    )
    last_error_at = serializers.DateTimeField(source="last_sync_error_at", allow_null=True)
    cursor = serializers.DateTimeField(
        source="sync_cursor", allow_null=True, help_text="Orders updated up to here have been imported."
    )
    cursor_age_seconds = serializers.SerializerMethodField(
        help_text="How far behind now the cursor is (null before the first sync)."
    )
    running = serializers.SerializerMethodField(help_text="A worker is syncing the store right now.")
    orders_imported = serializers.IntegerField()

    def get_cursor_age_seconds(self, store: Store) -> int | None:
        if store.sync_cursor is None:
            return None
        return max(0, int((timezone.now() - store.sync_cursor).total_seconds()))

    def get_running(self, store: Store) -> bool:
        return store.sync_lease_until is not None and store.sync_lease_until > timezone.now()


class StoreOutput(serializers.ModelSerializer[Store]):
    platform_label = ChoiceLabelField("platform")
    status = serializers.CharField(help_text="`active` (connected), `attention` (needs attention) or `disconnected`.")
    status_label = ChoiceLabelField("status")
    sync = serializers.SerializerMethodField()
    needs_attention = serializers.SerializerMethodField(help_text="Orders may not be syncing: see `attention`.")
    attention = serializers.SerializerMethodField()

    class Meta:
        model = Store
        fields = [
            "id",
            "name",
            "platform",
            "platform_label",
            "region",
            "external_id",
            "status",
            "status_label",
            "connected_at",
            "auto_buy_labels",
            "handling_days",
            "sync",
            "needs_attention",
            "attention",
        ]
        extra_kwargs = {"external_id": {"help_text": "The shop's id on the platform."}}

    @extend_schema_field(StoreSyncOutput)
    def get_sync(self, store: Store) -> dict[str, Any]:
        return StoreSyncOutput(store).data

    def get_needs_attention(self, store: Store) -> bool:
        return selectors.store_attention(store) is not None

    @extend_schema_field(StoreAttentionOutput(allow_null=True))
    def get_attention(self, store: Store) -> dict[str, Any] | None:
        attention = selectors.store_attention(store)
        return None if attention is None else StoreAttentionOutput(attention).data


class NotificationHealthOutput(serializers.Serializer[Any]):
    received = serializers.IntegerField()
    processed = serializers.IntegerField()
    waiting = serializers.IntegerField(help_text="Pending, being processed, or failed and retried later.")
    invalid = serializers.IntegerField(help_text="Signed but unreadable: acknowledged, never processed.")
    last_problem = serializers.SerializerMethodField(help_text="The newest failed or invalid one's error.")

    def get_last_problem(self, health: selectors.NotificationHealth) -> str | None:
        problem = health.last_problem
        return None if problem is None else problem.last_error or problem.get_state_display()


class StoreDetailOutput(StoreOutput):
    notifications = serializers.SerializerMethodField(help_text="The platform's notifications of the last day.")

    class Meta(StoreOutput.Meta):
        fields = [*StoreOutput.Meta.fields, "notifications"]

    @extend_schema_field(NotificationHealthOutput)
    def get_notifications(self, store: Store) -> dict[str, Any]:
        return NotificationHealthOutput(selectors.store_notification_health(store=store)).data


class StoreSyncRequestOutput(serializers.Serializer[Any]):
    requested = serializers.BooleanField(help_text="A sync was queued; new orders appear within a minute.")
    store = StoreOutput()
