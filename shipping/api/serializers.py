from rest_framework import serializers

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

    class Meta:
        model = LabelBatch
        fields = ["id", "reference", "created_at", "created_by_label", "progress"]

    def get_progress(self, batch: LabelBatch) -> dict[str, int | bool]:
        from shipping.selectors import batch_progress

        progress = batch_progress(batch)
        return {
            "total": progress.total,
            "bought": progress.bought,
            "failed": progress.failed,
            "pending": progress.pending,
            "done": progress.done,
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
