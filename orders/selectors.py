"""Reads of orders: the list (status tabs, search, keyset pages, tab counts) and one order's detail.

Everything here goes through the scoped managers, so it reads the organization in scope and nothing else. The list is
built for an organization with a million orders: every filter and search branch is answerable from an index, pages
are keyset pages (no OFFSET, no COUNT of the whole result), and the tab counts are two grouped queries.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connections
from django.db.models import F, Prefetch, Q, QuerySet, Value
from django.shortcuts import get_object_or_404
from django.utils import timezone

from erp.events import Contributions
from erp.models import AuditEntry
from erp.tenancy import current_organization
from integrations.interface import FulfilledBy, LabelSource
from integrations.models import Store
from orders import combinable
from orders.models import (
    HOLD_FIXES,
    OPEN_STATUSES,
    Order,
    OrderHold,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    TrackingEvent,
)

URGENT_WITHIN = timedelta(hours=6)


# --------------------------------------------------------------------------------------------------- status tabs
@dataclass(frozen=True)
class StatusTab:
    key: str
    label: str
    statuses: tuple[str, ...] = ()  # empty: every status
    held: bool = False  # the "Held" tab: any open hold, whatever the status
    open: bool = False  # orders still to ship: sorted by ship-by by default, deadlines shown as countdowns


STATUS_TABS: tuple[StatusTab, ...] = (
    StatusTab("to_ship", "To ship", (OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING), open=True),
    StatusTab("on_hold", "On hold (remorse)", (OrderStatus.ON_HOLD,), open=True),
    StatusTab("held", "Held", held=True, open=True),
    StatusTab("awaiting_collection", "Awaiting collection", (OrderStatus.AWAITING_COLLECTION,)),
    StatusTab("in_transit", "In transit", (OrderStatus.IN_TRANSIT,)),
    StatusTab("delivered", "Delivered/Completed", (OrderStatus.DELIVERED, OrderStatus.COMPLETED)),
    StatusTab("cancelled", "Cancelled", (OrderStatus.CANCELLED,)),
    StatusTab("all", "All"),
)
TABS_BY_KEY = {tab.key: tab for tab in STATUS_TABS}
DEFAULT_TAB = "to_ship"


def status_condition(status: str) -> Q:
    """A tab key (`to_ship`, `held`...) or a platform status (`AWAITING_SHIPMENT`...) as a condition."""
    tab = TABS_BY_KEY.get(status)
    if tab is None:
        return Q(status=status)
    if tab.held:
        return Q(is_held=True)
    if tab.statuses:
        return Q(status__in=tab.statuses) if len(tab.statuses) > 1 else Q(status=tab.statuses[0])
    return Q()


def status_is_open(status: str | None) -> bool:
    tab = TABS_BY_KEY.get(status or "")
    if tab is not None:
        return tab.open
    return status in OPEN_STATUSES


COUNT_CAP = 10_000  # tabs count up to this many orders, then say "10,000+"


@dataclass(frozen=True)
class StatusCounts:
    tabs: dict[str, int]  # tab key -> orders, at most COUNT_CAP
    capped: frozenset[str]  # tabs holding more than COUNT_CAP orders

    def of(self, status: str) -> int | None:
        """The number of orders a tab lists (None for a platform status, which has no tab)."""
        return self.tabs.get(status)

    def label(self, key: str) -> str:
        return f"{self.tabs[key]:,}+" if key in self.capped else f"{self.tabs[key]:,}"


def status_counts(orders: QuerySet[Order], *, cap: int = COUNT_CAP) -> StatusCounts:
    """Orders per tab among `orders` (already filtered by everything but the status), each counted up to `cap`.

    One statement of one bounded sub-select per tab: `SELECT (SELECT COUNT(*) FROM (... LIMIT cap+1)), ...`. A
    GROUP BY status would read every order of the organization: ~100 ms per million orders on PostgreSQL even as an
    index-only scan, for numbers ("Delivered: 912,345") nobody acts on. Small tabs, the ones worked from (to ship,
    held, on hold), are exact.
    """
    orders = orders.order_by().prefetch_related(None).select_related(None)
    selects, params = [], []
    for n, tab in enumerate(STATUS_TABS):
        bounded = orders.filter(status_condition(tab.key)).annotate(one=Value(1)).values("one")[: cap + 1]
        sql, sql_params = bounded.query.get_compiler(using=bounded.db).as_sql()
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) AS tab{n})")  # noqa: S608  (ORM-compiled, parametrised)
        params.extend(sql_params)
    with connections[orders.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        row = cursor.fetchone()
    tabs = {tab.key: min(count, cap) for tab, count in zip(STATUS_TABS, row, strict=True)}
    capped = frozenset(tab.key for tab, count in zip(STATUS_TABS, row, strict=True) if count > cap)
    return StatusCounts(tabs=tabs, capped=capped)


# ------------------------------------------------------------------------------------------------------ the list
def orders_list() -> QuerySet[Order]:
    """The base of every order list: what a row shows, without per-row queries (open holds come in one query)."""
    return Order.objects.select_related("store").prefetch_related(
        Prefetch("holds", queryset=OrderHold.objects.filter(released_at__isnull=True), to_attr="open_holds")
    )


def search_branches(term: str) -> list[Q]:
    """What a search term matches, one condition per way: order id (exact or prefix), tracking number (exact),
    seller SKU (exact) or buyer name (contains). Each is answerable from its own index; together (an OR) they
    would make PostgreSQL scan every order of the organization, so they are never ORed."""
    term = term.strip()
    if not term:
        return []
    by_id = Q(external_id__startswith=term)
    after = _prefix_upper_bound(term)
    if after is not None:  # the range lets a plain btree serve the prefix whatever the collation
        by_id &= Q(external_id__gte=term, external_id__lt=after)
    branches = [by_id, Q(tracking_number=term), sku_condition(term)]
    if not term.isdigit():  # order ids and most tracking numbers are digits; names never are
        branches.append(Q(recipient_name__icontains=term))
    return branches


def search_condition(term: str) -> Q:
    """The search as one condition (for counts): each branch its own indexed sub-select, UNIONed into one
    `id IN (...)`. A page of results does better (`orders_page(search=...)`)."""
    branches = search_branches(term)
    if not branches:
        return Q()
    first, *rest = [Order.objects.filter(branch).values("pk") for branch in branches]
    return Q(pk__in=first.union(*rest))


def _prefix_upper_bound(prefix: str) -> str | None:
    last = prefix[-1]
    if ord(last) >= 0x10FFFF:
        return None
    return prefix[:-1] + chr(ord(last) + 1)


def sku_condition(sku: str) -> Q:
    return Q(pk__in=OrderLine.objects.filter(seller_sku=sku).values("order_id"))


def hold_reason_condition(reason: str, *, held_already: bool = False) -> Q:
    """Orders with an open hold for `reason`. `is_held` is implied; saying it (once: a repeated condition makes
    PostgreSQL misjudge how many rows match) lets it walk the (is_held, ship_by) index instead of every order."""
    open_holds = OrderHold.objects.filter(reason=reason, released_at__isnull=True).values("order_id")
    return Q(pk__in=open_holds) if held_already else Q(is_held=True, pk__in=open_holds)


def ship_within_condition(hours: float, *, now: datetime | None = None) -> Q:
    """Ship-by deadline within the next `hours` hours; overdue orders are included (they are the most urgent)."""
    return Q(ship_by__lte=(now or timezone.now()) + timedelta(hours=hours))


# ------------------------------------------------------------------------------------------------- keyset pages
@dataclass(frozen=True)
class Ordering:
    """A list order: one column, then the id as a tie-break. NULL sorts as +infinity (PostgreSQL's native btree
    order), so `ship_by` puts orders without a deadline last and each ordering is served by an index."""

    key: str
    field: str
    descending: bool
    tie: str = "pk"  # the tie-break column: the order's id, here or as `lines__order_id` on a line (`on_lines`)

    def order_by(self, *, reverse: bool = False) -> list[Any]:
        descending = self.descending != reverse
        if descending:
            return [F(self.field).desc(nulls_first=True), F(self.tie).desc()]
        return [F(self.field).asc(nulls_last=True), F(self.tie).asc()]

    def on_lines(self) -> Ordering | None:
        """The same order read from the order's lines, where a line repeats its order's sort key and the
        (organization, seller_sku, -placed_at, -order) index serves it; None where a line does not hold the key."""
        if self.field != "placed_at":
            return None
        return replace(self, field="lines__placed_at", tie="lines__order_id")

    def after(self, value: Any, pk: UUID, *, reverse: bool = False) -> list[Q]:
        """Rows strictly after (value, pk) in this order (or the reversed one), as consecutive segments.

        Each segment starts with a plain range on the column (`ship_by >= v`) that an index can seek to; an OR
        with `IS NULL` would make PostgreSQL read the index from its start instead. The NULL rows are their own
        segment, read only when the page is not full yet.
        """
        f, tie = self.field, self.tie
        if self.descending != reverse:  # descending: NULLs first, then values high to low
            if value is None:
                return [Q(**{f"{f}__isnull": True, f"{tie}__lt": pk}), Q(**{f"{f}__isnull": False})]
            return [Q(**{f"{f}__lte": value}) & (Q(**{f"{f}__lt": value}) | Q(**{f"{tie}__lt": pk}))]
        if value is None:  # ascending: values low to high, then NULLs
            return [Q(**{f"{f}__isnull": True, f"{tie}__gt": pk})]
        return [
            Q(**{f"{f}__gte": value}) & (Q(**{f"{f}__gt": value}) | Q(**{f"{tie}__gt": pk})),
            Q(**{f"{f}__isnull": True}),
        ]


ORDERINGS: dict[str, Ordering] = {
    "ship_by": Ordering("ship_by", "ship_by", descending=False),
    "-placed_at": Ordering("-placed_at", "placed_at", descending=True),
    "placed_at": Ordering("placed_at", "placed_at", descending=False),
}
ORDERING_CHOICES = [
    ("ship_by", "Ship-by deadline, soonest first"),
    ("-placed_at", "Newest first"),
    ("placed_at", "Oldest first"),
]


def default_ordering(status: str | None) -> str:
    return "ship_by" if status_is_open(status) else "-placed_at"


class InvalidCursor(ValueError):
    pass


@dataclass
class OrderPage:
    orders: list[Order]
    next_cursor: str | None
    previous_cursor: str | None


def _encode_cursor(ordering: Ordering, order: Order, *, backwards: bool) -> str:
    value = getattr(order, ordering.field)
    payload = {
        "o": ordering.key,
        "v": value.isoformat() if value is not None else None,
        "i": str(order.pk),
        "b": backwards,
    }
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, ordering: Ordering) -> tuple[datetime | None, UUID, bool]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["o"] != ordering.key:
            raise InvalidCursor("the cursor belongs to another ordering")
        value = datetime.fromisoformat(payload["v"]) if payload["v"] is not None else None
        return value, UUID(payload["i"]), bool(payload["b"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise InvalidCursor(str(error)) from error


def orders_page(
    orders: QuerySet[Order],
    *,
    ordering: str,
    cursor: str | None = None,
    size: int = 50,
    search: str = "",
    sku: str = "",
) -> OrderPage:
    """One keyset page of `orders`: `size + 1` rows read from an index, never an OFFSET or a COUNT.

    A cursor names the row to continue after (or, for "previous", before). Raises InvalidCursor for a cursor that
    was not made by this function for this ordering.

    `search`: a search term (see `search_branches`), applied here rather than as a filter of `orders`. Each branch
    is read as narrow rows (id and sort key) with every filter of `orders`, the branches' rows are sorted and cut
    to the page in the database, and only then are the page's whole orders fetched, by id. A filter
    `id IN (all matches)` would fetch every match whole (20,000 orders for a common surname) to keep 51
    (docs/adr/0031).

    `sku`: orders with a line of this seller SKU (`sku_condition`). Sorted by when they were placed, the page walks
    that SKU's lines in the index's order and stops once it is full (docs/adr/0039); otherwise (by deadline, with a
    search, or where the database cannot pick one row per order as it reads) it is a plain filter.
    """
    order = ORDERINGS[ordering]
    branches = search_branches(search)
    sku = sku.strip()
    by_lines = order.on_lines() if sku and not branches else None
    if by_lines is None or not connections[orders.db].features.can_distinct_on_fields:
        orders, by_lines = (orders.filter(sku_condition(sku)) if sku else orders), None
    backwards = False
    if cursor:
        value, pk, backwards = _decode_cursor(cursor, order)
        segments = (by_lines or order).after(value, pk, reverse=backwards)
    else:
        segments = [Q()]
    rows: list[Order] = []
    for segment in segments:
        wanted = size + 1 - len(rows)
        if branches:
            rows += _search_segment(orders, branches, segment, order, backwards=backwards, limit=wanted)
        elif by_lines is not None:
            rows += _sku_segment(orders, sku, segment, by_lines, backwards=backwards, limit=wanted)
        else:
            rows += orders.filter(segment).order_by(*order.order_by(reverse=backwards))[:wanted]
        if len(rows) > size:
            break
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        has_previous, has_next = more, True
    else:
        has_previous, has_next = cursor is not None, more
    return OrderPage(
        orders=rows,
        next_cursor=_encode_cursor(order, rows[-1], backwards=False) if rows and has_next else None,
        previous_cursor=_encode_cursor(order, rows[0], backwards=True) if rows and has_previous else None,
    )


def _search_segment(
    orders: QuerySet[Order], branches: list[Q], segment: Q, order: Ordering, *, backwards: bool, limit: int
) -> list[Order]:
    order_by = order.order_by(reverse=backwards)
    narrow = [
        orders.filter(segment, branch).prefetch_related(None).values_list("pk", order.field) for branch in branches
    ]
    if connections[orders.db].features.supports_slicing_ordering_in_compound:  # PostgreSQL, not SQLite
        # Each branch sorted and cut to the page on its own (the page's rows are among the branches' first rows),
        # so the union sorts a few hundred rows, not every match.
        narrow = [branch.order_by(*order_by)[:limit] for branch in narrow]
    else:
        narrow = [branch.order_by() for branch in narrow]
    # UNION, not UNION ALL: an order matching two branches is one row.
    first, *rest = narrow
    ids = [pk for pk, _ in first.union(*rest).order_by(*order_by)[:limit]]
    whole = orders.in_bulk(ids)
    return [whole[pk] for pk in ids if pk in whole]


def _sku_segment(
    orders: QuerySet[Order], sku: str, segment: Q, by_lines: Ordering, *, backwards: bool, limit: int
) -> list[Order]:
    """The orders with a line of `sku`, read through those lines in `by_lines`' order: one join, its conditions in
    one `filter()` so the segment and the sort are on the same line. DISTINCT ON keeps one row per order (an order
    may hold the SKU on two lines, in two packages) as the rows stream, so the LIMIT still stops the walk."""
    # The line's own organization, though the orders are already scoped: it leads the lines' index.
    with_sku = Q(lines__organization=current_organization(), lines__seller_sku=sku)
    matching = orders.filter(with_sku & segment).order_by(*by_lines.order_by(reverse=backwards))
    return list(matching.distinct(by_lines.field, by_lines.tie)[:limit])


# ---------------------------------------------------------------------------------------------------- the detail
@dataclass
class SkuGroup:
    """An order's lines of one SKU, shown as one row: their units added up, every platform line id kept."""

    seller_sku: str
    sku_id: str
    product_name: str
    sku_name: str
    image_url: str
    unit_price: Decimal | None
    currency: str
    line_ids: list[str] = field(default_factory=list)  # the platform's line ids
    package_ids: list[str] = field(default_factory=list)
    tracking_numbers: list[str] = field(default_factory=list)
    quantity: int = 0
    cancelled: int = 0
    gifts: int = 0


@dataclass(frozen=True)
class HoldView:
    reason: str
    label: str
    detail: str
    fix: str
    created_at: datetime
    released_at: datetime | None


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "status" | "audit" | "tracking"
    title: str
    detail: str = ""
    actor: str = ""


@dataclass(frozen=True)
class Deadline:
    label: str
    at: datetime | None
    verb: str  # the countdown's wording: "ships in 5 h"
    live: bool  # still to be met: shown as a countdown


_NOT_YET_COLLECTED = (*OPEN_STATUSES, OrderStatus.AWAITING_COLLECTION)
_NOT_YET_DELIVERED = (*_NOT_YET_COLLECTED, OrderStatus.IN_TRANSIT)


def deadlines_of(order: Order) -> list[Deadline]:
    """The platform deadlines that are set, each live (a countdown) only while it still has to be met."""
    deadlines = [
        Deadline("Ship by", order.ship_by, "ships", order.status in OPEN_STATUSES),
        Deadline("Auto-cancelled if not shipped by", order.shipping_due, "auto-cancels", order.status in OPEN_STATUSES),
        Deadline("Collection by", order.collect_by, "collection", order.status in _NOT_YET_COLLECTED),
        Deadline("Delivery by", order.delivery_by, "delivery", order.status in _NOT_YET_DELIVERED),
    ]
    return [deadline for deadline in deadlines if deadline.at is not None]


@dataclass
class OrderDetail:
    order: Order
    items: list[SkuGroup]
    lines: list[OrderLine]
    open_holds: list[HoldView]
    released_holds: list[HoldView]
    timeline: list[TimelineEntry]

    @property
    def is_fulfilled_by_platform(self) -> bool:
        return self.order.fulfilled_by == FulfilledBy.PLATFORM

    @property
    def is_seller_shipping(self) -> bool:
        return self.order.label_source == LabelSource.SELLER

    @property
    def is_open(self) -> bool:
        return self.order.status in OPEN_STATUSES

    @property
    def deadlines(self) -> list[Deadline]:
        return deadlines_of(self.order)

    @property
    def shipping_decision(self) -> ShippingDecision | None:
        return order_detail_sources.shipping_decision(self.order)

    def panels(self, permissions: frozenset[Any]) -> list[Panel]:
        return order_detail_sources.panels(self.order, permissions)

    @property
    def packages(self) -> list[dict[str, str]]:
        """Each platform package once, with its tracking number and status."""
        seen: dict[str, dict[str, str]] = {}
        for line in self.lines:
            if line.package_id and line.package_id not in seen:
                seen[line.package_id] = {
                    "package_id": line.package_id,
                    "status": line.package_status,
                    "tracking_number": line.tracking_number,
                }
        return list(seen.values())


@dataclass(frozen=True)
class ShippingDecision:
    """The decision log of the order's latest label purchase, as the "Shipping decision" card shows it."""

    state: str
    rule: dict[str, Any] | None  # {"id", "name", "reasons"}, None when no rule matched
    services: list[dict[str, Any]]  # each with "chosen" and "days_label" added
    reason: str
    single_service: bool
    notices: tuple[str, ...] = ()  # said loudly at the top of the order's page (a label bought, then cancelled)
    address_changed: str = ""  # "address changed at …; quote refreshed …" (the decision log's own words)


@dataclass(frozen=True)
class Panel:
    """A section an app above orders adds to the order's page: its template and that template's context."""

    template: str
    context: dict[str, Any]


class OrderDetailSources:
    """What apps above orders add to an order's detail, registered from their AppConfig.ready() so this layer never
    imports them (dependencies run one way, erp/events.py; the way `integrations.services.webhook_topics` works):
    shipping reads how the order's label was chosen, and names the logistics rules an audit change points at."""

    def __init__(self) -> None:
        self._shipping_decision: Callable[[Order], ShippingDecision | None] | None = None
        self._names: dict[str, Callable[[], tuple[QuerySet[Any], str]]] = {}
        self._panels: Contributions[Panel] = Contributions("order page sections")

    def provide_shipping_decision(self, reader: Callable[[Order], ShippingDecision | None]) -> None:
        self._shipping_decision = reader

    def shipping_decision(self, order: Order) -> ShippingDecision | None:
        return self._shipping_decision(order) if self._shipping_decision is not None else None

    def provide_panel(self, reader: Callable[[Order, frozenset[Any]], Panel | None]) -> None:
        """`reader(order, the person's permissions)` returns a section for the order's page, or None."""
        self._panels.provide(reader)

    def panels(self, order: Order, permissions: frozenset[Any]) -> list[Panel]:
        return self._panels.gather(order, permissions)

    def provide_names(self, kind: str, source: Callable[[], tuple[QuerySet[Any], str]]) -> None:
        """Rows of `kind` (an audit change's `<kind>_id`) are named by `source()`: (their queryset, the name field)."""
        self._names[kind] = source

    def name_sources(self) -> dict[str, Callable[[], tuple[QuerySet[Any], str]]]:
        return dict(self._names)


order_detail_sources = OrderDetailSources()


def items_by_sku(lines: Iterable[OrderLine]) -> list[SkuGroup]:
    """Group lines by seller SKU (what people pick and pack), by platform SKU id when it has none."""
    groups: dict[str, SkuGroup] = {}
    for line in lines:
        key = f"seller:{line.seller_sku}" if line.seller_sku else f"platform:{line.sku_id}"
        group = groups.get(key)
        if group is None:
            group = groups[key] = SkuGroup(
                seller_sku=line.seller_sku,
                sku_id=line.sku_id,
                product_name=line.product_name,
                sku_name=line.sku_name,
                image_url=line.image_url,
                unit_price=line.unit_price,
                currency=line.currency,
            )
        group.line_ids.extend(line.platform_line_ids)
        group.quantity += line.quantity
        if line.package_id and line.package_id not in group.package_ids:
            group.package_ids.append(line.package_id)
        if line.tracking_number and line.tracking_number not in group.tracking_numbers:
            group.tracking_numbers.append(line.tracking_number)
        group.cancelled += line.quantity if line.is_cancelled else 0
        group.gifts += line.quantity if line.is_gift else 0
    return list(groups.values())


def hold_view(hold: OrderHold) -> HoldView:
    return HoldView(
        reason=hold.reason,
        label=hold.get_reason_display(),
        detail=hold.detail,
        fix=HOLD_FIXES.get(hold.reason, ""),
        created_at=hold.created_at,
        released_at=hold.released_at,
    )


def _status_label(status: str) -> str:
    return OrderStatus(status).label if status in OrderStatus.values else status


def _id_kind(key: str) -> str:
    """`warehouse_id` / `warehouse` → `warehouse`: the kind of row a change's value points at ('' when none)."""
    base = key.removesuffix("_ids").removesuffix("_id")
    return base if base in _NAMED_KINDS or base in order_detail_sources.name_sources() else ""


_NAMED_KINDS = ("warehouse", "sku", "store")  # and what apps above contribute ("rule")


def _ids_in(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    found = []
    for item in values:
        try:
            found.append(str(UUID(str(item))))
        except (ValueError, AttributeError, TypeError):
            continue
    return found


def _names_of_ids(audit_entries: Sequence[AuditEntry]) -> dict[str, str]:
    """The name a person knows each warehouse, SKU, rule or store by, for the ids these entries' changes hold (one
    query per kind that occurs; rows deleted since read as such)."""
    from inventory.models import Sku, Warehouse

    sources: dict[str, Callable[[], tuple[QuerySet[Any], str]]] = {
        "warehouse": lambda: (Warehouse.objects.all(), "name"),
        "sku": lambda: (Sku.objects.all(), "code"),
        "store": lambda: (Store.objects.all(), "name"),
        **order_detail_sources.name_sources(),  # "rule": shipping's logistics rules
    }
    wanted: dict[str, set[str]] = {kind: set() for kind in sources}
    for entry in audit_entries:
        for key, value in (entry.changes or {}).items():
            if kind := _id_kind(key):
                wanted[kind].update(_ids_in(value))
    names: dict[str, str] = {}
    for kind, ids in wanted.items():
        if not ids:
            continue
        rows, field_name = sources[kind]()
        found = {str(pk): name for pk, name in rows.filter(pk__in=ids).values_list("pk", field_name)}
        names.update({pk: found.get(pk, f"(a deleted {kind})") for pk in ids})
    return names


def changes_text(changes: dict[str, Any], names: dict[str, str]) -> str:
    """An audit entry's changes as a person reads them: `warehouse: Reno DC, tag: vip`, ids replaced by names."""
    parts = []
    for key, value in changes.items():
        kind = _id_kind(key)
        values = value if isinstance(value, list | tuple) else [value]
        shown = [names.get(str(v), str(v)) if kind else str(v) for v in values]
        parts.append(f"{kind or key}: {', '.join(shown)}")
    return ", ".join(parts)


def timeline(
    status_changes: Sequence[OrderStatusChange],
    audit_entries: Sequence[AuditEntry],
    tracking_events: Sequence[TrackingEvent] = (),
) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            at=change.changed_at,
            kind="status",
            title=(
                f"{_status_label(change.from_status)} → {_status_label(change.to_status)}"
                if change.from_status
                else f"Imported as {_status_label(change.to_status)}"
            ),
        )
        for change in status_changes
    ]
    names = _names_of_ids(audit_entries)
    entries += [
        TimelineEntry(
            at=entry.created_at,
            kind="audit",
            title=entry.action,
            detail=changes_text(entry.changes or {}, names),
            actor=entry.actor_label,
        )
        for entry in audit_entries
    ]
    entries += [
        TimelineEntry(at=event.occurred_at, kind="tracking", title=event.description, actor="Carrier")
        for event in tracking_events
    ]
    return sorted(entries, key=lambda entry: entry.at)


def order_detail_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("store").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("seller_sku", "external_id")),
        Prefetch("holds", queryset=OrderHold.objects.order_by("created_at")),
        Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("changed_at", "recorded_at")),
        Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("occurred_at")),
    )


def order_detail(*, order_id: UUID | str, include_audit: bool = True) -> OrderDetail:
    """One order as the detail page shows it; 404 when it is missing or another organization's. Audit entries
    join the timeline only for callers allowed to read the audit log."""
    order = get_object_or_404(order_detail_queryset(), pk=order_id)
    return order_detail_of(order, include_audit=include_audit)


def order_detail_of(order: Order, *, include_audit: bool = True) -> OrderDetail:
    lines = list(order.lines.all())
    holds = [hold_view(hold) for hold in order.holds.all()]
    audit = (
        list(AuditEntry.objects.filter(target_type="order", target_id=str(order.pk)).order_by("created_at"))
        if include_audit
        else []
    )
    return OrderDetail(
        order=order,
        items=items_by_sku(lines),
        lines=lines,
        open_holds=[hold for hold in holds if hold.released_at is None],
        released_holds=[hold for hold in holds if hold.released_at is not None],
        timeline=timeline(list(order.status_changes.all()), audit, list(order.tracking_events.all())),
    )


def stores_for_filter() -> QuerySet[Store]:
    return Store.objects.order_by("name").only("id", "name", "platform")


def platform_warehouse_mismatches(orders: Sequence[Order]) -> list[str]:
    """For each order (same order), what is wrong with where it ships from before its label is bought, or "".

    TikTok buys a label for the TikTok warehouse it assigned the order to and prints that warehouse's address as
    the sender and return address (pickups go there too). An order Dropline sends to a warehouse linked to a
    different TikTok warehouse of the same store would carry the wrong address."""
    from inventory.models import WarehouseLink  # inventory sits below orders

    placed = [o for o in orders if o.warehouse_id and o.platform_warehouse_id]
    links = WarehouseLink.objects.filter(store_id__in={o.store_id for o in placed}).select_related("warehouse")
    linked: dict[tuple[object, object], set[str]] = {}
    names: dict[tuple[object, str], str] = {}
    for link in links:
        linked.setdefault((link.store_id, link.warehouse_id), set()).add(link.platform_warehouse_id)
        names[(link.store_id, link.platform_warehouse_id)] = link.platform_name or link.platform_warehouse_id
    warehouse_names: dict[UUID | None, str] = {link.warehouse_id: link.warehouse.name for link in links}
    messages = []
    for order in orders:
        ours = linked.get((order.store_id, order.warehouse_id))
        if not order.platform_warehouse_id or not ours or order.platform_warehouse_id in ours:
            messages.append("")
            continue
        theirs = names.get((order.store_id, order.platform_warehouse_id), order.platform_warehouse_id)
        here = warehouse_names.get(order.warehouse_id, "its warehouse")
        messages.append(
            f"Ships from {here}, but TikTok assigned it to its warehouse {theirs}: the label would print {theirs}'s "
            f"address as sender and return address, and a pickup would go there. Ship it from the warehouse linked "
            f"to {theirs}, or link {here} to {theirs} under Inventory → Warehouses."
        )
    return messages


def combinable_order_ids() -> set[str]:
    """Platform order ids the platform allows to ship with the buyer's other orders in one parcel, as last read
    (orders.combinable): the order list's "Can combine" badge and filter."""
    return combinable.combinable_order_ids(
        organization_id=current_organization().pk, store_ids=Store.objects.values_list("pk", flat=True)
    )
