"""Label batches for partner systems: buy, watch, retry. Each label is bought once, whatever is retried."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.views import OrganizationGenericAPIView, OrganizationReadOnlyViewSet
from erp.roles import Perm, ResourceFamily
from orders.models import Order
from shipping.api.serializers import (
    BatchPrintGroupOutput,
    LabelBatchCreateInput,
    LabelBatchDetailOutput,
    LabelBatchEstimateOutput,
    LabelBatchInput,
    LabelBatchOutput,
)
from shipping.documents import printing
from shipping.estimate import batch_estimate, estimate_from_token, estimate_token
from shipping.labels.batches import batch_plan, label_batch_retry_failed
from shipping.models import LabelBatch
from shipping.services import label_batch_plan_and_create


class PdfRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; the PDF itself is returned as is, errors as JSON."""

    media_type = "application/pdf"
    format = "pdf"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class PdfDocumentMixin:
    """A view answering a PDF: an error is still the JSON error body, labelled as JSON even when the PDF was asked
    for (`?format=pdf`, `Accept: application/pdf`), so a client never saves an error as the printout."""

    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer, PdfRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"  # type: ignore[attr-defined]
        return super().handle_exception(exc)  # type: ignore[misc]


DOCUMENT_KIND_PARAMETER = OpenApiParameter(
    "kind",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=list(printing.DOCUMENT_KINDS),
    description="labels: the 4x6 label stack; pick-list: Letter, one row per SKU; slips: each label followed by its "
    "packing slip.",
)


_WAREHOUSE_PARAMETER = OpenApiParameter(
    "warehouse",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description=(
        'Whose documents: a warehouse id from `documents/`, or "none" for orders routed to no warehouse. Required '
        "when the batch ships from more than one own warehouse (a pick list never mixes warehouses). A supplier's "
        "or 3PL's labels are never printed here: they are in its handoff."
    ),
)


@extend_schema(tags=["labels"])
class LabelBatchViewSet(OrganizationReadOnlyViewSet):
    """Official TikTok Shipping labels bought in batches. Creating a batch spends money: send an `Idempotency-Key`
    so that a retried request returns the first batch instead of starting another."""

    model = LabelBatch
    resource_family = ResourceFamily.LABELS
    write_permission = Perm.LABELS_BUY

    def get_scoped_queryset(self) -> QuerySet[LabelBatch]:
        if self.action == "retrieve":
            return LabelBatch.objects.prefetch_related("purchases__order")
        return LabelBatch.objects.order_by("-created_at")

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "create":
            return LabelBatchCreateInput
        if self.action == "estimate":
            return LabelBatchInput
        return LabelBatchDetailOutput if self.action in ("retrieve", "retry_failed") else LabelBatchOutput

    @extend_schema(request=LabelBatchCreateInput, responses={201: LabelBatchDetailOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = LabelBatchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        order_ids = data.validated_data["orders"]
        token = data.validated_data.get("estimate")
        estimate = estimate_from_token(token, order_ids=order_ids) if token else None
        plan, batch = label_batch_plan_and_create(
            actor=request.actor, orders=Order.objects.filter(pk__in=order_ids), estimate=estimate
        )
        if batch is None:
            why = "; ".join(f"{n} {reason}" for reason, n in plan.skipped.items()) or "no such orders"
            raise ValidationError({"orders": [f"No label to buy: {why}."]})
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
        order_ids = data.validated_data["orders"]
        estimate = batch_estimate(batch_plan(Order.objects.filter(pk__in=order_ids)))
        token = estimate_token(estimate, order_ids=order_ids)
        return Response(LabelBatchEstimateOutput(estimate, context={"token": token}).data)

    @extend_schema(request=None, responses=LabelBatchDetailOutput)
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Run the failed purchases again (after fixing what their `error_fix` says); bought ones are untouched."""
        batch = self.get_object()
        label_batch_retry_failed(actor=request.actor, batch=batch)
        return Response(
            LabelBatchDetailOutput(LabelBatch.objects.prefetch_related("purchases__order").get(pk=batch.pk)).data
        )


@extend_schema(tags=["labels"])
class LabelBatchDocumentsView(OrganizationGenericAPIView):
    """A batch's printouts, one warehouse at a time (printing never buys; every print is in the print history)."""

    model = LabelBatch
    resource_family = ResourceFamily.LABELS
    read_permission = Perm.LABELS_PRINT
    serializer_class = BatchPrintGroupOutput
    pagination_class = None

    @extend_schema(request=None, responses=BatchPrintGroupOutput(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The batch's printouts per warehouse: each own warehouse's labels, pick list and slips (URLs), and for
        each supplier or 3PL warehouse how many labels went to its handoff."""
        batch = self.get_object()
        groups = printing.batch_print_groups(batch)
        context = {"request": request, "batch_id": batch.pk}
        return Response(BatchPrintGroupOutput(groups, many=True, context=context).data)


@extend_schema(tags=["labels"])
class LabelBatchDocumentView(PdfDocumentMixin, OrganizationGenericAPIView):
    """One own warehouse's printout of a batch, as a PDF."""

    model = LabelBatch
    resource_family = ResourceFamily.LABELS
    read_permission = Perm.LABELS_PRINT

    @extend_schema(
        request=None,
        parameters=[
            DOCUMENT_KIND_PARAMETER,
            _WAREHOUSE_PARAMETER,
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The PDF, built from the stored labels (printing never buys); in the print history.",
            ),
            400: OpenApiResponse(
                description=(
                    "The batch ships from several warehouses and none was named, or the warehouse has no label to "
                    "print here (a supplier's or 3PL's are in its handoff)."
                )
            ),
        },
    )
    def get(self, request: Request, *args: Any, kind: str, **kwargs: Any) -> HttpResponse:
        """One own warehouse's printout of the batch (a PDF)."""
        batch = self.get_object()
        if kind not in printing.DOCUMENT_KINDS:
            raise ValidationError({"kind": [f"No document {kind!r}: use one of {', '.join(printing.DOCUMENT_KINDS)}."]})
        try:
            printed = printing.batch_document_build(
                batch=batch,
                kind=kind,  # type: ignore[arg-type]  # one of DOCUMENT_KINDS, checked above
                warehouse=request.query_params.get("warehouse"),
                organization=request.organization,
            )
        except printing.PrintRefused as refused:
            raise ValidationError({"warehouse": [str(refused)]}) from refused
        printing.print_event_record(batch=batch, printed=printed, actor=request.actor)
        response = HttpResponse(printed.content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{printed.filename}"'
        return response
