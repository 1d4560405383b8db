"""Orders as fulfilment needs them: status and history, platform deadlines, address, lines, holds.

Rows are written by `orders.services.orders_upsert` (one SQL upsert per page, guarded by the platform's update
time), never by save() in a loop, so an import is idempotent, safe under concurrent workers, and an older payload can
never overwrite a newer one.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from erp.tenancy import TenantModel
from integrations import interface
from integrations.models import Store


class OrderStatus(models.TextChoices):
    """The neutral statuses of integrations.interface.OrderStatus (what adapters hand over), labelled for people."""

    UNPAID = interface.OrderStatus.UNPAID.value, "Unpaid"
    ON_HOLD = interface.OrderStatus.ON_HOLD.value, "On hold"
    AWAITING_SHIPMENT = interface.OrderStatus.AWAITING_SHIPMENT.value, "To ship"
    PARTIALLY_SHIPPING = interface.OrderStatus.PARTIALLY_SHIPPING.value, "Partly shipped"
    AWAITING_COLLECTION = interface.OrderStatus.AWAITING_COLLECTION.value, "Awaiting collection"
    IN_TRANSIT = interface.OrderStatus.IN_TRANSIT.value, "In transit"
    DELIVERED = interface.OrderStatus.DELIVERED.value, "Delivered"
    COMPLETED = interface.OrderStatus.COMPLETED.value, "Completed"
    CANCELLED = interface.OrderStatus.CANCELLED.value, "Cancelled"
    UNKNOWN = interface.OrderStatus.UNKNOWN.value, "Status not known to Dropline"


OPEN_STATUSES = (OrderStatus.ON_HOLD, OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING)


class WarehouseChoice(models.TextChoices):
    """Who chose the warehouse an order ships from. Only stock allocation's own choices are revisited when stock
    arrives; a rule's or a person's choice stands."""

    ALLOCATION = "allocation", "Stock allocation"
    RULE = "rule", "Logistics rule"
    PERSON = "person", "A person"


class Order(TenantModel):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(max_length=64)
    status = models.CharField(max_length=24, choices=OrderStatus.choices)
    # integrations.interface.LabelSource (blank: the platform did not say) and FulfilledBy (platform: nothing to do).
    label_source = models.CharField(max_length=16, blank=True)
    fulfilled_by = models.CharField(max_length=16, blank=True)
    delivery_type = models.CharField(max_length=24, blank=True)
    delivery_option_id = models.CharField(max_length=64, blank=True)
    delivery_option_name = models.CharField(max_length=100, blank=True)
    carrier_name = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    platform_warehouse_id = models.CharField(max_length=64, blank=True)
    # Where Dropline routed it (reserved there, or a make-to-order supplier that reserves nothing).
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    warehouse_chosen_by = models.CharField(max_length=16, choices=WarehouseChoice.choices, blank=True)
    warehouse_reason = models.CharField(max_length=300, blank=True)  # how it was chosen, in words, for people
    buyer_message = models.TextField(blank=True)
    seller_note = models.TextField(blank=True)
    is_on_hold_order = models.BooleanField(default=False)
    buyer_requested_cancel = models.BooleanField(default=False)
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancellation_initiator = models.CharField(max_length=16, blank=True)
    # Dropline's own notes on an address change seen on import (webhook 3 or a sync): when, and what it means for
    # the label (quote refreshed before it is bought; after, the label shows the old address and what to do).
    address_changed_at = models.DateTimeField(null=True, blank=True)
    address_note = models.CharField(max_length=500, blank=True)
    label_shows_old_address = models.BooleanField(default=False)

    currency = models.CharField(max_length=3, blank=True)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    shipping_fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    tax = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    placed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    platform_updated_at = models.DateTimeField()  # the version: an upsert never goes backwards
    cancelled_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    # Platform deadlines. ship_by (TikTok rts_sla_time) is the one late-dispatch rates are measured against.
    ship_by = models.DateTimeField(null=True, blank=True)
    collect_by = models.DateTimeField(null=True, blank=True)
    shipping_due = models.DateTimeField(null=True, blank=True)  # auto-cancelled if not shipped by then
    collection_due = models.DateTimeField(null=True, blank=True)
    delivery_by = models.DateTimeField(null=True, blank=True)
    delivery_due = models.DateTimeField(null=True, blank=True)
    cancel_unpaid_at = models.DateTimeField(null=True, blank=True)

    # Recipient, as the platform shows it: masked (name, phone) on TikTok-shipping orders, absent while on hold.
    has_address = models.BooleanField(default=False)
    address_masked = models.BooleanField(default=False)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_phone = models.CharField(max_length=64, blank=True)
    address_line1 = models.CharField(max_length=255, blank=True)
    address_line2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=32, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    full_address = models.TextField(blank=True)

    # Denormalised for a fast list: lines and units, a short "2 × RED-TEE-L" summary, whether any hold is open.
    line_count = models.PositiveIntegerField(default=0)
    unit_count = models.PositiveIntegerField(default=0)
    sku_summary = models.CharField(max_length=255, blank=True)
    is_held = models.BooleanField(default=False)
    # Set once the logistics rules have routed the order (warehouse, tag, auto-buy); never routed twice, so a
    # person's later change of warehouse stands.
    routed_at = models.DateTimeField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)

    imported_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_per_store"),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "ship_by"], name="order_org_status_shipby"),
            models.Index(fields=["organization", "ship_by"], name="order_org_shipby"),
            models.Index(fields=["organization", "-placed_at"], name="order_org_placed"),
            models.Index(fields=["organization", "external_id"], name="order_org_external"),
            models.Index(fields=["organization", "tracking_number"], name="order_org_tracking"),
            models.Index(fields=["organization", "is_held", "ship_by"], name="order_org_held_shipby"),
            # The "To ship" tab sorted by deadline is the list sellers live in: a partial index keeps it from
            # walking every shipped order (measured by bench/order_list.py at 1,000,000 orders).
            models.Index(
                fields=["organization", "ship_by", "id"],
                condition=Q(status__in=["AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"]),
                name="order_org_toship_shipby",
            ),
            models.Index(fields=["organization", "store", "status"], name="order_org_store_status"),
            models.Index(fields=["organization", "store"], condition=Q(is_held=True), name="order_org_store_held"),
            models.Index(fields=["organization"], condition=Q(routed_at__isnull=True), name="order_org_unrouted"),
        ]

    def __str__(self) -> str:
        return f"Order {self.external_id}"


class BackfillWindow(TenantModel):
    """One slice of a store's first import, by platform update time in [since, until), imported by its own worker.

    A first import of a large store is cut into windows of about equal order counts, so that several workers import
    it at once instead of one process's interpreter bounding it (docs/adr/0037). Each window pages forward with its
    own cursor and lease, as a store's sync does. The store's own cursor stays empty until the last window is done;
    then it is set to the end of the backfill and the windows are deleted, in one transaction."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="backfill_windows")
    since = models.DateTimeField()
    until = models.DateTimeField()
    cursor = models.DateTimeField(null=True, blank=True)  # the newest update time of this window's committed pages
    lease_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "store", "since"], name="backfill_window_once"),
        ]

    def __str__(self) -> str:
        return f"Backfill of {self.store_id} from {self.since:%Y-%m-%d %H:%M:%S}"


class OrderLine(TenantModel):
    """`quantity` units of one SKU in one state (package, status, prices), as the platform adapter aggregated them.

    `platform_line_ids` are the platform's ids of those units (one per unit on TikTok), sent again when a package is
    created, a label bought or a seller shipment reported. `external_id` is the row's stable key within the order:
    the smallest of them, so a re-import that splits or merges units keeps updating the same row."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    external_id = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField(default=1, db_default=1)
    platform_line_ids = models.JSONField(default=list, db_default=[])
    sku_id = models.CharField(max_length=64)
    seller_sku = models.CharField(max_length=100, blank=True)
    product_id = models.CharField(max_length=64, blank=True)
    product_name = models.CharField(max_length=300, blank=True)
    sku_name = models.CharField(max_length=200, blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    package_id = models.CharField(max_length=64, blank=True)
    package_status = models.CharField(max_length=24, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    is_gift = models.BooleanField(default=False)
    is_cancelled = models.BooleanField(default=False)
    # The order's `placed_at`, written with it by the import (the one writer of both), so that the orders of one
    # SKU are read newest first from the index below and a page stops after its rows, instead of fetching every
    # order of a popular SKU to sort them (docs/adr/0039).
    placed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="orderline_unique_per_order"),
        ]
        indexes = [
            models.Index(fields=["organization", "seller_sku", "-placed_at", "-order"], name="orderline_org_sku_placed")
        ]

    def __str__(self) -> str:
        return f"{self.seller_sku or self.sku_id} ({self.external_id})"


class OrderStatusChange(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=24, blank=True)  # blank: first seen
    to_status = models.CharField(max_length=24)
    changed_at = models.DateTimeField()  # the platform's update time
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class HoldReason(models.TextChoices):
    REMORSE_WINDOW = "remorse_window", "In the buyer's remorse window"
    ADDRESS_MISSING = "address_missing", "Address missing"
    ADDRESS_INVALID = "address_invalid", "Address looks invalid"
    CANCEL_REQUESTED = "cancel_requested", "Buyer asked to cancel"
    UNMAPPED_SKU = "unmapped_sku", "SKU not mapped"
    OUT_OF_STOCK = "out_of_stock", "Out of stock"
    MIXED_SOURCES = "mixed_sources", "Ships from different places"


HOLD_FIXES: dict[str, str] = {
    HoldReason.REMORSE_WINDOW: "Nothing to do: TikTok releases the order about an hour after payment, then it ships.",
    HoldReason.ADDRESS_MISSING: "Wait for the platform to release the address; if it does not, contact the buyer "
    "through TikTok.",
    HoldReason.ADDRESS_INVALID: "Ask the buyer to correct the address in TikTok (the order updates here by itself), "
    "or cancel the order from its page (Cancel order…, reason: unable to deliver to the buyer's address).",
    HoldReason.CANCEL_REQUESTED: "Approve or reject the buyer's request under Cancellations (it ships as normal once "
    "rejected).",
    HoldReason.UNMAPPED_SKU: "Map the platform SKU to one of your SKUs under Inventory → Listings.",
    HoldReason.OUT_OF_STOCK: "Receive stock or move it from another warehouse.",
    HoldReason.MIXED_SOURCES: "Receive stock of all its SKUs in one warehouse, or link one supplier to every SKU in "
    "it (Inventory → SKU → Supplied by), or send it somewhere with a logistics rule. Dropline does not split orders "
    "yet.",
}


class OrderHold(TenantModel):
    """Something that stops an order from shipping, with why. Released (not deleted) when it no longer applies."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(max_length=24, choices=HoldReason.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "reason", "released_at"], name="hold_org_reason_open")]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=models.Q(released_at__isnull=True),
                name="hold_one_open_per_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.get_reason_display()

    @property
    def fix(self) -> str:
        return HOLD_FIXES[self.reason]


class TrackingEvent(TenantModel):
    """A carrier scan of an order's package, as the platform reports it (free text, no status codes)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tracking_events")
    description = models.CharField(max_length=500)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "occurred_at", "description"], name="tracking_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.description}"


class SellerShipmentState(models.TextChoices):
    PENDING = "pending", "Waiting to send"
    SUBMITTING = "submitting", "Sending…"  # the platform may have been called: never resend without asking it first
    SHIPPED = "shipped", "Marked shipped"
    FAILED = "failed", "Refused by the platform"


class SellerShipment(TenantModel):
    """A seller-shipping order's carrier and tracking, marked shipped on the platform exactly once (Mark Package As
    Shipped). The row is committed before the platform is called and is unique per order, like the label money path
    (docs/adr/0007): only the worker whose conditional UPDATE claimed it calls the platform; a retry first looks at
    the platform's order and adopts the package it finds. See orders/seller_shipping.py."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="seller_shipment")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    carrier_id = models.CharField(max_length=64)
    carrier_name = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=64)
    line_ids = models.JSONField(default=list)
    source = models.CharField(max_length=8, default="page")  # page | csv | api
    created_by_label = models.CharField(max_length=200, blank=True)

    state = models.CharField(max_length=16, choices=SellerShipmentState.choices, default=SellerShipmentState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    submitting_since = models.DateTimeField(null=True, blank=True)

    package_id = models.CharField(max_length=64, blank=True)
    adopted = models.BooleanField(default=False)  # found already shipped on the platform, not sent by this attempt
    shipped_at = models.DateTimeField(null=True, blank=True)
    warning = models.CharField(max_length=300, blank=True)

    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_fix = models.CharField(max_length=300, blank=True)
    retryable = models.BooleanField(default=False)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state", "updated_at"], name="sellership_state_age")]

    def __str__(self) -> str:
        return f"Seller shipment of {self.order_id} ({self.get_state_display()})"
