from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shipping.documents.printing import DOCUMENT_KINDS, PrintGroup
from shipping.models import Handoff, HandoffItem, LabelBatch, LabelPurchase, LogisticsRule


class LabelPurchaseOutput(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id")
    order_external_id = serializers.CharField(source="order.external_id")

    class Meta:
        model = LabelPurchase
        fields = [
            "id",
            "order",
            "order_external_id",
            "state",
            "service_name",
            "carrier_name",
            "price",
            "currency",
            "package_id",
            "tracking_number",
            "adopted",
            "purchased_at",
            "error_code",
            "error_message",
            "error_fix",
            "retryable",
            "packed_at",
            "decision",
        ]


class LabelBatchOutput(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    estimate = serializers.JSONField(
        read_only=True, help_text="What was estimated before buying: count, quoted, totals per currency."
    )
    left_out = serializers.JSONField(
        read_only=True, help_text="Orders asked for but not bought by this batch, with why and the batch that has them."
    )

    class Meta:
        model = LabelBatch
        fields = ["id", "reference", "created_at", "created_by_label", "progress", "estimate", "left_out"]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "bought": {"type": "integer"},
                "failed": {"type": "integer"},
                "pending": {"type": "integer"},
                "done": {"type": "boolean"},
                "spent": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    )
    def get_progress(self, batch: LabelBatch) -> dict[str, object]:
        from shipping.selectors import batch_progress

        progress = batch_progress(batch)
        return {
            "total": progress.total,
            "bought": progress.bought,
            "failed": progress.failed,
            "pending": progress.pending,
            "done": progress.done,
            "spent": {currency: str(total) for currency, total in progress.spent},
        }


class LabelBatchDetailOutput(LabelBatchOutput):
    purchases = LabelPurchaseOutput(many=True, read_only=True)

    class Meta(LabelBatchOutput.Meta):
        fields = [*LabelBatchOutput.Meta.fields, "purchases"]


class LabelBatchInput(serializers.Serializer):
    orders = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=1000,
        help_text="Order ids (as the orders API gives them). Held, FBT and seller-shipping orders are left out.",
    )


class LabelBatchCreateInput(LabelBatchInput):
    estimate = serializers.CharField(
        required=False,
        max_length=4000,
        help_text="The `token` of an estimate of these same orders (`estimate/`, within an hour): the batch keeps "
        "that estimate beside its final cost, as the dashboard's confirmation does.",
    )


class LabelBatchEstimateOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="Labels a batch of these orders would buy.")
    quoted = serializers.IntegerField(help_text="How many of them TikTok quoted for this estimate.")
    totals = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=2),
        help_text="Currency → sum of the quoted prices (only the quoted orders).",
    )
    not_quoted = serializers.DictField(child=serializers.IntegerField(), help_text="Why → orders without a price.")
    skipped = serializers.DictField(child=serializers.IntegerField(), help_text="Why → orders a batch would leave out.")
    warnings = serializers.DictField(
        child=serializers.CharField(), help_text="Order number → what looks wrong before buying (e.g. its warehouse)."
    )
    token = serializers.SerializerMethodField(
        help_text="Send it as `estimate` when creating the batch of these orders (valid for an hour)."
    )

    def get_token(self, estimate: object) -> str:
        return str(self.context.get("token", ""))


class BatchPrintGroupOutput(serializers.Serializer):
    """One warehouse's share of a batch. An own warehouse lists its documents (one pick list per warehouse); a
    supplier or 3PL warehouse lists none: its labels are printed from its handoff."""

    warehouse = serializers.CharField(
        source="key", help_text='The `warehouse` value for the documents: a warehouse id, or "none" (not routed).'
    )
    warehouse_name = serializers.CharField(source="name")
    warehouse_kind = serializers.CharField(source="kind", help_text='own | 3pl | supplier; "" when not routed.')
    labels = serializers.IntegerField(help_text="Bought labels of the batch for this warehouse.")
    handoff = serializers.UUIDField(
        source="handoff_id", allow_null=True, help_text="The handoff that carries a supplier's or 3PL's labels."
    )
    documents = serializers.SerializerMethodField(help_text="Document kind → its URL (own warehouses only).")

    def get_documents(self, group: PrintGroup) -> dict[str, str]:
        if group.is_handoff:
            return {}
        request = self.context["request"]
        batch_id = self.context["batch_id"]
        return {
            kind: request.build_absolute_uri(
                reverse("labelbatch-document", kwargs={"pk": batch_id, "kind": kind}) + f"?warehouse={group.key}"
            )
            for kind in DOCUMENT_KINDS
        }


# ------------------------------------------------------------------------------------------------------- handoffs
class HandoffWarehouseOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="`supplier` or `3pl`.")


class HandoffBatchOutput(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()


class HandoffOutput(serializers.ModelSerializer):
    warehouse = HandoffWarehouseOutput()
    batch = HandoffBatchOutput()
    total = serializers.IntegerField(help_text="Parcels (bought labels) in the handoff.")
    handed = serializers.IntegerField(help_text="Parcels handed to the carrier.")
    late = serializers.IntegerField(help_text="Parcels not handed over yet whose ship-by deadline has passed.")

    class Meta:
        model = Handoff
        fields = [
            "id",
            "warehouse",
            "batch",
            "created_at",
            "acknowledged_at",
            "acknowledged_by_label",
            "total",
            "handed",
            "late",
        ]


class HandoffOrderOutput(serializers.Serializer):
    id = serializers.UUIDField()
    external_id = serializers.CharField(help_text="The order number on the sales channel.")
    status = serializers.CharField()
    ship_by = serializers.DateTimeField(allow_null=True, help_text="The platform's ship-by deadline.")
    sku_summary = serializers.CharField(help_text='What to pack, e.g. "2 × RED-TEE-L".')
    unit_count = serializers.IntegerField()


class HandoffItemOutput(serializers.ModelSerializer):
    """One parcel of the handoff: its order, its label and whether it was handed to the carrier."""

    order = HandoffOrderOutput(source="purchase.order")
    tracking_number = serializers.CharField(source="purchase.tracking_number")
    package_id = serializers.CharField(source="purchase.package_id")
    carrier_name = serializers.CharField(source="purchase.carrier_name")
    service_name = serializers.CharField(source="purchase.service_name")

    class Meta:
        model = HandoffItem
        fields = [
            "id",
            "order",
            "tracking_number",
            "package_id",
            "carrier_name",
            "service_name",
            "handed_over_at",
            "handed_over_by_label",
        ]


class HandoffDetailOutput(HandoffOutput):
    items = serializers.SerializerMethodField(help_text="The parcels, soonest ship-by first.")

    class Meta(HandoffOutput.Meta):
        fields = [*HandoffOutput.Meta.fields, "items"]

    @extend_schema_field(HandoffItemOutput(many=True))
    def get_items(self, handoff: Handoff) -> Any:
        from shipping.handoffs import handoff_items

        return HandoffItemOutput(handoff_items(handoff), many=True).data


class HandoffHandOverInput(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        min_length=1,
        max_length=1000,
        help_text="Item ids (from `items`) to mark handed over.",
    )
    codes = serializers.ListField(
        child=serializers.CharField(max_length=100, allow_blank=False),
        required=False,
        min_length=1,
        max_length=1000,
        help_text="Scanned tracking numbers, package ids or order numbers, each marked handed over when it is a "
        "parcel of this handoff (as the portal's scan box does).",
    )

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if "items" in attrs and "codes" in attrs:
            raise serializers.ValidationError({"codes": ["Send `items` or `codes`, not both."]})
        return attrs


class HandoffScanOutput(serializers.Serializer):
    code = serializers.CharField()
    handed_over = serializers.BooleanField(help_text="False: not a parcel of this handoff, or handed over already.")
    message = serializers.CharField(help_text="What happened, in words (e.g. a cancelled order: do not ship).")


class HandoffHandOverOutput(serializers.Serializer):
    handed_over = serializers.IntegerField(help_text="Parcels this request marked handed over.")
    scans = HandoffScanOutput(many=True, help_text="Per code sent in `codes` (empty otherwise).")
    handoff = HandoffDetailOutput()


class OwnLabelTrackingInput(serializers.Serializer):
    carrier = serializers.CharField(max_length=100, help_text="The carrier's id or name as the channel lists them.")
    tracking_number = serializers.CharField(max_length=64)


class OwnLabelImportInput(serializers.Serializer):
    csv = serializers.CharField(
        max_length=2_000_000,
        trim_whitespace=False,
        help_text="CSV text with the header `order_id,carrier,tracking_number`, one order per row.",
    )
    dry_run = serializers.BooleanField(
        default=True, help_text="`true` (default): only check. `false`: record every row, only if every row is good."
    )


class ImportRowErrorOutput(serializers.Serializer):
    line = serializers.IntegerField(help_text="The line in the file (the header is line 1).")
    column = serializers.CharField()
    message = serializers.CharField()


class OwnLabelImportOutput(serializers.Serializer):
    rows = serializers.IntegerField()
    applied = serializers.BooleanField(help_text="The rows were recorded (each is told to its channel once).")
    errors = ImportRowErrorOutput(many=True)  # type: ignore[assignment]  # a field named like Serializer.errors
    changes = serializers.ListField(child=serializers.CharField(), help_text="What applying does (or did), per row.")


class OrderRerouteInput(serializers.Serializer):
    warehouse = serializers.UUIDField(help_text="The warehouse or supplier to ship from (an id from `warehouses/`).")
    reason = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True, help_text="Why, for the people who read it."
    )


# ---------------------------------------------------------------------------------------------------------- rules
_CONDITIONS_HELP = (
    "All optional; the rule matches when every condition given holds (a list matches when any item does): "
    "store_ids, channels, countries, states, postal_prefixes, total_min, total_max, weight_min_grams, "
    "weight_max_grams, max_side_cm, seller_skus_any, product_ids_any, tags_any, line_count_min, line_count_max, "
    "delivery_option_names, ship_within_hours, has_buyer_message."
)
_ACTIONS_HELP = (
    "What the rule does: warehouse_id, package_length_cm/width_cm/height_cm, package_weight_grams, service_strategy "
    "(cheapest, fastest, cheapest_within_days with within_days, provider with provider_name), handover_method "
    "(PICKUP, DROP_OFF) and pickup_slot, auto_buy, hold_for_review, tag, combine_when_possible."
)


class RuleOutput(serializers.ModelSerializer):
    conditions = serializers.DictField(help_text=_CONDITIONS_HELP)
    actions = serializers.DictField(help_text=_ACTIONS_HELP)

    class Meta:
        model = LogisticsRule
        fields = ["id", "name", "priority", "enabled", "conditions", "actions", "created_at", "updated_at"]
        extra_kwargs = {"priority": {"help_text": "Lower first: the first enabled rule that matches an order wins."}}


class RuleInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    enabled = serializers.BooleanField(default=True)
    conditions = serializers.DictField(default=dict, help_text=_CONDITIONS_HELP)
    actions = serializers.DictField(default=dict, help_text=_ACTIONS_HELP)


class RuleReorderInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=1000,
        help_text="Rule ids in their new order; rules not listed keep their order, after these.",
    )


class RuleTestInput(serializers.Serializer):
    conditions = serializers.DictField(help_text=f"The conditions to try, unsaved. {_CONDITIONS_HELP}")


class RuleTestMatchOutput(serializers.Serializer):
    id = serializers.UUIDField()
    external_id = serializers.CharField()
    ship_by = serializers.DateTimeField(allow_null=True)
    store = serializers.CharField(source="store.name")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why each condition holds.")


class RuleTestOutput(serializers.Serializer):
    limit = serializers.IntegerField(help_text="At most this many orders are shown.")
    orders = RuleTestMatchOutput(many=True, help_text="Open orders the conditions match, soonest ship-by first.")


class RulesApplyOutput(serializers.Serializer):
    routed = serializers.IntegerField(help_text="Open orders without a label the rules were applied to.")
    moved = serializers.IntegerField(help_text="Sent to a rule's warehouse.")
    tagged = serializers.IntegerField()
    auto_buy = serializers.IntegerField(help_text="Labels being bought.")
    not_moved = serializers.DictField(child=serializers.CharField(), help_text="Order number → why it stayed.")
    batches = serializers.ListField(child=serializers.CharField(), help_text="References of the auto-buy batches.")
