"""Output serializers of the orders API: explicit fields, nothing written through them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.api.serializers import ChoiceLabelField
from integrations.interface import FulfilledBy, LabelSource
from integrations.models import Store
from orders import selectors
from orders.models import Order, OrderHold, OrderLine, OrderStatusChange


class OrderStoreOutput(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["id", "name", "platform"]


class OrderHoldOutput(serializers.ModelSerializer):
    reason_label = ChoiceLabelField("reason")
    fix = serializers.CharField(help_text="What the seller should do about it.")

    class Meta:
        model = OrderHold
        fields = ["id", "reason", "reason_label", "detail", "fix", "created_at", "released_at"]


class OrderListOutput(serializers.ModelSerializer):
    store = OrderStoreOutput()
    status_label = ChoiceLabelField("status")
    open_holds = serializers.SerializerMethodField(help_text="Open holds (empty unless `is_held`).")
    warehouse_id = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The warehouse it ships from (routing); null until routed."
    )
    tags = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="Tags set by rules.")
    label_source = serializers.CharField(
        help_text="Where the label comes from: platform (bought from the sales channel), carrier, or seller (the "
        "seller's own label, tracking uploaded); blank when the platform did not say."
    )
    fulfilled_by = serializers.CharField(
        help_text="Who ships it: seller, or platform (the platform ships it from its own warehouse)."
    )
    is_fulfilled_by_platform = serializers.SerializerMethodField(help_text="The platform ships it: nothing to do.")
    is_seller_shipping = serializers.SerializerMethodField(
        help_text="The seller ships on their own label (legacy; not compliant after the 2026 policy)."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "store",
            "status",
            "status_label",
            "is_held",
            "open_holds",
            "ship_by",
            "placed_at",
            "paid_at",
            "recipient_name",
            "sku_summary",
            "line_count",
            "unit_count",
            "currency",
            "total",
            "label_source",
            "fulfilled_by",
            "is_fulfilled_by_platform",
            "is_seller_shipping",
            "platform_warehouse_id",
            "warehouse_id",
            "warehouse_chosen_by",
            "warehouse_reason",
            "tags",
            "carrier_name",
            "tracking_number",
            "updated_at",  # when Dropline last changed the order: poll with `updated_since`
        ]

    @extend_schema_field(OrderHoldOutput(many=True))
    def get_open_holds(self, order: Order) -> list[dict[str, Any]]:
        holds = getattr(order, "open_holds", None)
        if holds is None:  # not prefetched (detail): the open ones among all holds
            holds = [hold for hold in order.holds.all() if hold.released_at is None]
        if not holds:
            return []
        # One hold serializer for the whole response, not one built per row: building a serializer copies its
        # fields, which cost more than the rows themselves (docs/adr/0031).
        if self._hold_output is None:
            self._hold_output = OrderHoldOutput()
        return [self._hold_output.to_representation(hold) for hold in holds]

    _hold_output: OrderHoldOutput | None = None

    def get_is_fulfilled_by_platform(self, order: Order) -> bool:
        return order.fulfilled_by == FulfilledBy.PLATFORM

    def get_is_seller_shipping(self, order: Order) -> bool:
        return order.label_source == LabelSource.SELLER


class OrderLineOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "external_id",
            "quantity",
            "platform_line_ids",
            "sku_id",
            "seller_sku",
            "product_id",
            "product_name",
            "sku_name",
            "unit_price",
            "currency",
            "package_id",
            "package_status",
            "tracking_number",
            "is_gift",
            "is_cancelled",
        ]


class OrderItemOutput(serializers.Serializer):
    """An order's lines of one SKU, aggregated."""

    seller_sku = serializers.CharField()
    sku_id = serializers.CharField()
    product_name = serializers.CharField()
    sku_name = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units of the SKU in the order.")
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    line_ids = serializers.ListField(child=serializers.CharField(), help_text="The platform's line ids.")
    package_ids = serializers.ListField(child=serializers.CharField())
    tracking_numbers = serializers.ListField(child=serializers.CharField())
    cancelled = serializers.IntegerField(help_text="Units cancelled.")


class OrderStatusChangeOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "changed_at"]


class OrderDetailOutput(OrderListOutput):
    items = serializers.SerializerMethodField(help_text="Lines aggregated by SKU.")
    lines = OrderLineOutput(
        many=True, help_text="Every line: the units of one SKU in one state, with their platform line ids."
    )
    holds = OrderHoldOutput(many=True, help_text="Every hold, open and released, oldest first.")
    status_history = OrderStatusChangeOutput(many=True, source="status_changes")

    class Meta(OrderListOutput.Meta):
        fields = [
            *OrderListOutput.Meta.fields,
            "delivery_type",
            "delivery_option_name",
            "buyer_message",
            "seller_note",
            "buyer_requested_cancel",
            "cancel_reason",
            "subtotal",
            "shipping_fee",
            "tax",
            "collect_by",
            "shipping_due",
            "collection_due",
            "delivery_by",
            "delivery_due",
            "cancelled_at",
            "shipped_at",
            "collected_at",
            "delivered_at",
            "has_address",
            "address_masked",
            "recipient_phone",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "country_code",
            "full_address",
            "items",
            "lines",
            "holds",
            "status_history",
        ]

    @extend_schema_field(OrderItemOutput(many=True))
    def get_items(self, order: Order) -> list[dict[str, Any]]:
        return OrderItemOutput(selectors.items_by_sku(order.lines.all()), many=True).data


class OrderCountsOutput(serializers.Serializer):
    """Orders per status tab, under every other filter of the request."""

    to_ship = serializers.IntegerField(help_text="AWAITING_SHIPMENT + PARTIALLY_SHIPPING")
    on_hold = serializers.IntegerField(help_text="ON_HOLD: the buyer's remorse window")
    held = serializers.IntegerField(help_text="Any open hold, whatever the status")
    awaiting_collection = serializers.IntegerField()
    in_transit = serializers.IntegerField()
    delivered = serializers.IntegerField(help_text="DELIVERED + COMPLETED")
    cancelled = serializers.IntegerField()
    all = serializers.IntegerField()
    at_least = serializers.ListField(
        child=serializers.ChoiceField(choices=[tab.key for tab in selectors.STATUS_TABS]),
        help_text=f"Tabs counted only up to {selectors.COUNT_CAP:,}: they hold at least that many orders.",
    )


class ManualRecipientInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=255)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=32)
    country_code = serializers.CharField(max_length=2, default="US")


class ManualLineInput(serializers.Serializer):
    # A manual line's SKU is also its platform SKU id (OrderLine.sku_id, 64 characters).
    seller_sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=999)
    product_name = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )


class ManualOrderInput(serializers.Serializer):
    """An order from a partner system (channel "manual"): validated, then imported like any platform order."""

    # 48: each unit's line id is "<reference>-<n>" (OrderLine.external_id, 64 characters).
    reference = serializers.CharField(max_length=48, help_text="Your order number; unique in the organization.")
    recipient = ManualRecipientInput()
    lines = ManualLineInput(many=True, allow_empty=False)
    currency = serializers.CharField(max_length=3, default="USD")
    buyer_message = serializers.CharField(required=False, allow_blank=True, default="")
    ship_by = serializers.DateTimeField(required=False, allow_null=True, default=None)


class SellerShipmentInput(serializers.Serializer):
    carrier = serializers.CharField(
        max_length=100,
        help_text="The carrier, by its TikTok shipping-provider id or its name as TikTok lists it (Get Shipping "
        "Providers for the order's delivery option), e.g. `USPS`.",
    )
    tracking_number = serializers.CharField(max_length=64, help_text="6–64 letters and digits.")


class SellerShipmentOutput(serializers.Serializer):
    order_id = serializers.UUIDField(source="order.pk")
    order_external_id = serializers.CharField(source="order.external_id")
    state = serializers.ChoiceField(
        choices=["pending", "submitting", "shipped", "failed"],
        help_text="`pending`/`submitting`: being sent to TikTok (poll GET); `shipped`: TikTok accepted it (or had it "
        "already: `adopted`); `failed`: TikTok refused it, see `error_*`; POST corrected values to send again.",
    )
    state_label = ChoiceLabelField("state")
    carrier_id = serializers.CharField()
    carrier_name = serializers.CharField()
    tracking_number = serializers.CharField()
    package_id = serializers.CharField(help_text="TikTok's package, once shipped.")
    adopted = serializers.BooleanField(help_text="TikTok already had the order shipped; nothing was sent twice.")
    shipped_at = serializers.DateTimeField(allow_null=True)
    warning = serializers.CharField(help_text="TikTok's warning, if it gave one.")
    error_code = serializers.CharField(help_text="TikTok's error code when refused.")
    error_message = serializers.CharField(help_text="TikTok's message when refused.")
    error_fix = serializers.CharField(help_text="What to do about the refusal.")
    source = serializers.CharField(help_text="`page`, `csv` or `api`.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderTagsInput(serializers.Serializer):
    add = serializers.ListField(
        child=serializers.CharField(max_length=50, trim_whitespace=True),
        required=False,
        default=list,
        max_length=20,
        help_text="Tags to add (kept in the order first added; one already there is left as it is).",
    )
    remove = serializers.ListField(
        child=serializers.CharField(max_length=50, allow_blank=True),
        required=False,
        default=list,
        max_length=50,
        help_text="Tags to remove (one not there is ignored).",
    )


class OrderTagsOutput(serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField(), help_text="The order's tags now.")


class OrderHoldReleaseInput(serializers.Serializer):
    hold = serializers.UUIDField(help_text="The hold's id (from the order's `holds`).")
