"""Inventory API: SKUs, warehouses, listings (and mapping them), stock levels, and the stock ledger — which a
partner's WMS also posts receipts, counts and adjustments to. Thin: scoped selectors in, services for every write,
explicit input and output serializers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.views import OrganizationAPIMixin, OrganizationReadOnlyViewSet, OrganizationViewSet
from erp.roles import Perm, ResourceFamily
from inventory import selectors, services
from inventory.api.filters import ListingFilter, SkuFilter, StockLevelFilter, StockMovementFilter
from inventory.api.serializers import (
    ListingMapInput,
    ListingOutput,
    SkuInput,
    SkuOutput,
    StockLevelOutput,
    StockMovementInput,
    StockMovementOutput,
    WarehouseOutput,
)
from inventory.models import Listing, MovementKind, Sku, StockLevel, StockMovement, Warehouse

UUID_REGEX = "[0-9a-fA-F-]{32,36}"


@extend_schema(tags=["inventory"])
@extend_schema_view(
    create=extend_schema(request=SkuInput, responses={201: SkuOutput}),
    partial_update=extend_schema(request=SkuInput, responses=SkuOutput),
)
class SkuViewSet(OrganizationViewSet):
    """Our SKUs with their stock summed over every warehouse, newest first."""

    model = Sku
    resource_family = ResourceFamily.CATALOG
    filterset_class = SkuFilter
    write_permission = Perm.INVENTORY_MANAGE
    lookup_value_regex = UUID_REGEX

    def get_scoped_queryset(self) -> QuerySet[Sku]:
        return selectors.skus_with_totals()

    def get_serializer_class(self) -> type[BaseSerializer]:
        return SkuInput if self.action in ("create", "partial_update") else SkuOutput

    def _output(self, sku: Sku) -> dict[str, Any]:
        return SkuOutput(self.get_queryset().get(pk=sku.pk)).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SkuInput(data=request.data)
        data.is_valid(raise_exception=True)
        sku = services.sku_save(actor=request.actor, fields=data.model_fields(), suppliers=data.supplier_links())
        return Response(self._output(sku), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sku = self.get_object()
        data = SkuInput(sku, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        sku = services.sku_save(
            actor=request.actor, sku=sku, fields=data.model_fields(), suppliers=data.supplier_links()
        )
        return Response(self._output(sku))


@extend_schema(tags=["inventory"])
class WarehouseViewSet(OrganizationReadOnlyViewSet):
    """Where stock is: own warehouses, 3PLs, dropship suppliers and the platforms' own (TikTok's FBT, read-only)."""

    model = Warehouse
    resource_family = ResourceFamily.INVENTORY
    serializer_class = WarehouseOutput
    lookup_value_regex = UUID_REGEX


@extend_schema(tags=["inventory"])
class ListingViewSet(OrganizationReadOnlyViewSet):
    """Platform SKUs of each store and the SKU of ours each one sells. Orders of an unmapped listing are held."""

    model = Listing
    resource_family = ResourceFamily.CATALOG
    serializer_class = ListingOutput
    filterset_class = ListingFilter
    write_permission = Perm.INVENTORY_MANAGE
    lookup_value_regex = UUID_REGEX

    def get_scoped_queryset(self) -> QuerySet[Listing]:
        return Listing.objects.select_related("store", "sku")

    def get_serializer_class(self) -> type[BaseSerializer]:
        return ListingMapInput if self.action == "map_to_sku" else ListingOutput

    @extend_schema(request=ListingMapInput, responses=ListingOutput)
    @action(detail=True, methods=["post"], url_path="map", url_name="map")
    def map_to_sku(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Map the listing to one of our SKUs (by code or id); orders held for it get their stock."""
        listing = self.get_object()
        data = ListingMapInput(data=request.data)
        data.is_valid(raise_exception=True)
        listing = services.listing_map(listing=listing, sku=data.validated_data["sku"], actor=request.actor)
        return Response(ListingOutput(listing).data)


@extend_schema(tags=["inventory"])
class StockLevelViewSet(OrganizationAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Stock of each SKU in each warehouse."""

    model = StockLevel
    resource_family = ResourceFamily.INVENTORY
    serializer_class = StockLevelOutput
    filterset_class = StockLevelFilter

    def get_scoped_queryset(self) -> QuerySet[StockLevel]:
        return StockLevel.objects.select_related("sku", "warehouse")


# The service's field names, as this endpoint calls them.
_SERVICE_FIELDS = {"delta": "quantity", "counted": "quantity"}


@extend_schema(tags=["inventory"])
@extend_schema_view(
    create=extend_schema(
        request=StockMovementInput,
        responses={201: OpenApiResponse(StockLevelOutput, description="The stock level after the change.")},
    )
)
class StockMovementViewSet(OrganizationAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The stock ledger (newest first), and where a WMS posts receipts, counts and adjustments."""

    model = StockMovement
    resource_family = ResourceFamily.INVENTORY
    filterset_class = StockMovementFilter
    write_permission = Perm.INVENTORY_MANAGE

    def get_scoped_queryset(self) -> QuerySet[StockMovement]:
        return StockMovement.objects.select_related("sku", "warehouse")

    def get_serializer_class(self) -> type[BaseSerializer]:
        return StockMovementInput if self.action == "create" else StockMovementOutput

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Post a receipt, a count or an adjustment. Send an `Idempotency-Key` header so that a retry after a
        timeout replays the first answer instead of receiving the units twice."""
        data = StockMovementInput(data=request.data)
        data.is_valid(raise_exception=True)
        change = data.validated_data
        common = {"sku": change["sku"], "warehouse": change["warehouse"], "actor": request.actor}
        try:
            if change["kind"] == MovementKind.RECEIPT:
                level = services.stock_receive(
                    **common, quantity=change["quantity"], reason=change["reason"], reference=change["reference"]
                )
            elif change["kind"] == MovementKind.COUNT:
                level = services.stock_count(**common, counted=change["quantity"], reference=change["reference"])
            else:
                level = services.stock_adjust(**common, delta=change["quantity"], reason=change["reason"])
        except DjangoValidationError as error:
            if not hasattr(error, "error_dict"):
                raise ValidationError({"non_field_errors": error.messages}) from error
            raise ValidationError(
                {_SERVICE_FIELDS.get(name, name): messages for name, messages in error.message_dict.items()}
            ) from error
        level = StockLevel.objects.select_related("sku", "warehouse").get(pk=level.pk)
        return Response(StockLevelOutput(level).data, status=status.HTTP_201_CREATED)
