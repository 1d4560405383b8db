"""Label batches for partner systems: buy, watch, retry. Each label is bought once, whatever is retried."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.idempotency import idempotent
from erp.api.views import OrganizationReadOnlyViewSet
from erp.roles import Perm
from orders.models import Order
from shipping import labels
from shipping.api.serializers import (
    LabelBatchDetailOutput,
    LabelBatchEstimateOutput,
    LabelBatchInput,
    LabelBatchOutput,
)
from shipping.estimate import batch_estimate
from shipping.models import LabelBatch


@extend_schema(tags=["labels"])
class LabelBatchViewSet(OrganizationReadOnlyViewSet):
    """Official TikTok Shipping labels bought in batches. Creating a batch spends money: send an `Idempotency-Key`
    so that a retried request returns the first batch instead of starting another."""

    model = LabelBatch
    write_permission = Perm.LABELS_BUY

    def get_scoped_queryset(self) -> QuerySet[LabelBatch]:
        if self.action == "retrieve":
            return LabelBatch.objects.prefetch_related("purchases__order")
        return LabelBatch.objects.order_by("-created_at")

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action in ("create", "estimate"):
            return LabelBatchInput
        return LabelBatchDetailOutput if self.action in ("retrieve", "retry_failed") else LabelBatchOutput

    @extend_schema(request=LabelBatchInput, responses={201: LabelBatchDetailOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        data = LabelBatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = labels.batch_plan(Order.objects.filter(pk__in=data.validated_data["orders"]))
        if not plan.orders:
            why = "; ".join(f"{n} {reason}" for reason, n in plan.skipped.items()) or "no such orders"
            raise ValidationError({"orders": [f"No label to buy: {why}."]})
        batch = labels.label_batch_create(actor=request.actor, orders=plan.orders)
        body = LabelBatchDetailOutput(LabelBatch.objects.prefetch_related("purchases__order").get(pk=batch.pk)).data
        return Response({**body, "left_out_counts": plan.skipped}, status=status.HTTP_201_CREATED)

    @extend_schema(request=LabelBatchInput, responses=LabelBatchEstimateOutput)
    @action(detail=False, methods=["post"])
    def estimate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """What creating a batch of these orders would buy and cost, from TikTok's quotes (the same rule, package
        and service choice as the purchase), without buying anything. Large selections are quoted in part: see
        `quoted` and `not_quoted`."""
        data = LabelBatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = labels.batch_plan(Order.objects.filter(pk__in=data.validated_data["orders"]))
        return Response(LabelBatchEstimateOutput(batch_estimate(plan)).data)

    @extend_schema(request=None, responses=LabelBatchDetailOutput)
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Run the failed purchases again (after fixing what their `error_fix` says); bought ones are untouched."""
        batch = self.get_object()
        labels.label_batch_retry_failed(actor=request.actor, batch=batch)
        return Response(
            LabelBatchDetailOutput(LabelBatch.objects.prefetch_related("purchases__order").get(pk=batch.pk)).data
        )
