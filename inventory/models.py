"""Where stock is and what can be sold: warehouses of every kind, our SKUs, platform listings, stock levels with an
append-only ledger, and reservations.

Quantities change only through `inventory.services`, which locks stock rows in a fixed order and writes a ledger
entry in the same transaction as every change, so the levels always equal the ledger's sum
(`manage.py stock_check` proves it).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from erp.inputs import validate_country_code
from erp.tenancy import TenantModel
from integrations import registry
from integrations.base import FulfilmentProgram
from integrations.models import Platform, Store


class WarehouseKind(models.TextChoices):
    OWN = "own", "Own warehouse"
    THREE_PL = "3pl", "3PL"
    SUPPLIER = "supplier", "Dropship supplier"
    # Stock held by a platform (`Warehouse.platform`): read-only, synced, never pushed (docs/adr/0017).
    PLATFORM = "platform", "Fulfilled by the platform"


# Kinds that were once stored and may still be sent (by a form left open, a partner's script): what each means now.
WAREHOUSE_KIND_ALIASES: dict[str, tuple[str, str]] = {"fbt": (WarehouseKind.PLATFORM, Platform.TIKTOK)}


def warehouse_kind_read(value: str, *, platform: str = "") -> tuple[str, str]:
    """(kind, platform) from a kind as a person or a partner gives it: a kind, with `platform` for PLATFORM;
    `platform:<platform>` (one choice of the dashboard's form); or an alias such as "fbt" (TikTok's, before
    docs/adr/0017). Any other kind has no platform. Unknown kinds are returned as given, for validation to refuse."""
    value = value.strip()
    if value in WAREHOUSE_KIND_ALIASES:
        return WAREHOUSE_KIND_ALIASES[value]
    kind, _, named = value.partition(":")
    if kind == WarehouseKind.PLATFORM:
        return kind, named or platform
    return value, ""


def warehouse_kind_published(kind: str, platform: str) -> str:
    """The kind as the API has always given it: a warehouse that an alias names (TikTok's platform warehouse) keeps
    its alias ("fbt"), so that what partners read does not change; any other keeps its kind."""
    for alias, meaning in WAREHOUSE_KIND_ALIASES.items():
        if meaning == (kind, platform):
            return alias
    return kind


# What a person (form), a partner system (API) and a CSV file may set on a warehouse and on a SKU: one list each.
WAREHOUSE_EDITABLE_FIELDS = (
    "name",
    "code",
    "kind",
    "is_active",
    "tracks_stock",
    "sender_name",
    "company",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country_code",
    "phone",
    "contact_name",
    "contact_email",
    "working_hours",
    "cutoff_time",
    "time_zone",
    "working_days",
    "daily_capacity",
    "collections_by_tiktok",
)
SKU_EDITABLE_FIELDS = (
    "code",
    "name",
    "barcode",
    "weight",
    "weight_unit",
    "length",
    "width",
    "height",
    "dimension_unit",
    "cost",
    "low_stock_threshold",
    "is_active",
)


class Warehouse(TenantModel):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=WarehouseKind.choices, default=WarehouseKind.OWN)
    # Whose warehouse it is when the platform fulfils (kind PLATFORM), and only then.
    platform = models.CharField(max_length=16, choices=Platform.choices, blank=True, default="")
    code = models.CharField(max_length=32, blank=True, help_text="Short code printed on pick lists.")
    is_active = models.BooleanField(default=True)
    tracks_stock = models.BooleanField(
        default=True, help_text="Off for a supplier that makes or sources to order: orders never wait for stock there."
    )
    # Sender address: printed on labels and packing slips.
    sender_name = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField(max_length=255, blank=True)
    address_line2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=32, blank=True)
    country_code = models.CharField(max_length=2, default="US", validators=[validate_country_code])
    phone = models.CharField(max_length=40, blank=True)
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    working_hours = models.CharField(max_length=120, blank=True, help_text="e.g. Mon–Fri 8:00–17:00")
    cutoff_time = models.TimeField(null=True, blank=True, help_text="Orders after this ship the next business day.")
    # Blank: not chosen; `warehouse_save` fills it from the address (erp.clock.zone_for_address), and
    # erp.clock.warehouse_zone reads a blank one the same way.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    working_days = models.CharField(
        max_length=7,
        default="12345",
        validators=[
            RegexValidator(r"^(?!.*(.).*\1)[1-7]{1,7}$", "Give each weekday once, as 1 (Monday) to 7 (Sunday).")
        ],
        help_text="ISO weekdays the warehouse ships on (1 = Monday … 7 = Sunday).",
    )
    daily_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Packages it can get out per working day (blank: no limit)."
    )
    collections_by_tiktok = models.BooleanField(
        default=False, help_text="Collections by TikTok: TikTok picks up here; orders use pickup handover."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="warehouse_unique_name"),
            models.CheckConstraint(
                condition=(Q(kind=WarehouseKind.PLATFORM) & ~Q(platform=""))
                | (~Q(kind=WarehouseKind.PLATFORM) & Q(platform="")),
                name="warehouse_platform_iff_platform_kind",
                violation_error_message="A platform's own warehouse names its platform; no other warehouse does.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_platform_fulfilment(self) -> bool:
        """Stock the platform holds and ships itself (TikTok's FBT): read from it, never changed here or pushed."""
        return self.kind == WarehouseKind.PLATFORM

    @property
    def fulfilment_program(self) -> FulfilmentProgram | None:
        """The platform's fulfilment in its words (TikTok's "Fulfilled by TikTok", FBT); None for other kinds."""
        return registry.fulfilment_program(self.platform) if self.is_platform_fulfilment else None

    @property
    def kind_label(self) -> str:
        """The kind as people read it; a platform's warehouse in the platform's words ("Fulfilled by TikTok (FBT)")."""
        program = self.fulfilment_program
        return str(program) if program is not None else self.get_kind_display()

    @property
    def held_by(self) -> str:
        """Who holds a platform warehouse's stock, for messages: "TikTok (FBT)"; "" for any other warehouse."""
        program = self.fulfilment_program
        if program is None:
            return ""
        name = registry.platform_name(self.platform)
        return f"{name} ({program.short})" if program.short else name


class WarehouseLink(TenantModel):
    """Which platform warehouse (TikTok Get Warehouse List) a Dropline warehouse is, per store."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="links")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="warehouse_links")
    platform_warehouse_id = models.CharField(max_length=64)
    platform_name = models.CharField(max_length=200, blank=True)
    # The address TikTok prints as the sender on labels of orders it assigns to this platform warehouse (Create
    # Packages takes no warehouse of ours), as it was when the link was made.
    platform_address = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "platform_warehouse_id"], name="warehouselink_unique_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.platform_warehouse_id} → {self.warehouse}"


class StoreWarehouse(TenantModel):
    """A store's default warehouse ranking: orders reserve at the first warehouse that can ship them whole."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="warehouse_ranking")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="store_rankings")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["rank"]
        constraints = [models.UniqueConstraint(fields=["store", "warehouse"], name="storewarehouse_unique")]

    def __str__(self) -> str:
        return f"{self.store} #{self.rank}: {self.warehouse}"


class WeightUnit(models.TextChoices):
    GRAM = "g", "g"
    KILOGRAM = "kg", "kg"
    OUNCE = "oz", "oz"
    POUND = "lb", "lb"


class DimensionUnit(models.TextChoices):
    CM = "cm", "cm"
    INCH = "in", "in"


GRAMS_PER = {"g": Decimal(1), "kg": Decimal(1000), "oz": Decimal("28.349523125"), "lb": Decimal("453.59237")}


# One validation per field (docs/adr/0014): the model field's own checks (digits, length, range) plus these are what
# the SKU form, the API serializer and the CSV import all run.
NOT_NEGATIVE = MinValueValidator(0)


class Sku(TenantModel):
    """Our master product variant."""

    code = models.CharField(max_length=100, help_text="Your seller SKU; matched against platform listings.")
    name = models.CharField(max_length=300)
    barcode = models.CharField(max_length=64, blank=True)
    weight = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True, validators=[NOT_NEGATIVE])
    weight_unit = models.CharField(max_length=2, choices=WeightUnit.choices, default=WeightUnit.OUNCE)
    length = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=[NOT_NEGATIVE])
    width = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=[NOT_NEGATIVE])
    height = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=[NOT_NEGATIVE])
    dimension_unit = models.CharField(max_length=2, choices=DimensionUnit.choices, default=DimensionUnit.INCH)
    cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, validators=[NOT_NEGATIVE])
    low_stock_threshold = models.PositiveIntegerField(default=0, help_text="Alert when available falls to this.")
    is_bundle = models.BooleanField(default=False, help_text="A kit: reserves and ships its components.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="sku_unique_code")]

    def __str__(self) -> str:
        return self.code

    @property
    def weight_grams(self) -> Decimal | None:
        return None if self.weight is None else self.weight * GRAMS_PER[self.weight_unit]


class SkuSupplier(TenantModel):
    """A dropship supplier that supplies one of our SKUs, at its price. A supplier that makes or sources to order
    (its warehouse does not track stock) takes an order only when it supplies every SKU in it."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="supplier_links")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="supplied_skus")
    cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[NOT_NEGATIVE],
        help_text="What the supplier charges per unit.",
    )

    class Meta:
        ordering = ["warehouse__name"]
        constraints = [models.UniqueConstraint(fields=["sku", "warehouse"], name="skusupplier_unique")]

    def __str__(self) -> str:
        return f"{self.sku} from {self.warehouse}"


class BundleComponent(TenantModel):
    bundle = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="in_bundles")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="bundle_unique_component"),
            models.CheckConstraint(condition=~Q(bundle=F("component")), name="bundle_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.bundle} ⊃ {self.quantity} × {self.component}"


class Listing(TenantModel):
    """A platform SKU in a store, mapped (or not yet) to one of our SKUs."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="listings")
    platform_sku_id = models.CharField(max_length=64)
    platform_product_id = models.CharField(max_length=64, blank=True)
    seller_sku = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=300, blank=True)
    sku = models.ForeignKey(Sku, on_delete=models.SET_NULL, null=True, blank=True, related_name="listings")
    auto_matched = models.BooleanField(default=False)
    # Stock push state: what we last told the platform, and its per-SKU answer.
    advertised_quantity = models.IntegerField(null=True, blank=True)
    push_requested_at = models.DateTimeField(null=True, blank=True)  # set by stock changes: a debounce marker
    pushed_at = models.DateTimeField(null=True, blank=True)
    push_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "platform_sku_id"], name="listing_unique_per_store")]
        indexes = [
            models.Index(fields=["organization", "sku"], name="listing_org_sku"),
            # The push beat looks for marked listings every few seconds: index only those.
            models.Index(
                fields=["push_requested_at"], condition=Q(push_requested_at__isnull=False), name="listing_push_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seller_sku or self.platform_sku_id} @ {self.store}"


class StockLevel(TenantModel):
    """Stock of one SKU in one warehouse. available = on_hand - reserved - safety_buffer (never stored)."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    safety_buffer = models.PositiveIntegerField(default=0)
    bin_location = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # When this row's quantities first changed since the stock push last looked: written by the change's own UPDATE
    # (so it commits with the change, or not at all), turned into listing marks and cleared by
    # `inventory.push.changed_stock_mark` on beat (docs/adr/0040).
    unpushed_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            # The rows the sweep takes, and only those: a change sets it, the sweep clears it.
            models.Index(
                fields=["organization", "id"],
                condition=Q(unpushed_since__isnull=False),
                name="stocklevel_unpushed",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stocklevel_unique"),
            # The database itself refuses oversell: nothing reserves what is not on hand.
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklevel_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stocklevel_reserved_within_on_hand"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} @ {self.warehouse}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_buffer)


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ADJUSTMENT = "adjustment", "Adjustment"
    COUNT = "count", "Count"
    RESERVATION = "reservation", "Reservation"
    RELEASE = "release", "Release"
    SHIPMENT = "shipment", "Shipment"
    TRANSFER = "transfer", "Transfer"
    SYNC = "sync", "Platform sync"  # a platform warehouse's levels read from the platform (TikTok's FBT)
    RETURN = "return", "Return"  # a returned parcel's units put back on the shelf (ReturnReceipt)


class StockMovement(TenantModel):
    """The append-only stock ledger: every change to on_hand or reserved, with who, why and what for."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="movements")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    actor_label = models.CharField(max_length=200)
    reason = models.CharField(max_length=300, blank=True)
    order_id = models.UUIDField(null=True, blank=True, db_index=True)  # orders sits above inventory: an id, no FK
    reference = models.CharField(max_length=100, blank=True)  # a receipt number, a count sheet, a transfer id
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "sku", "warehouse"], name="movement_org_sku_wh")]

    def __str__(self) -> str:
        return f"{self.kind} {self.sku}@{self.warehouse}: {self.on_hand_delta:+d}/{self.reserved_delta:+d}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise TypeError("The stock ledger is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Reservation(TenantModel):
    """Units of one SKU held at one warehouse for one order, until they ship or the order is cancelled."""

    order_id = models.UUIDField()  # orders sits above inventory: an id, no FK
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="reservations")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="reservations")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order_id", "sku", "warehouse"], name="reservation_unique"),
        ]
        # Every reservation first asks whether its order already holds any, in its organization. With both columns
        # in one index the planner probes it whatever the statistics say; with one index each, a table not yet
        # analysed got a BitmapAnd that read the organization's whole index on every reservation (docs/adr/0036).
        indexes = [models.Index(fields=["organization", "order_id"], name="reservation_org_order")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku} @ {self.warehouse} for {self.order_id}"


class LowStockAlert(TenantModel):
    """A SKU that fell to its low-stock threshold. Opened once (and mailed once) until the SKU recovers."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="low_stock_alerts")
    available = models.IntegerField()  # what was available when the alert opened
    opened_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku"], condition=Q(closed_at__isnull=True), name="lowstock_one_open"),
        ]

    def __str__(self) -> str:
        return f"Low stock: {self.sku} ({self.available} available)"


class ReturnOutcome(models.TextChoices):
    RESTOCK = "restock", "Restock"
    WRITE_OFF = "write_off", "Write off"


class ReturnReceipt(TenantModel):
    """A returned parcel received at a warehouse, once: what came back of which order, and what became of each unit
    (back on the shelf through a `return` ledger entry, or written off with a reason).

    Exactly once: the form's one-time `submission` key is unique (a double submit or a retried request finds the
    first receipt), a platform return id is received once per order, and `orders.returns` never lets more units of
    an order's SKU come back than it shipped."""

    order_id = models.UUIDField(db_index=True)  # orders sits above inventory: an id, no FK
    order_reference = models.CharField(max_length=64)  # the order number people read
    return_id = models.CharField(max_length=64, blank=True)  # the platform's return id, when known
    tracking_number = models.CharField(max_length=64, blank=True)  # the returned parcel's, as scanned
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="return_receipts")
    submission = models.CharField(max_length=64)  # the form's one-time key
    received_by_label = models.CharField(max_length=200)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "submission"], name="returnreceipt_once_per_submission"),
            models.UniqueConstraint(
                fields=["organization", "order_id", "return_id"],
                condition=~Q(return_id=""),
                name="returnreceipt_once_per_return",
            ),
        ]

    def __str__(self) -> str:
        return f"Return of order {self.order_reference} at {self.warehouse}"


class ReturnReceiptLine(TenantModel):
    """Units of one SKU in a returned parcel and their outcome."""

    receipt = models.ForeignKey(ReturnReceipt, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    outcome = models.CharField(max_length=16, choices=ReturnOutcome.choices)
    reason = models.CharField(max_length=300, blank=True)  # required for a write-off

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="returnline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(outcome="restock") | ~Q(reason=""), name="returnline_write_off_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}: {self.outcome}"
