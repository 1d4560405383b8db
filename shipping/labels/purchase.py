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
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Left
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.claims import side_effect_claim, side_effect_take_over
from erp.log import log_context
from erp.metrics import label_purchase_observe
from erp.services import audit_record
from erp.tenancy import current_organization
from integrations.base import LabelProvider
from integrations.errors import ErrorKind, NotSupported, PlatformError, PlatformOutcomeUnknown
from integrations.interface import Dimensions, ShipPackageRequest, TimeSlot, Weight
from integrations.services import platform_name, store_label_provider
from orders.models import Order, OrderLine, OrderStatus
from shipping.cancelled import labels_order_cancelled
from shipping.models import LabelBatch, LabelPurchase, LogisticsRule, PackageOrder, PurchaseState
from shipping.pickup import Handover, handover_for, pickup_slot_for
from shipping.rules.engine import Decision, choose_service, decision_record, first_match
from shipping.rules.facts import OrderFacts, facts_for, facts_for_orders
from shipping.rules.schema import Actions
from webhooks.services import event_publish

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
    return orders_lines_to_ship([order])[order.pk]


def orders_lines_to_ship(orders: list[Order]) -> dict[Any, list[str]]:
    """`lines_to_ship` of many orders in one query, keyed by order id."""
    lines: dict[Any, list[str]] = {order.pk: [] for order in orders}
    for order_id, line_ids in OrderLine.objects.filter(
        order__in=orders, is_cancelled=False, package_status__in=NOT_ARRANGED
    ).values_list("order_id", "platform_line_ids"):
        lines[order_id].extend(line_ids)
    return {order_id: sorted(line_ids) for order_id, line_ids in lines.items()}


def label_purchase_request(*, order: Order, batch: LabelBatch | None = None) -> LabelPurchase:
    """The purchase record for the package carrying this order, created (committed by the caller) before any
    platform call. Asking twice returns the same row, and so does asking for an order already in a combined package:
    the unique (order, part) cover is what makes a package bought once (docs/adr/0019-package-is-the-purchase.md)."""
    covered = PackageOrder.objects.filter(order=order, part="order").select_related("purchase").first()
    if covered is not None:
        purchase = covered.purchase
    else:
        try:
            with transaction.atomic():
                purchase, created = LabelPurchase.objects.get_or_create(
                    order=order,
                    package_key="order",
                    defaults={"store_id": order.store_id, "batch": batch, "line_ids": lines_to_ship(order)},
                )
                if created:
                    PackageOrder.objects.create(
                        purchase=purchase, order=order, part="order", line_ids=purchase.line_ids
                    )
        except IntegrityError:  # recorded a moment ago by another request: that one is the purchase
            purchase = PackageOrder.objects.select_related("purchase").get(order=order, part="order").purchase
    if batch is not None and purchase.batch_id is None:
        LabelPurchase.objects.filter(pk=purchase.pk).update(batch=batch)
        purchase.batch = batch
    return purchase


def label_purchases_request(*, order: Order, batch: LabelBatch | None = None) -> list[LabelPurchase]:
    """Every package's purchase for this order: one per package of a split order (recorded when it was split), else
    the one package carrying it (`label_purchase_request`)."""
    return orders_label_purchases_request(orders=[order], batch=batch)[order.pk]


def orders_label_purchases_request(
    *, orders: list[Order], batch: LabelBatch | None = None
) -> dict[Any, list[LabelPurchase]]:
    """`label_purchases_request` for many orders (a batch of a thousand) in a few statements whatever their number:
    the packages already recorded are read at once, the missing purchases and their covers are inserted at once, and
    purchases with no batch join `batch` in one UPDATE. Keyed by order id.

    Inserting at once is the fast path only: if another request records one of these orders' package at the same
    moment (a unique constraint refuses the INSERT), nothing of it stays and each new order takes
    `label_purchase_request`, which reads the other request's purchase instead."""
    splits: dict[Any, list[LabelPurchase]] = {}
    whole: dict[Any, LabelPurchase] = {}
    for cover in (
        PackageOrder.objects.filter(order__in=orders)
        .filter(Q(part="order") | Q(part__startswith="split:"))
        .select_related("purchase")
        .order_by("purchase__package_key")
    ):
        if cover.part == "order":
            whole[cover.order_id] = cover.purchase
        else:
            splits.setdefault(cover.order_id, []).append(cover.purchase)
    # A split order's packages each have their purchase (recorded when it was split); else the one package.
    found = {
        order.pk: splits.get(order.pk) or [whole[order.pk]]
        for order in orders
        if order.pk in splits or order.pk in whole
    }
    new = list({order.pk: order for order in orders if order.pk not in found}.values())
    if new:
        try:
            with transaction.atomic():
                found.update((purchase.order_id, [purchase]) for purchase in _purchases_insert(new, batch))
        except IntegrityError:  # recorded a moment ago by another request: each order reads its own
            found.update((order.pk, [label_purchase_request(order=order, batch=batch)]) for order in new)
    if batch is not None:
        joining = [purchase for purchases in found.values() for purchase in purchases if purchase.batch_id is None]
        LabelPurchase.objects.filter(pk__in=[p.pk for p in joining], batch__isnull=True).update(batch=batch)
        for purchase in joining:
            purchase.batch = batch
    return found


def _purchases_insert(orders: list[Order], batch: LabelBatch | None) -> list[LabelPurchase]:
    """Each order's purchase of its whole package and the package's cover of it: two INSERTs, whatever the number
    (the caller holds the savepoint)."""
    lines = orders_lines_to_ship(orders)
    organization_id = current_organization().pk
    purchases = [
        LabelPurchase(
            organization_id=organization_id,
            order=order,
            store_id=order.store_id,
            package_key="order",
            batch=batch,
            line_ids=lines[order.pk],
        )
        for order in orders
    ]
    LabelPurchase.objects.bulk_create(purchases)
    PackageOrder.objects.bulk_create(
        PackageOrder(organization_id=organization_id, purchase=p, order=p.order, part="order", line_ids=p.line_ids)
        for p in purchases
    )
    return purchases


# -------------------------------------------------------------------------------------------------- buying
def _claim(purchase_id: UUID | str) -> bool:
    return side_effect_claim(LabelPurchase.objects.filter(pk=purchase_id))


def _take_over_stale(purchase: LabelPurchase) -> bool:
    """Take a SUBMITTING row whose worker died (or whose outcome was unknown): exactly one worker wins."""
    return side_effect_take_over(
        LabelPurchase.objects.filter(pk=purchase.pk), submitting_since=purchase.submitting_since, count_attempt=False
    )


def package_for(order_facts: OrderFacts, actions: Actions | None) -> tuple[Weight | None, Dimensions | None]:
    """What to tell the platform about the parcel: the rule's package preset, else the weight computed from SKU
    weights (the order's facts, as the rules saw them); nothing when unknown (the platform then uses its own
    default)."""
    grams = actions.package_weight_grams if actions and actions.package_weight_grams else order_facts.weight_grams
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


def _whole_package_weight(purchase: LabelPurchase, actions: Actions | None) -> Weight | None:
    """A combined parcel weighs what all its orders weigh (a rule's preset weight still wins)."""
    if actions and actions.package_weight_grams:
        return None
    order_ids = list(PackageOrder.objects.filter(purchase=purchase).values_list("order_id", flat=True))
    if len(order_ids) < 2:  # most parcels: one order, whose facts the caller has (no second read of the order)
        return None
    facts = facts_for_orders(Order.objects.filter(pk__in=order_ids)).values()
    grams = sum(order_facts.weight_grams or 0 for order_facts in facts)
    return Weight(value=Decimal(grams).quantize(Decimal(1)), unit="GRAM") if grams else None


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
    _publish(purchase, "label.purchased")
    # Cancelled while this label was being bought: the cancellation found no bought label to stop then; stop it now.
    if Order.objects.filter(pk=purchase.order_id, status=OrderStatus.CANCELLED).exists():
        labels_order_cancelled(order_ids=[purchase.order_id])


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
    _publish(purchase, "label.failed")
    return PurchaseOutcome.FAILED


def _publish(purchase: LabelPurchase, event_type: str) -> None:
    """label.purchased / label.failed with the purchase as the API shows it, per order (in order per order)."""

    def payload() -> dict[str, object]:
        from shipping.api.serializers import LabelPurchaseOutput

        return dict(LabelPurchaseOutput(LabelPurchase.objects.select_related("order").get(pk=purchase.pk)).data)

    event_publish(
        organization=current_organization(),
        type=event_type,
        object_type="order",
        object_id=purchase.order_id,
        data=payload,
    )


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
    """Every attempt that may reach the platform comes through here: counted by outcome (erp.metrics) and logged
    with its store and order."""
    with log_context(store=purchase.store_id, order=purchase.order_id):
        try:
            provider = store_label_provider(purchase.store)
        except NotSupported as error:  # the channel sells no labels: say so on the order, do not crash a worker
            outcome = _fail(purchase, error)
        else:
            outcome = _submit(provider, purchase, look_first=look_first)
    label_purchase_observe(outcome=outcome)
    return outcome


def _submit(provider: LabelProvider, purchase: LabelPurchase, *, look_first: bool) -> str:
    """We hold the row in SUBMITTING. Look (when an earlier attempt may have bought it), quote, choose, buy."""
    order_id = purchase.order.external_id
    try:
        if look_first:
            package_id = provider.find_label(order_id, line_ids=purchase.line_ids)
            if package_id:
                return _adopt(provider, purchase, package_id)
        order_facts = facts_for(purchase.order)  # read once: the rules and the parcel's weight both need it
        decision = first_match(LogisticsRule.objects.filter(enabled=True), order_facts, timezone.now())
        actions = decision.actions if decision else None
        if decision is not None and actions is not None and actions.hold_for_review:
            return _held_by_rule(purchase, decision)
        if not provider.creates_packages:
            return _ship_package(provider, purchase, decision)
        weight, dimensions = package_for(order_facts, actions)
        weight = _whole_package_weight(purchase, actions) or weight
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
