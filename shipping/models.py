"""The money path: official labels bought through the platform, each exactly once.

A LabelPurchase row exists (committed) before the platform is called; only one worker at a time may move it to
SUBMITTING (a conditional UPDATE); a purchase whose outcome is unknown stays SUBMITTING until the platform has been
asked whether the label exists, and is then adopted or bought. See docs/adr/0007-label-purchase.md.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from erp.tenancy import TenantModel
from integrations.models import Store
from orders.models import Order


class LabelBatch(TenantModel):
    """Orders whose labels are bought together, printed together."""

    reference = models.CharField(max_length=32)  # what people say: "B-0042"
    created_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Batch {self.reference}"


class PurchaseState(models.TextChoices):
    PENDING = "pending", "Waiting"
    SUBMITTING = "submitting", "Buying"  # the platform may have been called: never re-buy without asking it first
    PURCHASED = "purchased", "Bought"
    FAILED = "failed", "Failed"


class LabelPurchase(TenantModel):
    """One official label for one package of one order. Unique: an order's package is bought once, ever."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="label_purchases")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(LabelBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="purchases")
    package_key = models.CharField(max_length=64, default="order")  # which lines: the whole order, for now
    line_ids = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=PurchaseState.choices, default=PurchaseState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    submitting_since = models.DateTimeField(null=True, blank=True)

    # The choice, with why (the decision log).
    services_quoted = models.JSONField(default=list)  # [{id, name, carrier, price, currency, days}]
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
    label_pdf = models.FileField(upload_to="labels/%Y/%m/", blank=True)

    # A failure a person can act on.
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_fix = models.CharField(max_length=300, blank=True)
    retryable = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "package_key"], name="labelpurchase_once_per_package"),
        ]
        indexes = [models.Index(fields=["organization", "state"], name="purchase_org_state")]

    def __str__(self) -> str:
        return f"Label for {self.order} ({self.get_state_display()})"
