from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from integrations.models import (
    AuthorizationStatus,
    DeliveryState,
    Platform,
    SellerAuthorization,
    Store,
    WebhookDelivery,
)

NOTIFICATION_WINDOW = timedelta(days=1)


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
