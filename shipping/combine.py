"""One parcel for one buyer: combining orders into one platform package before its label is bought, exactly once.

    record (PackageChange, committed) ──claim──► SUBMITTING ──combined──► done: one LabelPurchase covers every order
                                                    │  └─ refused ──► FAILED (the platform's code and a fix)
                                                    └─ answer lost / worker died ──► stays SUBMITTING ──reconcile──►
                                                       read the orders' packages: combined already? adopt : combine

The platform says which orders may ship together (Search Combinable Packages, Capability.COMBINE_PACKAGES); Dropline
offers those groups before a label is bought, and never combines an order that has a label purchase already. After
combining, the orders' package is one `LabelPurchase` (package_key "combined", the lead order first) with one
`PackageOrder` per order, so buying any of them buys that one label through the usual money path
(docs/adr/0019-package-is-the-purchase.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from erp.actors import Actor
from erp.claims import side_effect_claim, side_effect_take_over
from erp.services import audit_record
from erp.tenancy import current_organization
from integrations.base import Capability, SalesChannel
from integrations.errors import ErrorKind, PlatformError, PlatformOutcomeUnknown
from integrations.interface import PackageOrders
from integrations.models import Store
from integrations.services import platform_name, store_client
from orders.models import Order
from shipping.labels.purchase import lines_to_ship
from shipping.models import LabelPurchase, PackageChange, PackageChangeKind, PackageOrder, PurchaseState

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=90)  # a SUBMITTING change untouched this long belongs to a worker that died
COMBINABLE_CACHE_SECONDS = 15 * 60
COMBINED = "combined"  # the package_key of a combined package's purchase


class ChangeOutcome:
    DONE = "done"
    ADOPTED = "adopted"  # found done on the platform (an earlier attempt's answer was lost)
    FAILED = "failed"
    UNKNOWN = "unknown"  # left SUBMITTING: reconcile reads the platform
    BUSY = "busy"


class CombineRefused(Exception):
    """Dropline will not ask the platform to combine these orders; the message says why."""


# ------------------------------------------------------------------------------------------ what may combine
@dataclass(frozen=True)
class CombinableGroup:
    """Orders of one buyer the platform allows to ship as one package, as Dropline has them."""

    store_id: UUID
    package_id: str  # the id the platform pre-generated for the group
    order_ids: tuple[str, ...]  # platform order ids, as the platform listed them

    @property
    def parcels_saved(self) -> int:
        return len(self.order_ids) - 1


def _cache_key(store: Store) -> str:
    return f"combinable:{store.organization_id}:{store.pk}"


def _unbought(store: Store, order_ids: Sequence[str]) -> set[str]:
    """Of these platform orders, those Dropline has for the store with no label purchase covering them yet."""
    have = set(Order.objects.filter(store=store, external_id__in=order_ids).values_list("external_id", flat=True))
    covered = set(
        PackageOrder.objects.filter(order__store=store, order__external_id__in=order_ids).values_list(
            "order__external_id", flat=True
        )
    )
    return have - covered


def combinable_refresh(*, store: Store) -> list[CombinableGroup]:
    """Ask the platform which of the store's orders may ship together now; keep the groups whose orders Dropline
    has and has bought nothing for. Remembered for the order list and the buy confirmation (`combinable_for`)."""
    if Capability.COMBINE_PACKAGES not in store_client(store).capabilities:
        return []
    groups = []
    for group in store_client(store).list_combinable():
        usable = _unbought(store, group.order_ids)
        if len(group.order_ids) > 1 and usable.issuperset(group.order_ids):
            groups.append(CombinableGroup(store.pk, group.package_id, tuple(group.order_ids)))
    cache.set(_cache_key(store), groups, COMBINABLE_CACHE_SECONDS)
    return groups


def combinable_for(orders: Sequence[Order]) -> list[CombinableGroup]:
    """The remembered combinable groups (from the last `combinable_refresh` of each store) that hold two or more of
    these orders and whose orders are all still without a label."""
    by_store: dict[UUID, set[str]] = {}
    for order in orders:
        by_store.setdefault(order.store_id, set()).add(order.external_id)
    found = []
    for store in Store.objects.filter(pk__in=list(by_store)):
        for group in cache.get(_cache_key(store)) or ():
            if len(by_store[store.pk].intersection(group.order_ids)) > 1 and _unbought(
                store, group.order_ids
            ).issuperset(group.order_ids):
                found.append(group)
    return found


@dataclass(frozen=True)
class CombineOffer:
    """ "12 orders can ship as 5 parcels, saving ≈ $X": what combining would save on a set of orders, from quotes."""

    orders: int
    parcels: int
    saving: dict[str, Decimal]  # currency → the quoted labels no longer bought (an estimate: one label per parcel)
    groups: tuple[CombinableGroup, ...]

    @property
    def text(self) -> str:
        if not self.groups:
            return ""
        money = ", ".join(f"{amount} {currency}" for currency, amount in sorted(self.saving.items()))
        return f"{self.orders} orders can ship as {self.parcels} parcels" + (f", saving ≈ {money}" if money else "")


def combine_offer(orders: Sequence[Order], quotes: dict[str, tuple[Decimal, str]]) -> CombineOffer:
    """What combining would change for these orders: `quotes` maps a platform order id to the price and currency its
    own label was quoted at (shipping.estimate); each group saves every label but the dearest of its orders."""
    groups = tuple(combinable_for(orders))
    wanted = {o.external_id for o in orders}
    saving: dict[str, Decimal] = {}
    merged = 0
    for group in groups:
        members = [order_id for order_id in group.order_ids if order_id in wanted]
        merged += len(members) - 1
        priced = sorted((quotes[o] for o in members if o in quotes), key=lambda q: q[0])
        for amount, currency in priced[:-1]:
            saving[currency] = saving.get(currency, Decimal(0)) + amount
    return CombineOffer(orders=len(orders), parcels=len(orders) - merged, saving=saving, groups=groups)


# -------------------------------------------------------------------------------------------- combining
def _key(order_ids: Sequence[str]) -> str:
    return ",".join(sorted(order_ids))


def package_combine_request(*, store: Store, group: PackageOrders, actor: Actor) -> PackageChange:
    """Record the combine (committed by the caller before any platform call). Asking twice returns the same row.
    Refused (CombineRefused) when fewer than two orders, or an order already has a label purchase."""
    order_ids = list(dict.fromkeys(group.order_ids))
    if len(order_ids) < 2:
        raise CombineRefused("Combining needs two or more orders.")
    existing = PackageChange.objects.filter(store=store, kind=PackageChangeKind.COMBINE, key=_key(order_ids)).first()
    if existing is not None:
        return existing
    taken = set(order_ids) - _unbought(store, order_ids)
    if taken:
        raise CombineRefused(
            f"Order(s) {', '.join(sorted(taken))} already have a label or are not in Dropline: they ship on their own."
        )
    try:
        with transaction.atomic():
            return PackageChange.objects.create(
                store=store,
                kind=PackageChangeKind.COMBINE,
                key=_key(order_ids),
                order_ids=order_ids,
                request={"package_id": group.package_id},
                created_by_label=actor.label[:200],
            )
    except IntegrityError:  # recorded a moment ago by another request
        return PackageChange.objects.get(store=store, kind=PackageChangeKind.COMBINE, key=_key(order_ids))


def package_change_execute(*, change_id: UUID | str) -> str:
    """Make the recorded change on the platform unless it is made, being made, or needs reading first. Safe to call
    any number of times, from any number of workers."""
    if not side_effect_claim(PackageChange.objects.filter(pk=change_id)):
        change = PackageChange.objects.get(pk=change_id)
        if change.state == PurchaseState.PURCHASED:
            return ChangeOutcome.DONE
        return ChangeOutcome.BUSY if change.state == PurchaseState.SUBMITTING else ChangeOutcome.FAILED
    change = PackageChange.objects.select_related("store__authorization").get(pk=change_id)
    return _submit(change, look_first=change.attempts > 1)


def package_change_reconcile(*, change_id: UUID | str, stale_after: timedelta = STALE_AFTER) -> str:
    """A change left SUBMITTING (answer lost, or its worker died): take it over, read the platform, adopt or redo."""
    change = PackageChange.objects.select_related("store__authorization").get(pk=change_id)
    if change.state != PurchaseState.SUBMITTING:
        return ChangeOutcome.DONE if change.state == PurchaseState.PURCHASED else change.state
    if change.submitting_since and change.submitting_since > timezone.now() - stale_after:
        return ChangeOutcome.BUSY
    if not side_effect_take_over(
        PackageChange.objects.filter(pk=change.pk), submitting_since=change.submitting_since, count_attempt=True
    ):
        return ChangeOutcome.BUSY
    return _submit(change, look_first=True)


def package_changes_stuck(*, stale_after: timedelta = STALE_AFTER) -> list[tuple[object, object]]:
    """(organization id, change id) of every SUBMITTING change older than `stale_after`, for beat (all tenants)."""
    cutoff = timezone.now() - stale_after
    return list(
        PackageChange.unscoped.filter(state=PurchaseState.SUBMITTING, submitting_since__lt=cutoff).values_list(
            "organization_id", "pk"
        )
    )


def _submit(change: PackageChange, *, look_first: bool) -> str:
    if change.kind == PackageChangeKind.SPLIT:
        from shipping.split import split_submit  # split lives beside; imported here to keep one claim path

        return split_submit(change, look_first=look_first)
    channel = store_client(change.store)
    try:
        if look_first:
            package_id = combined_package_on_platform(channel, change.order_ids)
            if package_id:
                return _combined(change, package_id, adopted=True)
        result = channel.combine_packages(
            [PackageOrders(package_id=change.request.get("package_id", ""), order_ids=tuple(change.order_ids))]
        )
    except PlatformOutcomeUnknown as error:
        log.warning("combine %s: outcome unknown (%s); reading the platform before anything else", change.key, error)
        _note(change, str(error.code), f"No answer from {platform_name(error.platform)}: checking whether it combined.")
        return ChangeOutcome.UNKNOWN
    except PlatformError as error:
        if error.kind == ErrorKind.ALREADY_DONE:
            return _adopt_or_fail(change, channel, error.code, error.message, error.fix)
        return _failed(change, str(error.code), error.message, error.fix, error.retryable)
    wanted = set(change.order_ids)
    made = next((p for p in result.packages if wanted.issubset(p.order_ids)), None)
    if made is not None:
        return _combined(change, made.package_id, adopted=False)
    refusal = result.refused[0] if result.refused else None
    if refusal is not None and refusal.kind == ErrorKind.ALREADY_DONE:
        return _adopt_or_fail(change, channel, refusal.code, refusal.message, refusal.fix)
    if refusal is not None:
        return _failed(change, refusal.code, refusal.message, refusal.fix, False)
    return _failed(change, "no_package", "The platform answered without a combined package.", "", True)


def combined_package_on_platform(channel: SalesChannel, order_ids: Sequence[str]) -> str | None:
    """The one package that holds every live line of all these orders now, or None (not combined)."""
    orders = channel.get_orders(list(order_ids))
    if len(orders) != len(set(order_ids)):
        return None
    packages = {line.package_id for order in orders for line in order.lines if line.package_status != "CANCELLED"}
    return packages.pop() if len(packages) == 1 and "" not in packages else None


def _adopt_or_fail(change: PackageChange, channel: SalesChannel, code: object, message: str, fix: str) -> str:
    """The platform says it is done already: find the package that holds them all, else it is someone else's."""
    package_id = combined_package_on_platform(channel, change.order_ids)
    if package_id:
        return _combined(change, package_id, adopted=True)
    return _failed(
        change,
        str(code),
        message,
        "One of these orders is combined with a different order on the platform: ship that package instead.",
        False,
    )


def _note(change: PackageChange, code: str, message: str) -> None:
    PackageChange.objects.filter(pk=change.pk).update(
        error_code=code[:32], error_message=message[:500], updated_at=timezone.now()
    )


def _failed(change: PackageChange, code: str, message: str, fix: str, retryable: bool) -> str:
    PackageChange.objects.filter(pk=change.pk).update(
        state=PurchaseState.FAILED,
        submitting_since=None,
        error_code=code[:32],
        error_message=message[:500],
        error_fix=(fix or "Check the orders on the platform, then try again.")[:300],
        retryable=retryable,
        updated_at=timezone.now(),
    )
    audit_record(
        organization=current_organization(),
        actor=Actor.system("Combine"),
        action=f"package.{change.kind}_failed",
        target=change,
        changes={"orders": change.order_ids, "code": code, "message": message[:200]},
    )
    return ChangeOutcome.FAILED


@transaction.atomic
def _combined(change: PackageChange, package_id: str, *, adopted: bool) -> str:
    """The platform holds the orders in one package: record it, and make that package the orders' one purchase."""
    orders = {o.external_id: o for o in Order.objects.filter(store=change.store, external_id__in=change.order_ids)}
    lead = orders[change.order_ids[0]]
    purchase, _ = LabelPurchase.objects.get_or_create(
        order=lead,
        package_key=COMBINED,
        defaults={"store": change.store, "line_ids": lines_to_ship(lead)},
    )
    for order_id in change.order_ids:
        order = orders[order_id]
        PackageOrder.objects.get_or_create(
            order=order, part="order", defaults={"purchase": purchase, "line_ids": lines_to_ship(order)}
        )
    now = timezone.now()
    PackageChange.objects.filter(pk=change.pk).update(
        state=PurchaseState.PURCHASED,
        submitting_since=None,
        adopted=adopted,
        result={"packages": [{"package_id": package_id, "order_ids": change.order_ids}], "purchase": str(purchase.pk)},
        error_code="",
        error_message="",
        error_fix="",
        retryable=False,
        updated_at=now,
    )
    audit_record(
        organization=current_organization(),
        actor=Actor.system("Combine"),
        action="package.combine_adopted" if adopted else "package.combined",
        target=change,
        changes={"package_id": package_id, "orders": change.order_ids},
    )
    return ChangeOutcome.ADOPTED if adopted else ChangeOutcome.DONE


def package_combine(*, store: Store, group: PackageOrders, actor: Actor) -> PackageChange:
    """Record and make one combine now (for a person pressing "Combine", or a rule): the record is committed before
    the platform is called, whatever happens after."""
    change = package_combine_request(store=store, group=group, actor=actor)
    package_change_execute(change_id=change.pk)
    change.refresh_from_db()
    return change
