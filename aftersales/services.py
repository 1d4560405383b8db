"""After-sales: keep the platform's requests in step, and send the seller's decisions exactly once.

webhook 11 / 12 (aftersales.webhooks) ─┐
beat, every few minutes (tasks) ───────┼─► requests_refresh: the platform's records → CancellationRequest /
after every decision ──────────────────┘   ReturnRequest rows (a copy; never decided on from memory)

a person (inbox, one or many) ─► decision_request: a Decision row, committed before any call
    └─► decision_execute (worker): claim it (erp.claims) → the platform, with the row's key as idempotency key
          ├─ answered: DONE, the platform's answer shown; the request and its order are read again, so an
          │   approved cancellation cancels the order and shipping stops its label (shipping.cancelled)
          ├─ answer lost: stays SUBMITTING; decision_reconcile sends the same decision with the same key (the
          │   platform answers the first result and decides nothing twice)
          └─ refused: FAILED with the platform's code and fix; "decided already" reads the request to say by whom

a person (order page) ─► seller_cancel_request → seller_cancel_execute: Cancel Order has no key, so a second
    attempt first reads the order's cancellations and adopts a seller cancellation found there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from aftersales.models import (
    CancellationRequest,
    Decision,
    DecisionState,
    ReturnRequest,
    SellerCancellation,
)
from erp.actors import Actor
from erp.claims import side_effect_claim, side_effect_take_over
from erp.services import audit_record
from erp.tenancy import current_organization
from integrations.base import Capability, SalesChannel
from integrations.errors import ErrorKind, NotSupported, PlatformError, PlatformOutcomeUnknown
from integrations.interface import (
    AfterSaleInitiator,
    AfterSaleLine,
    AfterSaleStatus,
    Money,
    PlatformCancellation,
    PlatformReturn,
    Reason,
    ReturnDecision,
)
from integrations.models import Platform, Store, StoreStatus
from integrations.registry import has_capability
from integrations.services import platform_name, store_client
from orders.models import Order, OrderStatus
from orders.services import orders_fetch
from webhooks.services import event_publish

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)  # a SUBMITTING decision older than this lost its worker: send it again
SYNC_OVERLAP = timedelta(minutes=10)  # re-read this much before the newest change seen (clock skew, late writes)
# Where a seller may cancel (the Return & Refund overview's table; the channel's reasons decide in the end): up to the
# carrier's collection, a bought label included.
SELLER_CANCELLABLE = (
    OrderStatus.UNPAID,
    OrderStatus.ON_HOLD,
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.AWAITING_COLLECTION,
)


class DecisionRefused(Exception):
    """The decision cannot be recorded (nothing to decide, a reason missing): a 4xx for the person, nothing sent."""


class Outcome:
    DONE = "done"
    ADOPTED = "adopted"
    BUSY = "busy"
    UNKNOWN = "unknown"
    FAILED = "failed"


AfterSale = CancellationRequest | ReturnRequest


# ------------------------------------------------------------------------------------------------- the copy
def _lines_json(lines: Iterable[AfterSaleLine]) -> list[dict[str, object]]:
    return [
        {
            "seller_sku": line.seller_sku,
            "platform_sku_id": line.platform_sku_id,
            "quantity": line.quantity,
            "refund": str(line.refund.amount) if line.refund else None,
        }
        for line in lines
    ]


def _common(store: Store, data: PlatformCancellation | PlatformReturn, order: Order | None) -> dict[str, object]:
    return {
        "order": order,
        "order_external_id": data.order_id[:64],
        "initiator": data.initiator.value,
        "status": data.status.value,
        "platform_status": data.platform_status[:64],
        "reason_code": data.reason.code[:200],
        "reason_text": data.reason.text[:300],
        "respond_by": data.respond_by,
        "refund_amount": data.refund.amount if data.refund else None,
        "currency": data.refund.currency[:3] if data.refund else "",
        "lines": _lines_json(data.lines),
        "requested_at": data.created_at,
        "platform_updated_at": data.updated_at,
        "synced_at": timezone.now(),
    }


def _orders_of(store: Store, order_ids: Iterable[str]) -> dict[str, Order]:
    return {o.external_id: o for o in Order.objects.filter(store=store, external_id__in=set(order_ids))}


def _upsert(model: type[AfterSale], store: Store, external_id: str, values: dict[str, object]) -> AfterSale:
    """Insert or update one request. An older copy never overwrites a newer one (webhooks and syncs race)."""
    with transaction.atomic():
        row = model.objects.select_for_update().filter(store=store, external_id=external_id).first()
        if row is None:
            try:
                with transaction.atomic():
                    created = model.objects.create(store=store, external_id=external_id, **values)
                    _publish_requested(created)
                    return created
            except IntegrityError:  # created a moment ago by a concurrent refresh
                row = model.objects.select_for_update().get(store=store, external_id=external_id)
        seen, incoming = row.platform_updated_at, values.get("platform_updated_at")
        if seen is not None and incoming is not None and incoming < seen:  # type: ignore[operator]
            return row
        for field, value in values.items():
            setattr(row, field, value)
        row.save()
        return row


def _publish_requested(request: AfterSale) -> None:
    """cancellation.requested / return.requested, once: when the request first reaches Dropline."""
    is_cancellation = isinstance(request, CancellationRequest)

    def payload() -> dict[str, object]:
        from aftersales.api.serializers import CancellationRequestOutput, ReturnRequestOutput

        output = CancellationRequestOutput if is_cancellation else ReturnRequestOutput
        return dict(output(type(request).objects.prefetch_related("decisions").get(pk=request.pk)).data)

    event_publish(
        organization=current_organization(),
        type="cancellation.requested" if is_cancellation else "return.requested",
        object_type="order",
        object_id=request.order_id or f"{type(request).__name__}:{request.pk}",
        data=payload,
    )


def cancellations_upsert(store: Store, found: Sequence[PlatformCancellation]) -> list[CancellationRequest]:
    orders = _orders_of(store, (c.order_id for c in found))
    # The platform closes a rejected request the way a withdrawn one is closed (no "rejected" status of its own):
    # where the seller's rejection went through Dropline, the request says so.
    rejected_here = set(
        Decision.objects.filter(
            cancellation__store=store,
            cancellation__external_id__in=[c.request_id for c in found],
            approve=False,
            state=DecisionState.DONE,
        ).values_list("cancellation__external_id", flat=True)
    )
    rows = []
    for data in found:
        values = _common(store, data, orders.get(data.order_id))
        values["needs_decision"] = data.needs_decision and data.status == AfterSaleStatus.PENDING
        if data.status == AfterSaleStatus.WITHDRAWN and data.request_id in rejected_here:
            values["status"] = AfterSaleStatus.REJECTED.value
        rows.append(_upsert(CancellationRequest, store, data.request_id[:64], values))
    return rows  # type: ignore[return-value]


def returns_upsert(store: Store, found: Sequence[PlatformReturn]) -> list[ReturnRequest]:
    orders = _orders_of(store, (r.order_id for r in found))
    rows = []
    for data in found:
        values = _common(store, data, orders.get(data.order_id))
        values.update(
            kind=data.kind.value,
            decisions_open=[d.value for d in data.decisions],
            return_tracking_number=data.return_tracking_number[:64],
            return_carrier=data.return_carrier[:100],
        )
        rows.append(_upsert(ReturnRequest, store, data.request_id[:64], values))
    return rows  # type: ignore[return-value]


def requests_refresh(*, store: Store, order_ids: Sequence[str] = (), full: bool = False) -> int:
    """Read the store's requests from the platform: those of `order_ids`, else those changed since the newest copy
    (every one on the first run, or with `full`). Returns how many rows were written."""
    channel = store_client(store)
    written = 0
    if has_capability(store.platform, Capability.CANCELLATIONS):
        since = None if full or order_ids else _newest(CancellationRequest, store)
        found = list(channel.cancellations(updated_since=since, order_ids=order_ids))
        written += len(cancellations_upsert(store, found))
    if has_capability(store.platform, Capability.RETURNS):
        since = None if full or order_ids else _newest(ReturnRequest, store)
        found_returns = list(channel.returns(updated_since=since, order_ids=order_ids))
        written += len(returns_upsert(store, found_returns))
    _link_orders(store)
    return written


def _newest(model: type[AfterSale], store: Store) -> datetime | None:
    newest = model.objects.filter(store=store).aggregate(at=Max("platform_updated_at"))["at"]
    return newest - SYNC_OVERLAP if newest else None


def _link_orders(store: Store) -> None:
    """Requests seen before their order was imported get it once it is."""
    for model in (CancellationRequest, ReturnRequest):
        waiting = dict(model.objects.filter(store=store, order__isnull=True).values_list("pk", "order_external_id"))
        if not waiting:
            continue
        orders = _orders_of(store, waiting.values())
        for pk, external_id in waiting.items():
            if external_id in orders:
                model.objects.filter(pk=pk).update(order=orders[external_id])


def stores_with_after_sales() -> list[Store]:
    """Every connected store whose platform has cancellations or returns (for beat, all tenants)."""
    platforms = {
        p
        for p in Platform.values
        if has_capability(p, Capability.CANCELLATIONS) or has_capability(p, Capability.RETURNS)
    }
    return list(Store.unscoped.filter(platform__in=platforms, status=StoreStatus.ACTIVE, authorization__isnull=False))


# --------------------------------------------------------------------------------------------- deciding
def _step(request: AfterSale) -> str:
    return request.platform_status or request.status


def decision_request(
    *,
    request: AfterSale,
    approve: bool,
    actor: Actor,
    reason: Reason | None = None,
    comment: str = "",
    return_decision: ReturnDecision | None = None,
) -> tuple[Decision, bool]:
    """Record one decision (the caller commits it before anything is sent). Deciding again what is already decided,
    or being decided, returns that decision and False: nothing is sent twice."""
    existing = _live_decision(request)
    if existing is None and not request.needs_decision:
        existing = _same_decision_done(request, approve, return_decision)
    if existing is not None:
        return existing, False
    if isinstance(request, CancellationRequest):
        if not request.needs_decision:
            raise DecisionRefused(
                f"Order {request.order_external_id}: this cancellation is {request.get_status_display()}, "
                "nothing to decide."
            )
        return_decision = None
    else:
        open_now = [ReturnDecision(d) for d in request.decisions_open]
        if not open_now:
            raise DecisionRefused(
                f"Order {request.order_external_id}: this return is {request.get_status_display()}, nothing to decide."
            )
        if return_decision is None:
            return_decision = next((d for d in open_now if d.approves == approve), None)
        if return_decision not in open_now:
            raise DecisionRefused(f"Order {request.order_external_id}: the return is not at that step any more.")
        approve = return_decision.approves
    if not approve and reason is None:
        raise DecisionRefused("Choose a reason to reject (the platform's own list).")
    comment = comment.strip()
    if len(comment) > 500:
        raise DecisionRefused("A comment is at most 500 characters.")
    of = "cancellation" if isinstance(request, CancellationRequest) else "return_request"
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                **{of: request},
                step=_step(request)[:64],
                approve=approve,
                return_decision=return_decision.value if return_decision else "",
                reason_code=reason.code[:200] if reason else "",
                reason_text=reason.text[:300] if reason else "",
                comment=comment,
                decided_by_label=actor.label[:200],
            )
    except IntegrityError:  # decided a moment ago (another tab, a double click)
        existing = _live_decision(request)
        assert existing is not None
        return existing, False
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="aftersale.approval_recorded" if approve else "aftersale.rejection_recorded",
        target=request,
        changes={"order": request.order_external_id, "reason": decision.reason_code, "comment": comment[:200]},
    )
    return decision, True


def _same_decision_done(request: AfterSale, approve: bool, return_decision: ReturnDecision | None) -> Decision | None:
    """The same answer, already sent, to a request that waits for nothing now: a retried request finds it."""
    done = request.decisions.filter(state=DecisionState.DONE, approve=approve)
    if return_decision is not None:
        done = done.filter(return_decision=return_decision.value)
    return done.order_by("-created_at").first()


def _live_decision(request: AfterSale) -> Decision | None:
    return (
        request.decisions.filter(step=_step(request)[:64])
        .filter(~Q(state=DecisionState.FAILED) | Q(retryable=True))
        .first()
    )


def decision_execute(*, decision_id: UUID | str) -> str:
    """Send the recorded decision unless it is sent or being sent. Safe to call any number of times, from any number
    of workers."""
    if not side_effect_claim(Decision.objects.filter(pk=decision_id)):
        state = Decision.objects.filter(pk=decision_id).values_list("state", flat=True).first()
        return {DecisionState.DONE: Outcome.DONE, DecisionState.SUBMITTING: Outcome.BUSY}.get(state, Outcome.FAILED)  # type: ignore[call-overload]
    return _send(_decision(decision_id))


def decision_reconcile(*, decision_id: UUID | str, stale_after: timedelta = STALE_AFTER) -> str:
    """A decision left SUBMITTING (its answer lost, or its worker died): take it over and send it again with the same
    key; the platform answers the first result."""
    decision = _decision(decision_id)
    if decision.state != DecisionState.SUBMITTING:
        return Outcome.DONE if decision.state == DecisionState.DONE else Outcome.FAILED
    if decision.submitting_since and decision.submitting_since > timezone.now() - stale_after:
        return Outcome.BUSY
    if not side_effect_take_over(
        Decision.objects.filter(pk=decision.pk), submitting_since=decision.submitting_since, count_attempt=True
    ):
        return Outcome.BUSY
    return _send(decision)


def decisions_stuck(*, stale_after: timedelta = STALE_AFTER) -> list[tuple[object, object]]:
    """(organization id, decision id) of every decision SUBMITTING for longer than `stale_after` (beat, all tenants)."""
    cutoff = timezone.now() - stale_after
    return list(
        Decision.unscoped.filter(state=DecisionState.SUBMITTING, submitting_since__lt=cutoff).values_list(
            "organization_id", "pk"
        )
    )


def seller_cancels_stuck(*, stale_after: timedelta = STALE_AFTER) -> list[tuple[object, object]]:
    """(organization id, seller cancellation id) of every one SUBMITTING for longer than `stale_after`."""
    cutoff = timezone.now() - stale_after
    return list(
        SellerCancellation.unscoped.filter(state=DecisionState.SUBMITTING, submitting_since__lt=cutoff).values_list(
            "organization_id", "pk"
        )
    )


def _decision(decision_id: UUID | str) -> Decision:
    return Decision.objects.select_related(
        "cancellation__store__authorization", "return_request__store__authorization"
    ).get(pk=decision_id)


def _send(decision: Decision) -> str:
    request = decision.request
    channel = store_client(request.store)
    try:
        if decision.cancellation_id:
            channel.cancellation_decide(
                request.external_id,
                approve=decision.approve,
                key=str(decision.key),
                reason_code=decision.reason_code,
                comment=decision.comment,
            )
        else:
            channel.return_decide(
                request.external_id,
                ReturnDecision(decision.return_decision),
                key=str(decision.key),
                reason_code=decision.reason_code,
                comment=decision.comment,
            )
    except PlatformOutcomeUnknown as error:
        log.warning("decision %s: no answer (%s); it is sent again with the same key", decision.pk, error)
        _note(decision, str(error.code), f"No answer from {platform_name(error.platform)} yet: sending it again.")
        return Outcome.UNKNOWN
    except PlatformError as error:
        if error.kind == ErrorKind.ALREADY_DONE:
            return _decided_elsewhere(decision, channel, error)
        if error.retryable or error.kind in (ErrorKind.TEMPORARY, ErrorKind.RATE_LIMITED):
            # busy, rate limited, unreachable: the same decision, same key, a little later
            _note(decision, str(error.code), f"{error.message} — sending it again shortly.")
            return Outcome.UNKNOWN
        return _failed(decision, error)
    return _done(decision, channel, adopted=False)


def _refreshed(decision: Decision, channel: SalesChannel) -> AfterSale:
    """Read the request (and its order) again from the platform after a decision."""
    request = decision.request
    order_ids = [request.order_external_id]
    if isinstance(request, CancellationRequest):
        cancellations_upsert(request.store, list(channel.cancellations(order_ids=order_ids)))
    else:
        returns_upsert(request.store, list(channel.returns(order_ids=order_ids)))
    try:
        orders_fetch(store=request.store, order_ids=order_ids)
    except PlatformError:  # the decision stands; the order is read again by the next sync
        log.warning("decision %s: order %s not re-read", decision.pk, request.order_external_id, exc_info=True)
    request.refresh_from_db()
    return request


def _done(decision: Decision, channel: SalesChannel, *, adopted: bool) -> str:
    name = platform_name(decision.request.store.platform)
    verb = "approved" if decision.approve else "rejected"
    Decision.objects.filter(pk=decision.pk).update(
        state=DecisionState.DONE,
        submitting_since=None,
        adopted=adopted,
        answer=f"{name} accepted: {verb}" + (" (it had it already)" if adopted else ""),
        error_code="",
        error_message="",
        error_fix="",
        retryable=False,
        updated_at=timezone.now(),
    )
    request = decision.request
    audit_record(
        organization=current_organization(),
        actor=Actor.system(decision.decided_by_label or "After-sales"),
        action=f"aftersale.{verb}",
        target=request,
        changes={
            "order": request.order_external_id,
            "request": request.external_id,
            "reason": decision.reason_code,
            "adopted": adopted,
        },
    )
    try:
        _refreshed(decision, channel)
    except PlatformError:
        log.warning("decision %s sent; the request is read again by the next sync", decision.pk, exc_info=True)
    return Outcome.ADOPTED if adopted else Outcome.DONE


def _decided_elsewhere(decision: Decision, channel: SalesChannel, error: PlatformError) -> str:
    """The platform says the request was decided already: ours (an earlier attempt) or someone else's (Seller
    Center, the platform's own timeout)."""
    try:
        request = _refreshed(decision, channel)
    except PlatformError:
        return _failed(decision, error)
    wanted = AfterSaleStatus.APPROVED if decision.approve else AfterSaleStatus.REJECTED
    if request.status == wanted or (decision.approve and request.status == AfterSaleStatus.IN_PROGRESS):
        return _done(decision, channel, adopted=True)
    return _failed(
        decision,
        error,
        fix=f"It is {request.get_status_display()} on {platform_name(request.store.platform)} now: nothing more to do.",
    )


def _note(decision: Decision, code: str, message: str) -> None:
    Decision.objects.filter(pk=decision.pk).update(
        error_code=code[:32], error_message=message[:500], updated_at=timezone.now()
    )


def _failed(decision: Decision, error: PlatformError, *, fix: str = "") -> str:
    Decision.objects.filter(pk=decision.pk).update(
        state=DecisionState.FAILED,
        submitting_since=None,
        error_code=str(error.code)[:32],
        error_message=error.message[:500],
        error_fix=(fix or error.fix or "Check the request on the platform, then decide again.")[:300],
        retryable=error.retryable,
        updated_at=timezone.now(),
    )
    request = decision.request
    audit_record(
        organization=current_organization(),
        actor=Actor.system("After-sales"),
        action="aftersale.decision_refused",
        target=request,
        changes={"order": request.order_external_id, "code": str(error.code), "message": error.message[:200]},
    )
    return Outcome.FAILED


def reject_reasons(request: AfterSale) -> list[Reason]:
    """The platform's reasons to reject this request now (read while the person waits)."""
    return store_client(request.store, while_a_person_waits=True).reject_reasons(request.external_id)


# ---------------------------------------------------------------------------------- the seller cancels
@dataclass(frozen=True)
class CancelImpact:
    """What one more seller cancellation does to the store's seller-cancellation rate (the platform's metric)."""

    cancelled_by_seller: int
    orders: int
    threshold_percent: float

    @property
    def rate_now(self) -> float:
        return 100.0 * self.cancelled_by_seller / self.orders if self.orders else 0.0

    @property
    def rate_after(self) -> float:
        return 100.0 * (self.cancelled_by_seller + 1) / self.orders if self.orders else 100.0

    @property
    def crosses_threshold(self) -> bool:
        return self.rate_after > self.threshold_percent


def seller_cancel_impact(order: Order, *, days: int = 30) -> CancelImpact:
    """The store's seller-caused cancellations over the last `days` against its orders in that time (the window the
    compliance view uses), and the rate after cancelling this order too."""
    since = timezone.now() - timedelta(days=days)
    window = Order.objects.filter(store=order.store, placed_at__gte=since)
    return CancelImpact(
        cancelled_by_seller=window.filter(status=OrderStatus.CANCELLED, cancellation_initiator="SELLER").count(),
        orders=max(window.count(), 1),
        threshold_percent=float(settings.COMPLIANCE_SELLER_CANCELLATION_THRESHOLD),
    )


def seller_cancel_reasons(order: Order) -> list[Reason]:
    if order.status not in SELLER_CANCELLABLE or not has_capability(order.store.platform, Capability.CANCELLATIONS):
        return []
    return store_client(order.store, while_a_person_waits=True).seller_cancel_reasons(order.status)


def seller_cancel_request(*, order: Order, reason: Reason, actor: Actor) -> tuple[SellerCancellation, bool]:
    """Record the seller's cancellation of `order` (committed before the call). Once per order."""
    if order.status not in SELLER_CANCELLABLE:
        raise DecisionRefused(
            f"Order {order.external_id} is {order.get_status_display()}: it can no longer be cancelled."
        )
    try:
        with transaction.atomic():
            cancel = SellerCancellation.objects.create(
                order=order,
                store=order.store,
                reason_code=reason.code[:200],
                reason_text=reason.text[:300],
                requested_by_label=actor.label[:200],
            )
    except IntegrityError:
        existing = SellerCancellation.objects.get(order=order)
        if existing.state == DecisionState.FAILED and not existing.retryable:
            # refused for good before: this is a new attempt, with this reason
            SellerCancellation.objects.filter(pk=existing.pk, state=DecisionState.FAILED).update(
                state=DecisionState.PENDING,
                reason_code=reason.code[:200],
                reason_text=reason.text[:300],
                requested_by_label=actor.label[:200],
                updated_at=timezone.now(),
            )
            existing.refresh_from_db()
            return existing, True
        return existing, False
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="order.seller_cancel_recorded",
        target=order,
        changes={"reason": reason.code},
    )
    return cancel, True


def seller_cancel_execute(*, cancel_id: UUID | str, stale_after: timedelta = STALE_AFTER) -> str:
    """Cancel the order on the platform unless that is done or being done; a cancellation left SUBMITTING for longer
    than `stale_after` (its answer lost, its worker dead) is taken over and the platform read before anything else."""
    rows = SellerCancellation.objects.filter(pk=cancel_id)
    if not side_effect_claim(rows):
        stale = rows.filter(state=DecisionState.SUBMITTING, submitting_since__lte=timezone.now() - stale_after).first()
        if stale is None or not side_effect_take_over(
            rows, submitting_since=stale.submitting_since, count_attempt=True
        ):
            state = rows.values_list("state", flat=True).first()
            return Outcome.DONE if state == DecisionState.DONE else Outcome.BUSY
    cancel = SellerCancellation.objects.select_related("store__authorization", "order").get(pk=cancel_id)
    channel = store_client(cancel.store)
    try:
        if cancel.attempts > 1:  # an earlier attempt may have cancelled it: look before cancelling again
            found = _seller_cancellation_on_platform(channel, cancel)
            if found:
                return _seller_cancelled(cancel, found, adopted=True)
        request_id, _status = channel.order_cancel(cancel.order.external_id, reason_code=cancel.reason_code)
    except PlatformOutcomeUnknown as error:
        SellerCancellation.objects.filter(pk=cancel.pk).update(
            error_code=str(error.code)[:32],
            error_message="No answer yet: checking before cancelling again.",
            updated_at=timezone.now(),
        )
        return Outcome.UNKNOWN
    except PlatformError as error:
        if error.kind == ErrorKind.ALREADY_DONE:
            found = _seller_cancellation_on_platform(channel, cancel)
            if found:
                return _seller_cancelled(cancel, found, adopted=True)
        SellerCancellation.objects.filter(pk=cancel.pk).update(
            state=DecisionState.FAILED,
            submitting_since=None,
            error_code=str(error.code)[:32],
            error_message=error.message[:500],
            error_fix=(error.fix or "")[:300],
            retryable=error.retryable,
            updated_at=timezone.now(),
        )
        return Outcome.FAILED
    return _seller_cancelled(cancel, request_id, adopted=False)


def _seller_cancellation_on_platform(channel: SalesChannel, cancel: SellerCancellation) -> str:
    for found in channel.cancellations(order_ids=[cancel.order.external_id]):
        if found.initiator == AfterSaleInitiator.SELLER and found.status != AfterSaleStatus.WITHDRAWN:
            return found.request_id
    return ""


def _seller_cancelled(cancel: SellerCancellation, request_id: str, *, adopted: bool) -> str:
    SellerCancellation.objects.filter(pk=cancel.pk).update(
        state=DecisionState.DONE,
        submitting_since=None,
        adopted=adopted,
        request_external_id=request_id[:64],
        error_code="",
        error_message="",
        error_fix="",
        retryable=False,
        updated_at=timezone.now(),
    )
    audit_record(
        organization=current_organization(),
        actor=Actor.system(cancel.requested_by_label or "Seller"),
        action="order.seller_cancelled",
        target=cancel.order,
        changes={"reason": cancel.reason_code, "request": request_id, "adopted": adopted},
    )
    try:
        requests_refresh(store=cancel.store, order_ids=[cancel.order.external_id])
        orders_fetch(store=cancel.store, order_ids=[cancel.order.external_id])
    except (PlatformError, NotSupported):
        log.warning("seller cancellation %s done; the order is read again by the next sync", cancel.pk, exc_info=True)
    return Outcome.ADOPTED if adopted else Outcome.DONE


def seller_cancellation_of(order: Order) -> SellerCancellation | None:
    return SellerCancellation.objects.filter(order=order).first()


def refund_estimate(order: Order, reason: Reason) -> Money | None:
    """What the buyer would get back if the seller cancelled now (the platform's own calculation), read while the
    person waits."""
    return store_client(order.store, while_a_person_waits=True).refund_estimate(
        order.external_id, reason_code=reason.code
    )
