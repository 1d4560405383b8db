"""Stores: a tenant's connections to sales channels, and the seller authorizations (tokens) behind them.

A seller authorizes Dropline once per platform account (TikTok: one token covers every shop of the seller); each
shop becomes a Store. Both are unique per platform across all organizations: the same shop can never belong to two
Dropline organizations, and the database enforces it.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from erp.crypto import EncryptedTextField
from erp.tenancy import TenantModel


class Platform(models.TextChoices):
    TIKTOK = "tiktok", "TikTok Shop"
    SHOPIFY = "shopify", "Shopify"
    MANUAL = "manual", "Manual"  # orders created by hand or by partners through the API


class AuthorizationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRING = "expiring", "Expiring soon"  # the platform warned that the seller's authorization is ending
    FAILED = "failed", "Refresh failed"  # tokens could not be refreshed: the seller must reconnect
    REVOKED = "revoked", "Revoked"  # the seller removed Dropline on the platform


class SellerAuthorization(TenantModel):
    """The OAuth grant of one seller account on one platform; its tokens are encrypted at rest."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    seller_id = models.CharField(max_length=64)  # TikTok: open_id
    seller_name = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=8, blank=True)
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField()
    access_token_expires_at = models.DateTimeField()
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)  # null: the platform sets no end
    status = models.CharField(max_length=16, choices=AuthorizationStatus.choices, default=AuthorizationStatus.ACTIVE)
    status_detail = models.TextField(blank=True)
    expires_notice_at = models.DateTimeField(null=True, blank=True)  # when the platform says access ends
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "seller_id"], name="authorization_unique_seller"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} seller {self.seller_name or self.seller_id}"


class StoreStatus(models.TextChoices):
    ACTIVE = "active", "Connected"
    NEEDS_ATTENTION = "attention", "Needs attention"  # authorization problem: orders are not syncing
    DISCONNECTED = "disconnected", "Disconnected"


class Store(TenantModel):
    """One shop on one platform, with its per-store policy and sync state (like a Saleor channel). Only what every
    channel's shop has lives here; what one platform alone keeps per shop lives in that platform's settings record
    (`TikTokShopSettings`)."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    authorization = models.ForeignKey(
        SellerAuthorization, on_delete=models.SET_NULL, null=True, blank=True, related_name="stores"
    )
    external_id = models.CharField(max_length=64)  # TikTok shop id
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=8, blank=True)
    seller_type = models.CharField(max_length=16, blank=True)  # LOCAL | CROSS_BORDER
    code = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=StoreStatus.choices, default=StoreStatus.ACTIVE)
    connected_at = models.DateTimeField(default=timezone.now)

    # Policy
    auto_buy_labels = models.BooleanField(default=False, help_text="Buy labels as soon as rules choose a service.")
    stock_push_enabled = models.BooleanField(default=True)
    stock_push_buffer = models.PositiveIntegerField(default=0, help_text="Units held back from what is advertised.")
    stock_push_percentage = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Advertise this share of what is available.",
    )
    stock_push_max_quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Never advertise more than this (blank: no cap)."
    )
    stock_push_zero_below = models.PositiveIntegerField(
        default=0, help_text="Advertise 0 when fewer than this many units are available."
    )
    backfill_days = models.PositiveIntegerField(default=30, help_text="How far back to import on connect.")
    handling_days = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(30)],
        help_text="Days after payment an order must ship by when its channel sets no ship-by date (Shopify).",
    )

    # Sync state. The cursor is the platform update time up to which every order is committed here; it only moves
    # after a page is committed. A worker holds the lease while it pages, so two never sync one store at once.
    sync_cursor = models.DateTimeField(null=True, blank=True)
    sync_lease_until = models.DateTimeField(null=True, blank=True)
    last_sync_started_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)  # last sync that finished without error
    last_sync_error = models.TextField(blank=True)
    last_sync_error_at = models.DateTimeField(null=True, blank=True)
    orders_imported = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], condition=~Q(platform=Platform.MANUAL), name="store_unique_shop"
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"


class TikTokShopSettings(TenantModel):
    """What only a TikTok shop has: the shop cipher TikTok wants on every shop-scoped call, and the shop's own dates
    under TikTok's 2026 Logistics Services policy (integrations.logistics_policy).

    A Shopify or a manual store has none of these, so they are not columns of every Store. The TikTok adapter writes
    the cipher when the shop is connected (`TikTokAdapter.store_connected`) and reads it back to build the store's
    client; the seller sets the dates on the store's page (`store_policy_update`). A TikTok store without a row (one
    made before connecting) reads as blank values: no cipher, the published dates."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="tiktok_settings")
    cipher = models.CharField(max_length=128, blank=True)  # TikTok shop_cipher: selects the shop on every call
    # TikTok's 2026 Logistics Services policy: blank fields follow the published dates.
    joined_platform_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the shop opened on TikTok Shop. Shops opened on or after 3 Feb 2026 (US) ship every order "
        "on official logistics from day one. Blank: an existing shop.",
    )
    logistics_transition_from = models.DateField(
        null=True, blank=True, help_text="Seller shipping still accepted from this day (blank: the published date)."
    )
    official_logistics_from = models.DateField(
        null=True,
        blank=True,
        help_text="First day every order must ship on official TikTok logistics (blank: the published date).",
    )

    class Meta:
        verbose_name = "TikTok shop settings"
        verbose_name_plural = "TikTok shop settings"

    def __str__(self) -> str:
        return f"TikTok settings of {self.store}"

    @classmethod
    def of(cls, store: Store) -> TikTokShopSettings | None:
        """The store's row, or None (a store on another platform; a TikTok store not connected through the adapter).
        Reads the row `select_related("tiktok_settings")` fetched, else asks once (a missing row is remembered)."""
        try:
            return store.tiktok_settings
        except cls.DoesNotExist:
            return None


class ShopifyStoreSettings(TenantModel):
    """What only a Shopify store has: the scopes the merchant granted (an order older than 60 days is invisible
    without `read_all_orders`, and the shipping address is redacted without protected customer data access), and
    whether Shopify emails the buyer when Dropline reports a shipment. The store's myshopify.com address is its
    `external_id`."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="shopify_settings")
    granted_scopes = models.TextField(blank=True)  # comma-separated, as the token response gave them
    notify_customer = models.BooleanField(
        default=True, help_text="Shopify emails the buyer the tracking number when Dropline reports a shipment."
    )

    class Meta:
        verbose_name = "Shopify store settings"
        verbose_name_plural = "Shopify store settings"

    def __str__(self) -> str:
        return f"Shopify settings of {self.store}"

    @classmethod
    def of(cls, store: Store) -> ShopifyStoreSettings | None:
        try:
            return store.shopify_settings
        except cls.DoesNotExist:
            return None


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting to be processed"
    PROCESSING = "processing", "Being processed"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed (retried later)"
    INVALID = "invalid", "Signed but unreadable (acknowledged, not processed)"


class WebhookDelivery(TenantModel):
    """A platform notification and the work it asks for, recorded in one transaction before the platform hears 200.

    The row is the work: a worker processes it (the broker only wakes that worker) and beat's sweep takes every row
    still pending or failed, so a notification acknowledged while Redis was down is processed once it is back.
    Notifications are kept once per notification id; ones that carry no id are never deduplicated against each
    other (two different orders' events must both be processed)."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    notification_id = models.CharField(max_length=64, blank=True)
    topic = models.CharField(max_length=64)  # Dropline's topic name (the adapter translates the platform's)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="webhook_deliveries")
    payload = models.JSONField()  # what the notification said, translated (for people; `body` is what is processed)
    body = models.TextField(blank=True)  # the verified request body, as received
    headers = models.JSONField(default=dict, blank=True)  # what the adapter needs back to read it (InboundNotification)
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # FAILED: when the sweep tries again
    processing_since = models.DateTimeField(null=True, blank=True)  # PROCESSING: a lease, taken over when stale
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "notification_id"],
                condition=~Q(notification_id=""),
                name="webhook_unique_notification",
            ),
        ]
        indexes = [
            models.Index(
                fields=["state", "received_at"],
                condition=Q(state__in=["pending", "processing", "failed"]),
                name="webhook_unprocessed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} webhook {self.topic} #{self.notification_id or self.pk}"
