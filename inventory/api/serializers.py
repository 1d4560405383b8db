"""Inventory API serializers: explicit output shapes, and input shapes that only validate (views call services)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.inputs import validate_units
from integrations.models import Store
from inventory import selectors
from inventory.models import (
    SKU_EDITABLE_FIELDS,
    WAREHOUSE_EDITABLE_FIELDS,
    Listing,
    MovementKind,
    Sku,
    SkuSupplier,
    StockLevel,
    StockMovement,
    Warehouse,
    WarehouseKind,
    warehouse_kind_published,
)


# ------------------------------------------------------------------------------------------------- references
class SkuRefOutput(serializers.ModelSerializer):
    class Meta:
        model = Sku
        fields = ["id", "code", "name"]


class WarehouseRefOutput(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "name", "code"]


class StoreRefOutput(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["id", "name", "platform"]


# ------------------------------------------------------------------------------------------------------- SKUs


class SkuSupplierOutput(serializers.ModelSerializer):
    warehouse = serializers.UUIDField(source="warehouse_id", help_text="The dropship supplier's warehouse id.")
    name = serializers.CharField(source="warehouse.name")

    class Meta:
        model = SkuSupplier
        fields = ["warehouse", "name", "cost"]


class SkuSupplierInput(serializers.Serializer):
    warehouse = serializers.UUIDField(help_text="A dropship supplier's warehouse id.")
    cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal(0), required=False, allow_null=True, default=None
    )

    def validate_warehouse(self, value: UUID) -> Warehouse:
        warehouse = Warehouse.objects.filter(pk=value, kind=WarehouseKind.SUPPLIER).first()
        if warehouse is None:
            raise serializers.ValidationError("No dropship supplier of yours has this id.")
        return warehouse


class SkuOutput(serializers.ModelSerializer):
    on_hand = serializers.IntegerField(source="on_hand_total", read_only=True, help_text="Summed over warehouses.")
    reserved = serializers.IntegerField(source="reserved_total", read_only=True, help_text="Held for open orders.")
    available = serializers.IntegerField(
        source="available_total",
        read_only=True,
        help_text="Summed over warehouses: on hand - reserved - safety buffer (never below 0 per warehouse).",
    )
    is_low_stock = serializers.BooleanField(
        source="is_low", read_only=True, help_text="A threshold is set and available has fallen to it."
    )
    suppliers = SkuSupplierOutput(
        source="supplier_links", many=True, read_only=True, help_text="Dropship suppliers that supply it."
    )

    class Meta:
        model = Sku
        fields = [
            "id",
            *SKU_EDITABLE_FIELDS,
            "is_bundle",
            "suppliers",
            "on_hand",
            "reserved",
            "available",
            "is_low_stock",
            "created_at",
        ]


class SkuInput(serializers.ModelSerializer):
    """Validated here, written by the view; `code` is unique in the organization."""

    suppliers = SkuSupplierInput(
        many=True,
        required=False,
        help_text="When given, the SKU's whole set of dropship suppliers (each with its price); [] removes them.",
    )

    class Meta:
        model = Sku
        fields = [*SKU_EDITABLE_FIELDS, "suppliers"]

    def supplier_links(self) -> dict[Warehouse, Decimal | None] | None:
        links = self.validated_data.get("suppliers")
        return None if links is None else {link["warehouse"]: link.get("cost") for link in links}

    def validate_suppliers(self, links: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A PATCH is partial and DRF lets that reach each nested link; a link is still whole or refused.
        if any("warehouse" not in link for link in links):
            raise serializers.ValidationError("Each supplier needs its `warehouse`.")
        return links

    def model_fields(self) -> dict[str, Any]:
        return {name: value for name, value in self.validated_data.items() if name != "suppliers"}

    def validate_code(self, value: str) -> str:
        value = value.strip()
        others = Sku.objects.filter(code=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(f"Another SKU already has the code {value}.")
        return value


# ------------------------------------------------------------------------------------------------- warehouses
PUBLISHED_KINDS = [
    *((kind.value, kind.label) for kind in WarehouseKind if kind != WarehouseKind.PLATFORM),
    ("fbt", "Fulfilled by TikTok (FBT): TikTok's own warehouse, `platform` tiktok"),
    (WarehouseKind.PLATFORM.value, "Fulfilled by another platform, named by `platform`"),
]


class WarehouseOutput(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField(
        help_text="own | 3pl | supplier | fbt (TikTok's own) | platform (another platform's own, see `platform`)."
    )
    is_read_only = serializers.BooleanField(
        source="is_platform_fulfilment",
        read_only=True,
        help_text="Stock held by a platform (TikTok's FBT): read, never set.",
    )

    class Meta:
        model = Warehouse
        fields = ["id", *WAREHOUSE_EDITABLE_FIELDS, "platform", "is_read_only", "created_at"]
        extra_kwargs = {
            "platform": {"help_text": 'Whose own warehouse it is ("tiktok"); "" unless the platform holds the stock.'}
        }

    @extend_schema_field(serializers.ChoiceField(choices=PUBLISHED_KINDS))
    def get_kind(self, warehouse: Warehouse) -> str:
        return warehouse_kind_published(warehouse.kind, warehouse.platform)


# --------------------------------------------------------------------------------------------------- listings
class ListingOutput(serializers.ModelSerializer):
    store = StoreRefOutput(read_only=True)
    sku = SkuRefOutput(read_only=True, allow_null=True, help_text="Our SKU; null while unmapped (orders are held).")
    is_mapped = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id",
            "store",
            "platform_sku_id",
            "platform_product_id",
            "seller_sku",
            "title",
            "sku",
            "is_mapped",
            "auto_matched",
            "advertised_quantity",
            "pushed_at",
            "push_error",
            "created_at",
        ]

    def get_is_mapped(self, listing: Listing) -> bool:
        return listing.sku_id is not None


class ListingMapInput(serializers.Serializer):
    sku = serializers.CharField(
        allow_null=True, max_length=100, help_text="Our SKU's code (or id); null unmaps the listing."
    )

    def validate_sku(self, value: str | None) -> Sku | None:
        if value is None:
            return None
        sku = selectors.sku_by_code_or_id(value)
        if sku is None:
            raise serializers.ValidationError(f"No SKU with the code or id {value}.")
        return sku


# ------------------------------------------------------------------------------------------------------ stock
class StockLevelOutput(serializers.ModelSerializer):
    sku = SkuRefOutput(read_only=True)
    warehouse = WarehouseRefOutput(read_only=True)
    available = serializers.IntegerField(read_only=True, help_text="on_hand - reserved - safety_buffer, at least 0.")

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "sku",
            "warehouse",
            "on_hand",
            "reserved",
            "safety_buffer",
            "available",
            "bin_location",
            "updated_at",
        ]


class StockMovementOutput(serializers.ModelSerializer):
    sku = SkuRefOutput(read_only=True)
    warehouse = WarehouseRefOutput(read_only=True)
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "created_at",
            "sku",
            "warehouse",
            "kind",
            "on_hand_delta",
            "reserved_delta",
            "actor",
            "reason",
            "reference",
            "order_id",
        ]


WMS_KINDS = [
    (MovementKind.RECEIPT.value, "Receipt: `quantity` units arrived"),
    (MovementKind.COUNT.value, "Count: `quantity` units were counted (on hand becomes it)"),
    (MovementKind.ADJUSTMENT.value, "Adjustment: on hand changes by `quantity` (signed); `reason` required"),
]


class StockMovementInput(serializers.Serializer):
    """A receipt, count or adjustment posted by a partner's WMS."""

    kind = serializers.ChoiceField(choices=WMS_KINDS)
    sku = serializers.CharField(max_length=100, help_text="Our SKU's code (or id).")
    warehouse = serializers.CharField(max_length=120, help_text="The warehouse's name, code or id.")
    quantity = serializers.IntegerField(
        validators=[validate_units],
        help_text="Receipt: units received (≥ 1). Count: units counted (≥ 0). Adjustment: signed change (≠ 0).",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        default="",
        help_text="Receipt or count sheet number, kept in the ledger (receipts and counts).",
    )

    def validate_sku(self, value: str) -> Sku:
        sku = selectors.sku_by_code_or_id(value)
        if sku is None:
            raise serializers.ValidationError(f"No SKU with the code or id {value}.")
        return sku

    def validate_warehouse(self, value: str) -> Warehouse:
        warehouse = selectors.warehouse_by_reference(value)
        if warehouse is None:
            raise serializers.ValidationError(f"No warehouse named, coded or numbered {value}.")
        return warehouse

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == MovementKind.ADJUSTMENT and attrs["quantity"] == 0:
            raise serializers.ValidationError(
                {"quantity": ["An adjustment changes stock by at least one unit (negative to remove)."]}
            )
        return attrs
