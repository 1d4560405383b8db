from rest_framework import serializers

from aftersales.models import CancellationRequest, Decision, ReturnRequest
from integrations.interface import ReturnDecision


class DecisionOutput(serializers.ModelSerializer):
    return_decision = serializers.CharField(read_only=True, help_text="For a return: the step answered.")

    class Meta:
        model = Decision
        fields = [
            "id",
            "step",
            "approve",
            "return_decision",
            "reason_code",
            "reason_text",
            "comment",
            "state",
            "answer",
            "error_code",
            "error_message",
            "error_fix",
            "retryable",
            "decided_by_label",
            "created_at",
            "updated_at",
        ]


_REQUEST_FIELDS = [
    "id",
    "store",
    "order",
    "order_external_id",
    "external_id",
    "initiator",
    "status",
    "platform_status",
    "reason_code",
    "reason_text",
    "respond_by",
    "refund_amount",
    "currency",
    "lines",
    "requested_at",
    "platform_updated_at",
    "decisions",
]


_STATUS_HELP = "pending | in_progress | parcel_received | approved | rejected | withdrawn | unknown"


class CancellationRequestOutput(serializers.ModelSerializer):
    decisions = DecisionOutput(many=True, read_only=True)
    status = serializers.CharField(read_only=True, help_text=_STATUS_HELP)

    class Meta:
        model = CancellationRequest
        fields = [*_REQUEST_FIELDS, "needs_decision"]


class ReturnRequestOutput(serializers.ModelSerializer):
    decisions = DecisionOutput(many=True, read_only=True)
    status = serializers.CharField(read_only=True, help_text=_STATUS_HELP)
    needs_decision = serializers.BooleanField(read_only=True)

    class Meta:
        model = ReturnRequest
        fields = [
            *_REQUEST_FIELDS,
            "kind",
            "decisions_open",
            "needs_decision",
            "return_tracking_number",
            "return_carrier",
        ]


class CancellationDecisionInput(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="To reject: a code from `reject-reasons/`."
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ReturnDecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[d.value for d in ReturnDecision], help_text="One of the request's `decisions_open`."
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="To reject: a code from `reject-reasons/`."
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ReasonOutput(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
