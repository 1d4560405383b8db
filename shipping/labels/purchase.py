"""Buying official labels, each exactly once (DESIGN.md "The money path"; docs/adr/0007-label-purchase.md).

    PENDING ──claim──► SUBMITTING ──bought──► PURCHASED
                          │  └─ platform refused (definitely not bought) ──► FAILED (code, message, fix)
                          └─ outcome unknown (timeout, dropped response, worker died) ──► stays SUBMITTING
                             until `label_purchase_reconcile` asks the platform: adopt the label, or buy again.

Only the worker whose conditional UPDATE claimed the row calls the platform. A row found SUBMITTING is never bought
blindly: the platform is asked first whether the order's lines already have a package.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Concat, Left
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.claims import side_effect_claim, side_effect_take_over
from erp.models import Organization
from erp.services import audit_record
from erp.storage import StorageUnavailable, storage_errors
from erp.tasks import wake_on_commit
from erp.tenancy import current_organization
from integrations.base import LabelProvider
from integrations.errors import ErrorKind, NotSupported, PlatformError, PlatformOutcomeUnknown
from integrations.interface import Dimensions, FulfilledBy, LabelSource, ShipPackageRequest, TimeSlot, Weight
from integrations.services import platform_name, store_label_provider
from inventory.models import Reservation, StockLevel, Warehouse
from orders.models import Order, OrderLine, OrderStatus
from shipping.documents.batch import BatchOrder, PickLine, picking_order
from shipping.models import HANDOFF_KINDS, LabelBatch, LabelPurchase, LogisticsRule, PurchaseState
from shipping.pickup import Handover, handover_for, pickup_slot_for
from shipping.rules.engine import Decision, choose_service, decision_record, first_match
from shipping.rules.facts import facts_for
from shipping.rules.schema import Actions

log = logging.getLogger(__name__)

# A SUBMITTING row untouched for this long belongs to a worker that died (the HTTP read timeout is 30 s).
STALE_AFTER = timedelta(seconds=90)
NOT_ARRANGED = ("", "TO_FULFILL", "CANCELLED")  # a line's package status before it is bought / shipped

MAX_AUTO_ATTEMPTS = 5  # a temporary failure is retried by beat (labels_resume_lost) until this many attempts
RETRY_LATER = "Temporary problem at {platform}: Dropline retries automatically."
GAVE_UP = "{platform} kept failing for this order: use Retry failed once {platform} works again."
CHECK_THE_ORDER = "Check the order on {platform}, then retry."


class PurchaseOutcome:
    BOUGHT = "bought"
    ADOPTED = "adopted"
    FAILED = "failed"
    UNKNOWN = "unknown"  # left SUBMITTING: reconcile will ask the platform
    BUSY = "busy"  # another worker holds it
    DONE = "done"  # already purchased earlier: nothing to do


# ----------------------------------------------------------------------------------------------- requesting
def lines_to_ship(order: Order) -> list[str]:
    """The platform line ids of every unit still to ship (a package must name each unit's line): a partially
    shipped order's shipped lines already have their package."""
    return sorted(
        line_id
        for line_ids in OrderLine.objects.filter(order=order, is_cancelled=False)
        .filter(package_status__in=NOT_ARRANGED)
        .values_list("platform_line_ids", flat=True)
        for line_id in line_ids
    )


def label_purchase_request(*, order: Order, batch: LabelBatch | None = None) -> LabelPurchase:
    """The purchase record for this order's package, created (committed by the caller) before any platform call.
    Asking twice returns the same row: that unique row is what makes the purchase happen once."""
    purchase, created = LabelPurchase.objects.get_or_create(
        order=order,
        package_key="order",
        defaults={"store_id": order.store_id, "batch": batch, "line_ids": lines_to_ship(order)},
    )
    if not created and batch is not None and purchase.batch_id is None:
        LabelPurchase.objects.filter(pk=purchase.pk).update(batch=batch)
    return purchase


@transaction.atomic
def label_batch_create(*, actor: Actor, orders: list[Order], estimate: dict[str, object] | None = None) -> LabelBatch:
    """A batch buying these orders' labels. An order whose label another batch already has (two people, or a
    person and auto-buy, choosing it at the same moment) is not bought twice: it is listed in `left_out` with the
    batch that has it, so the page can say where it went."""
    # Batches are numbered per organization; its row lock makes two batches created at once (a person and auto-buy)
    # take turns for the next number.
    Organization.objects.select_for_update().filter(pk=current_organization().pk).first()
    number = LabelBatch.objects.count() + 1
    batch = LabelBatch.objects.create(
        reference=f"B-{number:04d}", created_by_label=actor.label[:200], estimate=estimate or {}
    )
    left_out = []
    for order in orders:
        purchase = label_purchase_request(order=order, batch=batch)
        if purchase.batch_id != batch.pk:
            other = (
                LabelBatch.objects.filter(pk=purchase.batch_id).values_list("reference", flat=True).first()
                if purchase.batch_id
                else None
            )
            left_out.append(
                {
                    "order": order.external_id,
                    "order_id": str(order.pk),
                    "reason": f"bought by batch {other} a moment ago" if other else "its label was already requested",
                    "batch_id": str(purchase.batch_id) if purchase.batch_id else None,
                }
            )
    if left_out:
        LabelBatch.objects.filter(pk=batch.pk).update(left_out=left_out)
        batch.left_out = left_out
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="label_batch.created",
        target=batch,
        changes={"orders": len(orders) - len(left_out), "left_out": len(left_out)},
    )
    from shipping.tasks import labels_purchase  # tasks import this module

    for purchase_id in batch.purchases.values_list("pk", flat=True):
        wake_on_commit(labels_purchase, organization_id=str(batch.organization_id), purchase_id=str(purchase_id))
    return batch


# -------------------------------------------------------------------------------------------------- buying
def _claim(purchase_id: UUID | str) -> bool:
    return side_effect_claim(LabelPurchase.objects.filter(pk=purchase_id))


def _take_over_stale(purchase: LabelPurchase) -> bool:
    """Take a SUBMITTING row whose worker died (or whose outcome was unknown): exactly one worker wins."""
    return side_effect_take_over(
        LabelPurchase.objects.filter(pk=purchase.pk), submitting_since=purchase.submitting_since, count_attempt=False
    )


def package_for(order: Order, actions: Actions | None) -> tuple[Weight | None, Dimensions | None]:
    """What to tell the platform about the parcel: the rule's package preset, else the weight computed from SKU
    weights; nothing when unknown (the platform then uses its own default)."""
    grams = actions.package_weight_grams if actions and actions.package_weight_grams else facts_for(order).weight_grams
    weight = Weight(value=Decimal(grams).quantize(Decimal(1)), unit="GRAM") if grams else None
    dimensions = None
    if actions and actions.package_length_cm and actions.package_width_cm and actions.package_height_cm:
        dimensions = Dimensions(
            length=actions.package_length_cm,
            width=actions.package_width_cm,
            height=actions.package_height_cm,
            unit="CM",
        )
    return weight, dimensions


def _held_by_rule(purchase: LabelPurchase, decision: Decision) -> str:
    LabelPurchase.objects.filter(pk=purchase.pk).update(
        state=PurchaseState.FAILED,
        submitting_since=None,
        error_code="review",
        error_message=f"Held for review by the rule “{decision.rule.name}”.",
        error_fix="Check the order, then change or disable the rule and retry.",
        retryable=False,
        decision=decision_record(decision=decision, services=(), chosen=None, reason="held for review"),
        updated_at=timezone.now(),
    )
    return PurchaseOutcome.FAILED


# ------------------------------------------------------------------------------------------------- handover
def _book_pickup(provider: LabelProvider, purchase: LabelPurchase, handover: Handover) -> TimeSlot | None:
    warehouse = purchase.order.warehouse
    slot, why = pickup_slot_for(
        provider=provider,
        package_id=purchase.package_id,
        preference=handover.slot_preference,
        time_zone=clock.warehouse_zone(warehouse).key if warehouse else "UTC",
    )
    reason = Concat(F("choice_reason"), Value(f"; pickup: {why}"))
    LabelPurchase.objects.filter(pk=purchase.pk).update(
        handover_method="PICKUP",
        pickup_start=slot.start if slot else None,
        pickup_end=slot.end if slot else None,
        choice_reason=Left(reason, 300),
    )
    return slot


def _ship_package(provider: LabelProvider, purchase: LabelPurchase, decision: Decision | None) -> str:
    """The platform created the package at payment (TikTok outside the US): ship it, with the handover (and pickup
    slot) the rule or the warehouse asks for. Shipping twice is refused by the platform; that refusal means done."""
    actions = decision.actions if decision else None
    package_id = provider.find_package(purchase.order.external_id, line_ids=purchase.line_ids)
    name = platform_name(provider.platform)
    handover = handover_for(purchase.order, actions)
    LabelPurchase.objects.filter(pk=purchase.pk).update(
        package_id=package_id,
        handover_method=handover.method or "",
        decision=decision_record(
            decision=decision, services=(), chosen=None, reason=f"{name} assigns the carrier (Ship Package)"
        ),
        choice_reason=f"{name} assigns the carrier; handover {handover.method or 'as set in Seller Center'}"
        + (f" ({handover.why})" if handover.why else ""),
    )
    purchase.package_id = package_id
    slot = _book_pickup(provider, purchase, handover) if handover.method == "PICKUP" else None
    try:
        provider.ship(ShipPackageRequest(package_id, handover_method=handover.method, pickup_slot=slot))
    except PlatformError as error:
        if error.kind != ErrorKind.ALREADY_DONE:
            raise
        return _adopt(provider, purchase, package_id)
    package = provider.get_package(package_id)
    _record_purchased(
        purchase,
        package_id=package_id,
        adopted=False,
        price=None,  # billed by the platform through its settlement, not quoted here
        currency="",
        tracking=package.tracking_number,
        service_name=package.delivery_option_name,
        carrier=package.carrier_name,
    )
    return PurchaseOutcome.BOUGHT


def _record_purchased(
    purchase: LabelPurchase,
    *,
    package_id: str,
    adopted: bool,
    price: Decimal | None,
    currency: str,
    tracking: str,
    service_name: str,
    carrier: str,
) -> None:
    now = timezone.now()
    LabelPurchase.objects.filter(pk=purchase.pk).update(
        state=PurchaseState.PURCHASED,
        package_id=package_id,
        adopted=adopted,
        price=price,
        currency=currency,
        tracking_number=tracking,
        service_name=service_name or purchase.service_name,
        carrier_name=carrier or purchase.carrier_name,
        purchased_at=now,
        submitting_since=None,
        error_code="",
        error_message="",
        error_fix="",
        retryable=False,
        updated_at=now,
    )
    audit_record(
        organization=current_organization(),
        actor=Actor.system("Label purchase"),
        action="label.adopted" if adopted else "label.bought",
        target=purchase.order,
        changes={"package_id": package_id, "price": str(price) if price is not None else None},
    )


def _adopt(provider: LabelProvider, purchase: LabelPurchase, package_id: str) -> str:
    package = provider.get_package(package_id)
    _record_purchased(
        purchase,
        package_id=package_id,
        adopted=True,
        price=None,
        currency="",
        tracking=package.tracking_number,
        service_name=package.delivery_option_name,
        carrier=package.carrier_name,
    )
    return PurchaseOutcome.ADOPTED


def _fail(purchase: LabelPurchase, error: PlatformError) -> str:
    name = platform_name(error.platform)
    if error.retryable:
        fix = (RETRY_LATER if purchase.attempts < MAX_AUTO_ATTEMPTS else GAVE_UP).format(platform=name)
    else:
        fix = error.fix or CHECK_THE_ORDER.format(platform=name)
    LabelPurchase.objects.filter(pk=purchase.pk).update(
        state=PurchaseState.FAILED,
        submitting_since=None,
        error_code=str(error.code)[:32],
        error_message=error.message[:500],
        error_fix=fix,
        retryable=error.retryable,
        updated_at=timezone.now(),
    )
    return PurchaseOutcome.FAILED


def label_purchase_execute(*, purchase_id: UUID | str) -> str:
    """Buy this label unless it is bought, being bought, or needs reconciling first. Safe to call any number of
    times, from any number of workers."""
    if not _claim(purchase_id):
        purchase = LabelPurchase.objects.get(pk=purchase_id)
        if purchase.state == PurchaseState.PURCHASED:
            return PurchaseOutcome.DONE
        if purchase.state == PurchaseState.SUBMITTING:
            return PurchaseOutcome.BUSY  # its worker is at it, or beat reconciles it once stale
        return PurchaseOutcome.FAILED  # failed for good: a person retries it
    purchase = LabelPurchase.objects.select_related("order", "store__authorization").get(pk=purchase_id)
    return _submit_through_provider(purchase, look_first=purchase.attempts > 1)


def _submit_through_provider(purchase: LabelPurchase, *, look_first: bool) -> str:
    try:
        provider = store_label_provider(purchase.store)
    except NotSupported as error:  # the store's channel sells no labels: say so on the order, do not crash a worker
        return _fail(purchase, error)
    return _submit(provider, purchase, look_first=look_first)


def _submit(provider: LabelProvider, purchase: LabelPurchase, *, look_first: bool) -> str:
    """We hold the row in SUBMITTING. Look (when an earlier attempt may have bought it), quote, choose, buy."""
    order_id = purchase.order.external_id
    try:
        if look_first:
            package_id = provider.find_label(order_id, line_ids=purchase.line_ids)
            if package_id:
                return _adopt(provider, purchase, package_id)
        decision = first_match(LogisticsRule.objects.filter(enabled=True), facts_for(purchase.order), timezone.now())
        actions = decision.actions if decision else None
        if decision is not None and actions is not None and actions.hold_for_review:
            return _held_by_rule(purchase, decision)
        if not provider.creates_packages:
            return _ship_package(provider, purchase, decision)
        weight, dimensions = package_for(purchase.order, actions)
        options = provider.quote(order_id, line_ids=purchase.line_ids, weight=weight, dimensions=dimensions)
        service, reason = choose_service(options.services, actions)
        assert service is not None  # there are services: choose_service always picks one
        LabelPurchase.objects.filter(pk=purchase.pk).update(
            decision=decision_record(decision=decision, services=options.services, chosen=service, reason=reason),
            service_id=service.service_id,
            service_name=service.name,
            carrier_name=service.carrier_name,
            choice_reason=reason[:300],
        )
        label = provider.buy(
            order_id,
            line_ids=purchase.line_ids,
            service_id=service.service_id,
            weight=weight,
            dimensions=dimensions,
        )
    except PlatformOutcomeUnknown as error:
        log.warning("label for order %s: outcome unknown (%s); reconciling", order_id, error.code)
        LabelPurchase.objects.filter(pk=purchase.pk).update(
            error_code=str(error.code)[:32],
            error_message=f"No answer from {platform_name(error.platform)}: checking whether it was bought.",
            updated_at=timezone.now(),
        )
        return PurchaseOutcome.UNKNOWN
    except PlatformError as error:
        if error.kind == ErrorKind.ALREADY_DONE:
            package_id = provider.find_label(order_id, line_ids=purchase.line_ids)
            if package_id:
                return _adopt(provider, purchase, package_id)
        return _fail(purchase, error)
    bought = label.service
    _record_purchased(
        purchase,
        package_id=label.package_id,
        adopted=False,
        price=bought.price.amount if bought and bought.price else None,
        currency=bought.price.currency if bought and bought.price else "",
        tracking="",
        service_name=bought.name if bought else "",
        carrier=bought.carrier_name if bought else "",
    )
    handover = handover_for(purchase.order, actions)
    if handover.method == "PICKUP":
        # US Collections by TikTok (or a rule asking for pickup): the label is bought; note the truck's window so
        # the warehouse knows when it comes. Failing to read the slots never un-buys the label.
        purchase.package_id = label.package_id
        try:
            _book_pickup(provider, purchase, handover)
        except PlatformError as error:
            log.warning("pickup slots for package %s: %s", label.package_id, error)
    return PurchaseOutcome.BOUGHT


def label_purchase_reconcile(*, purchase_id: UUID | str, stale_after: timedelta = STALE_AFTER) -> str:
    """A row left SUBMITTING (outcome unknown, or its worker died): take it over, ask the platform, adopt or buy."""
    purchase = LabelPurchase.objects.select_related("order", "store__authorization").get(pk=purchase_id)
    if purchase.state != PurchaseState.SUBMITTING:
        return PurchaseOutcome.DONE if purchase.state == PurchaseState.PURCHASED else purchase.state
    if purchase.submitting_since and purchase.submitting_since > timezone.now() - stale_after:
        return PurchaseOutcome.BUSY
    if not _take_over_stale(purchase):
        return PurchaseOutcome.BUSY  # another reconciler won
    LabelPurchase.objects.filter(pk=purchase.pk).update(attempts=F("attempts") + 1)
    return _submit_through_provider(purchase, look_first=True)


def purchases_stuck(*, stale_after: timedelta = STALE_AFTER) -> list[tuple[object, object]]:
    """(organization id, purchase id) of every SUBMITTING row older than `stale_after`, for beat (all tenants)."""
    cutoff = timezone.now() - stale_after
    return list(
        LabelPurchase.unscoped.filter(state=PurchaseState.SUBMITTING, submitting_since__lt=cutoff).values_list(
            "organization_id", "pk"
        )
    )


# ------------------------------------------------------------------------------------------------ documents
def label_document_fetch(*, purchase_id: UUID | str) -> bool:
    """Download and keep the label PDF now (the platform's link expires in 24 h); reprints never buy again."""
    purchase = LabelPurchase.objects.select_related("order", "store__authorization").get(pk=purchase_id)
    if purchase.state != PurchaseState.PURCHASED or purchase.label_pdf:
        return bool(purchase.label_pdf)
    _label_download(purchase)
    return True


def _label_download(purchase: LabelPurchase) -> bytes:
    """Ask the platform for a fresh document link (each lasts 24 h), download the label and store it. Raises
    PlatformError when the platform will not give it (picked up, cancelled, unreachable)."""
    document = store_label_provider(purchase.store).get_document(purchase.package_id)
    pdf = document.pdf
    purchase.label_pdf.save(f"{purchase.order.external_id}-{purchase.package_id}.pdf", ContentFile(pdf), save=False)
    LabelPurchase.objects.filter(pk=purchase.pk).update(
        label_pdf=purchase.label_pdf.name,
        tracking_number=document.tracking_number or purchase.tracking_number,
        updated_at=timezone.now(),
    )
    return pdf


REFETCH_PER_PRINT = 25  # labels fetched again inline by one printout; more are fetched in the background


def label_document_stored(*, purchase: LabelPurchase) -> bytes | None:
    """The stored label PDF, read through the storage API (a volume or a bucket alike); None when there is none."""
    if not purchase.label_pdf:
        return None
    try:
        with purchase.label_pdf.open("rb") as handle:
            content: bytes = handle.read()
            return content
    except FileNotFoundError:
        log.warning("label file %s of order %s is missing", purchase.label_pdf.name, purchase.order.external_id)
        return None
    except storage_errors() as error:  # storage is down: no file is known to be missing, so nothing is fetched again
        raise StorageUnavailable(f"{type(error).__name__}: {error}") from error


def label_document_recover(*, purchase: LabelPurchase, now: bool = True) -> tuple[bytes, str]:
    """A bought label whose file is missing (a lost volume, a deleted object, or not stored yet): asked of the platform
    again and saved back, so the next print has it. (pdf, "") — or (b"", why it cannot be printed and what to do).
    With `now` False, the fetch is left to the documents worker (and beat, should its message be lost)."""
    if not now:
        from shipping.tasks import documents_fetch_label  # tasks import this module

        LabelPurchase.objects.filter(pk=purchase.pk).update(label_pdf="")  # what the fetch task and beat look for
        wake_on_commit(
            documents_fetch_label, organization_id=str(purchase.organization_id), purchase_id=str(purchase.pk)
        )
        name = platform_name(purchase.store.platform)
        return b"", f"The label file is missing and is being fetched again from {name}: print again in a minute."
    try:
        return _label_download(purchase), ""
    except PlatformError as error:
        log.warning("label of order %s could not be fetched again: %s", purchase.order.external_id, error)
        detail = f" ({error.message[:120]})" if error.kind == ErrorKind.REFUSED else ""
        return b"", f"The label file is missing{detail}. {error.fix or 'Print again in a few minutes.'}"


# --------------------------------------------------------------------------------------------------- batches
MAX_BATCH = 1000


@dataclass(frozen=True)
class BatchPlan:
    orders: list[Order]
    skipped: dict[str, int]  # why → how many orders were left out


def batch_plan(orders: QuerySet[Order]) -> BatchPlan:
    """Which of these orders may get a label now. Held orders wait (a label bought for an order that cannot ship
    is money lost); orders TikTok fulfils or that ship on the seller's own label have nothing to buy here."""
    skipped: Counter[str] = Counter()
    chosen: list[Order] = []
    candidates = list(orders.select_related("store")[: MAX_BATCH * 2])
    requested = dict(
        LabelPurchase.objects.filter(order__in=[o.pk for o in candidates]).values_list("order_id", "batch__reference")
    )
    for order in candidates:
        if order.pk in requested:
            where = requested[order.pk]
            skipped[f"already in batch {where}" if where else "label already requested"] += 1
        elif order.status not in (OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING):
            skipped["not awaiting shipment"] += 1
        elif order.fulfilled_by == FulfilledBy.PLATFORM:
            skipped["fulfilled by TikTok"] += 1
        elif order.label_source != LabelSource.PLATFORM:
            # Seller shipping has no label to buy: its carrier and tracking are sent from the order's page or a CSV.
            skipped["seller shipping (no label to buy: enter carrier and tracking on the order, or import a CSV)"] += 1
        elif order.is_held:
            skipped["held (see each order's reason)"] += 1
        elif len(chosen) >= MAX_BATCH:
            skipped[f"over {MAX_BATCH} orders in one batch"] += 1
        else:
            chosen.append(order)
    return BatchPlan(orders=chosen, skipped=dict(skipped))


@transaction.atomic
def label_batch_retry_failed(*, actor: Actor, batch: LabelBatch) -> int:
    """Run again only the failed purchases of a batch (after the fix). Bought ones are never touched."""
    failed = list(batch.purchases.filter(state=PurchaseState.FAILED).values_list("pk", flat=True))
    LabelPurchase.objects.filter(pk__in=failed, state=PurchaseState.FAILED).update(
        state=PurchaseState.PENDING, error_code="", error_message="", error_fix="", updated_at=timezone.now()
    )
    from shipping.tasks import labels_purchase

    for purchase_id in failed:
        wake_on_commit(labels_purchase, organization_id=str(batch.organization_id), purchase_id=str(purchase_id))
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="label_batch.retried",
        target=batch,
        changes={"purchases": len(failed)},
    )
    return len(failed)


# ------------------------------------------------------------------------------------------ batch documents
def batch_documents_input(batch: LabelBatch, *, warehouse: Warehouse | None) -> list[BatchOrder]:
    """The bought labels of a batch whose orders ship from one own `warehouse` (None: orders routed to no warehouse),
    as the printing functions take them. Documents are per warehouse: one pick list never mixes two. A supplier or
    3PL warehouse's labels are printed from its handoff only (`purchases_documents_input` over the handoff's items):
    asking for them here is a programming error, so no seller-side printout can ever hold them."""
    if warehouse is not None and warehouse.kind in HANDOFF_KINDS:
        raise ValueError(f"{warehouse.name} works through handoffs: its labels print from its handoff only")
    return purchases_documents_input(
        batch.purchases.filter(order__warehouse=warehouse).exclude(order__warehouse__kind__in=HANDOFF_KINDS)
    )


def purchases_documents_input(purchases: QuerySet[LabelPurchase]) -> list[BatchOrder]:
    """Bought labels as the printing functions take them, in picking order: the stored label PDF (never bought again
    for a reprint), lines grouped by SKU with the bin at the warehouse each order is reserved at, the buyer's message
    and whether it is a gift. A label whose file is missing is fetched again from the platform (`REFETCH_PER_PRINT`
    inline, the rest by the documents worker); one that cannot be had carries why in `missing` (a placeholder page)."""
    bought = list(purchases.filter(state=PurchaseState.PURCHASED).select_related("order", "store__authorization"))
    order_ids = [p.order_id for p in bought]
    lines: defaultdict[UUID, Counter[str]] = defaultdict(Counter)
    names: dict[tuple[object, str], str] = {}
    gifts: set[object] = set()
    for order_id, seller_sku, sku_id, name, is_gift, quantity in OrderLine.objects.filter(
        order_id__in=order_ids, is_cancelled=False
    ).values_list("order_id", "seller_sku", "sku_id", "product_name", "is_gift", "quantity"):
        code = seller_sku or sku_id
        lines[order_id][code] += quantity
        names[(order_id, code)] = name
        if is_gift:
            gifts.add(order_id)
    reserved_at = dict(Reservation.objects.filter(order_id__in=order_ids).values_list("order_id", "warehouse_id"))
    bins: dict[tuple[UUID | None, str], str] = {
        (warehouse_id, code): bin_location
        for warehouse_id, code, bin_location in StockLevel.objects.filter(
            warehouse_id__in=set(reserved_at.values())
        ).values_list("warehouse_id", "sku__code", "bin_location")
    }
    result = []
    recovered = 0
    for purchase in bought:
        order = purchase.order
        pdf, missing = label_document_stored(purchase=purchase), ""
        if pdf is None:  # one missing file never stops the print: fetched again, or a placeholder page says why
            pdf, missing = label_document_recover(purchase=purchase, now=recovered < REFETCH_PER_PRINT)
            recovered += 1
        result.append(
            BatchOrder(
                order_ref=order.external_id,
                label_pdf=pdf,
                missing=missing,
                lines=tuple(
                    PickLine(
                        order_ref=order.external_id,
                        seller_sku=code,
                        name=names[(order.pk, code)],
                        quantity=quantity,
                        bin_location=bins.get((reserved_at.get(order.pk), code), ""),
                    )
                    for code, quantity in sorted(lines[order.pk].items())
                ),
                recipient_name=order.recipient_name,
                ship_by=order.ship_by,
                tracking_number=purchase.tracking_number,
                buyer_message=order.buyer_message.strip(),
                is_gift=order.pk in gifts,
            )
        )
    return picking_order(result, sort="bin")


def batch_settled_after(*, purchase_id: UUID | str) -> UUID | None:
    """The purchase's batch id when none of its purchases is still waiting or being bought (and none bought lacks
    its stored label): the moment to prepare the suppliers' handoffs. None otherwise."""
    batch_id = LabelPurchase.objects.filter(pk=purchase_id).values_list("batch_id", flat=True).first()
    if batch_id is None:
        return None
    unsettled = LabelPurchase.objects.filter(batch_id=batch_id).filter(
        Q(state__in=[PurchaseState.PENDING, PurchaseState.SUBMITTING]) | Q(state=PurchaseState.PURCHASED, label_pdf="")
    )
    return None if unsettled.exists() else batch_id


# ------------------------------------------------------------------------------- lost messages: resumed from rows
# Redis keeps nothing on disk: when the broker restarts, every queued and unacknowledged message is gone, and with it
# the task that would have bought a waiting label, stored a bought label's PDF or handed a settled batch's labels to
# its suppliers. Beat (`shipping.labels_resume_lost`) finds that work in the rows and sends it again. Every task it
# sends is safe to run twice, so a resend that crosses a message that was not lost after all does no harm
# (docs/adr/0007-label-purchase.md "Lost messages"). Rows left SUBMITTING are not resent: reconciliation owns them.
RESUME_AFTER = timedelta(minutes=2)  # longer than a 1,000-order batch's messages wait on a healthy queue (~1 min)
RESUME_LIMIT = 500  # per kind and sweep, oldest first: a larger backlog is resent over the next sweeps


class LostWork:
    PURCHASE = "purchase"  # PENDING, unclaimed: its `shipping.labels_purchase` message is gone
    DOCUMENT = "document"  # PURCHASED without its stored PDF: its `shipping.documents_fetch_label` message is gone
    HANDOFFS = "handoffs"  # a settled batch whose suppliers' labels are in no handoff: `handoffs_prepare` is gone
    RETRY = "retry"  # FAILED for a temporary reason (5xx, 429, timeout) with attempts left: bought again later


@dataclass(frozen=True)
class Lost:
    kind: str
    organization_id: UUID
    target_id: UUID  # the purchase; for HANDOFFS, the batch
    seen_at: datetime  # `updated_at` as the sweep read it (HANDOFFS: the newest of the batch's waiting labels)


# The same test as `batch_settled_after`: something in the batch is still waiting, being bought, or lacks its PDF.
_UNSETTLED = Q(state__in=[PurchaseState.PENDING, PurchaseState.SUBMITTING]) | Q(
    state=PurchaseState.PURCHASED, label_pdf=""
)


def work_lost(*, grace: timedelta = RESUME_AFTER, limit: int = RESUME_LIMIT) -> list[Lost]:
    """Label work nobody has touched for `grace`, for beat (all tenants): purchases still PENDING, bought labels
    without their PDF, settled batches whose labels for supplier and 3PL warehouses are in no handoff yet. A row
    still legitimately queued is rarely this old, and `lost_work_claim` moves `updated_at` on when it is resent, so
    no row is sent more than once per `grace`."""
    from django.db.models import Exists, Max, OuterRef

    cutoff = timezone.now() - grace
    old = LabelPurchase.unscoped.filter(updated_at__lt=cutoff)
    columns = ("organization_id", "pk", "updated_at")
    lost = [
        Lost(LostWork.PURCHASE, organization_id, pk, seen_at)
        for organization_id, pk, seen_at in old.filter(state=PurchaseState.PENDING)
        .order_by("updated_at")
        .values_list(*columns)[:limit]
    ]
    lost += [
        Lost(LostWork.DOCUMENT, organization_id, pk, seen_at)
        for organization_id, pk, seen_at in old.filter(state=PurchaseState.PURCHASED, label_pdf="")
        .order_by("updated_at")
        .values_list(*columns)[:limit]
    ]
    lost += [
        Lost(LostWork.RETRY, organization_id, pk, seen_at)
        for organization_id, pk, seen_at in old.filter(
            state=PurchaseState.FAILED, retryable=True, attempts__lt=MAX_AUTO_ATTEMPTS
        )
        .order_by("updated_at")
        .values_list(*columns)[:limit]
    ]
    unsettled = LabelPurchase.unscoped.filter(_UNSETTLED, batch_id=OuterRef("batch_id"))
    waiting = (
        old.filter(
            state=PurchaseState.PURCHASED,
            batch__isnull=False,
            handoff_item__isnull=True,
            order__warehouse__kind__in=HANDOFF_KINDS,
        )
        .exclude(label_pdf="")
        .exclude(Exists(unsettled))
        .values("organization_id", "batch_id")
        .annotate(seen_at=Max("updated_at"))
        .order_by("seen_at")[:limit]
    )
    lost += [Lost(LostWork.HANDOFFS, row["organization_id"], row["batch_id"], row["seen_at"]) for row in waiting]
    return lost


def lost_work_claim(*, lost: Lost) -> bool:
    """Take the resend of this work: move `updated_at` on, but only where the rows are still as the sweep read them
    (still waiting, untouched since). One sweep wins; the work is not resent for another grace period; work that
    moved on in the meantime (a worker claimed the purchase, the PDF was stored) is left alone."""
    rows = LabelPurchase.unscoped.filter(updated_at__lte=lost.seen_at)
    if lost.kind == LostWork.PURCHASE:
        rows = rows.filter(pk=lost.target_id, state=PurchaseState.PENDING)
    elif lost.kind == LostWork.DOCUMENT:
        rows = rows.filter(pk=lost.target_id, state=PurchaseState.PURCHASED, label_pdf="")
    elif lost.kind == LostWork.RETRY:
        rows = rows.filter(pk=lost.target_id, state=PurchaseState.FAILED, retryable=True)
    else:
        rows = rows.filter(batch_id=lost.target_id, state=PurchaseState.PURCHASED, handoff_item__isnull=True)
    return bool(rows.update(updated_at=timezone.now()))
