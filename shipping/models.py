"""The money path: official labels bought through the platform, each exactly once.

A LabelPurchase row exists (committed) before the platform is called; only one worker at a time may move it to
SUBMITTING (a conditional UPDATE); a purchase whose outcome is unknown stays SUBMITTING until the platform has been
asked whether the label exists, and is then adopted or bought. See docs/adr/0007-label-purchase.md.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from erp.tenancy import TenantModel
from integrations.interface import service_display_name
from integrations.models import Store
from inventory.models import WarehouseKind
from orders.models import Order


class LabelBatch(TenantModel):
    """Orders whose labels are bought together, printed together."""

    reference = models.CharField(max_length=32)  # what people say: "B-0042"
    created_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # What the person was shown before buying: {"count", "quoted", "totals": {currency: "12.34"}} (shipping.estimate).
    estimate = models.JSONField(default=dict, blank=True)
    # Orders asked for that this batch does not buy, and why: [{"order", "order_id", "reason", "batch_id"}]
    # (e.g. bought a moment ago by another batch created at the same time).
    left_out = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="labelbatch_unique_reference")
        ]

    def __str__(self) -> str:
        return f"Batch {self.reference}"


class PurchaseState(models.TextChoices):
    PENDING = "pending", "Waiting"
    SUBMITTING = "submitting", "Buying"  # the platform may have been called: never re-buy without asking it first
    PURCHASED = "purchased", "Bought"
    FAILED = "failed", "Failed"


class LabelPurchase(TenantModel):
    """One official label for one platform package (docs/adr/0019-package-is-the-purchase.md).

    A package may carry one order (the usual case), several orders of one buyer (combined) or part of an order
    (split). `order` is the package's lead order (the one the platform is asked about); every order the package
    carries, with its lines, is a `PackageOrder` row, and those rows are what make a package bought once: an order's
    part is in one purchase, ever."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="label_purchases")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(LabelBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="purchases")
    # Which package of the lead order: "order" (all its lines), "combined" (it and other orders of its buyer) or a
    # split group ("split:<group>", some of its lines).
    package_key = models.CharField(max_length=64, default="order")
    line_ids = models.JSONField(default=list)  # the lead order's platform line ids in this package
    # Where this package ships from when it is not the lead order's warehouse (a split order's package per source);
    # null: the order's own (`shipping.packages.purchase_warehouse_id`).
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=16, choices=PurchaseState.choices, default=PurchaseState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    submitting_since = models.DateTimeField(null=True, blank=True)

    # The choice, with why (the decision log).
    # The decision log: the rule that matched and why, every eligible service with price and days, the choice and why.
    decision = models.JSONField(default=dict, blank=True)
    service_id = models.CharField(max_length=64, blank=True)
    service_name = models.CharField(max_length=120, blank=True)
    carrier_name = models.CharField(max_length=100, blank=True)
    choice_reason = models.CharField(max_length=300, blank=True)

    # The result.
    package_id = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    adopted = models.BooleanField(default=False)  # found already bought on the platform, not bought by this attempt
    # How the parcel leaves: PICKUP (the carrier or TikTok's truck collects in the slot) or DROP_OFF.
    handover_method = models.CharField(max_length=16, blank=True)
    pickup_start = models.DateTimeField(null=True, blank=True)
    pickup_end = models.DateTimeField(null=True, blank=True)
    label_pdf = models.FileField(upload_to="labels/%Y/%m/", blank=True)

    # A failure a person can act on.
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_fix = models.CharField(max_length=300, blank=True)
    retryable = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    # The packing station (shipping.packing): the label scanned, each unit scanned and counted, packed.
    packed_at = models.DateTimeField(null=True, blank=True)
    packed_by_label = models.CharField(max_length=200, blank=True)
    packed_units = models.JSONField(default=dict, blank=True)  # SKU code → units scanned into the box so far
    pack_override_reason = models.CharField(max_length=300, blank=True)  # a supervisor marked it packed anyway
    # The order was cancelled after this label was bought: set once (shipping.cancelled), and every place that would
    # still ship it (print queue, pick list, packing station, handoff) leaves it out or refuses it from then on.
    order_cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "package_key"], name="labelpurchase_once_per_package"),
        ]
        indexes = [
            models.Index(fields=["organization", "state"], name="purchase_org_state"),
            # Beat's sweeps read every tenant's rows by state and age (lost work, stale submissions).
            models.Index(fields=["state", "updated_at"], name="purchase_state_age"),
        ]

    def __str__(self) -> str:
        return f"Label for {self.order} ({self.get_state_display()})"

    @property
    def service_display_name(self) -> str:
        """`USPS Ground Advantage`: the carrier and service as people read them (never the carrier twice)."""
        return service_display_name(self.carrier_name, self.service_name)


class PackageOrder(TenantModel):
    """One order carried by a purchase's package, with its lines. Unique per (order, part): an order's lines ("order"
    for all of them, or one split group's) belong to one package, ever, so a second purchase for an order already in
    a combined package cannot be recorded."""

    purchase = models.ForeignKey(LabelPurchase, on_delete=models.CASCADE, related_name="covers")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="package_covers")
    part = models.CharField(max_length=64, default="order")
    line_ids = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "part"], name="packageorder_once_per_part")]

    def __str__(self) -> str:
        return f"{self.order} in {self.purchase}"


class PackageChangeKind(models.TextChoices):
    COMBINE = "combine", "Combine"
    UNCOMBINE = "uncombine", "Uncombine"
    SPLIT = "split", "Split"


class PackageChange(TenantModel):
    """A write that changes which packages exist on the platform (combine, uncombine, split), recorded before the
    call and made once, like a label purchase (erp.claims): PENDING → SUBMITTING → PURCHASED (done) or FAILED. A
    SUBMITTING row whose answer was lost is settled by reading the orders' packages on the platform first."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=PackageChangeKind.choices)
    key = models.CharField(
        max_length=400
    )  # what it changes: the sorted platform order ids (combine), the order (split)
    order_ids = models.JSONField(default=list)  # platform order ids, lead first
    request = models.JSONField(default=dict, blank=True)  # combine: {"package_id"}; split: {"groups": {id: [lines]}}
    result = models.JSONField(default=dict, blank=True)  # {"packages": [{"package_id", "order_ids"|"group_id"}]}
    state = models.CharField(max_length=16, choices=PurchaseState.choices, default=PurchaseState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    submitting_since = models.DateTimeField(null=True, blank=True)
    adopted = models.BooleanField(default=False)  # found done on the platform, not done by this attempt
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_fix = models.CharField(max_length=300, blank=True)
    retryable = models.BooleanField(default=False)
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "kind", "key"], name="packagechange_once_per_key"),
        ]
        indexes = [models.Index(fields=["state", "updated_at"], name="packagechange_state_age")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key} ({self.get_state_display()})"


class LogisticsRule(TenantModel):
    """Conditions → actions for an order's shipping (warehouse, package, service, handover, auto-buy, hold, tag).
    Rules are tried by priority, lowest first; the first enabled rule whose conditions all hold wins. The JSON is
    validated by `shipping.rules.schema.Conditions.from_json` / `Actions.from_json` (through `rule_save`)."""

    name = models.CharField(max_length=120)
    priority = models.IntegerField(default=0)  # lower first; not unique, so a reorder never collides
    enabled = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict)
    actions = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "created_at"]
        indexes = [models.Index(fields=["organization", "enabled", "priority"], name="rule_org_enabled_priority")]

    def __str__(self) -> str:
        return self.name


class PrintEvent(TenantModel):
    """Who printed which document of a batch, and when: the warehouse's print history (reprints never buy)."""

    batch = models.ForeignKey(LabelBatch, on_delete=models.CASCADE, related_name="prints")
    document = models.CharField(max_length=24)  # labels | pick-list | slips
    # Whose documents: one own warehouse's (a batch prints per warehouse); null for orders routed to no warehouse.
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    printed_by_label = models.CharField(max_length=200)
    printed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-printed_at"]

    def __str__(self) -> str:
        return f"{self.batch} {self.document} by {self.printed_by_label}"


# The warehouse kinds that work through handoffs: someone else prints the seller's labels there.
HANDOFF_KINDS = (WarehouseKind.SUPPLIER, WarehouseKind.THREE_PL)


class SupplierAccess(TenantModel):
    """Which warehouse a supplier member works for: the supplier portal shows that warehouse's handoffs only."""

    membership = models.OneToOneField("erp.Membership", on_delete=models.CASCADE, related_name="supplier_access")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.CASCADE, related_name="supplier_accesses")

    def __str__(self) -> str:
        return f"{self.membership} works for {self.warehouse}"


class Handoff(TenantModel):
    """The bought labels of one batch that a supplier or 3PL warehouse ships: sent, acknowledged, handed over."""

    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="handoffs")
    batch = models.ForeignKey(LabelBatch, on_delete=models.CASCADE, related_name="handoffs")
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by_label = models.CharField(max_length=200, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)  # the seller was told it was not acknowledged in time

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["batch", "warehouse"], name="handoff_once_per_batch_warehouse")]

    def __str__(self) -> str:
        return f"Handoff of {self.batch} to {self.warehouse}"


class HandoffLink(TenantModel):
    """One link to a handoff for a supplier without an account, made on purpose by the seller (never by viewing a
    page), listed on the handoff with who it is for and when it was last used, and revocable. The signed token only
    names this row: validity (expiry, revocation) is decided here, so revoking works at once."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="links")
    label = models.CharField(max_length=120, blank=True)  # who it was made for ("Maria at Sun, WhatsApp")
    created_at = models.DateTimeField(default=timezone.now)
    created_by_label = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Link{f' for {self.label}' if self.label else ''} to {self.handoff}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class HandoffItem(TenantModel):
    """One bought label in a handoff, and when the supplier handed its package to the carrier."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="items")
    purchase = models.OneToOneField(LabelPurchase, on_delete=models.CASCADE, related_name="handoff_item")
    handed_over_at = models.DateTimeField(null=True, blank=True)
    handed_over_by_label = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.purchase} in {self.handoff}"


class AtRiskAlert(TenantModel):
    """An at-risk order announced at one threshold (hours before its deadline). Unique per (order, threshold): that
    row is what makes each announcement happen once, however often beat runs (shipping.at_risk)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="at_risk_alerts")
    threshold_hours = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "threshold_hours"], name="atriskalert_once_per_threshold")
        ]

    def __str__(self) -> str:
        return f"{self.order} at risk, {self.threshold_hours} h before its deadline"
