"""Orders at risk: which open orders cannot make their deadline at the pace things are going, why, and the one thing
that fixes each. Read-only over the organization in scope, plus the once-only alerts.

**The deadline** is the order's ship-by (TikTok `rts_sla_time`); without one, its auto-cancel time
(`shipping_due_time`). As the handoff screens do, we read it as the time the package must be out of the warehouse
(handed to the carrier), the stricter reading of TikTok's rule: an order is done here when its package is packed at
our own warehouse or handed over by a supplier/3PL, or when the platform says it is collected.

**Time needed** is the work the order still has to go through, in the order it happens:

==================================  ==============================================================================
step still open                     what it needs
==================================  ==============================================================================
held (address, unmapped SKU, out    a person first: `PERSON_FIRST` (1 h of anyone's time, any hour)
of stock, cancel request, on hold)
no label bought yet                 buying it: `LABEL_BUY` (15 min, any hour), then print + pack below
supplier/3PL has not acknowledged   the supplier's lead: `SUPPLIER_ACK` (2 h of the supplier's working time)
print + pack                        `PRINT_PACK` (30 min of the warehouse's working time)
backlog at the warehouse            the warehouse's open, unheld orders due before this one, divided by its
                                    `daily_capacity`, in working days (one working day = its working window)
==================================  ==============================================================================

**Time available** is measured in the warehouse's business time (an order not routed to a warehouse yet uses the
organization's time zone, Monday to Friday): only its `working_days` count, each from its opening (the start of
`working_hours` when written like "8:00–17:00", else 08:00) to its `cutoff_time` (else the end of its working hours,
else 17:00), in its `time_zone`; work that does not fit before a day's cut-off moves to the next working day.

Walking the steps from now gives the moment the order can be out of the door (`ready_at`). **Slack** is its
deadline minus that moment: negative means it is at risk (it will miss the deadline unless someone acts), and an
order already past its deadline is late. The list ranks by slack, most negative first, ties by deadline.

**Efficiency**: one pass over the organization's open orders in four queries (orders, open holds, labels with their
handoffs, warehouses; nothing per order). Each warehouse's calendar is laid out once as cumulative working seconds, so
placing an order in it is a binary search however deep its backlog, and the words and links of an order (its
reasons) are built only when read, for the orders shown or mailed. Measured: 30,000 open orders in under 2 s on
PostgreSQL, most of it reading the rows.

**Alerts**: an at-risk order is announced to owners and admins, in one digest mail per organization and run, when
its time to the deadline falls to each of `AT_RISK_ALERT_HOURS` (default 24, 8 and 2 hours); an `AtRiskAlert` row
per (order, threshold), unique, makes each announcement happen once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from erp import clock as erp_clock
from erp.durations import duration_text, is_now
from erp.events import Contributions
from erp.models import Membership, Organization
from erp.roles import Role
from erp.tasks import email_send
from integrations.interface import FulfilledBy, LabelSource
from inventory.calendar import warehouse_calendar, weekdays
from inventory.models import Warehouse, WarehouseKind
from orders.models import (
    HOLD_FIXES,
    OPEN_STATUSES,
    HoldReason,
    Order,
    OrderHold,
    OrderStatus,
)
from orders.outbound import orders_publish
from shipping.models import HANDOFF_KINDS, AtRiskAlert, LabelPurchase, PurchaseState

PERSON_FIRST = timedelta(hours=1)
LABEL_BUY = timedelta(minutes=15)
SUPPLIER_ACK = timedelta(hours=2)
PRINT_PACK = timedelta(minutes=30)
HORIZON_DAYS = 400  # calendars are laid out this far ahead; work that does not fit is "never" (far future)
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def clock() -> datetime:
    """Now. The one place the wall clock is read, so tests (and the screens under test) can fix it."""
    return timezone.now()


def alert_thresholds() -> list[int]:
    """Hours before the deadline at which an at-risk order is announced, largest first."""
    hours = getattr(settings, "AT_RISK_ALERT_HOURS", [24, 8, 2])
    return sorted({int(h) for h in hours if int(h) > 0}, reverse=True)


# --------------------------------------------------------------------------------------------- business time
class Calendar:
    """A warehouse's working windows (opening → cut-off on its working days, in its time zone), laid out from a
    moment as cumulative working seconds so that "where is this moment" and "when is this much work done" are
    binary searches."""

    def __init__(
        self, *, zone: ZoneInfo, working_days: str | frozenset[int], opens: time, closes: time, since: datetime
    ) -> None:
        self.zone = zone
        self.working_days = weekdays(working_days) if isinstance(working_days, str) else working_days
        self.opens, self.closes = opens, closes
        self.day_length = timedelta(
            seconds=max((closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute), 0) * 60
        )
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []
        self.cumulative: list[float] = []  # working seconds from the first window's start to each window's end
        total = 0.0
        first_day = since.astimezone(zone).date() - timedelta(days=1)
        for offset in range(HORIZON_DAYS):
            window = self.window_on(first_day + timedelta(days=offset))
            if window is None:
                continue
            start, end = window
            self.starts.append(start)
            self.ends.append(end)
            total += (end - start).total_seconds()
            self.cumulative.append(total)
        self.never = since + timedelta(days=HORIZON_DAYS * 2)

    @classmethod
    def for_warehouse(cls, warehouse: Warehouse | None, *, default_zone: ZoneInfo, since: datetime) -> Calendar:
        """The warehouse's calendar (`inventory.calendar`, the one reading of its days, hours and cut-off) laid out."""
        week = warehouse_calendar(warehouse, fallback_zone=default_zone)
        return cls(zone=week.zone, working_days=week.working_days, opens=week.opens, closes=week.closes, since=since)

    def window_on(self, day: date) -> tuple[datetime, datetime] | None:
        if day.isoweekday() not in self.working_days:
            return None
        start = datetime.combine(day, self.opens, tzinfo=self.zone)
        end = datetime.combine(day, self.closes, tzinfo=self.zone)
        return (start, end) if end > start else None

    def position(self, moment: datetime) -> float:
        """Working seconds from the calendar's start to `moment`."""
        index = bisect_right(self.ends, moment)  # windows ending at or before the moment are used up
        if index >= len(self.starts):
            return self.cumulative[-1] if self.cumulative else 0.0
        before = self.cumulative[index - 1] if index else 0.0
        into = (moment - self.starts[index]).total_seconds()
        return before + max(into, 0.0)

    def moment(self, position: float) -> datetime:
        """The moment `position` working seconds are done."""
        index = bisect_left(self.cumulative, position)
        if index >= len(self.cumulative):
            return self.never
        before = self.cumulative[index - 1] if index else 0.0
        return self.starts[index] + timedelta(seconds=position - before)

    def advance(self, start: datetime, work: timedelta) -> datetime:
        """When `work` of this warehouse's working time, started at `start`, is done."""
        if work <= timedelta(0):
            return start
        return self.moment(self.position(start) + work.total_seconds())

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        return timedelta(seconds=self.position(end) - self.position(start))

    def next_open(self, moment: datetime) -> datetime | None:
        """The first moment at or after `moment` inside a working window."""
        index = bisect_right(self.ends, moment)
        if index >= len(self.starts):
            return None
        return max(moment, self.starts[index])


# ------------------------------------------------------------------------------------------------- wording
def moment_text(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """`Tue 14:00 PST` within the coming week, `Tue Nov 3, 14:00 PST` beyond (the seller's time zone, named)."""
    local, shown_in = erp_clock.in_zone(moment, zone)  # a stored year 1 or 9999 is shown in UTC, not a 500
    named = erp_clock.zone_abbreviation(local, shown_in)
    if abs(moment - now) < timedelta(days=6):
        return f"{local:%a %H:%M} {named}"
    return f"{local:%a %b} {local.day}, {local:%H:%M} {named}"


# ------------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Fix:
    label: str  # the button: "Buy label"
    url: str
    method: str = "get"  # "post": a form with `fields` (buying a label spends money: never a link)
    fields: tuple[tuple[str, str], ...] = ()
    permission: str = "view"  # the Perm the button needs (its name in `perms_org`)


@dataclass(frozen=True)
class Reason:
    code: str  # held:<reason> | closed | backlog | supplier_ack | no_label | label_failed | label_buying | ...
    text: str  # what is wrong, in a sentence a seller understands
    fix_text: str  # what to do about it
    fix: Fix
    detail: str = ""  # the particulars, when there are any: "ZIP code “0000” is not 5 or 9 digits."


@dataclass
class _Context:
    """What explaining an order needs beyond its numbers (kept so that words are built only for orders shown)."""

    row: dict[str, Any]
    now: datetime
    zone: ZoneInfo
    warehouse: Warehouse | None
    calendar: Calendar
    holds: list[tuple[str, str]]
    purchase: dict[str, Any] | None
    ahead: int
    held: bool
    backlog: timedelta
    ready_without_backlog: datetime


@dataclass
class Assessment:
    """One order's numbers (computed for every order) and its words (reasons, texts: built when first read)."""

    order_id: Any
    external_id: str
    store_id: Any
    store_name: str
    warehouse_id: Any
    warehouse_name: str
    deadline: datetime
    deadline_label: str  # "ship-by" | "auto-cancel"
    ready_at: datetime
    slack: timedelta
    late: bool
    time_left: timedelta  # to the deadline, from the assessment's "now" (negative: late)
    sku_summary: str
    context: _Context = field(repr=False, compare=False)

    @property
    def at_risk(self) -> bool:
        return self.late or self.slack < timedelta(0)

    @cached_property
    def reasons(self) -> list[Reason]:
        """Why it is at risk, the first one first (empty when it is not at risk)."""
        return _explain(self) if self.at_risk else []

    @property
    def primary(self) -> Reason | None:
        return self.reasons[0] if self.reasons else None

    @property
    def short_text(self) -> str:
        """`late by 2 h` or `3 h 20 min left`: how a card or a mail line says it."""
        if self.late:
            return f"late by {duration_text(self.time_left)}"
        if is_now(self.time_left):
            return "due now"
        return f"{duration_text(self.time_left)} left"

    @property
    def _when(self) -> str:
        return moment_text(self.deadline, self.context.zone, self.context.now)

    @property
    def deadline_text(self) -> str:
        """`Ships by Tue 14:00 · 3 h 20 min left` | `Late by 2 h (ship-by Tue 14:00)`."""
        if self.late:
            return f"Late by {duration_text(self.time_left)} ({self.deadline_label} {self._when})"
        if is_now(self.time_left):
            return f"{self.deadline_at_text} · due now"
        return f"{self.deadline_at_text} · {duration_text(self.time_left)} left"

    @property
    def deadline_at_text(self) -> str:
        """`Ships by Tue 14:00` | `Ship-by was Tue 14:00`."""
        if self.late:
            return f"{self.deadline_label.capitalize()} was {self._when}"
        verb = "Ships by" if self.deadline_label == "ship-by" else "Auto-cancelled if not shipped by"
        return f"{verb} {self._when}"

    @property
    def ready_text(self) -> str:
        """`Can be out Wed 09:30 at the earliest, 19 h 30 min too late` | `Can be out Tue 13:30, 4 h to spare`."""
        if self.ready_at >= self.context.calendar.never:
            return "Cannot be out at the current pace"
        when = moment_text(self.ready_at, self.context.zone, self.context.now)
        if self.slack < timedelta(0):
            return f"Can be out {when} at the earliest, {duration_text(self.slack)} too late"
        return f"Can be out {when}, {duration_text(self.slack)} to spare"


# ------------------------------------------------------------------------------------------------ the pass
def _candidates() -> QuerySet[Order]:
    """Orders that still have to leave a warehouse: open on the platform, or already bought (the platform says
    "awaiting collection") but not packed or handed over yet. A platform's own fulfilment (TikTok's FBT) has nothing
    to do."""
    done = LabelPurchase.objects.filter(order=OuterRef("pk")).filter(
        Q(packed_at__isnull=False) | Q(handoff_item__handed_over_at__isnull=False)
    )
    bought = LabelPurchase.objects.filter(order=OuterRef("pk"), state=PurchaseState.PURCHASED)
    return (
        Order.objects.filter(Q(status__in=OPEN_STATUSES) | Q(Exists(bought), status=OrderStatus.AWAITING_COLLECTION))
        .exclude(fulfilled_by=FulfilledBy.PLATFORM)
        .exclude(warehouse__kind=WarehouseKind.PLATFORM)
        .filter(Q(ship_by__isnull=False) | Q(shipping_due__isnull=False))
        .exclude(Exists(done))
    )


_ORDER_FIELDS = (
    "pk",
    "external_id",
    "store_id",
    "store__name",
    "status",
    "label_source",
    "ship_by",
    "shipping_due",
    "warehouse_id",
    "is_held",
    "sku_summary",
)


def orders_assess(*, organization: Organization, now: datetime | None = None) -> list[Assessment]:
    """Every order still to ship, with its deadline, when it can be out, its slack and reasons, ranked."""
    now = now or clock()
    candidates = _candidates()
    rows = list(candidates.values(*_ORDER_FIELDS))
    if not rows:
        return []
    ids = candidates.values("pk")
    holds: dict[Any, list[tuple[str, str]]] = defaultdict(list)
    for hold in OrderHold.objects.filter(released_at__isnull=True, order__in=ids).values(
        "order_id", "reason", "detail"
    ):
        holds[hold["order_id"]].append((hold["reason"], hold["detail"]))
    purchases: dict[Any, dict[str, Any]] = {}
    rank = {PurchaseState.PURCHASED: 3, PurchaseState.SUBMITTING: 2, PurchaseState.PENDING: 1, PurchaseState.FAILED: 0}
    for purchase in LabelPurchase.objects.filter(order__in=ids).values(
        "order_id",
        "state",
        "batch_id",
        "batch__reference",
        "error_fix",
        "error_message",
        "handoff_item__handoff_id",
        "handoff_item__handoff__acknowledged_at",
        "handoff_item__handoff__created_at",
    ):
        known = purchases.get(purchase["order_id"])
        if known is None or rank[purchase["state"]] > rank[known["state"]]:
            purchases[purchase["order_id"]] = purchase
    warehouses = {w.pk: w for w in Warehouse.objects.all()}
    zone = erp_clock.organization_zone(organization)
    calendars: dict[Any, Calendar] = {}

    def calendar_of(warehouse_id: Any) -> Calendar:
        if warehouse_id not in calendars:
            calendars[warehouse_id] = Calendar.for_warehouse(warehouses.get(warehouse_id), default_zone=zone, since=now)
        return calendars[warehouse_id]

    def deadline_of(row: dict[str, Any]) -> datetime:
        return row["ship_by"] or row["shipping_due"]

    # The queue at each warehouse: its unheld orders by deadline. Held orders wait for a person, not for the queue.
    queues: dict[Any, list[tuple[datetime, str]]] = defaultdict(list)
    for row in rows:
        if row["warehouse_id"] is not None and not _is_held(row, holds):
            queues[row["warehouse_id"]].append((deadline_of(row), str(row["pk"])))
    for queue in queues.values():
        queue.sort()

    assessments = []
    for row in rows:
        warehouse = warehouses.get(row["warehouse_id"])
        calendar = calendar_of(row["warehouse_id"])
        ahead = bisect_left(queues.get(row["warehouse_id"], []), (deadline_of(row), str(row["pk"])))
        assessment = _measure(
            row=row,
            now=now,
            zone=zone,
            warehouse=warehouse,
            calendar=calendar,
            holds=holds.get(row["pk"], []),
            purchase=purchases.get(row["pk"]),
            ahead=ahead,
        )
        assessments.append(assessment)
    assessments.sort(key=lambda a: (a.slack, a.deadline, str(a.order_id)))
    return assessments


def orders_at_risk(
    *,
    organization: Organization,
    now: datetime | None = None,
    store_id: Any = None,
    warehouse_id: Any = None,
) -> list[Assessment]:
    """The at-risk list: orders that will miss their deadline (or have), most urgent first. The filters apply after
    the pass, because a warehouse's queue counts every store's orders."""
    return [
        a
        for a in orders_assess(organization=organization, now=now)
        if a.at_risk
        and (store_id is None or str(a.store_id) == str(store_id))
        and (warehouse_id is None or str(a.warehouse_id) == str(warehouse_id))
    ]


def _is_held(row: dict[str, Any], holds: dict[Any, list[tuple[str, str]]]) -> bool:
    return bool(row["is_held"] or holds.get(row["pk"]) or row["status"] == OrderStatus.ON_HOLD)


# What a seller reads and does about each hold.
_HOLD_WORDS: dict[str, tuple[str, str]] = {
    HoldReason.ADDRESS_INVALID: ("Held: the address looks invalid", "Fix the address"),
    HoldReason.ADDRESS_MISSING: ("Held: TikTok has not released the address", "Open the order"),
    HoldReason.UNMAPPED_SKU: ("Held: a product is not linked to one of your SKUs", "Map the SKU"),
    HoldReason.OUT_OF_STOCK: ("Held: out of stock", "Receive or move stock"),
    HoldReason.CANCEL_REQUESTED: ("Held: the buyer asked to cancel", "Answer the request"),
    HoldReason.REMORSE_WINDOW: ("On hold: still in the buyer's remorse window", "Open the order"),
}


def _hold_reason(reason: str, detail: str, row: dict[str, Any]) -> Reason:
    text, button = _HOLD_WORDS.get(reason, ("Held", "Open the order"))
    order_url = reverse("orders_detail", kwargs={"pk": row["pk"]})
    if reason == HoldReason.UNMAPPED_SKU:
        fix = Fix(
            button,
            f"{reverse('inventory_listings')}?mapped=no&store={row['store_id']}",
            permission="inventory_manage",
        )
    elif reason == HoldReason.OUT_OF_STOCK:
        fix = Fix(button, reverse("inventory_stock"), permission="inventory_manage")
    else:
        fix = Fix(button, order_url)
    return Reason(
        code=f"held:{reason}",
        text=f"{text}.",
        fix_text=HOLD_FIXES.get(reason, "Open the order and release the hold once it can ship."),
        fix=fix,
        detail=detail,
    )


def _closed_reason(warehouse: Warehouse, calendar: Calendar, now: datetime, zone: ZoneInfo) -> Reason:
    """The warehouse ships nothing more before the deadline: past today's cut-off, or not a working day."""
    local = now.astimezone(calendar.zone)
    reopens = calendar.next_open(now)
    when = f"; it ships again {moment_text(reopens, zone, now)}" if reopens else ""
    if local.isoweekday() in calendar.working_days and local.time() >= calendar.closes:
        limit = "cut-off" if warehouse.cutoff_time else "closing time"
        closes = erp_clock.format_clock_time(calendar.closes, calendar.zone, on=local.date())
        text = f"{warehouse.name} is past today's {limit} ({closes}){when}."
    elif local.isoweekday() not in calendar.working_days:
        text = f"{warehouse.name} does not ship on {_WEEKDAYS[local.weekday()]}s{when}."
    else:
        text = f"{warehouse.name} ships nothing more before the deadline{when}."
    contact = ", ".join(part for part in (warehouse.contact_name, warehouse.phone) if part)
    return Reason(
        code="closed",
        text=text,
        fix_text=f"Ask {warehouse.name}{f' ({contact})' if contact else ''} to ship it today anyway, or take the "
        "package to the carrier yourself.",
        fix=Fix(f"Contact {warehouse.name}", reverse("inventory_warehouse_detail", kwargs={"pk": warehouse.pk})),
    )


def _measure(
    *,
    row: dict[str, Any],
    now: datetime,
    zone: ZoneInfo,
    warehouse: Warehouse | None,
    calendar: Calendar,
    holds: list[tuple[str, str]],
    purchase: dict[str, Any] | None,
    ahead: int,
) -> Assessment:
    """Walk the order's open steps from now (see the module docstring): when can it be out, and its slack."""
    deadline = row["ship_by"] or row["shipping_due"]
    held = bool(holds or row["is_held"] or row["status"] == OrderStatus.ON_HOLD)
    t = now
    if held:  # a person first
        t += PERSON_FIRST
    if purchase is None or purchase["state"] != PurchaseState.PURCHASED:  # the label
        t += LABEL_BUY
    if _waits_for_supplier(warehouse, purchase):  # the supplier's acknowledgement
        t = calendar.advance(t, SUPPLIER_ACK)
    backlog = timedelta(0)  # print and pack, behind the warehouse's queue
    if warehouse is not None and warehouse.daily_capacity:
        backlog = calendar.day_length * (ahead / warehouse.daily_capacity)
    ready_at = calendar.advance(t, PRINT_PACK + backlog)
    return Assessment(
        order_id=row["pk"],
        external_id=row["external_id"],
        store_id=row["store_id"],
        store_name=row["store__name"] or "",
        warehouse_id=row["warehouse_id"],
        warehouse_name=warehouse.name if warehouse else "",
        deadline=deadline,
        deadline_label="ship-by" if row["ship_by"] else "auto-cancel",
        ready_at=ready_at,
        slack=deadline - ready_at,
        late=now >= deadline,
        time_left=deadline - now,
        sku_summary=row["sku_summary"] or "",
        context=_Context(
            row=row,
            now=now,
            zone=zone,
            warehouse=warehouse,
            calendar=calendar,
            holds=holds,
            purchase=purchase,
            ahead=ahead,
            held=held,
            backlog=backlog,
            ready_without_backlog=calendar.advance(t, PRINT_PACK) if backlog else ready_at,
        ),
    )


def _waits_for_supplier(warehouse: Warehouse | None, purchase: dict[str, Any] | None) -> bool:
    return (
        warehouse is not None
        and warehouse.kind in HANDOFF_KINDS
        and (purchase is None or not purchase["handoff_item__handoff__acknowledged_at"])
    )


def _explain(assessment: Assessment) -> list[Reason]:
    """The reasons of an at-risk order, the one to act on first at the top: the warehouse shipping nothing more
    before the deadline beats everything (no work done elsewhere helps); then a hold (nothing moves until a person
    acts); then a queue that alone makes it late; then the open steps in the order they happen."""
    ctx = assessment.context
    row, purchase, warehouse = ctx.row, ctx.purchase, ctx.warehouse
    order_url = reverse("orders_detail", kwargs={"pk": row["pk"]})
    state = purchase["state"] if purchase else None
    batch_url = (
        reverse("shipping_batch", kwargs={"pk": purchase["batch_id"]}) if purchase and purchase["batch_id"] else ""
    )
    steps: list[Reason] = []
    if ctx.held:
        unnamed = HoldReason.REMORSE_WINDOW if row["status"] == OrderStatus.ON_HOLD else "held"
        for reason, detail in ctx.holds or [(unnamed, "")]:
            steps.append(_hold_reason(reason, detail, row))
    if state == PurchaseState.FAILED:
        steps.append(
            Reason(
                "label_failed",
                "The label purchase failed.",
                purchase["error_fix"] or "Fix what TikTok refused, then retry the batch.",
                Fix("Retry the label", batch_url or order_url, permission="labels_buy"),
                detail=purchase["error_message"],
            )
        )
    elif state in (PurchaseState.PENDING, PurchaseState.SUBMITTING):
        steps.append(
            Reason(
                "label_buying",
                "The label is being bought.",
                "Nothing to do unless it stays like this: Dropline finishes it, or checks with TikTok first.",
                Fix("See the batch", batch_url or order_url),
            )
        )
    elif state is None and row["label_source"] and row["label_source"] != LabelSource.PLATFORM:
        steps.append(
            Reason(
                "no_label",
                "Seller shipping: no label bought yet.",
                "Ship it with your own carrier and add the tracking number in TikTok Seller Center.",
                Fix("Open the order", order_url),
            )
        )
    elif state is None:
        steps.append(
            Reason(
                "no_label",
                "No shipping label yet.",
                "Buy its official TikTok Shipping label now; the warehouse can print it straight away.",
                Fix(
                    "Buy label",
                    reverse("shipping_batch_create"),
                    method="post",
                    fields=(("order", str(row["pk"])),),
                    permission="labels_buy",
                ),
            )
        )
    if warehouse is not None and _waits_for_supplier(warehouse, purchase):
        if purchase and purchase["handoff_item__handoff_id"]:
            sent = moment_text(purchase["handoff_item__handoff__created_at"], ctx.zone, ctx.now)
            steps.append(
                Reason(
                    "supplier_ack",
                    f"{warehouse.name} has not acknowledged the label (sent {sent}).",
                    f"Call {warehouse.name} or send them the download link again.",
                    Fix(
                        f"Nudge {warehouse.name}",
                        reverse("shipping_handoff", kwargs={"pk": purchase["handoff_item__handoff_id"]}),
                        permission="handoff_manage",
                    ),
                )
            )
        elif state == PurchaseState.PURCHASED:
            steps.append(
                Reason(
                    "supplier_not_sent",
                    f"The label is bought but not yet sent to {warehouse.name}.",
                    "Open the batch: its labels go to the supplier once the whole batch is settled.",
                    Fix("See the batch", batch_url or order_url),
                )
            )
    if (
        warehouse is not None
        and warehouse.kind in HANDOFF_KINDS
        and purchase is not None
        and purchase["handoff_item__handoff__acknowledged_at"]
    ):
        steps.append(
            Reason(
                "not_handed_over",
                f"{warehouse.name} acknowledged the label but has not handed the package over yet.",
                f"Ask {warehouse.name} to hand it to the carrier today and mark it handed over.",
                Fix(
                    f"Open {warehouse.name}'s handoff",
                    reverse("shipping_handoff", kwargs={"pk": purchase["handoff_item__handoff_id"]}),
                    permission="handoff_manage",
                ),
            )
        )
    if state == PurchaseState.PURCHASED and not (warehouse is not None and warehouse.kind in HANDOFF_KINDS):
        steps.append(
            Reason(
                "not_packed",
                "The label is bought but the package is not packed yet.",
                "Print the batch's labels and scan each package at the packing station.",
                Fix("Print and pack", batch_url or reverse("shipping_scan"), permission="labels_print"),
            )
        )

    reasons: list[Reason] = []
    # Only while there is still time: for a late order the closed warehouse is no longer the reason.
    if (
        warehouse is not None
        and not assessment.late
        and ctx.calendar.working_between(ctx.now, assessment.deadline) <= timedelta(0)
    ):
        reasons.append(_closed_reason(warehouse, ctx.calendar, ctx.now, ctx.zone))
    held = [step for step in steps if step.code.startswith("held:")]
    rest = [step for step in steps if not step.code.startswith("held:")]
    queue = _backlog_reason(warehouse, ctx.ahead) if ctx.backlog and warehouse is not None else None
    decisive = queue is not None and ctx.ready_without_backlog <= assessment.deadline  # on time without the queue
    reasons += held + ([queue] if queue and decisive else []) + rest + ([queue] if queue and not decisive else [])
    return reasons or [_tight_reason(assessment, order_url)]


def _tight_reason(assessment: Assessment, order_url: str) -> Reason:
    """Nothing is stuck, yet the steps left take longer than the time left: every at-risk row still says why."""
    if assessment.late:
        text = f"Past its {assessment.deadline_label} and not out of the warehouse yet."
    else:
        text = "The steps left take longer than the time left before the deadline."
    return Reason(
        "tight",
        text,
        "Ship it first: pack it and hand it to the carrier as soon as you can.",
        Fix("Open the order", order_url),
    )


def _backlog_reason(warehouse: Warehouse, ahead: int) -> Reason:
    capacity = warehouse.daily_capacity or 1
    return Reason(
        "backlog",
        f"{ahead} order{'s' if ahead != 1 else ''} due earlier {'are' if ahead != 1 else 'is'} queued at "
        f"{warehouse.name}, which ships {capacity} a day: about {ahead / capacity:.1f} working days of work ahead.",
        "Move some orders to another warehouse, or raise its packages per day if it can do more.",
        Fix(
            f"Open {warehouse.name}",
            reverse("inventory_warehouse_detail", kwargs={"pk": warehouse.pk}),
            permission="inventory_manage",
        ),
    )


# -------------------------------------------------------------------------------------------------- alerts
@dataclass(frozen=True)
class AlertRun:
    announced: int  # orders in this run's digest
    recorded: int  # (order, threshold) pairs newly recorded
    mailed_to: int


@transaction.atomic
def at_risk_alerts_send(*, organization: Organization, now: datetime | None = None) -> AlertRun:
    """Announce each at-risk order once per threshold it has crossed (time to its deadline ≤ threshold hours), in
    one digest mail to owners and admins. Runs of the same organization take turns on its row lock, so two beat runs
    at once never announce the same pair twice."""
    now = now or clock()
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    thresholds = alert_thresholds()
    if not thresholds:
        return AlertRun(0, 0, 0)
    at_risk = [
        a
        for a in orders_at_risk(organization=organization, now=now)
        if a.deadline - now <= timedelta(hours=thresholds[0])
    ]
    if not at_risk:
        return AlertRun(0, 0, 0)
    sent = set(
        AtRiskAlert.objects.filter(order_id__in=[a.order_id for a in at_risk]).values_list(
            "order_id", "threshold_hours"
        )
    )
    new_rows: list[AtRiskAlert] = []
    announced: list[tuple[Assessment, int]] = []
    for assessment in at_risk:
        left = assessment.deadline - now
        crossed = [h for h in thresholds if left <= timedelta(hours=h) and (assessment.order_id, h) not in sent]
        if not crossed:
            continue
        new_rows += [
            AtRiskAlert(organization=organization, order_id=assessment.order_id, threshold_hours=h, sent_at=now)
            for h in crossed
        ]
        announced.append((assessment, min(crossed)))
    if not new_rows:
        return AlertRun(0, 0, 0)
    AtRiskAlert.objects.bulk_create(new_rows, ignore_conflicts=True)
    orders_publish(type="order.at_risk", order_ids=[a.order_id for a, _ in announced])
    recipients = list(
        Membership.objects.filter(role__in=[Role.OWNER, Role.ADMIN]).values_list("user__email", flat=True)
    )
    if recipients:
        email_send.delay_on_commit(
            to=recipients,
            subject=_digest_subject(organization, [a for a, _ in announced]),
            body=_digest_body(organization, announced),
        )
    return AlertRun(announced=len(announced), recorded=len(new_rows), mailed_to=len(recipients))


def _digest_subject(organization: Organization, orders: list[Assessment]) -> str:
    late = sum(1 for a in orders if a.late)
    count = len(orders)
    what = f"{count} order{'s' if count != 1 else ''} at risk of shipping late"
    return f"{organization.name}: {what}" + (f" ({late} already late)" if late else "")


def _digest_body(organization: Organization, announced: list[tuple[Assessment, int]]) -> str:
    base = getattr(settings, "DROPLINE_PUBLIC_URL", "").rstrip("/")
    lines = [f"These orders of {organization.name} will miss their deadline unless someone acts:", ""]
    for assessment, threshold in announced:
        primary = assessment.primary
        lines.append(f"- Order {assessment.external_id} ({assessment.store_name}): {assessment.deadline_text}.")
        if primary is not None:
            lines.append("  " + " ".join(part for part in (primary.text, primary.detail, primary.fix_text) if part))
        lines.append(f"  {base}{reverse('orders_detail', kwargs={'pk': assessment.order_id})}")
        if not assessment.late:
            lines.append(f"  (Alert at {threshold} h before its deadline.)")
    lines += [
        "",
        f"All orders at risk, most urgent first: {base}{reverse('shipping_at_risk')}",
        "You are told about an order once at each of these times before its deadline: "
        + ", ".join(f"{h} h" for h in alert_thresholds())
        + ".",
    ]
    return "\n".join(lines) + "\n"


def organizations_to_check() -> list[Any]:
    """All organizations with a store (a deliberate cross-tenant read, for beat): each run checks its own orders.
    Stores are few; asking the orders table which organizations have open orders would read far more."""
    from integrations.models import Store

    return sorted(set(Store.unscoped.values_list("organization_id", flat=True)), key=str)


# --------------------------------------------------------------------------- what apps above shipping add
@dataclass(frozen=True)
class AtRiskRequest:
    """Something other than a parcel whose deadline is near (an after-sale request the seller must answer): shown in
    "At risk" beside the orders. Apps above shipping provide them (aftersales), so this module never imports them."""

    order_ref: str
    order_id: object | None
    what: str  # "Cancellation request: Need to change payment method"
    due_at: datetime
    fix_url: str
    fix_label: str


# Readers that return the requests to list; apps above shipping provide them in ready() (aftersales).
at_risk_sources: Contributions[list[AtRiskRequest]] = Contributions("at-risk requests")


def at_risk_requests() -> list[AtRiskRequest]:
    """Every contributed request, soonest deadline first."""
    return sorted((item for items in at_risk_sources.gather() for item in items), key=lambda item: item.due_at)
