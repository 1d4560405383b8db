"""Reports for partner systems: the compliance figures and the at-risk list, from the selectors the dashboard's pages
use (shipping.compliance.compliance_report, shipping.at_risk.orders_at_risk). Read-only."""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api.caller import request_organization
from erp.api.views import OrganizationGenericAPIView
from integrations.models import Platform, Store
from inventory.models import Warehouse, WarehouseKind
from orders.models import Order
from shipping import compliance
from shipping.at_risk import Assessment, at_risk_requests, orders_at_risk

AT_RISK_LIMIT = 200  # as the dashboard's page


# ----------------------------------------------------------------------------------------------------- compliance
class RateOutput(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # the rate's label, not the field's
    count = serializers.IntegerField()
    of = serializers.IntegerField(help_text="The population the rate is counted over.")
    percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, help_text="Null: no orders.")
    threshold = serializers.DecimalField(max_digits=5, decimal_places=1, help_text="The platform's limit, percent.")
    higher_is_better = serializers.BooleanField()
    ok = serializers.BooleanField(allow_null=True, help_text="Within the platform's limit (null: nothing to rate).")
    orders_query = serializers.CharField(
        source="query", help_text="The `orders/` query parameters that list the orders counted."
    )
    explanation = serializers.CharField()


class DayLogisticsOutput(serializers.Serializer):
    day = serializers.DateField()
    tiktok_shipping = serializers.IntegerField()
    cbt = serializers.IntegerField(help_text="Collections by TikTok.")
    fbt = serializers.IntegerField(help_text="Fulfilled by TikTok.")
    seller_accepted = serializers.IntegerField(help_text="Seller shipping before the store's cut-off.")
    seller_violation = serializers.IntegerField(help_text="Seller shipping on or after the cut-off.")


class StoreComplianceOutput(serializers.Serializer):
    store = serializers.UUIDField(source="store.pk")
    store_name = serializers.CharField(source="store.name")
    phase = serializers.CharField(help_text="not_required | before | transition | required")
    shipped = serializers.IntegerField()
    official = serializers.IntegerField()
    seller = serializers.IntegerField()
    violations = serializers.IntegerField()
    official_share = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)


class AuthorizationWarningOutput(serializers.Serializer):
    store = serializers.UUIDField(source="store.pk")
    store_name = serializers.CharField(source="store.name")
    expires_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()


class ComplianceOutput(serializers.Serializer):
    first_day = serializers.DateField(source="window.first_day")
    last_day = serializers.DateField(source="window.last_day")
    store = serializers.UUIDField(source="store.pk", allow_null=True, default=None)
    shipped = serializers.IntegerField(help_text="Orders shipped in the window.")
    official = serializers.IntegerField(help_text="Of them, on official TikTok logistics.")
    seller = serializers.IntegerField()
    violations = serializers.IntegerField(help_text="Seller-shipped after the store's cut-off.")
    official_share = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    compliant = serializers.BooleanField()
    late_dispatch = RateOutput()
    valid_tracking = RateOutput()
    seller_cancellation = RateOutput()
    days = DayLogisticsOutput(many=True)
    stores = StoreComplianceOutput(many=True)
    authorizations = AuthorizationWarningOutput(many=True)


class ReportFilterInput(serializers.Serializer):
    store = serializers.UUIDField(required=False, help_text="One store's figures (default: every store).")
    warehouse = serializers.UUIDField(required=False, help_text="One warehouse's orders (at-risk only).")


def _filters(request: Request) -> dict[str, Any]:
    data = ReportFilterInput(data=request.query_params)
    data.is_valid(raise_exception=True)
    return data.validated_data


@extend_schema(tags=["reports"])
class ComplianceReportView(OrganizationGenericAPIView):
    """TikTok's logistics compliance over the last 30 days (the Compliance page): how orders shipped, the late
    dispatch, valid tracking and seller cancellation rates against TikTok's limits, per store."""

    model = Store
    resource_family: ClassVar[str] = "reports"
    serializer_class = ComplianceOutput
    pagination_class = None
    filter_backends = ()

    @extend_schema(parameters=[ReportFilterInput], responses=ComplianceOutput)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        store_id = _filters(request).get("store")
        store = None
        if store_id is not None:
            store = Store.objects.exclude(platform=Platform.MANUAL).filter(pk=store_id).first()
            if store is None:
                raise ValidationError({"store": ["No such store."]})
        return Response(ComplianceOutput(compliance.compliance_report(store=store)).data)


# -------------------------------------------------------------------------------------------------------- at risk
class AtRiskReasonOutput(serializers.Serializer):
    code = serializers.CharField(help_text="held:<reason> | closed | backlog | supplier_ack | no_label | ...")
    text = serializers.CharField()
    detail = serializers.CharField()
    fix = serializers.CharField(source="fix_text", help_text="What to do about it.")
    fix_label = serializers.CharField(source="fix.label", help_text="The dashboard's button for it.")


class AtRiskOrderOutput(serializers.Serializer):
    order = serializers.UUIDField(source="order_id")
    external_id = serializers.CharField()
    store = serializers.UUIDField(source="store_id")
    store_name = serializers.CharField()
    warehouse = serializers.UUIDField(source="warehouse_id", allow_null=True)
    warehouse_name = serializers.CharField()
    deadline = serializers.DateTimeField()
    deadline_label = serializers.CharField(help_text="`ship-by` or `auto-cancel`.")
    ready_at = serializers.DateTimeField(help_text="When it can be out at the earliest, at the current pace.")
    slack_seconds = serializers.SerializerMethodField(help_text="Negative: it will miss the deadline by this much.")
    late = serializers.BooleanField(help_text="The deadline has passed.")
    sku_summary = serializers.CharField()
    summary = serializers.CharField(source="short_text", help_text='"late by 2 h" or "3 h 20 min left".')
    reasons = AtRiskReasonOutput(many=True, help_text="Why it is at risk, the first one first.")

    def get_slack_seconds(self, assessment: Assessment) -> int:
        return int(assessment.slack.total_seconds())


class AtRiskRequestOutput(serializers.Serializer):
    order = serializers.UUIDField(source="order_id", allow_null=True)
    order_ref = serializers.CharField()
    what = serializers.CharField()
    due_at = serializers.DateTimeField()


class AtRiskOutput(serializers.Serializer):
    total = serializers.IntegerField(help_text="Orders at risk (the list holds the first 200).")
    late = serializers.IntegerField(help_text="Of them, already past their deadline.")
    orders = AtRiskOrderOutput(many=True, help_text="Most urgent first.")
    requests = AtRiskRequestOutput(many=True, help_text="Buyers' requests to answer before their deadline.")


@extend_schema(tags=["reports"])
class AtRiskReportView(OrganizationGenericAPIView):
    """Orders that will miss their deadline unless someone acts (the At risk page), most urgent first, each with why
    and what fixes it; and the buyers' requests waiting for an answer."""

    model = Order
    resource_family: ClassVar[str] = "reports"
    serializer_class = AtRiskOutput
    pagination_class = None
    filter_backends = ()

    @extend_schema(parameters=[ReportFilterInput], responses=AtRiskOutput)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = _filters(request)
        store_id, warehouse_id = filters.get("store"), filters.get("warehouse")
        if store_id is not None and not Store.objects.filter(pk=store_id).exists():
            raise ValidationError({"store": ["No such store."]})
        if (
            warehouse_id is not None
            and not Warehouse.objects.exclude(kind=WarehouseKind.PLATFORM).filter(pk=warehouse_id).exists()
        ):
            raise ValidationError({"warehouse": ["No such warehouse."]})
        at_risk = orders_at_risk(
            organization=request_organization(request), store_id=store_id, warehouse_id=warehouse_id
        )
        body = {
            "total": len(at_risk),
            "late": sum(1 for a in at_risk if a.late),
            "orders": at_risk[:AT_RISK_LIMIT],
            "requests": at_risk_requests(),
        }
        return Response(AtRiskOutput(body).data)
