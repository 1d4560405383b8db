"""What buyers ask after the order (cancellations, returns, refunds, replacements) as the platform last told us, and
every decision the seller sends back (docs/adr/0018-after-sales.md).

A request row is a copy of the platform's record (refreshed by webhook 11/12, by the scheduled sync and after every
decision); Dropline's own facts are the decisions. A `Decision` is recorded before the platform is called and is
claimed once (erp.claims); its `key` is sent as the platform's idempotency key, so a lost answer is settled by
sending the same decision again: the platform answers the first result and decides nothing twice.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from erp.tenancy import TenantModel
from integrations.interface import AfterSaleInitiator, AfterSaleStatus, ReturnDecision, ReturnKind
from integrations.models import Store
from orders.models import Order


class AfterSaleRequest(TenantModel):
    """Fields every after-sale request has, whichever kind."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    # Null until the order is in Dropline (a request may be seen before its order is imported; the next sync links it).
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order_external_id = models.CharField(max_length=64)
    external_id = models.CharField(max_length=64)  # the platform's request id
    initiator = models.CharField(max_length=16, choices=[(i.value, i.value.title()) for i in AfterSaleInitiator])
    status = models.CharField(max_length=20, choices=[(s.value, s.value.replace("_", " ")) for s in AfterSaleStatus])
    platform_status = models.CharField(max_length=64, blank=True)
    reason_code = models.CharField(max_length=200, blank=True)
    reason_text = models.CharField(max_length=300, blank=True)
    respond_by = models.DateTimeField(null=True, blank=True)  # the platform's deadline for the seller's answer
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    lines = models.JSONField(default=list, blank=True)  # [{"seller_sku", "platform_sku_id", "quantity", "refund"}]
    requested_at = models.DateTimeField(null=True, blank=True)
    platform_updated_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def units(self) -> int:
        return sum(int(line.get("quantity") or 0) for line in self.lines)


class CancellationRequest(AfterSaleRequest):
    needs_decision = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="cancellation_once_per_platform_id")
        ]
        indexes = [models.Index(fields=["organization", "needs_decision", "respond_by"], name="cancel_to_decide")]

    def __str__(self) -> str:
        return f"Cancellation {self.external_id} of order {self.order_external_id}"


class ReturnRequest(AfterSaleRequest):
    kind = models.CharField(max_length=20, choices=[(k.value, k.value.replace("_", " ")) for k in ReturnKind])
    # What the seller may answer now (ReturnDecision values); empty when nothing is waiting for the seller.
    decisions_open = models.JSONField(default=list, blank=True)
    return_tracking_number = models.CharField(max_length=64, blank=True)
    return_carrier = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "external_id"], name="return_once_per_platform_id")]
        indexes = [models.Index(fields=["organization", "status", "respond_by"], name="return_status_due")]

    def __str__(self) -> str:
        return f"Return {self.external_id} of order {self.order_external_id}"

    @property
    def needs_decision(self) -> bool:
        return bool(self.decisions_open)


class DecisionState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SUBMITTING = "submitting", "Sending"
    DONE = "done", "Sent"
    FAILED = "failed", "Refused"


class Decision(TenantModel):
    """One answer to one request at one step, sent exactly once (erp.claims: PENDING → SUBMITTING → DONE | FAILED).

    Exactly one live decision per request and step: a double click, a second tab or a retried request finds the row
    already there. A decision the platform refused for good (FAILED, not retryable) may be followed by another."""

    cancellation = models.ForeignKey(
        CancellationRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="decisions"
    )
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="decisions"
    )
    step = models.CharField(max_length=64)  # the platform status the request was at when decided
    approve = models.BooleanField()
    return_decision = models.CharField(max_length=24, blank=True, choices=[(d.value, d.value) for d in ReturnDecision])
    reason_code = models.CharField(max_length=200, blank=True)
    reason_text = models.CharField(max_length=300, blank=True)
    comment = models.CharField(max_length=500, blank=True)
    key = models.UUIDField(default=uuid.uuid4, editable=False)  # the platform's idempotency_key
    state = models.CharField(max_length=16, choices=DecisionState.choices, default=DecisionState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    submitting_since = models.DateTimeField(null=True, blank=True)
    retryable = models.BooleanField(default=False)
    adopted = models.BooleanField(
        default=False
    )  # the platform had it already (an earlier attempt whose answer was lost)
    answer = models.CharField(max_length=300, blank=True)  # what the platform answered, as a person reads it
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_fix = models.CharField(max_length=300, blank=True)
    decided_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(cancellation__isnull=False, return_request__isnull=True)
                | Q(cancellation__isnull=True, return_request__isnull=False),
                name="decision_of_one_request",
            ),
            # One live decision per request and step (a refused one frees the step for another).
            models.UniqueConstraint(
                fields=["cancellation", "step"],
                condition=Q(cancellation__isnull=False) & (~Q(state="failed") | Q(retryable=True)),
                name="decision_once_per_cancellation_step",
            ),
            models.UniqueConstraint(
                fields=["return_request", "step"],
                condition=Q(return_request__isnull=False) & (~Q(state="failed") | Q(retryable=True)),
                name="decision_once_per_return_step",
            ),
        ]
        indexes = [models.Index(fields=["state", "updated_at"], name="decision_state_age")]

    def __str__(self) -> str:
        verb = "Approve" if self.approve else "Reject"
        return f"{verb} {self.request}"

    @property
    def request(self) -> CancellationRequest | ReturnRequest:
        request = self.cancellation or self.return_request
        assert request is not None  # the check constraint
        return request


class SellerCancellation(TenantModel):
    """The seller cancelling an order itself (Cancel Order), recorded before the call and made once. Cancel Order takes
    no idempotency key: a lost answer is settled by reading the order's cancellations before cancelling again."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    reason_code = models.CharField(max_length=200)
    reason_text = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=16, choices=DecisionState.choices, default=DecisionState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    submitting_since = models.DateTimeField(null=True, blank=True)
    retryable = models.BooleanField(default=False)
    adopted = models.BooleanField(default=False)
    request_external_id = models.CharField(max_length=64, blank=True)  # the platform's cancel id, once known
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_fix = models.CharField(max_length=300, blank=True)
    requested_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state", "updated_at"], name="sellercancel_state_age")]

    def __str__(self) -> str:
        return f"Seller cancellation of {self.order_id}"
