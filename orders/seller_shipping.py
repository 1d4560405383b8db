"""Seller-shipping orders: what TikTok's 2026 Logistics Services policy means for them, and marking them shipped with
the seller's own carrier and tracking, exactly once.

    PENDING ──claim──► SUBMITTING ──sent──► SHIPPED
                          │  └─ refused by the platform (definitely not shipped) ──► FAILED (code, message, fix)
                          └─ outcome unknown ──► stays SUBMITTING ──reconcile──► adopted | sent

The same rules as the label money path (docs/adr/0007): the `SellerShipment` row (one per order) is committed before
the platform is called; only the worker whose conditional UPDATE claimed it calls Mark Package As Shipped; a row
whose answer was lost is finished only after asking the platform (Get Order Detail) whether the order's lines are
already shipped, and adopting that; an "already shipped" answer is adopted the same way.

Before the store's cut-off (integrations.logistics_policy) the order page, the CSV import and the API take carrier
and tracking; from the cut-off on, TikTok no longer accepts seller shipping for the store, and the page says what to
change in Seller Center instead.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from erp.actors import Actor
from erp.cache import memo
from erp.claims import side_effect_claim, side_effect_take_over
from erp.services import audit_record
from erp.tasks import wake_on_commit
from erp.tenancy import current_organization
from integrations.base import SalesChannel
from integrations.errors import ErrorKind, PlatformError, PlatformOutcomeUnknown
from integrations.interface import FulfilledBy, LabelSource, ShippingProvider
from integrations.logistics_policy import Phase, store_logistics_policy
from integrations.services import platform_name, store_client
from orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    SellerShipment,
    SellerShipmentState,
)

log = logging.getLogger(__name__)

# A SUBMITTING row untouched for this long belongs to a worker that died (the HTTP read timeout is 30 s).
STALE_AFTER = timedelta(seconds=90)
CARRIERS_CACHE_SECONDS = 3600
SHIPPABLE_STATUSES = (OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING)
NOT_ARRANGED = ("", "TO_FULFILL")  # a line's package status before it is shipped
TRACKING_PATTERN = re.compile(r"[A-Za-z0-9]{6,64}")
SEND_FIX_IN_SELLER_CENTER = (
    "In TikTok Seller Center, open Shipping → Delivery options (logistics templates) for this shop, switch its "
    "products and warehouses to TikTok Shipping, and turn seller shipping off. New orders then arrive as TikTok "
    "Shipping orders, and Dropline buys their official labels. For this order, ship it from Seller Center if "
    "TikTok still offers that, or cancel it there."
)


class SendOutcome:
    SHIPPED = "shipped"
    ADOPTED = "adopted"
    FAILED = "failed"
    UNKNOWN = "unknown"  # left SUBMITTING: reconcile asks the platform
    BUSY = "busy"  # another worker holds it
    DONE = "done"  # shipped earlier: nothing to do


class SellerShippingRefused(ValueError):
    """Dropline refuses before calling the platform (the message says why and what to do)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------------------------------------------- policy
@dataclass(frozen=True)
class SellerShippingWindow:
    """Whether the platform still accepts seller shipping for this order's store, and the words for the page."""

    accepts: bool
    phase: str
    cutoff: datetime | None  # the instant seller shipping became (or becomes) a violation; None: never or always
    basis: str
    explanation: str
    what_to_do: str


def is_seller_shipping(order: Order) -> bool:
    return order.label_source == LabelSource.SELLER and order.fulfilled_by != FulfilledBy.PLATFORM


def seller_shipping_window(order: Order, *, at: datetime | None = None) -> SellerShippingWindow:
    policy = store_logistics_policy(order.store)
    now = at or timezone.now()
    phase = policy.phase(now)
    cutoff = policy.required_since()
    store = order.store.name
    name = platform_name(order.store.platform)
    if phase == Phase.REQUIRED:
        since = f"since {cutoff.astimezone(policy.time_zone):%-d %b %Y}" if cutoff else "for this shop"
        return SellerShippingWindow(
            accepts=False,
            phase=phase,
            cutoff=cutoff,
            basis=policy.basis,
            explanation=f"TikTok no longer accepts seller shipping for {store} ({since}: {policy.basis}). Tracking "
            "uploaded now would be refused, and an order shipped this way counts as a policy violation.",
            what_to_do=SEND_FIX_IN_SELLER_CENTER,
        )
    if cutoff is not None:
        last_day = (cutoff.astimezone(policy.time_zone) - timedelta(days=1)).strftime("%-d %b %Y")
        explanation = (
            f"TikTok still accepts seller shipping for {store} until {last_day} (end of day, "
            f"{policy.time_zone.key}); from then on only official TikTok logistics. {policy.basis}."
        )
    else:
        explanation = f"{name} accepts seller shipping for {store}. {policy.basis}."
    what_to_do = (
        "Ship it with your carrier, then enter the carrier and tracking number here (or import a CSV): Dropline "
        f"marks it shipped on {name}."
    )
    if policy.applies:
        what_to_do += " Before the cut-off, switch the shop to TikTok Shipping in Seller Center."
    return SellerShippingWindow(
        accepts=True, phase=phase, cutoff=cutoff, basis=policy.basis, explanation=explanation, what_to_do=what_to_do
    )


# ------------------------------------------------------------------------------------------------------ carriers
def seller_shipping_carriers(*, order: Order) -> list[ShippingProvider]:
    """The carriers the channel accepts for the order (TikTok: for its delivery option), cached for an hour."""
    key = f"seller-shipping-carriers:{order.store_id}:{order.delivery_option_id}"
    cached = memo.get(key)
    if cached is not None:
        return [ShippingProvider(provider_id=pid, name=name) for pid, name in cached]
    providers = store_client(order.store).list_shipment_carriers(delivery_option_id=order.delivery_option_id)
    memo.set(key, [(p.provider_id, p.name) for p in providers], CARRIERS_CACHE_SECONDS)
    return providers


def carrier_find(carriers: list[ShippingProvider], given: str, *, channel: str = "the platform") -> ShippingProvider:
    """The carrier named by its platform id or its name (any case), from the carriers the channel offers."""
    wanted = given.strip()
    for carrier in carriers:
        if carrier.provider_id == wanted or carrier.name.casefold() == wanted.casefold():
            return carrier
    names = ", ".join(c.name for c in carriers) or "none offered"
    raise SellerShippingRefused(
        f"“{wanted}” is not a carrier {channel} accepts for this order ({names}).", field="carrier"
    )


def clean_tracking_number(value: str) -> str:
    """The one check of a seller's tracking number, shared by the page, the CSV and the API."""
    tracking = value.strip()
    if not TRACKING_PATTERN.fullmatch(tracking):
        raise SellerShippingRefused(
            "A tracking number is 6 to 64 letters and digits, without spaces or dashes.", field="tracking_number"
        )
    return tracking


# ----------------------------------------------------------------------------------------------------- request
def seller_shipment_check(*, order: Order, at: datetime | None = None) -> None:
    """Raise SellerShippingRefused when this order cannot be marked shipped by the seller now."""
    if not is_seller_shipping(order):
        raise SellerShippingRefused("This order ships on official TikTok logistics: buy a label for it instead.")
    window = seller_shipping_window(order, at=at)
    if not window.accepts:
        raise SellerShippingRefused(f"{window.explanation} {window.what_to_do}")
    if order.status not in SHIPPABLE_STATUSES:
        label = OrderStatus(order.status).label if order.status in OrderStatus.values else order.status
        raise SellerShippingRefused(f"The order is {label.lower()}: only orders to ship can be marked shipped.")


def seller_shipment_request(
    *,
    order: Order,
    carrier: str,
    tracking_number: str,
    actor: Actor,
    source: str = "page",
    carriers: list[ShippingProvider] | None = None,
) -> SellerShipment:
    """Record the order's carrier and tracking (committed before any platform call) and send it in the background.
    Asking again while it is being sent or after it was sent returns the same row: the order is marked shipped once.
    A refused one may be sent again with corrected values. `carrier` is a carrier id or name from Get Shipping
    Providers (`carriers`, fetched when not given)."""
    existing = SellerShipment.objects.filter(order=order).first()
    if existing is not None and existing.state != SellerShipmentState.FAILED:
        return existing
    seller_shipment_check(order=order)
    tracking = clean_tracking_number(tracking_number)
    chosen = carrier_find(
        carriers if carriers is not None else seller_shipping_carriers(order=order),
        carrier,
        channel=platform_name(order.store.platform),
    )
    values = {
        "store_id": order.store_id,
        "carrier_id": chosen.provider_id,
        "carrier_name": chosen.name[:100],
        "tracking_number": tracking,
        "line_ids": _lines_to_ship(order),
        "source": source,
        "created_by_label": actor.label[:200],
        "state": SellerShipmentState.PENDING,
        "error_code": "",
        "error_message": "",
        "error_fix": "",
        "retryable": False,
        "updated_at": timezone.now(),
    }
    with transaction.atomic():
        if existing is None:
            try:
                with transaction.atomic():
                    shipment = SellerShipment.objects.create(order=order, **values)
            except IntegrityError:  # another request recorded it a moment ago: that one is sent, not this
                return SellerShipment.objects.get(order=order)
        else:
            # Only a refused row is reopened, and only by the request whose UPDATE still finds it refused.
            if not SellerShipment.objects.filter(pk=existing.pk, state=SellerShipmentState.FAILED).update(**values):
                return SellerShipment.objects.get(pk=existing.pk)
            shipment = SellerShipment.objects.get(pk=existing.pk)
        audit_record(
            organization=current_organization(),
            actor=actor,
            action="order.seller_shipment_requested",
            target=order,
            changes={"carrier": chosen.name, "tracking": tracking, "via": source},
        )
        from orders.tasks import seller_shipment_send  # tasks import this module

        wake_on_commit(seller_shipment_send, organization_id=str(order.organization_id), shipment_id=str(shipment.pk))
    return shipment


def _lines_to_ship(order: Order) -> list[str]:
    """Every unit's platform line id: marking a package shipped names each of them."""
    return sorted(
        line_id
        for line_ids in OrderLine.objects.filter(
            order=order, is_cancelled=False, package_status__in=NOT_ARRANGED
        ).values_list("platform_line_ids", flat=True)
        for line_id in line_ids
    )


# -------------------------------------------------------------------------------------------------------- send
def _claim(shipment_id: UUID | str) -> bool:
    return side_effect_claim(SellerShipment.objects.filter(pk=shipment_id))


def _take_over_stale(shipment: SellerShipment) -> bool:
    return side_effect_take_over(
        SellerShipment.objects.filter(pk=shipment.pk), submitting_since=shipment.submitting_since, count_attempt=True
    )


@dataclass(frozen=True)
class _Shipped:
    package_id: str
    tracking_number: str
    carrier_name: str


def _shipped_on_platform(client: SalesChannel, shipment: SellerShipment) -> _Shipped | None:
    """The order as the platform has it: when none of its lines is left to ship, the package that shipped it (ours
    when its tracking matches)."""
    orders = client.get_orders([shipment.order.external_id])
    if not orders:
        return None
    lines = [line for line in orders[0].lines if line.package_status != "CANCELLED"]
    if not lines or any(line.package_status in NOT_ARRANGED or not line.package_id for line in lines):
        return None
    ours = next((line for line in lines if line.tracking_number == shipment.tracking_number), lines[0])
    return _Shipped(ours.package_id, ours.tracking_number, ours.carrier_name)


def seller_shipment_send(*, shipment_id: UUID | str) -> str:
    """Mark the order shipped on the platform unless it is, is being, or needs reconciling first. Safe to call any
    number of times, from any number of workers."""
    if not _claim(shipment_id):
        state = SellerShipment.objects.values_list("state", flat=True).get(pk=shipment_id)
        if state == SellerShipmentState.SHIPPED:
            return SendOutcome.DONE
        return SendOutcome.BUSY if state == SellerShipmentState.SUBMITTING else SendOutcome.FAILED
    shipment = SellerShipment.objects.select_related("order__store__authorization").get(pk=shipment_id)
    return _submit(store_client(shipment.order.store), shipment, look_first=shipment.attempts > 1)


def seller_shipment_reconcile(*, shipment_id: UUID | str, stale_after: timedelta = STALE_AFTER) -> str:
    """A row left SUBMITTING (its answer was lost, or its worker died): take it over, ask the platform, adopt or
    send."""
    shipment = SellerShipment.objects.select_related("order__store__authorization").get(pk=shipment_id)
    if shipment.state != SellerShipmentState.SUBMITTING:
        return SendOutcome.DONE if shipment.state == SellerShipmentState.SHIPPED else str(shipment.state)
    if shipment.submitting_since and shipment.submitting_since > timezone.now() - stale_after:
        return SendOutcome.BUSY
    if not _take_over_stale(shipment):
        return SendOutcome.BUSY  # another reconciler won
    return _submit(store_client(shipment.order.store), shipment, look_first=True)


def _submit(client: SalesChannel, shipment: SellerShipment, *, look_first: bool) -> str:
    """We hold the row in SUBMITTING. Look (when an earlier attempt may have shipped it), then mark it shipped."""
    order = shipment.order
    try:
        if look_first:
            found = _shipped_on_platform(client, shipment)
            if found is not None:
                return _record_shipped(shipment, found, adopted=True, client=client)
        # No line ids: the platform ships every line still to ship, which is what the seller's parcel holds.
        result = client.report_shipment(
            order.external_id, line_ids=(), tracking_number=shipment.tracking_number, carrier_id=shipment.carrier_id
        )
    except PlatformOutcomeUnknown as error:
        log.warning("seller shipment of order %s: outcome unknown (%s); reconciling", order.external_id, error.code)
        SellerShipment.objects.filter(pk=shipment.pk).update(
            error_code=str(error.code)[:32],
            error_message=f"No answer from {platform_name(error.platform)}: checking whether the order was marked "
            "shipped.",
            updated_at=timezone.now(),
        )
        return SendOutcome.UNKNOWN
    except PlatformError as error:
        if error.kind == ErrorKind.ALREADY_DONE:
            try:
                found = _shipped_on_platform(client, shipment)
            except PlatformError:
                found = None
            if found is not None:
                return _record_shipped(shipment, found, adopted=True, client=client)
        return _fail(shipment, error)
    shipped = _Shipped(result.package_id, shipment.tracking_number, shipment.carrier_name)
    return _record_shipped(shipment, shipped, adopted=False, client=client, warning=result.warning)


def _record_shipped(
    shipment: SellerShipment, shipped: _Shipped, *, adopted: bool, client: SalesChannel, warning: str = ""
) -> str:
    now = timezone.now()
    order = shipment.order
    with transaction.atomic():
        SellerShipment.objects.filter(pk=shipment.pk).update(
            state=SellerShipmentState.SHIPPED,
            package_id=shipped.package_id,
            tracking_number=shipped.tracking_number or shipment.tracking_number,
            carrier_name=shipped.carrier_name or shipment.carrier_name,
            adopted=adopted,
            shipped_at=now,
            warning=warning[:300],
            submitting_since=None,
            error_code="",
            error_message="",
            error_fix="",
            retryable=False,
            updated_at=now,
        )
        # Shown at once; the platform's own view of the order (status, ship time) follows with the fetch below.
        Order.objects.filter(pk=order.pk).update(
            tracking_number=shipped.tracking_number or shipment.tracking_number,
            carrier_name=shipped.carrier_name or shipment.carrier_name,
            updated_at=now,
        )
        audit_record(
            organization=current_organization(),
            actor=Actor.system(platform_name(order.store.platform)),
            action="order.marked_shipped",
            target=order,
            changes={
                "carrier": shipped.carrier_name or shipment.carrier_name,
                "tracking": shipped.tracking_number or shipment.tracking_number,
                "package": shipped.package_id,
                "answer": f"already shipped on {platform_name(order.store.platform)}: adopted"
                if adopted
                else "success",
                **({"warning": warning} if warning else {}),
            },
        )
    _refresh_order(client, order)
    return SendOutcome.ADOPTED if adopted else SendOutcome.SHIPPED


def _refresh_order(client: SalesChannel, order: Order) -> None:
    from orders.services import orders_upsert  # services imports the routing that imports this module's callers

    try:
        # Fetched by id because our own write changed it: a version equal to the copy we hold (an update in the same
        # second, whole-second update times) is still the newer one (orders_upsert's `changed`).
        orders_upsert(store=order.store, orders=client.get_orders([order.external_id]), changed=True)
    except PlatformError as error:  # the next sync or webhook brings it
        log.info("order %s not refreshed after shipping: %s", order.external_id, error.code)


def _fail(shipment: SellerShipment, error: PlatformError) -> str:
    fix = error.fix or "Check the order on the platform, then send again."
    with transaction.atomic():
        SellerShipment.objects.filter(pk=shipment.pk).update(
            state=SellerShipmentState.FAILED,
            submitting_since=None,
            error_code=str(error.code)[:32],
            error_message=error.message[:500],
            error_fix=fix[:300],
            retryable=error.retryable,
            updated_at=timezone.now(),
        )
        audit_record(
            organization=current_organization(),
            actor=Actor.system(platform_name(error.platform)),
            action="order.mark_shipped_refused",
            target=shipment.order,
            changes={"code": str(error.code), "message": error.message[:300], "fix": fix},
        )
    return SendOutcome.FAILED


# ----------------------------------------------------------------------------------------------------- sweeps
def seller_shipments_stuck(*, stale_after: timedelta = STALE_AFTER) -> list[tuple[object, object]]:
    """(organization id, shipment id) of rows needing another push, for beat (all tenants): PENDING ones whose
    message may have been lost, and SUBMITTING ones whose worker died or whose answer was lost."""
    before = timezone.now() - stale_after
    return list(
        SellerShipment.unscoped.filter(
            state__in=[SellerShipmentState.PENDING, SellerShipmentState.SUBMITTING], updated_at__lt=before
        ).values_list("organization_id", "pk")[:500]
    )


# ---------------------------------------------------------------------------------------------------- the page
@dataclass(frozen=True)
class SellerShippingPanel:
    """What the order page shows a seller-shipping order: the policy for it, what was sent and TikTok's answer, and
    (while TikTok accepts it) the carriers for the form."""

    window: SellerShippingWindow
    shipment: SellerShipment | None
    offers_form: bool
    carriers: list[ShippingProvider]
    carriers_error: str

    @property
    def sending(self) -> bool:
        return self.shipment is not None and self.shipment.state in (
            SellerShipmentState.PENDING,
            SellerShipmentState.SUBMITTING,
        )


def seller_shipping_panel(order: Order, *, can_ship: bool) -> SellerShippingPanel | None:
    """None for orders that are not seller shipping. Carriers are fetched only when the form is offered."""
    if not is_seller_shipping(order):
        return None
    window = seller_shipping_window(order)
    shipment = SellerShipment.objects.filter(order=order).first()
    offers_form = (
        window.accepts
        and can_ship
        and order.status in SHIPPABLE_STATUSES
        and (shipment is None or shipment.state == SellerShipmentState.FAILED)
    )
    carriers: list[ShippingProvider] = []
    carriers_error = ""
    if offers_form:
        try:
            carriers = seller_shipping_carriers(order=order)
        except PlatformError as error:
            carriers_error = (
                f"{platform_name(order.store.platform)} did not list the carriers ({error.code}: {error.message}). "
                "Reload to try again."
            )
    return SellerShippingPanel(
        window=window, shipment=shipment, offers_form=offers_form, carriers=carriers, carriers_error=carriers_error
    )


def seller_shipping_to_ship_count() -> int:
    """Seller-shipping orders still to ship that have no tracking sent yet (the dashboard's figure)."""
    from orders.logistics import seller_needs_tracking_condition

    return Order.objects.filter(seller_needs_tracking_condition()).count()
