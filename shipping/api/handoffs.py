"""Handoffs for partner systems: a supplier's or 3PL's WMS (a warehouse-bound API key) reads the label handoffs of its
warehouse, acknowledges them, marks parcels handed to the carrier, downloads the printouts, and reports the tracking of
the orders it ships on its own label. The same services as the supplier portal (shipping.handoffs, shipping.own_label).

A warehouse-bound key sees its warehouse's handoffs and orders only: every look-up goes through
`handoffs_for_warehouse` / `own_label_orders_of` with the request's warehouse scope, so another warehouse's id is a
404 exactly like another organization's. A seller's key (no warehouse scope) sees every handoff.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.caller import request_actor
from erp.api.exceptions import ServiceUnavailable
from erp.api.views import OrganizationAPIMixin, OrganizationGenericAPIView, OrganizationReadOnlyViewSet
from erp.roles import Perm
from integrations.errors import PlatformError
from integrations.services import platform_name
from inventory.models import Warehouse
from orders import selectors as order_selectors
from orders.api.serializers import OrderListOutput, SellerShipmentOutput
from orders.models import Order, SellerShipment
from orders.seller_shipping import SellerShippingRefused, seller_shipment_request
from orders.seller_shipping_csv import seller_shipments_import
from shipping import handoffs, own_label
from shipping.api.serializers import (
    HandoffDetailOutput,
    HandoffHandOverInput,
    HandoffHandOverOutput,
    HandoffOutput,
    OwnLabelImportInput,
    OwnLabelImportOutput,
    OwnLabelTrackingInput,
)
from shipping.api.views import DOCUMENT_KIND_PARAMETER, PdfDocumentMixin
from shipping.documents.printing import DOCUMENT_KINDS
from shipping.models import Handoff

UUID_REGEX = "[0-9a-fA-F-]{32,36}"


def warehouse_scope(request: Request) -> Warehouse | None:
    """The warehouse a supplier's or 3PL's API key is bound to, or None (a seller's key or a person)."""
    return getattr(request, "warehouse_scope", None)


class SupplierWork:
    """The handoff views' permission for a warehouse-bound caller (a supplier's or 3PL's key, a supplier member):
    `handoffs.receive`, the supplier portal's own, read and write alike, when the caller has it. The key's scope for
    the handoffs family is checked before (erp.api.permissions), so a read-only key still cannot write. Anyone else
    needs what the seller's handoff page needs: `view` to read, `handoffs.manage` to act."""

    def required_permission(self, method: str) -> Perm | None:
        request = getattr(self, "request", None)
        permissions: frozenset[Perm] = getattr(request, "permissions", frozenset())
        if getattr(request, "warehouse_bound", False) and Perm.HANDOFF_RECEIVE in permissions:
            return Perm.HANDOFF_RECEIVE
        return super().required_permission(method)  # type: ignore[misc]


class HandoffFilter(filters.FilterSet):
    acknowledged = filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True, help_text="`false`: not acknowledged yet."
    )
    warehouse = filters.UUIDFilter(field_name="warehouse_id", help_text="Warehouse id.")
    batch = filters.UUIDFilter(field_name="batch_id", help_text="Label batch id.")

    class Meta:
        model = Handoff
        fields = ["acknowledged", "warehouse", "batch"]


@extend_schema(tags=["handoffs"])
class HandoffViewSet(SupplierWork, OrganizationReadOnlyViewSet):
    """The bought labels of a batch whose orders ship from a supplier or 3PL warehouse, newest first: sent,
    acknowledged, and handed to the carrier parcel by parcel."""

    model = Handoff
    resource_family: ClassVar[str] = "handoffs"
    warehouse_scoped: ClassVar[bool] = True
    read_permission = Perm.VIEW
    write_permission = Perm.HANDOFF_MANAGE
    filterset_class = HandoffFilter
    lookup_value_regex = UUID_REGEX

    def get_scoped_queryset(self) -> QuerySet[Handoff]:
        return handoffs.handoffs_for_warehouse(warehouse_scope(self.request))

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "hand_over":
            return HandoffHandOverInput
        return HandoffOutput if self.action == "list" else HandoffDetailOutput

    def _fresh(self, handoff: Handoff) -> Handoff:
        return self.get_queryset().get(pk=handoff.pk)  # its counts after the change

    @extend_schema(request=None, responses=HandoffDetailOutput)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The warehouse has the labels. Once: acknowledging again changes nothing (the first time and who stay)."""
        handoff = self.get_object()
        handoffs.handoff_acknowledge(handoff=handoff, actor=request_actor(request))
        return Response(HandoffDetailOutput(self._fresh(handoff)).data)

    @extend_schema(
        request=HandoffHandOverInput,
        responses=HandoffHandOverOutput,
        examples=[
            OpenApiExample("Every parcel not handed over yet", value={}, request_only=True),
            OpenApiExample("Scanned at the dock", value={"codes": ["9400111202555842761234"]}, request_only=True),
        ],
    )
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark parcels handed to the carrier: the `items` named, the parcels whose scanned `codes` are sent, or (an
        empty body) every parcel not handed over yet. Parcels handed over already keep their first time."""
        handoff = self.get_object()
        data = HandoffHandOverInput(data=request.data)
        data.is_valid(raise_exception=True)
        items, codes = data.validated_data.get("items"), data.validated_data.get("codes")
        scans = []
        if codes is not None:
            for code in codes:
                done, message = handoffs.handoff_scan(handoff=handoff, code=code, actor=request_actor(request))
                scans.append({"code": code, "handed_over": done, "message": message})
            count = sum(scan["handed_over"] for scan in scans)
        else:
            if items is not None:
                known = {str(pk) for pk in handoff.items.filter(pk__in=items).values_list("pk", flat=True)}
                foreign = sorted({str(item) for item in items} - known)
                if foreign:
                    raise ValidationError({"items": [f"Not parcels of this handoff: {', '.join(foreign)}."]})
            count = handoffs.handoff_hand_over(
                handoff=handoff,
                actor=request_actor(request),
                item_ids=None if items is None else [str(i) for i in items],
            )
        body = {"handed_over": count, "scans": scans, "handoff": self._fresh(handoff)}
        return Response(HandoffHandOverOutput(body).data)


@extend_schema(tags=["handoffs"])
class HandoffDocumentView(PdfDocumentMixin, SupplierWork, OrganizationGenericAPIView):
    """One of a handoff's printouts, as a PDF."""

    model = Handoff
    resource_family: ClassVar[str] = "handoffs"
    warehouse_scoped: ClassVar[bool] = True
    read_permission = Perm.VIEW

    def get_scoped_queryset(self) -> QuerySet[Handoff]:
        return handoffs.handoffs_for_warehouse(warehouse_scope(self.request))

    @extend_schema(
        request=None,
        parameters=[DOCUMENT_KIND_PARAMETER],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The PDF, built from the stored labels (printing never buys)."
            ),
        },
    )
    def get(self, request: Request, *args: Any, kind: str, **kwargs: Any) -> HttpResponse:
        """The handoff's labels, pick list or labels with packing slips (the download is audited)."""
        handoff = self.get_object()
        if kind not in DOCUMENT_KINDS:
            raise ValidationError({"kind": [f"No document {kind!r}: use one of {', '.join(DOCUMENT_KINDS)}."]})
        document = handoffs.handoff_document_build(
            handoff=handoff,
            kind=kind,  # type: ignore[arg-type]  # one of DOCUMENT_KINDS, checked above
            actor=request_actor(request),
        )
        response = HttpResponse(document.content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{document.filename}"'
        return response


class OwnLabelOrderFilter(filters.FilterSet):
    pending = filters.BooleanFilter(
        method="filter_pending",
        help_text="`true`: only orders still to ship and report (no tracking recorded, or the last one refused).",
    )

    class Meta:
        model = Order
        fields = ["pending"]

    def filter_pending(self, queryset: QuerySet[Order], name: str, value: bool | None) -> QuerySet[Order]:
        if value is None:
            return queryset
        pending = own_label.own_label_pending(queryset).values("pk")
        return queryset.filter(pk__in=pending) if value else queryset.exclude(pk__in=pending)


@extend_schema(tags=["handoffs"])
class OwnLabelOrderViewSet(SupplierWork, OrganizationAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Orders a supplier or 3PL ships on its own label (channels without official labels, e.g. Shopify): it reports
    each one's carrier and tracking number, one by one or as a CSV, and Dropline tells the channel once
    (docs/adr/0020). Orders that ship on an official label are in the handoffs instead."""

    model = Order
    resource_family: ClassVar[str] = "handoffs"
    warehouse_scoped: ClassVar[bool] = True
    read_permission = Perm.VIEW
    write_permission = Perm.HANDOFF_MANAGE
    filterset_class = OwnLabelOrderFilter
    lookup_value_regex = UUID_REGEX

    def get_scoped_queryset(self) -> QuerySet[Order]:
        scope = warehouse_scope(self.request)
        if self.action == "tracking":  # any order the key may see; one on an official label is refused with why
            orders = own_label.warehouse_orders(scope) if scope is not None else Order.objects.all()
            return orders.select_related("store__authorization")
        return order_selectors.orders_list().filter(pk__in=own_label.own_label_orders_of(scope).values("pk"))

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "tracking":
            return OwnLabelTrackingInput
        if self.action == "tracking_import":
            return OwnLabelImportInput
        return OrderListOutput

    @extend_schema(
        request=OwnLabelTrackingInput,
        responses={
            202: OpenApiResponse(SellerShipmentOutput, description="Recorded; being told to the channel."),
            200: OpenApiResponse(SellerShipmentOutput, description="Recorded before: the same shipment, unchanged."),
        },
    )
    @action(detail=True, methods=["post"])
    def tracking(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Report the order's carrier and tracking number. The channel is told in the background, once: a repeat
        returns the same shipment (200). 400 when Dropline refuses before calling the channel (unknown carrier,
        malformed tracking number, not to ship)."""
        order = self.get_object()
        data = OwnLabelTrackingInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not own_label.own_label_orders_of(warehouse_scope(request)).filter(pk=order.pk).exists():
            raise ValidationError(
                {"non_field_errors": ["This order does not ship on its supplier's own label: see its handoff."]}
            )
        before = SellerShipment.objects.filter(order=order).values_list("pk", "updated_at").first()
        try:
            shipment = seller_shipment_request(
                order=order,
                carrier=data.validated_data["carrier"],
                tracking_number=data.validated_data["tracking_number"],
                actor=request_actor(request),
                source=own_label.SOURCE,
            )
        except SellerShippingRefused as refusal:
            raise ValidationError({refusal.field or "non_field_errors": [str(refusal)]}) from None
        except PlatformError as error:
            channel = platform_name(order.store.platform)
            raise ServiceUnavailable(
                f"{channel} did not list its carriers ({error.message}); nothing was recorded. Retry in a minute.",
                retry_after=60,
            ) from error
        unchanged = before is not None and before == (shipment.pk, shipment.updated_at)
        return Response(
            SellerShipmentOutput(shipment).data, status=status.HTTP_200_OK if unchanged else status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        request=OwnLabelImportInput,
        responses=OwnLabelImportOutput,
        examples=[
            OpenApiExample(
                "Check a file first",
                value={"csv": "order_id,carrier,tracking_number\n1001,USPS,9400111202555842761234\n", "dry_run": True},
                request_only=True,
            )
        ],
    )
    @action(detail=False, methods=["post"], url_path="tracking-import")
    def tracking_import(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The portal's CSV upload: check the whole file (`dry_run`, the default: every problem and every change),
        or record it — only when every row is good (else 400 with each row's problem, and nothing recorded). Order
        ids outside this key's orders read as unknown."""
        data = OwnLabelImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = seller_shipments_import(
            text=data.validated_data["csv"],
            actor=request_actor(request),
            dry_run=data.validated_data["dry_run"],
            orders=own_label.own_label_orders_of(warehouse_scope(request)),
            source=own_label.SOURCE,
        )
        if not data.validated_data["dry_run"] and not report.applied:
            raise ValidationError(
                {"csv": [f"line {e.line}{f', {e.column}' if e.column else ''}: {e.message}" for e in report.errors]}
            )
        return Response(OwnLabelImportOutput(report).data)
