from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shipping.documents.printing import DOCUMENT_KINDS, PrintGroup
from shipping.models import LabelBatch, LabelPurchase


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
