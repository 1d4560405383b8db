"""The compliance report: is each store on official TikTok logistics, which orders were dispatched late, is tracking
valid, who cancels. Pure reads, per organization (the one in scope) or per store, by day.

Every figure is counted with the same conditions the order list filters by (orders.logistics), and carries the query
string of the list behind it, so "12 late" opens exactly those 12 orders. The thresholds are settings because the
platform's contract notes publish none (README: COMPLIANCE_*).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from erp import clock
from integrations.logistics_policy import Phase, StorePolicy, store_logistics_policy, with_policy_dates
from integrations.models import AuthorizationStatus, Platform, Store, StoreStatus
from orders import logistics
from orders.models import Order, OrderStatus

WINDOW_DAYS = 30
AUTHORIZATION_WARNING_DAYS = 30


def _threshold(name: str, default: str) -> Decimal:
    return Decimal(str(getattr(settings, name, default)))


# ------------------------------------------------------------------------------------------------------- window
@dataclass(frozen=True)
class Window:
    """The last `WINDOW_DAYS` days, today included, in the organization's time zone: whole days, so the order
    list's day filters select exactly what the figures count."""

    first_day: date
    last_day: date
    start: datetime
    now: datetime
    zone: tzinfo

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]


def compliance_window(*, now: datetime | None = None, days: int = WINDOW_DAYS) -> Window:
    now = now or timezone.now()
    zone = clock.organization_zone()
    last = now.astimezone(zone).date()
    first = last - timedelta(days=days - 1)
    return Window(first_day=first, last_day=last, start=clock.day_start(first, zone), now=now, zone=zone)


# ------------------------------------------------------------------------------------------------------ figures
@dataclass(frozen=True)
class DayLogistics:
    """Orders shipped on one day, by how they shipped."""

    day: date
    tiktok_shipping: int = 0
    cbt: int = 0
    fbt: int = 0
    seller_accepted: int = 0  # seller shipping before the store's cut-off (the transition)
    seller_violation: int = 0  # seller shipping on or after it

    @property
    def official(self) -> int:
        return self.tiktok_shipping + self.cbt + self.fbt

    @property
    def seller(self) -> int:
        return self.seller_accepted + self.seller_violation

    @property
    def total(self) -> int:
        return self.official + self.seller


def percent(count: int, of: int) -> Decimal | None:
    if not of:
        return None
    return (Decimal(100) * count / of).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rate:
    """A rate with its platform threshold and the order-list queries behind its count and its complement."""

    label: str
    count: int
    of: int
    threshold: Decimal  # percent
    higher_is_better: bool
    query: str  # the orders counted
    rest_query: str  # the other orders of the population
    rest_label: str
    explanation: str
    show_rest_count: bool = True  # False when the list behind rest_query is wider than the population

    @property
    def rest(self) -> int:
        return self.of - self.count

    @property
    def percent(self) -> Decimal | None:
        return percent(self.count, self.of)

    @property
    def ok(self) -> bool | None:
        value = self.percent
        if value is None:
            return None
        return value >= self.threshold if self.higher_is_better else value <= self.threshold

    @property
    def tone(self) -> str:
        return {None: "", True: "ok", False: "bad"}[self.ok]


@dataclass(frozen=True)
class AuthorizationWarning:
    store: Store
    expires_at: datetime | None
    reason: str


@dataclass(frozen=True)
class StoreCompliance:
    store: Store
    policy: StorePolicy
    phase: Phase
    shipped: int
    official: int
    seller: int
    violations: int
    query: str  # the store's seller-shipped orders of the window
    violations_query: str

    @property
    def official_share(self) -> Decimal | None:
        return percent(self.official, self.shipped)


@dataclass(frozen=True)
class ComplianceReport:
    window: Window
    store: Store | None
    days: list[DayLogistics]
    late_dispatch: Rate
    valid_tracking: Rate
    seller_cancellation: Rate
    authorizations: list[AuthorizationWarning]
    stores: list[StoreCompliance]
    queries: dict[str, str] = field(default_factory=dict)  # the order lists behind the totals

    @property
    def shipped(self) -> int:
        return sum(day.total for day in self.days)

    @property
    def official(self) -> int:
        return sum(day.official for day in self.days)

    @property
    def seller(self) -> int:
        return sum(day.seller for day in self.days)

    @property
    def violations(self) -> int:
        return sum(day.seller_violation for day in self.days)

    @property
    def official_share(self) -> Decimal | None:
        return percent(self.official, self.shipped)

    @property
    def compliant(self) -> bool:
        return self.violations == 0


def compliance_stores(*, store: Store | None = None) -> list[Store]:
    """The TikTok stores the report covers (manual orders are not on TikTok's logistics at all)."""
    stores = with_policy_dates(Store.objects.filter(platform=Platform.TIKTOK)).select_related("authorization")
    stores = stores.order_by("name")
    if store is not None:
        stores = stores.filter(pk=store.pk)
    return list(stores)


def _orders(stores: list[Store]) -> QuerySet[Order]:
    return Order.objects.filter(store_id__in=[s.pk for s in stores])


def _query(store: Store | None, **params: object) -> str:
    base: dict[str, object] = {"status": "all"}
    if store is not None:
        base["store"] = store.pk
    return urlencode({**base, **{k: v for k, v in params.items() if v is not None}})


def logistics_by_day(*, stores: list[Store], window: Window) -> list[DayLogistics]:
    """Shipped orders per day of the window (every day present, zeros included), by logistics; one query."""
    rows = (
        _orders(stores)
        .filter(shipped_at__gte=window.start, shipped_at__lte=window.now)
        .annotate(day=TruncDate("shipped_at", tzinfo=window.zone))
        .values("day")
        .annotate(
            tiktok_shipping=Count("pk", filter=logistics.tiktok_shipping_condition()),
            cbt=Count("pk", filter=logistics.cbt_condition()),
            fbt=Count("pk", filter=logistics.fbt_condition()),
            seller=Count("pk", filter=logistics.seller_shipping_condition()),
            violation=Count("pk", filter=logistics.violation_condition(stores)),
        )
        .order_by("day")
    )
    found = {
        row["day"]: DayLogistics(
            day=row["day"],
            tiktok_shipping=row["tiktok_shipping"],
            cbt=row["cbt"],
            fbt=row["fbt"],
            seller_accepted=row["seller"] - row["violation"],
            seller_violation=row["violation"],
        )
        for row in rows
    }
    return [found.get(day) or DayLogistics(day=day) for day in window.days]


def _per_store(*, stores: list[Store], window: Window) -> list[StoreCompliance]:
    rows = {
        row["store_id"]: row
        for row in _orders(stores)
        .filter(shipped_at__gte=window.start, shipped_at__lte=window.now)
        .values("store_id")
        .annotate(
            shipped=Count("pk"),
            official=Count("pk", filter=logistics.official_condition()),
            seller=Count("pk", filter=logistics.seller_shipping_condition()),
            violations=Count("pk", filter=logistics.violation_condition(stores)),
        )
        .order_by()
    }
    result = []
    for store in stores:
        row = rows.get(store.pk, {})
        policy = store_logistics_policy(store)
        shipped_in_window = {"shipped_from": window.first_day, "shipped_to": window.last_day}
        result.append(
            StoreCompliance(
                store=store,
                policy=policy,
                phase=policy.phase(window.now),
                shipped=row.get("shipped", 0),
                official=row.get("official", 0),
                seller=row.get("seller", 0),
                violations=row.get("violations", 0),
                query=_query(store, logistics=logistics.Logistics.SELLER, **shipped_in_window),
                violations_query=_query(store, logistics=logistics.Logistics.SELLER_VIOLATION, **shipped_in_window),
            )
        )
    return result


def _late_dispatch(*, stores: list[Store], store: Store | None, window: Window) -> Rate:
    figures = (
        _orders(stores)
        .filter(ship_by__gte=window.start)
        .aggregate(
            due=Count("pk", filter=logistics.dispatch_due_condition(now=window.now)),
            late=Count("pk", filter=logistics.late_dispatch_condition(now=window.now)),
        )
    )
    deadlines = {"ship_by_from": window.first_day, "ship_by_to": window.last_day}
    return Rate(
        label="Late dispatch rate",
        count=figures["late"],
        of=figures["due"],
        threshold=_threshold("COMPLIANCE_LATE_DISPATCH_THRESHOLD", "4"),
        higher_is_better=False,
        query=_query(store, dispatch="late", **deadlines),
        rest_query=_query(store, dispatch="on_time", **deadlines),
        rest_label="on time",
        explanation="Orders whose ship-by deadline (TikTok's rts_sla_time) passed in the last 30 days and that were "
        "shipped after it, or are still not shipped. FBT orders (TikTok dispatches them) and orders cancelled before "
        "shipping are left out.",
    )


def _valid_tracking(*, stores: list[Store], store: Store | None, window: Window) -> Rate:
    figures = (
        _orders(stores)
        .filter(shipped_at__gte=window.start, shipped_at__lte=window.now)
        .aggregate(shipped=Count("pk"), valid=Count("pk", filter=logistics.valid_tracking_condition()))
    )
    shipped = {"shipped_from": window.first_day, "shipped_to": window.last_day}
    return Rate(
        label="Valid tracking rate",
        count=figures["valid"],
        of=figures["shipped"],
        threshold=_threshold("COMPLIANCE_VALID_TRACKING_TARGET", "95"),
        higher_is_better=True,
        query=_query(store, tracking="valid", **shipped),
        rest_query=_query(store, tracking="missing", **shipped),
        rest_label="tracking missing",
        explanation="Orders shipped in the last 30 days with tracking TikTok can follow: every order on official "
        "logistics, and seller-shipped orders that uploaded a tracking number.",
    )


def _seller_cancellation(*, stores: list[Store], store: Store | None, window: Window) -> Rate:
    figures = (
        _orders(stores)
        .filter(placed_at__gte=window.start, placed_at__lte=window.now)
        .exclude(status=OrderStatus.UNPAID)
        .aggregate(orders=Count("pk"), seller=Count("pk", filter=logistics.cancelled_by_condition("SELLER")))
    )
    placed = {"placed_from": window.first_day, "placed_to": window.last_day}
    return Rate(
        label="Seller cancellation rate",
        count=figures["seller"],
        of=figures["orders"],
        threshold=_threshold("COMPLIANCE_SELLER_CANCELLATION_THRESHOLD", "2.5"),
        higher_is_better=False,
        query=_query(store, cancelled_by="SELLER", **placed),
        rest_query=_query(store, **placed),
        rest_label="all orders placed",
        show_rest_count=False,
        explanation="Orders placed in the last 30 days (not counting those still unpaid) that the seller cancelled.",
    )


def authorization_warnings(*, stores: list[Store], now: datetime | None = None) -> list[AuthorizationWarning]:
    """Connected stores whose authorization ends within AUTHORIZATION_WARNING_DAYS days, or already needs a
    reconnect: orders stop syncing and labels cannot be bought once it ends."""
    now = now or timezone.now()
    horizon = now + timedelta(days=AUTHORIZATION_WARNING_DAYS)
    warnings = []
    for store in stores:
        if store.status == StoreStatus.DISCONNECTED:
            continue
        grant = store.authorization
        if grant is None:
            warnings.append(AuthorizationWarning(store, None, "Not authorized: reconnect the store"))
        elif grant.status != AuthorizationStatus.ACTIVE:
            reason = grant.status_detail or f"Authorization {grant.get_status_display().lower()}"
            warnings.append(AuthorizationWarning(store, grant.refresh_token_expires_at, reason))
        elif grant.refresh_token_expires_at is not None and grant.refresh_token_expires_at <= horizon:
            warnings.append(
                AuthorizationWarning(store, grant.refresh_token_expires_at, "Authorization ends: reconnect to renew it")
            )
    return warnings


def compliance_report(*, store: Store | None = None, now: datetime | None = None) -> ComplianceReport:
    """The whole report for the organization in scope, or for one of its stores."""
    window = compliance_window(now=now)
    stores = compliance_stores(store=store)
    shipped = {"shipped_from": window.first_day, "shipped_to": window.last_day}
    return ComplianceReport(
        window=window,
        store=store,
        days=logistics_by_day(stores=stores, window=window),
        late_dispatch=_late_dispatch(stores=stores, store=store, window=window),
        valid_tracking=_valid_tracking(stores=stores, store=store, window=window),
        seller_cancellation=_seller_cancellation(stores=stores, store=store, window=window),
        authorizations=authorization_warnings(stores=stores, now=window.now),
        stores=_per_store(stores=stores, window=window),
        queries={
            "shipped": _query(store, **shipped),
            "official": _query(store, logistics=logistics.Logistics.OFFICIAL, **shipped),
            "seller": _query(store, logistics=logistics.Logistics.SELLER, **shipped),
            "violations": _query(store, logistics=logistics.Logistics.SELLER_VIOLATION, **shipped),
        },
    )


def compliance_summary(*, now: datetime | None = None) -> tuple[Decimal | None, int]:
    """For the dashboard card: the share of the window's shipped orders on official logistics, and the violations."""
    window = compliance_window(now=now)
    stores = compliance_stores()
    figures = (
        _orders(stores)
        .filter(shipped_at__gte=window.start, shipped_at__lte=window.now)
        .aggregate(
            shipped=Count("pk"),
            official=Count("pk", filter=logistics.official_condition()),
            violations=Count("pk", filter=logistics.violation_condition(stores)),
        )
    )
    return percent(figures["official"], figures["shipped"]), figures["violations"]
