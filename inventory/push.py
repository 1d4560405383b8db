"""Stock push: tell each store's sales channel how many units of every mapped listing to advertise.

How a change travels:

1. A stock change sets its stock rows' ``unpushed_since`` in the UPDATE that changes them, so it is told to the push
   if and only if it commits (docs/adr/0040). Beat (``inventory.push_due_listings``, every 5 s) first sweeps those
   rows (``changed_stock_mark``): it marks the listings of their SKUs, and of the kits made of them, with
   ``push_requested_at`` (``listings_mark``: one UPDATE per organization) and clears the rows, in one transaction.
   Mapping a listing, or changing a store's policy or warehouse links, marks listings directly.
2. Beat then finds the stores with a listing marked for longer than the debounce window and queues one
   ``inventory.push_store`` per store.
3. ``store_push`` takes every marked listing of the store, computes what to advertise (store policy applied to the
   available stock of the warehouses that serve the store) and makes one Update Inventory call per product, through
   the client's Redis rate limiter, so every worker together stays under the platform's limit per shop (TikTok:
   50 QPS).

The marker protocol (why a change is never lost and a busy SKU is never starved):

* The marker holds the time of the oldest change not yet pushed. A change that finds a recent marker leaves it alone
  (the pending push will read its stock anyway); so a SKU that sells every two seconds is still pushed within the
  debounce window instead of having its marker pushed forward for ever.
* Before reading stock, the push *claims* its listings: it moves each marker a day into the past (still set, so a
  failed call is retried; old enough that any later change replaces it with ``now``). Afterwards it clears only
  the markers that still hold the claimed value (compare-and-clear): a change that happened during the push moved
  the marker, stays marked, and is pushed next time with the stock it produced.
* A lease per store (in the cache) keeps two workers from pushing one store at once, so an older quantity can never
  overtake a newer one on its way to the platform.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from erp.models import Organization
from erp.tenancy import cross_tenant, organization_scope
from integrations import registry
from integrations.base import Capability, SalesChannel
from integrations.errors import PlatformError
from integrations.interface import InventoryLevel, InventoryUpdate, ItemResult, WarehouseQuantity
from integrations.models import Store, StoreStatus
from integrations.services import platform_name, store_client
from inventory import statements
from inventory.models import BundleComponent, Listing, StockLevel, Warehouse, WarehouseKind, WarehouseLink

log = logging.getLogger(__name__)

MAX_QUANTITY = 99_999  # Update Inventory accepts at most this per warehouse
SKUS_PER_CALL = 100  # Update Inventory: at most 100 SKUs of one product per call
SKUS_PER_SEARCH = 600  # Inventory Search: at most 600 sku_ids per call
DEFAULT_DEBOUNCE_SECONDS = 5
CLAIM_SHIFT = timedelta(days=1)  # see "claims" in the module docstring
ERROR_BACKOFF = timedelta(minutes=10)  # a call refused as a whole for a lasting reason is retried this much later
SWEEP_BATCH = 2_000  # changed stock rows taken per transaction by `changed_stock_mark`
TIME_BUDGET_SECONDS = 120.0  # then the task continues in a new one; well under the 240 s soft limit
LEASE_SECONDS = 360  # longer than the 300 s hard task limit: a live push never loses its lease

_SINGLE_WAREHOUSE = None  # WarehouseQuantity.warehouse_id for a SKU that has one platform warehouse


# ------------------------------------------------------------------------------------------------ the policy
@dataclass(frozen=True)
class PushPolicy:
    """What a store advertises of the stock it can ship (per store, like a Saleor channel's settings)."""

    percentage: int = 100  # 1–100: share of the available units to advertise
    max_advertised: int | None = None  # never advertise more than this
    zero_below: int = 0  # advertise nothing while fewer units than this are available
    buffer: int = 0  # units held back from what is advertised

    @classmethod
    def of(cls, store: Store) -> PushPolicy:
        # percentage / max / zero-below are Store fields still to be added (see the report to the lead); until then
        # the defaults mean "advertise everything", which is what a store without them did before.
        return cls(
            percentage=store.stock_push_percentage,
            max_advertised=store.stock_push_max_quantity,
            zero_below=store.stock_push_zero_below,
            buffer=store.stock_push_buffer,
        )


def listing_quantity(
    available: int, *, percentage: int = 100, max_advertised: int | None = None, zero_below: int = 0, buffer: int = 0
) -> int:
    """Units to advertise for `available` units that can ship, under a store's policy. Pure.

    Order: below the threshold nothing is advertised (the threshold looks at real stock, before the buffer); then the
    buffer is held back; then the percentage of the rest, rounded down so we never advertise a unit we do not have;
    then the cap, and TikTok's own ceiling of 99,999.
    """
    units = max(0, available)
    if units < zero_below:
        return 0
    units = max(0, units - max(0, buffer))
    units = units * min(100, max(1, percentage)) // 100
    if max_advertised is not None:
        units = min(units, max(0, max_advertised))
    return min(units, MAX_QUANTITY)


def policy_quantity(available: int, policy: PushPolicy) -> int:
    return listing_quantity(
        available,
        percentage=policy.percentage,
        max_advertised=policy.max_advertised,
        zero_below=policy.zero_below,
        buffer=policy.buffer,
    )


def split_quantity(total: int, available: Mapping[str, int]) -> dict[str, int]:
    """Share `total` units among the platform's warehouses in proportion to the stock behind each (largest remainder,
    ties by warehouse id), never giving a warehouse more than it has. Pure."""
    have = {warehouse: max(0, units) for warehouse, units in available.items()}
    whole = sum(have.values())
    total = min(max(0, total), whole)
    if total == 0:
        return dict.fromkeys(have, 0)
    shares = {warehouse: units * total // whole for warehouse, units in have.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(have, key=lambda warehouse: (-(have[warehouse] * total % whole), warehouse))
    for warehouse in by_remainder[:left]:
        shares[warehouse] += 1
    return shares


# ------------------------------------------------------------------------------------------------ marking
def _debounce() -> timedelta:
    return timedelta(seconds=getattr(settings, "STOCK_PUSH_DEBOUNCE_SECONDS", DEFAULT_DEBOUNCE_SECONDS))


def _coalesce_window() -> timedelta:
    # Three debounce windows: beat (every 5 s) sees a marker due at least once before a later change may restart it.
    return 3 * _debounce()


def listings_mark(
    *, sku_ids: Sequence[object] = (), listing_ids: Sequence[object] = (), now: datetime | None = None
) -> int:
    """Ask for a push of these listings and of every listing of these SKUs or of kits made of them (one UPDATE).
    A marker younger than the coalescing window is kept: it already stands for a push that will read this stock.
    In SQL (`inventory.statements`): every reservation's commit runs it (docs/adr/0029)."""
    now = now or timezone.now()
    return statements.listings_mark(
        sku_ids=sku_ids, listing_ids=listing_ids, now=now, stale_before=now - _coalesce_window()
    )


def store_listings_mark(*, store: Store) -> int:
    """Ask for a push of every mapped listing of a store: after its policy, its warehouse links or its push switch
    changed, what it should advertise changed although no stock did."""
    return Listing.objects.filter(store=store, sku__isnull=False).update(push_requested_at=timezone.now())


def changed_stock_mark(*, batch: int = SWEEP_BATCH) -> int:
    """Beat, before `stores_due`, for every organization: mark the listings of every SKU whose stock changed since
    the last sweep, with the time of its oldest change (the marker's meaning: a SKU changed at t is due at t plus
    the debounce window, whenever the sweep ran), and clear those stock rows, in one transaction per `batch` rows.
    Returns how many listings were marked.

    Why a sweep and not a mark after each change's commit: a worker stopped between the commit and that mark lost
    the change's push for good, and every reservation paid one more statement for a mark that a busy SKU's recent
    marker made moot (docs/adr/0040)."""
    marked = 0
    while True:
        with transaction.atomic():
            with cross_tenant(reason="stock push: the stock rows changed since the last sweep"):
                taken = statements.levels_unpushed_take(limit=batch)
            sku_ids: dict[object, set[object]] = defaultdict(set)
            oldest: dict[object, datetime] = {}
            for organization_id, sku_id, since in taken:
                sku_ids[organization_id].add(sku_id)
                oldest[organization_id] = min(oldest.get(organization_id, since), since)
            organizations = Organization.objects.in_bulk(list(sku_ids))
            for organization_id, skus in sku_ids.items():
                with organization_scope(organizations[organization_id]):
                    marked += listings_mark(sku_ids=sorted(skus, key=str), now=oldest[organization_id])
        if len(taken) < batch:
            return marked


def on_store_policy_changed(store: Store) -> None:
    """`integrations.services.store_policy_changed` receiver: the advertised quantities follow the new policy."""
    store_listings_mark(store=store)


def on_listing_mapped(listing: Listing) -> None:
    """A listing that now points at a SKU has a quantity to advertise."""
    listings_mark(listing_ids=[listing.pk])


def stores_due(*, now: datetime | None = None) -> list[tuple[object, object]]:
    """(store id, organization id) of every store with a listing marked for longer than the debounce window.

    The scheduler serves every organization: a deliberate cross-tenant read of ids only. A marker set in the future
    is a backed-off retry (ERROR_BACKOFF) and is not due yet.
    """
    cutoff = (now or timezone.now()) - _debounce()
    return list(
        Listing.unscoped.filter(
            push_requested_at__lte=cutoff,
            sku__isnull=False,
            store__stock_push_enabled=True,
            store__status=StoreStatus.ACTIVE,
            store__platform__in=registry.platforms_with(Capability.STOCK_PUSH),
        )
        .values_list("store_id", "store__organization_id")
        .distinct()
    )


# ------------------------------------------------------------------------------------------------ messages
def _call_error_text(error: PlatformError) -> str:
    """A call refused as a whole, in words a seller can act on (the adapter's fix), with the platform's code."""
    name = platform_name(error.platform)
    fix = error.fix or f"{name} refused the stock update: {error.message or 'no reason given'}."
    return f"{fix} ({name} {error.code})"[:500]


# ------------------------------------------------------------------------------------------------ the push
@dataclass
class PushResult:
    calls: int = 0  # Update Inventory calls made
    searches: int = 0  # Inventory Search calls made (stores with warehouse links)
    pushed: int = 0  # listings the platform took
    unchanged: int = 0  # same quantity as the platform already has from us: nothing sent
    rejected: int = 0  # per-SKU refusals (by the platform, or caught before sending), written on the listing
    failed: int = 0  # listings of calls that failed as a whole: still marked, retried
    skipped: int = 0  # nothing of ours to push: unmapped, or stock held by the platform (TikTok's FBT)
    more: bool = False  # the time budget ran out with listings left: continue in a new task
    busy: bool = False  # another worker is pushing this store right now

    def __str__(self) -> str:
        state = " busy" if self.busy else (" more" if self.more else "")
        return (
            f"{self.calls} calls, {self.pushed} pushed, {self.unchanged} unchanged, {self.rejected} rejected, "
            f"{self.failed} failed, {self.skipped} skipped{state}"
        )


def store_pushable(store: Store) -> bool:
    return (
        registry.has_capability(store.platform, Capability.STOCK_PUSH)
        and store.status == StoreStatus.ACTIVE
        and store.stock_push_enabled
    )


def store_push(*, store: Store, time_budget: float = TIME_BUDGET_SECONDS) -> PushResult:
    """Push every marked listing of `store` to its channel, one Update Inventory call per product. Safe to run twice:
    quantities are absolute and markers are cleared only for what was actually said."""
    result = PushResult()
    if not store_pushable(store):
        return result  # markers stay: a store that turns the push back on sends what changed meanwhile
    lease = _lease_take(store)
    if lease is None:
        result.busy = True
        return result
    try:
        deadline = time.monotonic() + time_budget
        context = _StoreContext.load(store)
        for chunk in _chunks(_marked_by_product(store)):
            if time.monotonic() > deadline:
                result.more = True
                break
            _push_chunk(context, chunk, result)
    finally:
        _lease_release(store, lease)
    log.info("stock push %s: %s", store, result)
    return result


def _lease_key(store: Store) -> str:
    return f"inventory:stock-push-lease:{store.pk}"


def _lease_take(store: Store) -> str | None:
    token = uuid.uuid4().hex
    return token if cache.add(_lease_key(store), token, timeout=LEASE_SECONDS) else None


def _lease_release(store: Store, token: str) -> None:
    if cache.get(_lease_key(store)) == token:  # expired and taken by another worker meanwhile: not ours to drop
        cache.delete(_lease_key(store))


@dataclass
class _StoreContext:
    store: Store
    policy: PushPolicy
    links: dict[str, object]  # the platform's warehouse id -> Dropline warehouse id
    warehouses: dict[object, Warehouse]
    serving: list[object]  # without links: every warehouse that can ship this store's orders and counts its stock
    channel: SalesChannel | None = None  # built on the first call: a store with nothing to say needs no tokens

    @classmethod
    def load(cls, store: Store) -> _StoreContext:
        warehouses = {w.pk: w for w in Warehouse.objects.all()}
        return cls(
            store=store,
            policy=PushPolicy.of(store),
            # Links to a platform's own warehouses (TikTok's FBT) only map the platform's stock (synced in, never
            # pushed): they must not switch the store's own stock to "linked" mode.
            links=dict(
                WarehouseLink.objects.filter(store=store)
                .exclude(warehouse__kind=WarehouseKind.PLATFORM)
                .values_list("platform_warehouse_id", "warehouse_id")
            ),
            warehouses=warehouses,
            serving=[
                w.pk for w in warehouses.values() if w.is_active and w.tracks_stock and w.kind != WarehouseKind.PLATFORM
            ],
        )

    def sales_channel(self) -> SalesChannel:
        if self.channel is None:
            self.channel = store_client(self.store)
        return self.channel


def _marked_by_product(store: Store) -> dict[str, list[object]]:
    groups: dict[str, list[object]] = defaultdict(list)
    marked = Listing.objects.filter(store=store, push_requested_at__lte=timezone.now())
    for pk, product_id in marked.order_by("platform_product_id", "pk").values_list("pk", "platform_product_id"):
        groups[product_id].append(pk)
    return groups


def _chunks(groups: Mapping[str, list[object]]) -> Iterator[list[object]]:
    """Listing ids in chunks of whole products, up to one Inventory Search (600 SKUs) each."""
    chunk: list[object] = []
    for ids in groups.values():
        if chunk and len(chunk) + len(ids) > SKUS_PER_SEARCH:
            yield chunk
            chunk = []
        chunk.extend(ids)
    if chunk:
        yield chunk


@dataclass
class _Claimed:
    pk: object
    marker: datetime  # the claimed value: cleared only if the marker still holds it
    sku_id: object
    platform_sku_id: str
    product_id: str
    advertised: int | None


@dataclass
class _Outcome:
    """What happened to each claimed listing, written back in a few statements."""

    pushed: dict[object, int] = field(default_factory=dict)  # pk -> quantity the platform took
    unchanged: list[object] = field(default_factory=list)
    rejected: dict[object, str] = field(default_factory=dict)  # pk -> message
    failed: dict[object, tuple[str, bool]] = field(default_factory=dict)  # pk -> (message, retry soon)
    skipped: list[object] = field(default_factory=list)


def _claim(ids: Sequence[object]) -> list[_Claimed]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Listing.objects.select_for_update()
            .filter(pk__in=list(ids), push_requested_at__lte=now)
            .order_by("pk")
            .values_list(
                "pk", "push_requested_at", "sku_id", "platform_sku_id", "platform_product_id", "advertised_quantity"
            )
        )
        unmapped = [pk for pk, _, sku_id, *_ in rows if sku_id is None]
        if unmapped:  # unmapped since it was marked: nothing of ours to say (we hold the row lock)
            Listing.objects.filter(pk__in=unmapped).update(push_requested_at=None)
        mapped = [row for row in rows if row[2] is not None]
        Listing.objects.filter(pk__in=[row[0] for row in mapped]).update(
            push_requested_at=F("push_requested_at") - CLAIM_SHIFT
        )
    return [
        _Claimed(pk, marker - CLAIM_SHIFT, sku_id, sku, product, advertised)
        for pk, marker, sku_id, sku, product, advertised in mapped
    ]


def _push_chunk(context: _StoreContext, ids: Sequence[object], result: PushResult) -> None:
    claimed = _claim(ids)
    if not claimed:
        return
    outcome = _Outcome()
    levels: dict[str, InventoryLevel] | None = None
    if context.links:
        try:
            found = context.sales_channel().read_stock([c.platform_sku_id for c in claimed])
            result.searches += 1
        except PlatformError as error:
            log.warning("stock push %s: inventory search failed: %s", context.store, error)
            text = _call_error_text(error)
            outcome.failed.update({c.pk: (text, error.retryable) for c in claimed})
            _record(outcome, claimed, result)
            return
        levels = {level.sku_id: level for level in found}
    available = _available({c.sku_id for c in claimed})

    by_product: dict[str, list[tuple[_Claimed, InventoryUpdate, int]]] = defaultdict(list)
    for listing in claimed:
        plan = _plan(context, listing, available, levels)
        if isinstance(plan, str):
            outcome.rejected[listing.pk] = plan
        elif plan is None:
            outcome.skipped.append(listing.pk)
        else:
            update, total, product_id, always = plan
            if total == listing.advertised and not always:
                outcome.unchanged.append(listing.pk)
            else:
                by_product[product_id].append((listing, update, total))

    for product_id, items in by_product.items():
        for start in range(0, len(items), SKUS_PER_CALL):
            batch = items[start : start + SKUS_PER_CALL]
            _call(context, product_id, batch, outcome, result)
    _record(outcome, claimed, result)


_Plan = tuple[InventoryUpdate, int, str, bool]  # the update, the total advertised, its product, send even if equal


def _plan(
    context: _StoreContext,
    listing: _Claimed,
    available: Mapping[tuple[object, object], int],
    levels: Mapping[str, InventoryLevel] | None,
) -> _Plan | str | None:
    """What to send for one listing: a plan, a message saying why it cannot be sent, or None (nothing of ours)."""
    if levels is None:
        # No warehouse links: one quantity from every warehouse that serves the store, no warehouse id (TikTok
        # accepts that for a SKU with a single warehouse and says so per SKU otherwise).
        units = sum(available.get((listing.sku_id, w), 0) for w in context.serving)
        total = policy_quantity(units, context.policy)
        if not listing.product_id:
            return (
                f"Dropline does not know this listing's {platform_name(context.store.platform)} product yet: sync "
                "the store's listings again."
            )
        update = InventoryUpdate(listing.platform_sku_id, (WarehouseQuantity(_SINGLE_WAREHOUSE, total),))
        return update, total, listing.product_id, False

    level = levels.get(listing.platform_sku_id)
    if level is None or not level.by_warehouse:
        return (
            f"{platform_name(context.store.platform)} does not list this SKU's inventory any more (deleted or "
            "moved): sync the store's listings."
        )
    platform_warehouses = sorted({w.warehouse_id for w in level.by_warehouse})
    unlinked = [w for w in platform_warehouses if w not in context.links]
    if unlinked:
        # The platform needs a quantity for every warehouse of the SKU; guessing one for a warehouse we know nothing
        # about would overwrite stock someone else manages.
        return (
            f"{platform_name(context.store.platform)} stocks this SKU in warehouse {', '.join(unlinked)}, which is "
            "not linked to one of your warehouses: link it so Dropline can send a quantity for each."
        )
    ours = {w: context.links[w] for w in platform_warehouses}
    if any(_kind(context, d) == WarehouseKind.PLATFORM for d in ours.values()):
        return None  # stock held by the platform (TikTok's FBT): read from it, never pushed
    behind: dict[str, int] = {}
    counted: set[object] = set()
    for platform_warehouse, warehouse_id in ours.items():
        warehouse = context.warehouses.get(warehouse_id)
        usable = warehouse is not None and warehouse.is_active and warehouse_id not in counted
        counted.add(warehouse_id)  # two platform warehouses on one of ours: its stock is counted once
        behind[platform_warehouse] = available.get((listing.sku_id, warehouse_id), 0) if usable else 0
    total = policy_quantity(sum(behind.values()), context.policy)
    shares = split_quantity(total, behind)
    update = InventoryUpdate(
        listing.platform_sku_id, tuple(WarehouseQuantity(w, shares[w]) for w in platform_warehouses)
    )
    # Same total as last time, but stock may have moved between our warehouses: say it again if the platform shows more
    # anywhere than our split gives there. (Less is left alone: the platform sold units we have not imported yet.)
    shown = {w.warehouse_id: w.available for w in level.by_warehouse}
    moved = any(shown.get(w, 0) > shares[w] for w in platform_warehouses)
    return update, total, level.product_id or listing.product_id, moved


def _kind(context: _StoreContext, warehouse_id: object) -> str:
    warehouse = context.warehouses.get(warehouse_id)
    return warehouse.kind if warehouse is not None else ""


def _available(sku_ids: Iterable[object]) -> dict[tuple[object, object], int]:
    """(sku id, warehouse id) -> units that can ship now; a kit has as many as its scarcest component allows."""
    wanted = set(sku_ids)
    kits: dict[object, list[tuple[object, int]]] = defaultdict(list)
    for bundle_id, component_id, quantity in BundleComponent.objects.filter(bundle_id__in=list(wanted)).values_list(
        "bundle_id", "component_id", "quantity"
    ):
        kits[bundle_id].append((component_id, quantity))
    components = {c for parts in kits.values() for c, _ in parts}
    available: dict[tuple[object, object], int] = {}
    for sku_id, warehouse_id, on_hand, reserved, safety in StockLevel.objects.filter(
        sku_id__in=list(wanted | components)
    ).values_list("sku_id", "warehouse_id", "on_hand", "reserved", "safety_buffer"):
        available[(sku_id, warehouse_id)] = max(0, on_hand - reserved - safety)
    for kit, parts in kits.items():
        warehouses = {w for (s, w) in available if s in {c for c, _ in parts}}
        for warehouse_id in warehouses:
            available[(kit, warehouse_id)] = min(available.get((c, warehouse_id), 0) // max(1, q) for c, q in parts)
    return available


def _call(
    context: _StoreContext,
    product_id: str,
    batch: Sequence[tuple[_Claimed, InventoryUpdate, int]],
    outcome: _Outcome,
    result: PushResult,
) -> None:
    try:
        result.calls += 1
        answers: list[ItemResult] = context.sales_channel().push_stock(product_id, [update for _, update, _ in batch])
    except PlatformError as error:
        log.warning("stock push %s: product %s refused: %s", context.store, product_id, error)
        text = _call_error_text(error)
        outcome.failed.update({listing.pk: (text, error.retryable) for listing, _, _ in batch})
        return
    by_sku = {answer.item_id: answer for answer in answers}
    for listing, _, total in batch:
        answer = by_sku.get(listing.platform_sku_id)
        if answer is None or answer.ok:
            outcome.pushed[listing.pk] = total
        else:
            outcome.rejected[listing.pk] = answer.fix or answer.message


def _record(outcome: _Outcome, claimed: Sequence[_Claimed], result: PushResult) -> None:
    """Write what happened, then clear the markers that still hold the claimed value (compare-and-clear)."""
    now = timezone.now()
    by_pk = {c.pk: c for c in claimed}
    with transaction.atomic():
        if outcome.pushed:
            Listing.objects.bulk_update(
                [
                    Listing(pk=pk, advertised_quantity=quantity, pushed_at=now, push_error="")
                    for pk, quantity in outcome.pushed.items()
                ],
                ["advertised_quantity", "pushed_at", "push_error"],
            )
        if outcome.unchanged:
            Listing.objects.filter(pk__in=outcome.unchanged).exclude(push_error="").update(push_error="")
        errors = {**outcome.rejected, **{pk: text for pk, (text, _) in outcome.failed.items()}}
        if errors:
            Listing.objects.bulk_update(
                [Listing(pk=pk, push_error=text) for pk, text in errors.items()], ["push_error"]
            )
        done = [*outcome.pushed, *outcome.unchanged, *outcome.rejected, *outcome.skipped]
        _clear_if_unchanged([(pk, by_pk[pk].marker) for pk in done])
        # Refused as a whole: stay marked. A passing trouble (timeout, 5xx, rate limit) is retried on the next beat;
        # a lasting one (product deactivated, access revoked) later, so a dead product costs one call per backoff,
        # not one every five seconds. Moved only if no change came in meanwhile (that one retries on its own).
        later = [(pk, by_pk[pk].marker) for pk, (_, soon) in outcome.failed.items() if not soon]
        for batch in _batches(later, 500):
            Listing.objects.filter(reduce(or_, (Q(pk=pk, push_requested_at=marker) for pk, marker in batch))).update(
                push_requested_at=now + ERROR_BACKOFF
            )
    result.pushed += len(outcome.pushed)
    result.unchanged += len(outcome.unchanged)
    result.rejected += len(outcome.rejected)
    result.failed += len(outcome.failed)
    result.skipped += len(outcome.skipped)


def _clear_if_unchanged(markers: Sequence[tuple[object, datetime]]) -> None:
    for batch in _batches(markers, 500):
        Listing.objects.filter(reduce(or_, (Q(pk=pk, push_requested_at=marker) for pk, marker in batch))).update(
            push_requested_at=None
        )


def _batches(items: Sequence[tuple[object, datetime]], size: int) -> Iterator[Sequence[tuple[object, datetime]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
