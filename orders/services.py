"""Writes of orders: the idempotent, version-guarded import of platform orders.

`orders_upsert` is the only way platform orders enter Dropline. It is safe to call twice with the same page, from
two workers at once, and with pages in any order: existing rows are locked in external-id order, unchanged orders
cost nothing, and the SQL upsert only overwrites a row with a strictly newer platform update time.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from erp import inputs
from erp.actors import Actor
from erp.db import PlannerStatistics, insert, upsert
from erp.events import Event
from erp.services import audit_record
from erp.tenancy import CrossTenantWrite, current_organization
from integrations.base import SalesChannel
from integrations.errors import PlatformAuthError, PlatformError
from integrations.interface import (
    Address,
    Deadlines,
    FulfilledBy,
    ListedOrders,
    Money,
    OrderTotals,
    PlatformOrder,
    PlatformOrderLine,
    aggregate_lines_by_sku,
)
from integrations.models import Platform, Store
from integrations.services import authorization_mark, store_client
from orders.holds import address_problems, holds_for
from orders.models import BackfillWindow, Order, OrderHold, OrderLine, OrderStatus, OrderStatusChange
from orders.outbound import orders_publish
from orders.stock import SHIPPED_STATUSES, STOCK_HOLDS, Demand, allocate, orders_reallocate
from webhooks.services import event_types_subscribed

# Sent inside the import's transaction with the ids of the orders it wrote; receivers enqueue on commit.
orders_imported = Event("orders_imported")
# Sent inside the import's transaction, once per change seen (the version guard means a replayed webhook or a
# second sync writes nothing and sends nothing): orders that became CANCELLED; orders whose address changed
# (send(order_ids, changed_at)). Shipping stops what would still ship a cancelled order and checks its labels.
orders_cancelled = Event("orders_cancelled")
orders_address_changed = Event("orders_address_changed")

# What Dropline decided about an order (routing, tags) is its own, never overwritten by a re-import.
DROPLINE_OWNED_FIELDS = {
    "warehouse",
    "routed_at",
    "tags",
    "address_changed_at",
    "address_note",
    "label_shows_old_address",
}
# What makes two addresses the same for a parcel: the recipient (the first two; compared only when the platform did
# not mask them) and the place.
ADDRESS_FIELDS = (
    "recipient_name",
    "recipient_phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country_code",
)
ORDER_UPDATE_FIELDS = [
    f.name
    for f in Order._meta.concrete_fields
    if f.name not in {"id", "organization", "store", "external_id", "imported_at", *DROPLINE_OWNED_FIELDS}
]
LINE_UPDATE_FIELDS = [
    f.name for f in OrderLine._meta.concrete_fields if f.name not in {"id", "organization", "order", "external_id"}
]


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    unchanged: int
    newest_update: datetime | None


def _money(value: object) -> object:
    return getattr(value, "amount", None)


def handling_ship_by(store: Store, order: PlatformOrder) -> datetime | None:
    """The ship-by of an order whose channel sets none (Shopify): the store's handling time, in days Monday to
    Friday after payment, so At risk and the order list treat it like a platform deadline. None when the channel
    sets its own deadlines, or while the order is unpaid."""
    deadlines = order.deadlines
    if deadlines.ship_by or deadlines.shipping_due or order.paid_at is None:
        return None
    moment, days = order.paid_at, store.handling_days
    while days > 0:
        moment += timedelta(days=1)
        if moment.isoweekday() <= 5:
            days -= 1
    return moment


def _order_row(store: Store, order: PlatformOrder, holds: dict[str, str], now: datetime) -> dict[str, object]:
    address = order.address
    totals = order.totals
    skus = aggregate_lines_by_sku(order.lines)
    summary = ", ".join(f"{sku.quantity} × {sku.seller_sku or sku.sku_id}" for sku in skus)
    return {
        "organization_id": store.organization_id,
        "store_id": store.pk,
        "external_id": order.order_id,
        "status": order.status,
        "label_source": order.label_source or "",
        "fulfilled_by": order.fulfilled_by,
        "delivery_type": order.delivery_type,
        "delivery_option_id": order.delivery_option_id,
        "delivery_option_name": order.delivery_option_name,
        "carrier_name": order.carrier_name,
        "tracking_number": order.tracking_number,
        "platform_warehouse_id": order.warehouse_id,
        "buyer_message": order.buyer_message,
        "seller_note": order.seller_note,
        "is_on_hold_order": order.is_on_hold_order,
        "buyer_requested_cancel": order.is_buyer_request_cancel,
        "cancel_reason": order.cancel_reason[:200],
        "cancellation_initiator": order.cancellation_initiator,
        "currency": totals.currency if totals else "",
        "subtotal": _money(totals.subtotal) if totals else None,
        "shipping_fee": _money(totals.shipping_fee) if totals else None,
        "tax": _money(totals.tax) if totals else None,
        "total": _money(totals.total) if totals else None,
        "placed_at": order.created_at,
        "paid_at": order.paid_at,
        "platform_updated_at": order.updated_at or order.created_at or now,
        "cancelled_at": order.cancelled_at,
        "shipped_at": order.shipped_at,
        "collected_at": order.collected_at,
        "delivered_at": order.delivered_at,
        "ship_by": order.deadlines.ship_by or handling_ship_by(store, order),
        "collect_by": order.deadlines.collect_by,
        "shipping_due": order.deadlines.shipping_due,
        "collection_due": order.deadlines.collection_due,
        "delivery_by": order.deadlines.delivery_by,
        "delivery_due": order.deadlines.delivery_due,
        "cancel_unpaid_at": order.deadlines.cancel_unpaid_at,
        "has_address": address is not None,
        "address_masked": bool(address and address.is_masked),
        **order_address_columns(address or Address()),
        "full_address": address.full_address if address else "",
        "line_count": len(order.lines),
        "unit_count": sum(sku.quantity for sku in skus),
        "sku_summary": summary[:255],
        "is_held": bool(holds),
        "imported_at": now,
        "updated_at": now,
    }


def _line_key(line: PlatformOrderLine) -> str:
    """The line's row key within its order (OrderLine.external_id): its smallest platform line id, stable while
    re-imports split a line's units (one shipped, one not) or merge them again."""
    return min(line.line_ids)


def _line_rows(order_pk: object, organization_id: object, order: PlatformOrder) -> list[dict[str, object]]:
    return [
        {
            "organization_id": organization_id,
            "order_id": order_pk,
            "placed_at": order.created_at,  # the order's own (`_order_row`): the SKU list's sort key
            "external_id": _line_key(line),
            "quantity": line.quantity,
            "platform_line_ids": sorted(line.line_ids),
            "sku_id": line.sku_id,
            "seller_sku": line.seller_sku[:100],
            "product_id": line.product_id,
            "product_name": line.product_name[:300],
            "sku_name": line.sku_name[:200],
            "image_url": line.sku_image[:500],
            "unit_price": _money(line.sale_price),
            "currency": line.sale_price.currency if line.sale_price else "",
            "package_id": line.package_id,
            "package_status": line.package_status,
            "tracking_number": line.tracking_number,
            "is_gift": line.is_gift,
            "is_cancelled": line.package_status == "CANCELLED" or bool(line.cancel_user),
        }
        for line in order.lines
    ]


def _versions_held(store: Store, external_ids: Collection[str]) -> dict[str, datetime]:
    """The platform version of each of these orders that we hold (unknown ids are left out): one indexed read."""
    return dict(
        Order.objects.filter(store=store, external_id__in=list(external_ids)).values_list(
            "external_id", "platform_updated_at"
        )
    )


# No savepoint of its own inside a caller's transaction: no caller goes on after an error here (a page is committed
# or undone whole), and a savepoint is two more round trips per page.
@transaction.atomic(savepoint=False)
def orders_upsert(*, store: Store, orders: Sequence[PlatformOrder], changed: bool = False) -> UpsertResult:
    """Import one page of platform orders for `store` (the organization in scope must be the store's).

    `changed`: these orders were fetched by id because they are known to have changed (a notification, Dropline's own
    write). A platform's update time has whole-second resolution, so a change in the same second as the copy we hold
    carries the same version: such orders are written when their version is equal too, not only when newer."""
    if current_organization().pk != store.organization_id:
        raise CrossTenantWrite(f"orders of store {store.pk} imported in the scope of another organization")
    now = timezone.now()
    incoming = {order.order_id: order for order in orders}  # a page never repeats an id; keep the last if it does
    if not incoming:
        return UpsertResult(0, 0, 0, None)
    # Versions first, without locks: an unchanged page (a re-sync) costs this one read and writes nothing, not even
    # row locks. Then only the rows that look newer are locked, in a fixed order (concurrent imports of the same
    # orders queue instead of deadlocking), and read again under the lock; rows that do not exist yet are protected
    # by the unique constraint and the version guard of the upsert.
    versions = _versions_held(store, incoming)
    newer = [
        external_id
        for external_id, order in incoming.items()
        if external_id in versions
        and (
            (order.updated_at or order.created_at or now) > versions[external_id]
            or (changed and (order.updated_at or order.created_at or now) == versions[external_id])
        )
    ]
    locked = (
        list(
            Order.objects.filter(store=store, external_id__in=newer)
            .order_by("external_id")
            .select_for_update()
            .values_list(
                "external_id", "pk", "status", "platform_updated_at", "has_address", "address_masked", *ADDRESS_FIELDS
            )
        )
        if newer
        else []
    )
    existing = {row[0]: (row[1], row[2], row[3]) for row in locked}
    addresses_before = {row[0]: (row[5], row[6:]) for row in locked if row[4]}
    existing.update(
        {external_id: (None, "", version) for external_id, version in versions.items() if external_id not in existing}
    )
    holds: dict[str, dict[str, str]] = {}
    rows = []
    for external_id, order in incoming.items():
        row_version = order.updated_at or order.created_at or now
        known = existing.get(external_id)
        if known is not None and (row_version < known[2] or (row_version == known[2] and not changed)):
            continue  # unchanged (or older than what we have): nothing to write
        holds[external_id] = holds_for(order)
        rows.append(_order_row(store, order, holds[external_id], now))
    newest = max((order.updated_at for order in orders if order.updated_at), default=None)
    if not rows:
        return UpsertResult(0, 0, len(incoming), newest)

    returned = upsert(
        Order,
        rows,
        conflict_fields=["store", "external_id"],
        update_fields=ORDER_UPDATE_FIELDS,
        newer_than="platform_updated_at",
        same_version_too=changed,
        returning=("id", "external_id", "imported_at"),
    )
    written = {external_id: pk for pk, external_id, _ in returned}
    # Inserted by this statement: `imported_at` is written on insert only, so it holds this page's `now` exactly
    # when the row is new. The statement says so, not the version read above: a webhook's fetch may have inserted
    # the order since. A new order has no lines to merge and no holds to look up (docs/adr/0030).
    inserted = {pk for pk, _, imported_at in returned if imported_at == now}
    line_rows = [
        row
        for external_id, pk in written.items()
        for row in _line_rows(pk, store.organization_id, incoming[external_id])
    ]
    upsert(OrderLine, line_rows, conflict_fields=["order", "external_id"], update_fields=LINE_UPDATE_FIELDS)
    _delete_merged_lines({e: pk for e, pk in written.items() if pk not in inserted}, incoming)
    _record_status_changes(store, incoming, existing, written, now)
    _announce_changes(incoming, existing, addresses_before, written, now)
    # Before the holds below: a receiver hears of an order before it hears of its holds. One query tells which
    # events anyone wants; with no subscriber nothing more is done.
    subscribed = event_types_subscribed(organization=current_organization())
    created_ids = [pk for e, pk in written.items() if e not in existing]
    orders_publish(type="order.imported", order_ids=created_ids, subscribed=subscribed)
    orders_publish(
        type="order.updated", order_ids=[pk for e, pk in written.items() if e in existing], subscribed=subscribed
    )
    # An order that arrives already shipped or cancelled has no stock of ours to release or ship.
    settled_on_arrival = {OrderStatus.CANCELLED, *SHIPPED_STATUSES}
    stock_holds = allocate(
        store=store,
        new_orders=inserted,
        demands=[
            Demand.of(pk, incoming[e])
            for e, pk in written.items()
            if not (pk in inserted and incoming[e].status in settled_on_arrival)
        ],
    )
    desired = {pk: {**holds[external_id], **stock_holds.get(pk, {})} for external_id, pk in written.items()}
    _sync_holds(store.organization_id, desired, now, subscribed=subscribed, new_orders=inserted)
    newly_held = [pk for pk, reasons in stock_holds.items() if reasons]
    if newly_held:
        Order.objects.filter(pk__in=newly_held).update(is_held=True)
    orders_imported.send(order_ids=list(written.values()))
    created = sum(1 for e in written if e not in existing)
    return UpsertResult(created, len(written) - created, len(incoming) - len(written), newest)


def _delete_merged_lines(written: dict[str, object], incoming: dict[str, PlatformOrder]) -> None:
    """Rows whose units a re-import merged into another line (a line's units split by state, then alike again) are
    now counted by that line: delete them so no unit counts twice."""
    if not written:
        return  # new orders only: no lines to merge
    keys = {pk: {_line_key(line) for line in incoming[external_id].lines} for external_id, pk in written.items()}
    stale = [
        pk
        for pk, order_pk, key in OrderLine.objects.filter(order_id__in=list(keys)).values_list(
            "pk", "order_id", "external_id"
        )
        if key not in keys[order_pk]
    ]
    if stale:
        OrderLine.objects.filter(pk__in=stale).delete()


def _record_status_changes(
    store: Store,
    incoming: dict[str, PlatformOrder],
    existing: dict[str, tuple[object, str, datetime]],
    written: dict[str, object],
    now: datetime,
) -> None:
    changes = []
    for external_id, pk in written.items():
        order = incoming[external_id]
        before = existing[external_id][1] if external_id in existing else ""
        if before != order.status:
            changes.append(
                {
                    "organization_id": store.organization_id,
                    "order_id": pk,
                    "from_status": before,
                    "to_status": order.status,
                    "changed_at": order.updated_at or now,
                    "recorded_at": now,
                }
            )
    insert(OrderStatusChange, changes)


def _address_of(row: dict[str, object]) -> tuple[object, ...]:
    return tuple(row[name] for name in ADDRESS_FIELDS)


def _announce_changes(
    incoming: dict[str, PlatformOrder],
    existing: dict[str, tuple[object, str, datetime]],
    addresses_before: dict[str, tuple[bool, tuple[object, ...]]],
    written: dict[str, object],
    now: datetime,
) -> None:
    """Orders this import moved to CANCELLED, and orders whose address is now another one: each told once,
    to the apps above (they act inside this transaction, so a failure leaves the import undone and retried)."""
    cancelled = [
        pk
        for external_id, pk in written.items()
        if incoming[external_id].status == OrderStatus.CANCELLED
        and external_id in existing
        and existing[external_id][1] not in ("", OrderStatus.CANCELLED)
    ]
    if cancelled:
        orders_cancelled.send(order_ids=cancelled)
    moved = []
    for external_id, pk in written.items():
        address, before = incoming[external_id].address, addresses_before.get(external_id)
        if address is None or before is None:
            continue
        was_masked, old = before
        new = _address_of(order_address_columns(address))
        # A masked name or phone ("D**** K***") says nothing of who it is now: then only the place is compared.
        skip = 2 if was_masked or address.is_masked else 0  # leave out name and phone
        if new[skip:] != old[skip:]:
            moved.append(pk)
    if moved:
        changed_at = max((incoming[e].updated_at or now for e, pk in written.items() if pk in moved), default=now)
        orders_address_changed.send(order_ids=moved, changed_at=changed_at)


def order_address_columns(address: Address) -> dict[str, object]:
    """The address columns as `_order_row` writes them (so before and after compare alike)."""
    return {
        "recipient_name": address.name[:200],
        "recipient_phone": address.phone[:64],
        "address_line1": address.line1[:255],
        "address_line2": address.line2[:255],
        "city": address.city[:100],
        "state": address.state[:100],
        "postal_code": address.postal_code[:32],
        "country_code": address.region_code[:2],
    }


def _sync_holds(
    organization_id: object,
    desired: dict[object, dict[str, str]],
    now: datetime,
    *,
    subscribed: frozenset[str],
    new_orders: Collection[object] = (),
) -> None:
    """Open the holds that now apply and release the ones that no longer do (history is kept).

    `new_orders` were inserted by this transaction, so they have no holds yet: they are not looked up. A first
    import then reads no hold at all, whatever the planner believes of the holds table."""
    known = [order_id for order_id in desired if order_id not in new_orders]
    open_holds = (
        {
            (order_id, reason): pk
            for pk, order_id, reason in OrderHold.objects.filter(
                order_id__in=known, released_at__isnull=True
            ).values_list("pk", "order_id", "reason")
        }
        if known
        else {}
    )
    release = [pk for (order_id, reason), pk in open_holds.items() if reason not in desired[order_id]]
    if release:
        OrderHold.objects.filter(pk__in=release).update(released_at=now)
    placed = [
        {
            "organization_id": organization_id,
            "order_id": order_id,
            "reason": reason,
            "detail": detail[:300],
            "created_at": now,
        }
        for order_id, reasons in desired.items()
        for reason, detail in reasons.items()
        if (order_id, reason) not in open_holds
    ]
    insert(OrderHold, placed)
    orders_publish(type="order.held", order_ids=[hold["order_id"] for hold in placed], subscribed=subscribed)
    had_holds = {order_id for order_id, _ in open_holds}
    released = [o for o in had_holds if not desired[o]]
    orders_publish(type="order.released", order_ids=released, subscribed=subscribed)


# ------------------------------------------------------------------------------------------------------ sync
@dataclass(frozen=True)
class SyncResult:
    acquired: bool  # False: another worker holds this store's (or this window's) lease; nothing was done
    pages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    finished: bool = True  # False: stopped at the time budget; the task continues from the cursor
    # A first import cut into windows (docs/adr/0037): the windows no worker holds, each to be given one.
    windows: tuple[str, ...] = ()
    backfilled: bool = False  # this window was the backfill's last: the store's cursor continues from its end


def _lease_acquire(store: Store, now: datetime) -> bool:
    lease = timedelta(seconds=settings.ORDER_SYNC_LEASE_SECONDS)
    return bool(
        Store.objects.filter(pk=store.pk)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .update(sync_lease_until=now + lease, last_sync_started_at=now)
    )


def store_sync(*, store: Store, time_budget: float | None = None) -> SyncResult:
    """Import every order updated since the store's cursor (minus an overlap), page by page.

    Pages come in ascending update time; each is committed with the cursor moved to the newest update time in it
    (the platform's clock, never ours), so a crash loses nothing and repeats at most one page plus the overlap;
    upserts make repeats harmless. Holds a lease on the store so two
    workers never page the same store at once; a dead worker's lease simply expires.

    The next pages are listed and translated while the current one commits (docs/adr/0030, 0033): the platform's
    round trips, the translation of its JSON and the database's work overlap instead of adding up, and only the
    orders that are new or newer than our copies are translated at all. The cursor still moves only with a
    committed page, so a crash loses nothing more than before: at most the pages that were in flight.
    """
    started = timezone.now()
    if not _lease_acquire(store, started):
        return SyncResult(acquired=False)
    window_start = (store.sync_cursor or started - timedelta(days=store.backfill_days)) - timedelta(
        seconds=settings.ORDER_SYNC_OVERLAP_SECONDS
    )
    try:
        client = store_client(store)
        first: ListedOrders | None = None
        if store.sync_cursor is None:
            windows = _backfill_windows_due(store)
            if windows is None:  # no backfill under way: this is a first import; is it large enough to cut?
                first = client.list_changed_orders(since=window_start)
                windows = _backfill_plan(store, client, first, since=window_start, until=started)
            if windows is not None:
                # Planning clears the last error (the platform answered); handing out windows leaves a window's own.
                cleared = {"last_sync_error": ""} if first is not None else {}
                Store.objects.filter(pk=store.pk).update(sync_lease_until=None, **cleared)
                return SyncResult(acquired=True, windows=tuple(str(pk) for pk in windows))
        # No upper bound from our clock: the platform's clock is the one update times come from.
        finished, totals = _import_pages(
            store,
            lambda token: client.list_changed_orders(since=window_start, cursor=token),
            time_budget=time_budget,
            first=first,
        )
        fields: dict[str, object] = {"sync_lease_until": None, "last_sync_error": ""}
        if finished:
            fields["last_synced_at"] = timezone.now()
        Store.objects.filter(pk=store.pk).update(**fields)
    except PlatformError as error:
        _sync_failed(store, error, Store.objects.filter(pk=store.pk), "sync_lease_until")
        raise
    return SyncResult(acquired=True, finished=finished, **totals)


def backfill_window_import(*, window: BackfillWindow, time_budget: float | None = None) -> SyncResult:
    """Import one window of a store's first import, as `store_sync` imports a store: page by page, each page
    committed with the window's cursor, under the window's own lease (docs/adr/0037).

    The window's `until` bounds the listing, so windows never overlap and no order is imported by two of them
    except at a shared edge's second, which the upsert makes harmless. When the window is done and it was the
    backfill's last, the store's cursor is set to the backfill's end: the store's own sync continues from there."""
    started = timezone.now()
    if not _window_lease_acquire(window, started):
        return SyncResult(acquired=False)
    store = window.store
    since = window.cursor or window.since
    windows = BackfillWindow.objects.filter(pk=window.pk)
    try:
        client = store_client(store)
        finished, totals = _import_pages(
            store,
            lambda token: client.list_changed_orders(since=since, until=window.until, cursor=token),
            time_budget=time_budget,
            window=window,
        )
        if not finished:
            windows.update(lease_until=None)
            return SyncResult(acquired=True, finished=False, **totals)
        return SyncResult(acquired=True, backfilled=_window_finished(window), **totals)
    except PlatformError as error:
        _sync_failed(store, error, windows, "lease_until")
        raise


def _import_pages(
    store: Store,
    list_page: Callable[[str | None], ListedOrders],
    *,
    time_budget: float | None,
    first: ListedOrders | None = None,
    window: BackfillWindow | None = None,
) -> tuple[bool, dict[str, int]]:
    """Page through a listing to its end or the time budget, committing each page; (finished, totals)."""
    budget = time_budget if time_budget is not None else settings.ORDER_SYNC_TIME_BUDGET_SECONDS
    deadline = time.monotonic() + budget
    totals = {"pages": 0, "created": 0, "updated": 0, "unchanged": 0}
    finished = True
    statistics = PlannerStatistics(IMPORTED_TABLES)
    pipeline = _PagePipeline(
        list_page=list_page,
        prepare=lambda listed: _page_to_import(store, listed),
        more=lambda: time.monotonic() <= deadline,
    )
    with pipeline:
        for page in pipeline.pages(first):
            result = _commit_page(store, page, window=window)
            totals["pages"] += 1
            totals["created"] += result.created
            totals["updated"] += result.updated
            totals["unchanged"] += result.unchanged
            statistics.written(result.created)
            # False: stopped at the time budget with the cursor committed; the next run picks up from it.
            finished = page.next_cursor is None
    return finished, totals


def _sync_failed(store: Store, error: PlatformError, leased: models.QuerySet, lease_field: str) -> None:
    """The platform refused: release the lease, say why on the store (the dashboard shows it), mark a refused
    authorization. The next poll tries again."""
    leased.update(**{lease_field: None})
    Store.objects.filter(pk=store.pk).update(
        last_sync_error=f"{error.message} (code {error.code})"[:1000], last_sync_error_at=timezone.now()
    )
    if isinstance(error, PlatformAuthError) and store.authorization is not None:
        authorization_mark(authorization=store.authorization, status="failed", detail=error.message)


def _backfill_plan(
    store: Store, client: SalesChannel, first: ListedOrders, *, since: datetime, until: datetime
) -> list[object] | None:
    """Cut a first import into windows of about equal order counts, or None: import it in one piece.

    The first page's `total_count` says how large the import is; each edge between two windows is found by
    bisecting on the platform's count of orders updated before it (one cheap call per step, about a dozen per
    edge, to within 5 % of a window's share). Where the platform cannot count, the import is not cut."""
    total = first.total_count or 0
    count = min(settings.ORDER_BACKFILL_WINDOWS, total // max(settings.ORDER_BACKFILL_WINDOW_ORDERS, 1))
    if count < 2 or not first.next_cursor:
        return None
    edges = [_whole_second(since)]
    for part in range(1, count):
        edge = _update_time_with_orders_before(
            client, since=since, low=edges[-1], high=until, target=total * part // count, tolerance=total // count // 20
        )
        if edge is None:
            return None
        if edge > edges[-1]:
            edges.append(edge)
    if edges[-1] >= until:
        return None
    edges.append(until)
    windows = [
        BackfillWindow(organization_id=store.organization_id, store=store, since=start, until=end)
        for start, end in itertools.pairwise(edges)
    ]
    BackfillWindow.objects.bulk_create(windows)
    return [window.pk for window in windows]


def _update_time_with_orders_before(
    client: SalesChannel, *, since: datetime, low: datetime, high: datetime, target: int, tolerance: int
) -> datetime | None:
    """A whole second t in (low, high] with about `target` orders updated in [since, t); None if uncountable."""
    while high - low > timedelta(seconds=1):
        middle = _whole_second(low + (high - low) / 2)
        counted = client.count_changed_orders(since=since, until=middle)
        if counted is None:
            return None
        if abs(counted - target) <= tolerance:
            return middle
        low, high = (middle, high) if counted < target else (low, middle)
    return _whole_second(high)


def _whole_second(moment: datetime) -> datetime:
    # Platforms filter update times in whole seconds: an edge shared by two windows must mean the same to both.
    return moment.replace(microsecond=0)


def _backfill_windows_due(store: Store) -> list[object] | None:
    """None: no backfill under way. Otherwise the windows of it that no worker holds (perhaps none)."""
    now = timezone.now()
    windows = list(
        BackfillWindow.objects.filter(store=store, finished_at__isnull=True).values_list("pk", "lease_until")
    )
    if not windows:
        return None
    return [pk for pk, lease in windows if lease is None or lease < now]


def _window_lease_acquire(window: BackfillWindow, now: datetime) -> bool:
    lease = timedelta(seconds=settings.ORDER_SYNC_LEASE_SECONDS)
    return bool(
        BackfillWindow.objects.filter(pk=window.pk, finished_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + lease)
    )


def _window_finished(window: BackfillWindow) -> bool:
    """Mark the window done; True when it was the backfill's last: then the store's cursor is set to the end of the
    backfill and the windows are deleted, together, so a store never holds a cursor and windows at once."""
    now = timezone.now()
    with transaction.atomic():
        # The windows' last steps one at a time (the store's row is their lock): the last one sees all the others
        # finished, however close together they end.
        list(Store.objects.select_for_update().filter(pk=window.store_id).values_list("pk", flat=True))
        BackfillWindow.objects.filter(pk=window.pk).update(finished_at=now, lease_until=None)
        windows = BackfillWindow.objects.filter(store_id=window.store_id)
        if windows.filter(finished_at__isnull=True).exists():
            return False
        end = Value(windows.aggregate(end=Max("until"))["end"], output_field=models.DateTimeField())
        Store.objects.filter(pk=window.store_id).update(
            sync_cursor=Greatest(Coalesce(F("sync_cursor"), end), end), last_synced_at=now, last_sync_error=""
        )
        windows.delete()
    return True


@dataclass(frozen=True)
class _PageToImport:
    """A listed page with only the orders that may need writing translated."""

    orders: tuple[PlatformOrder, ...]
    held: int  # listed orders we already hold at their listed version: not translated, nothing to write
    newest_update: datetime | None  # over the whole page: the cursor may move past the held orders too
    next_cursor: str | None


def _page_to_import(store: Store, listed: ListedOrders) -> _PageToImport:
    """Compare the page's versions with our copies and translate only the new or newer orders.

    This runs on the pipeline's own thread, so the versions it reads may predate the page being committed meanwhile.
    That is harmless: a stored version only ever moves forward, so an order skipped here as held would be skipped by
    the upsert too, and an order translated on a stale version is simply found unchanged by the upsert."""
    versions = listed.versions
    held = _versions_held(store, versions)
    wanted = {
        order_id
        for order_id, version in versions.items()
        if version is None or order_id not in held or version > held[order_id]
    }
    return _PageToImport(
        orders=tuple(listed.orders(wanted)),
        held=len(versions) - len(wanted),
        newest_update=max((version for version in versions.values() if version), default=None),
        next_cursor=listed.next_cursor,
    )


class _PagePipeline:
    """Lists a store's pages on one thread and compares and translates them on another while the caller commits.

    Listing is a chain of round trips, since each page's token comes with the page before it, so it is the floor of
    a sync and nothing else is done in it. Each stage and each queue between them holds one page at most, so at most
    five pages are held at once (the caller's included), whatever the size of the store. Both threads run in a copy
    of the caller's context (the organization in scope travels with it) and close their own database connections
    when they end. `more()` is asked before each request after the first: False stops the listing, and the pages
    already listed are still handed over."""

    def __init__(
        self,
        *,
        list_page: Callable[[str | None], ListedOrders],
        prepare: Callable[[ListedOrders], _PageToImport],
        more: Callable[[], bool],
    ) -> None:
        self._list_page = list_page
        self._prepare = prepare
        self._more = more
        self._listed: queue.Queue[ListedOrders | _End] = queue.Queue(maxsize=1)
        self._prepared: queue.Queue[_PageToImport | _End] = queue.Queue(maxsize=1)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> _PagePipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # The lister stops before its next request and ends its queue; the preparer drops what is left in it;
        # what the preparer hands over is drained here, so no thread stays blocked on a full queue.
        self._stopping.set()
        while any(thread.is_alive() for thread in self._threads):
            with contextlib.suppress(queue.Empty):
                self._prepared.get_nowait()
            for thread in self._threads:
                thread.join(timeout=0.01)

    def pages(self, listed: ListedOrders | None = None) -> Iterator[_PageToImport]:
        """`listed`: the first page, when the caller has listed it already."""
        # The first page in the caller's thread: a token refresh, if one is due, happens in the caller's own
        # database connection and transaction, not in a thread's.
        first = self._prepare(listed if listed is not None else self._list_page(None))
        if first.next_cursor and self._more():
            self._start(self._list_all, first.next_cursor)
            self._start(self._prepare_all)
        yield first
        if not self._threads:
            return
        while not isinstance(page := self._prepared.get(), _End):
            yield page
        if page.error is not None:
            raise page.error

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(
            target=contextvars.copy_context().run, args=(target, *args), name="order-pages", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _list_all(self, cursor: str) -> None:
        end = _End()
        try:
            next_cursor: str | None = cursor
            while next_cursor and not self._stopping.is_set() and self._more():
                listed = self._list_page(next_cursor)
                self._listed.put(listed)
                next_cursor = listed.next_cursor
        except Exception as error:  # handed to the caller, who raises it after the pages listed before it
            end = _End(error)
        finally:
            self._listed.put(end)
            connections.close_all()

    def _prepare_all(self) -> None:
        # Reads the lister's queue to its end whatever happens, so the lister is never left blocked on it.
        end = _End()
        try:
            while not isinstance(listed := self._listed.get(), _End):
                if end.error is not None or self._stopping.is_set():
                    continue  # dropped: nobody will commit it
                try:
                    self._prepared.put(self._prepare(listed))
                except Exception as error:  # handed to the caller once the lister has stopped
                    end = _End(error)
                    self._stopping.set()
            if end.error is None:
                end = listed
        finally:
            self._prepared.put(end)
            connections.close_all()


@dataclass(frozen=True)
class _End:
    """No more pages in a stage: the listing reached its last page or its time budget, or `error` stopped it."""

    error: Exception | None = None


# The tables an import writes, the orders first (what they hold is what the schedule counts): docs/adr/0030.
IMPORTED_TABLES = ("orders_order", "orders_orderline", "orders_orderhold", "orders_orderstatuschange")


def _commit_page(store: Store, page: _PageToImport, *, window: BackfillWindow | None = None) -> UpsertResult:
    """Write a page and move the cursor it reached, the store's or its backfill window's, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        written = orders_upsert(store=store, orders=page.orders)
        result = replace(written, unchanged=written.unchanged + page.held, newest_update=page.newest_update)
        lease_until = now + timedelta(seconds=settings.ORDER_SYNC_LEASE_SECONDS)
        imported: dict[str, object] = (
            {"orders_imported": F("orders_imported") + result.created} if result.created else {}
        )
        cursor_field = "sync_cursor" if window is None else "cursor"
        moved: dict[str, object] = {}
        if result.newest_update is not None:
            # Forward only, and only as far as this committed page reaches.
            newest = Value(result.newest_update, output_field=models.DateTimeField())
            moved[cursor_field] = Greatest(Coalesce(F(cursor_field), newest), newest)
        if window is None:
            Store.objects.filter(pk=store.pk).update(sync_lease_until=lease_until, **imported, **moved)
        else:
            BackfillWindow.objects.filter(pk=window.pk).update(lease_until=lease_until, **moved)
            if imported:
                Store.objects.filter(pk=store.pk).update(**imported)
    return result


def orders_fetch(*, store: Store, order_ids: Sequence[str]) -> UpsertResult:
    """Fetch these orders now (a webhook said they changed) and import them; racing the poller is harmless."""
    orders = store_client(store).get_orders(list(order_ids))
    return orders_upsert(store=store, orders=orders, changed=True)


# ------------------------------------------------------------------------------------------- manual orders
@dataclass(frozen=True)
class ManualLine:
    seller_sku: str
    quantity: int
    product_name: str = ""
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class ManualOrderInput:
    """An order a partner system (or a person) creates by hand: the same shape the platforms give us."""

    reference: str  # the partner's own order number; unique per organization
    recipient: Address
    lines: tuple[ManualLine, ...]
    currency: str = "USD"
    buyer_message: str = ""
    ship_by: datetime | None = None


def _manual_store() -> Store:
    store = Store.objects.filter(platform=Platform.MANUAL).first()
    return store or Store.objects.create(platform=Platform.MANUAL, external_id="manual", name="Manual orders")


def _manual_order_value_errors(data: ManualOrderInput) -> dict[str, list[str]]:
    """The input ranges of docs/adr/0014, the same checks as a platform payload or a CSV cell gets."""
    total = sum((line.unit_price * line.quantity for line in data.lines if line.unit_price is not None), Decimal(0))
    checks: list[tuple[str, str, Callable[[], None]]] = [
        ("ship_by", "", lambda: inputs.validate_moment(data.ship_by)),
        ("currency", "", lambda: inputs.validate_currency(data.currency)),
        ("recipient", "country code: ", lambda: inputs.validate_country_code(data.recipient.region_code)),
        ("buyer_message", "", lambda: inputs.validate_text(data.buyer_message)),
        ("lines", "the order's total: ", lambda: inputs.validate_amount(total)),
    ]
    for number, line in enumerate(data.lines, start=1):
        price = line.unit_price
        checks.append(("lines", f"Line {number}, unit price: ", lambda price=price: inputs.validate_amount(price)))
    errors: dict[str, list[str]] = {}
    for name, prefix, check in checks:
        try:
            check()
        except ValidationError as error:
            errors.setdefault(name, []).extend(f"{prefix}{message}" for message in error.messages)
    return errors


def order_create_manual(*, actor: Actor, data: ManualOrderInput) -> Order:
    """Validate and import a manual order through the same upsert as platform orders (one write path)."""
    organization = current_organization()
    errors: dict[str, list[str]] = {}
    if not data.reference.strip():
        errors["reference"] = ["Give the order a reference (your own order number)."]
    if not data.lines:
        errors["lines"] = ["An order needs at least one line."]
    for index, line in enumerate(data.lines):
        if not line.seller_sku.strip():
            errors.setdefault("lines", []).append(f"Line {index + 1}: the SKU is missing.")
        if not 1 <= line.quantity <= 999:
            errors.setdefault("lines", []).append(f"Line {index + 1}: quantity must be 1 to 999.")
    problems = address_problems(data.recipient)
    if problems or not data.recipient.name.strip():
        errors["recipient"] = problems + ([] if data.recipient.name.strip() else ["no recipient name"])
    for name, messages in _manual_order_value_errors(data).items():
        errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        store = _manual_store()
        if Order.objects.filter(store=store, external_id=data.reference).exists():
            raise ValidationError({"reference": [f"An order with reference {data.reference} already exists."]})
        now = timezone.now()
        # An id per unit ("<reference>-<n>", numbered across the order), as a platform that repeats lines would
        # give: the rest of Dropline (picking, labels) sees no difference.
        numbers = iter(range(1, sum(line.quantity for line in data.lines) + 1))
        units = [
            PlatformOrderLine(
                line_ids=tuple(f"{data.reference}-{next(numbers)}" for _ in range(line.quantity)),
                quantity=line.quantity,
                sku_id=line.seller_sku,
                product_id="",
                seller_sku=line.seller_sku,
                product_name=line.product_name,
                sale_price=Money(line.unit_price, data.currency) if line.unit_price is not None else None,
            )
            for line in data.lines
        ]
        subtotal = sum((line.unit_price or Decimal(0)) * line.quantity for line in data.lines)
        platform_order = PlatformOrder(
            platform=Platform.MANUAL,
            order_id=data.reference,
            status=OrderStatus.AWAITING_SHIPMENT,
            label_source=None,
            fulfilled_by=FulfilledBy.SELLER,
            lines=tuple(units),
            address=data.recipient,
            created_at=now,
            updated_at=now,
            paid_at=now,
            totals=OrderTotals(
                currency=data.currency, subtotal=Money(subtotal, data.currency), total=Money(subtotal, data.currency)
            ),
            deadlines=Deadlines(ship_by=data.ship_by),
            buyer_message=data.buyer_message,
        )
        orders_upsert(store=store, orders=[platform_order])
        order = Order.objects.get(store=store, external_id=data.reference)
        audit_record(
            organization=organization,
            actor=actor,
            action="order.created_manually",
            target=order,
            changes={"reference": data.reference, "units": order.unit_count},
        )
    return order


# ------------------------------------------------------------------------------------------- holds and tags
class HoldStillApplies(ValidationError):
    """Asked to release a hold whose cause is still there: the hold stays, and `fix` says what to do first."""

    def __init__(self, hold: OrderHold) -> None:
        super().__init__(f"The hold still applies: {hold.detail or hold.get_reason_display()}. {hold.fix}")
        self.hold = hold


def order_hold_release(*, order: Order, hold: OrderHold, actor: Actor) -> OrderHold:
    """Release a hold once its cause is fixed, the way Dropline would on its own, only now: a stock hold (unmapped
    SKU, out of stock, mixed sources) by trying the reservation again, a platform hold (address, remorse window,
    buyer's cancellation request) by reading the order again from its channel. A hold is a fact, not a flag: one
    whose cause remains stays open (HoldStillApplies), since the next import would only open it again. Releasing a
    released hold changes nothing."""
    if hold.released_at is not None:
        return hold
    if hold.reason in STOCK_HOLDS:
        orders_reallocate(order_ids=[order.pk])
    elif order.store.platform != Platform.MANUAL:
        orders_fetch(store=order.store, order_ids=[order.external_id])
    hold.refresh_from_db()
    if hold.released_at is None:
        raise HoldStillApplies(hold)
    audit_record(
        organization=order.organization,
        actor=actor,
        action="order.hold_released",
        target=order,
        changes={"reason": hold.reason},
    )
    return hold


TAG_MAX_LENGTH = 50
TAGS_PER_ORDER = 20


@transaction.atomic
def order_tags_change(*, order: Order, actor: Actor, add: Sequence[str] = (), remove: Sequence[str] = ()) -> list[str]:
    """Add and remove tags (the ones rules set, and people's own), in the order they were first added. Tags are
    trimmed; an empty one, one over TAG_MAX_LENGTH characters, or more than TAGS_PER_ORDER on the order is refused
    whole. Returns the order's tags."""
    add = [tag.strip() for tag in add]
    remove_set = {tag.strip() for tag in remove}
    if any(not tag or len(tag) > TAG_MAX_LENGTH for tag in add):
        raise ValidationError({"add": [f"Each tag is 1 to {TAG_MAX_LENGTH} characters."]})
    current = Order.objects.select_for_update().values_list("tags", flat=True).get(pk=order.pk)
    tags = [tag for tag in current if tag not in remove_set]
    tags += [tag for tag in dict.fromkeys(add) if tag not in tags]
    if len(tags) > TAGS_PER_ORDER:
        raise ValidationError({"add": [f"An order has at most {TAGS_PER_ORDER} tags."]})
    if tags != current:
        Order.objects.filter(pk=order.pk).update(tags=tags, updated_at=timezone.now())
        audit_record(
            organization=order.organization,
            actor=actor,
            action="order.tagged",
            target=order,
            changes={"added": [t for t in tags if t not in current], "removed": [t for t in current if t not in tags]},
        )
    order.tags = tags
    return tags
