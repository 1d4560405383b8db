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
from orders.combinable import CombinableGroup, combinable_groups, combinable_remember
from orders.models import Order
from shipping.labels.purchase import lines_to_ship
from shipping.models import (
    LabelPurchase,
    LogisticsRule,
    PackageChange,
    PackageChangeKind,
    PackageOrder,
    PurchaseState,
)
from shipping.rules.engine import first_match
from shipping.rules.facts import facts_for

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=90)  # a SUBMITTING change untouched this long belongs to a worker that died
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
    channel = store_client(store)
    if Capability.COMBINE_PACKAGES not in channel.capabilities:
        return []
    groups = []
    for group in channel.list_combinable():
        usable = _unbought(store, group.order_ids)
        if len(group.order_ids) > 1 and usable.issuperset(group.order_ids):
            groups.append(CombinableGroup(store.pk, group.package_id, tuple(group.order_ids)))
    combinable_remember(organization_id=store.organization_id, store_id=store.pk, groups=groups)
    return groups


def combinable_for(orders: Sequence[Order]) -> list[CombinableGroup]:
    """The remembered combinable groups (from the last `combinable_refresh` of each store) that hold two or more of
    these orders and whose orders are all still without a label."""
    wanted = {(o.store_id, o.external_id) for o in orders}
    found = []
    stores = {s.pk: s for s in Store.objects.filter(pk__in={o.store_id for o in orders})}
    for group in combinable_groups(organization_id=current_organization().pk, store_ids=list(stores)):
        if sum((group.store_id, o) in wanted for o in group.order_ids) > 1 and _unbought(
            stores[group.store_id], group.order_ids
        ).issuperset(group.order_ids):
            found.append(group)
    return found


def combine_as_rules_say(*, orders: Sequence[Order], actor: Actor) -> list[PackageChange]:
    """Before a batch buys: combine every remembered group among these orders whose orders all match a rule saying
    "combine when possible" (shipping.rules). A refusal leaves the orders to ship on their own."""
    rules = list(LogisticsRule.objects.filter(enabled=True))
    now = timezone.now()
    by_id = {(o.store_id, o.external_id): o for o in orders}
    made = []
    for group in combinable_for(orders):
        members = [by_id.get((group.store_id, order_id)) for order_id in group.order_ids]
        decisions = [first_match(rules, facts_for(o), now) if o is not None else None for o in members]
        if all(d is not None and d.actions.combine_when_possible for d in decisions):
            store = Store.objects.get(pk=group.store_id)
            try:
                made.append(
                    package_combine(store=store, group=PackageOrders(group.package_id, group.order_ids), actor=actor)
                )
            except CombineRefused as refused:
                log.info("combine %s by rule: %s", group.order_ids, refused)
    return made


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
    if change.kind == PackageChangeKind.UNCOMBINE:
        return _uncombine_submit(change, look_first=look_first)
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


@dataclass(frozen=True)
class CombineSummary:
    combined: int  # packages made (or found made)
    orders: int  # orders now in them
    refused: tuple[str, ...]  # why a group was not combined, in words


def orders_combine(*, orders: Sequence[Order], actor: Actor) -> CombineSummary:
    """Combine every group the platform allows among these orders (a person's "Combine" on the order list or the
    buy confirmation): the stores' groups are read again first, then each group's selected orders are combined."""
    stores = Store.objects.filter(pk__in={o.store_id for o in orders})
    for store in stores:
        combinable_refresh(store=store)
    wanted = {(o.store_id, o.external_id) for o in orders}
    combined = merged = 0
    refused: list[str] = []
    for group in combinable_for(orders):
        members = tuple(order_id for order_id in group.order_ids if (group.store_id, order_id) in wanted)
        try:
            change = package_combine(
                store=stores.get(pk=group.store_id), group=PackageOrders(group.package_id, members), actor=actor
            )
        except CombineRefused as error:
            refused.append(str(error))
            continue
        if change.state == PurchaseState.PURCHASED:
            combined, merged = combined + 1, merged + len(members)
        else:
            refused.append(f"{', '.join(members)}: {change.error_fix or change.error_message}")
    return CombineSummary(combined=combined, orders=merged, refused=tuple(refused))


def combinable_refresh_all() -> int:
    """Read the combinable groups of every store whose channel combines (the order list's "Find orders to
    combine"). Returns how many groups there are."""
    return sum(
        len(combinable_refresh(store=store))
        for store in Store.objects.exclude(authorization__isnull=True)
        if _combines(store)
    )


def _combines(store: Store) -> bool:
    try:
        return Capability.COMBINE_PACKAGES in store_client(store).capabilities
    except PlatformError:  # NotSupported: a store with no channel (manual orders)
        return False


# ------------------------------------------------------------------------------------------- uncombining
def package_uncombine_request(*, purchase: LabelPurchase, actor: Actor) -> PackageChange:
    """Record taking a combined package apart again (before its label is bought), committed before Uncombine
    Packages. CombineRefused when the package is not combined, or its label is bought or being bought."""
    combine = PackageChange.objects.filter(
        store=purchase.store, kind=PackageChangeKind.COMBINE, result__purchase=str(purchase.pk)
    ).first()
    if purchase.package_key != COMBINED or combine is None:
        raise CombineRefused("This parcel is not a combined package.")
    if purchase.state not in (PurchaseState.PENDING, PurchaseState.FAILED):
        raise CombineRefused("Its label is bought or being bought: it ships as one parcel.")
    package_id = combine.result["packages"][0]["package_id"]
    order_ids = list(combine.order_ids)
    change, _ = PackageChange.objects.get_or_create(
        store=purchase.store,
        kind=PackageChangeKind.UNCOMBINE,
        key=f"{package_id}:{_key(order_ids)}",
        defaults={
            "order_ids": order_ids,
            "request": {"package_id": package_id, "purchase": str(purchase.pk), "combine": str(combine.pk)},
            "created_by_label": actor.label[:200],
        },
    )
    return change


def _uncombine_submit(change: PackageChange, *, look_first: bool) -> str:
    channel = store_client(change.store)
    package_id = change.request["package_id"]
    try:
        if look_first and combined_package_on_platform(channel, change.order_ids) != package_id:
            return _uncombined(change, adopted=True)
        channel.uncombine_package(package_id, order_ids=change.order_ids[1:])  # the lead keeps the package
    except PlatformOutcomeUnknown as error:
        _note(change, str(error.code), f"No answer from {platform_name(error.platform)}: checking the package.")
        return ChangeOutcome.UNKNOWN
    except PlatformError as error:
        return _failed(change, str(error.code), error.message, error.fix, error.retryable)
    return _uncombined(change, adopted=False)


@transaction.atomic
def _uncombined(change: PackageChange, *, adopted: bool) -> str:
    """The orders are apart on the platform: their combined purchase (never bought) goes, each order gets its own
    purchase when it is next asked for, and the combine's key is freed so the group may be combined again."""
    purchase_id = change.request["purchase"]
    PackageOrder.objects.filter(purchase_id=purchase_id).delete()
    LabelPurchase.objects.filter(pk=purchase_id, state__in=[PurchaseState.PENDING, PurchaseState.FAILED]).delete()
    combine = PackageChange.objects.get(pk=change.request["combine"])
    PackageChange.objects.filter(pk=combine.pk).update(key=f"{combine.key}#undone:{change.pk}"[:400])
    now = timezone.now()
    PackageChange.objects.filter(pk=change.pk).update(
        state=PurchaseState.PURCHASED,
        submitting_since=None,
        adopted=adopted,
        key=f"{change.key}#{change.pk}"[:400],  # done: the same package may be combined and uncombined again
        result={"order_ids": change.order_ids},
        updated_at=now,
    )
    audit_record(
        organization=current_organization(),
        actor=Actor.system("Combine"),
        action="package.uncombine_adopted" if adopted else "package.uncombined",
        target=change,
        changes={"package_id": change.request["package_id"], "orders": change.order_ids},
    )
    return ChangeOutcome.ADOPTED if adopted else ChangeOutcome.DONE


def package_uncombine(*, purchase: LabelPurchase, actor: Actor) -> PackageChange:
    change = package_uncombine_request(purchase=purchase, actor=actor)
    package_change_execute(change_id=change.pk)
    change.refresh_from_db()
    return change
