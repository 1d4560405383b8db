from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from integrations import registry
from integrations.models import (
    AuthorizationStatus,
    DeliveryState,
    Platform,
    SellerAuthorization,
    Store,
    StoreStatus,
    WebhookDelivery,
)

NOTIFICATION_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class ConnectableChannel:
    """A sales channel a seller can connect from the Stores page."""

    platform: str
    name: str  # as its sellers call it: "TikTok Shop", "Shopify"
    asks_for_shop: bool  # the form asks for the shop's own address first (Shopify)


def connectable_channels() -> list[ConnectableChannel]:
    """Every channel an adapter serves, in the order of the platform choices (TikTok Shop first)."""
    served = set(registry.registered_platforms())
    return [
        ConnectableChannel(
            platform=platform,
            name=str(label),
            asks_for_shop=registry.adapter_for(platform).connect_asks_for_shop,
        )
        for platform, label in Platform.choices
        if platform in served
    ]


def consent_origins() -> list[str]:
    """Where the Stores page's connect forms may send the seller (every registered channel's consent page)."""
    return sorted(
        {origin for p in registry.registered_platforms() for origin in registry.adapter_for(p).consent_origins()}
    )


def stores_list() -> QuerySet[Store]:
    return Store.objects.exclude(platform=Platform.MANUAL).select_related("authorization").order_by("name")


def authorizations_needing_attention() -> QuerySet[SellerAuthorization]:
    return SellerAuthorization.objects.exclude(status=AuthorizationStatus.ACTIVE).prefetch_related("stores")


@dataclass(frozen=True)
class NotificationHealth:
    """What the store page says about the platform's notifications of the last day."""

    received: int
    processed: int
    waiting: int  # pending, being processed, or failed and retried later
    invalid: int  # signed but unreadable: acknowledged, never processed
    last_problem: WebhookDelivery | None  # the newest failed or invalid one, for its error


def store_notification_health(*, store: Store) -> NotificationHealth:
    deliveries = WebhookDelivery.objects.filter(store=store, received_at__gte=timezone.now() - NOTIFICATION_WINDOW)
    counts = deliveries.aggregate(
        received=Count("pk"),
        processed=Count("pk", filter=Q(state=DeliveryState.PROCESSED)),
        waiting=Count(
            "pk", filter=Q(state__in=[DeliveryState.PENDING, DeliveryState.PROCESSING, DeliveryState.FAILED])
        ),
        invalid=Count("pk", filter=Q(state=DeliveryState.INVALID)),
    )
    problem = (
        deliveries.filter(state__in=[DeliveryState.FAILED, DeliveryState.INVALID])
        .only("state", "last_error", "received_at", "attempts", "next_attempt_at")
        .order_by("-received_at")
        .first()
    )
    return NotificationHealth(**counts, last_problem=problem)


@dataclass(frozen=True)
class StoreAttention:
    """Why a store needs the seller, and what to do, as the Stores page says it."""

    reason: str  # disconnected | authorization | sync_error
    detail: str
    fix: str


def store_attention(store: Store) -> StoreAttention | None:
    """None while the store syncs as it should; else why not and the fix (the Stores page's banner and badges)."""
    platform = store.get_platform_display()
    reconnect = (
        f"Reconnect it: Stores → Connect {platform}, and approve Dropline again — the same shops are updated, "
        "nothing is lost."
    )
    if store.status == StoreStatus.DISCONNECTED:
        return StoreAttention("disconnected", "The store was disconnected: its orders are not imported.", reconnect)
    authorization = store.authorization
    if store.status == StoreStatus.NEEDS_ATTENTION or (
        authorization is not None and authorization.status != AuthorizationStatus.ACTIVE
    ):
        status = authorization.get_status_display() if authorization is not None else "Needs attention"
        detail = (authorization.status_detail if authorization is not None else "") or (
            "Orders from its shops are not syncing."
        )
        return StoreAttention("authorization", f"{status}: {detail}", reconnect)
    if store.last_sync_error:
        return StoreAttention(
            "sync_error",
            store.last_sync_error,
            "Dropline retries on its own at the next sync; if the error stays, request a sync or reconnect the store.",
        )
    return None
