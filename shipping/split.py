"""One parcel per source: an order whose lines ship from different warehouses or suppliers (the allocation holds it,
"mixed sources") is split on the platform into one package per source, each routed and labelled on its own.

    plan (which lines ship from where) ─► Get Order Split Attributes (may it split?) ─► record (PackageChange) ─►
    claim ─► Split Orders ─► one LabelPurchase per package, each with its lines and its warehouse

A lost Split Orders answer is settled as a lost combine is (shipping.combine): the order's lines are read back from
the platform first; split already? adopt the packages : split. Stock: the split package ships from its source, but
reservations stay per order (inventory reserves an order at one warehouse): see docs/adr/0019.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from erp.actors import Actor
from erp.services import audit_record
from erp.tenancy import current_organization
from integrations.base import Capability
from integrations.errors import PlatformError, PlatformOutcomeUnknown
from integrations.interface import SplitGroup
from integrations.services import platform_name, store_client
from inventory import services as inventory
from inventory.models import Warehouse
from orders.models import HoldReason, Order, OrderHold, OrderLine
from orders.outbound import orders_publish
from shipping.models import LabelPurchase, PackageChange, PackageChangeKind, PackageOrder, PurchaseState

SPLIT = "split:"  # a split package's package_key and cover part: "split:<group id>"


class SplitRefused(Exception):
    """Dropline will not ask the platform to split this order; the message says why."""


@dataclass(frozen=True)
class SplitPart:
    """One package-to-be: the platform line ids that ship from one warehouse."""

    group_id: str
    warehouse_id: UUID
    warehouse_name: str
    line_ids: tuple[str, ...]


def split_plan(order: Order) -> list[SplitPart]:
    """Where each of the order's live lines ships from when no one place can ship them all: per SKU, the first
    warehouse (in the store's order: stock first, then make-to-order suppliers) that can ship all of that SKU's
    units; the lines grouped by that warehouse. Empty when some SKU has no source or one place ships everything."""
    lines = list(OrderLine.objects.filter(order=order, is_cancelled=False))
    listings = inventory.listings_for_lines(
        store=order.store, lines=((li.sku_id, li.seller_sku, li.product_id, li.product_name) for li in lines)
    )
    if any(listings[li.sku_id].sku_id is None for li in lines):
        return []
    units: Counter = Counter()
    for line in lines:
        units[listings[line.sku_id].sku_id] += line.quantity
    candidates = inventory.store_warehouse_order(store=order.store, platform_warehouse_id=order.platform_warehouse_id)
    sources = inventory.sources_by_sku(demand=units, warehouse_ids=[c.warehouse_id for c in candidates])
    if not all(sources.values()) or set.intersection(*(set(w) for w in sources.values())):
        return []  # a SKU with no source, or one place ships it all (the allocation will place it there)
    chosen = _fewest_sources(sources, [c.warehouse_id for c in candidates])
    by_warehouse: dict[UUID, list[str]] = {}
    for line in sorted(lines, key=lambda li: li.external_id):
        where = chosen[listings[line.sku_id].sku_id]
        by_warehouse.setdefault(UUID(str(where)), []).extend(line.platform_line_ids)
    if len(by_warehouse) < 2:
        return []
    names = dict(Warehouse.objects.filter(pk__in=list(by_warehouse)).values_list("pk", "name"))
    return [
        SplitPart(str(n), warehouse_id, names[warehouse_id], tuple(sorted(line_ids)))
        for n, (warehouse_id, line_ids) in enumerate(sorted(by_warehouse.items(), key=lambda kv: names[kv[0]]), 1)
    ]


def _fewest_sources(sources: dict[object, list[object]], ranked: list[object]) -> dict[object, object]:
    """SKU → the warehouse it ships from, in as few parcels as a greedy pick gives: the warehouse that can ship the
    most SKUs still without a source first (ties: the store's order)."""
    left = set(sources)
    chosen: dict[object, object] = {}
    while left:
        best = max(ranked, key=lambda w: (sum(1 for sku in left if w in sources[sku]), -ranked.index(w)))
        for sku in [sku for sku in left if best in sources[sku]]:
            chosen[sku] = best
            left.discard(sku)
    return chosen


def order_split_request(*, order: Order, actor: Actor) -> PackageChange:
    """Record the split of this order per source (committed by the caller before Split Orders). Asking twice returns
    the same row. SplitRefused when the channel cannot split, the order has a label purchase, one place ships all of
    it, or the platform says it may not split (with its reason)."""
    existing = PackageChange.objects.filter(
        store=order.store, kind=PackageChangeKind.SPLIT, key=order.external_id
    ).first()
    if existing is not None:
        return existing
    channel = store_client(order.store)
    name = platform_name(order.store.platform)
    if Capability.SPLIT_ORDERS not in channel.capabilities:
        raise SplitRefused(f"{name} does not split orders: ship it as one parcel from one place.")
    if PackageOrder.objects.filter(order=order).exists():
        raise SplitRefused("This order has a label purchase already: it ships as that package.")
    plan = split_plan(order)
    if not plan:
        raise SplitRefused("One warehouse can ship all of this order (or a SKU has no source): nothing to split.")
    attributes = next(iter(channel.split_attributes([order.external_id])), None)
    if attributes is None or not attributes.can_split:
        why = attributes.reason if attributes and attributes.reason else "no reason given"
        raise SplitRefused(f"{name} does not allow splitting this order ({why}): ship it from one place.")
    try:
        with transaction.atomic():
            return PackageChange.objects.create(
                store=order.store,
                kind=PackageChangeKind.SPLIT,
                key=order.external_id,
                order_ids=[order.external_id],
                request={
                    "groups": [
                        {"group_id": p.group_id, "warehouse_id": str(p.warehouse_id), "line_ids": list(p.line_ids)}
                        for p in plan
                    ]
                },
                created_by_label=actor.label[:200],
            )
    except IntegrityError:
        return PackageChange.objects.get(store=order.store, kind=PackageChangeKind.SPLIT, key=order.external_id)


def _split_on_platform(change: PackageChange) -> dict[str, str] | None:
    """group id → package id when the order's lines already sit in one package per group, else None."""
    orders = store_client(change.store).get_orders(change.order_ids)
    if not orders:
        return None
    package_of = {line_id: line.package_id for line in orders[0].lines for line_id in line.line_ids}
    found: dict[str, str] = {}
    for group in change.request["groups"]:
        packages = {package_of.get(line_id, "") for line_id in group["line_ids"]}
        if len(packages) != 1 or "" in packages:
            return None
        found[group["group_id"]] = packages.pop()
    return found if len(set(found.values())) == len(found) else None


def split_submit(change: PackageChange, *, look_first: bool) -> str:
    """We hold the change in SUBMITTING: look (when an earlier attempt may have split it), else split."""
    from shipping.combine import ChangeOutcome, _failed, _note  # one claim path and one failure record for both

    groups = [SplitGroup(g["group_id"], tuple(g["line_ids"])) for g in change.request["groups"]]
    try:
        if look_first:
            found = _split_on_platform(change)
            if found:
                return _split(change, found, adopted=True)
        made = store_client(change.store).split_order(change.order_ids[0], groups)
    except PlatformOutcomeUnknown as error:
        _note(change, str(error.code), f"No answer from {platform_name(error.platform)}: checking whether it split.")
        return ChangeOutcome.UNKNOWN
    except PlatformError as error:
        return _failed(change, str(error.code), error.message, error.fix, error.retryable)
    packages = {p.group_id: p.package_id for p in made}
    if set(packages) != {g.group_id for g in groups}:
        found = _split_on_platform(change)
        if found:
            return _split(change, found, adopted=True)
        return _failed(change, "no_package", "The platform answered without a package per group.", "", True)
    return _split(change, packages, adopted=False)


@transaction.atomic
def _split(change: PackageChange, packages: dict[str, str], *, adopted: bool) -> str:
    """The platform holds the order as one package per group: one purchase per package, at its source."""
    from shipping.combine import ChangeOutcome

    order = Order.objects.get(store=change.store, external_id=change.order_ids[0])
    for group in change.request["groups"]:
        key = f"{SPLIT}{group['group_id']}"
        purchase, _ = LabelPurchase.objects.get_or_create(
            order=order,
            package_key=key,
            defaults={"store": change.store, "line_ids": group["line_ids"], "warehouse_id": group["warehouse_id"]},
        )
        PackageOrder.objects.get_or_create(
            order=order, part=key, defaults={"purchase": purchase, "line_ids": group["line_ids"]}
        )
    # Each part has a source now: the order no longer waits for one place to have everything.
    now = timezone.now()
    OrderHold.objects.filter(order=order, reason=HoldReason.MIXED_SOURCES, released_at__isnull=True).update(
        released_at=now
    )
    if not OrderHold.objects.filter(order=order, released_at__isnull=True).exists():
        Order.objects.filter(pk=order.pk).update(is_held=False)
        orders_publish(type="order.released", order_ids=[order.pk])
    PackageChange.objects.filter(pk=change.pk).update(
        state=PurchaseState.PURCHASED,
        submitting_since=None,
        adopted=adopted,
        result={"packages": [{"group_id": g, "package_id": p} for g, p in sorted(packages.items())]},
        error_code="",
        error_message="",
        error_fix="",
        retryable=False,
        updated_at=now,
    )
    audit_record(
        organization=current_organization(),
        actor=Actor.system("Split"),
        action="package.split_adopted" if adopted else "package.split",
        target=change,
        changes={"order": order.external_id, "packages": packages},
    )
    return ChangeOutcome.ADOPTED if adopted else ChangeOutcome.DONE


def order_packages(order: Order) -> list[LabelPurchase]:
    """The purchases of a split order's packages, by group."""
    return list(LabelPurchase.objects.filter(order=order, package_key__startswith=SPLIT).order_by("package_key", "pk"))


def order_split(*, order: Order, actor: Actor) -> PackageChange:
    """Record and make the split now (a person pressing "Split per source"): recorded before the platform call."""
    from shipping.combine import package_change_execute

    change = order_split_request(order=order, actor=actor)
    package_change_execute(change_id=change.pk)
    change.refresh_from_db()
    return change
