"""What official labels cost, against the shipping fee the buyer paid: per order, and totalled per store, warehouse,
supplier or day. Pure reads over the organization in scope.

An order's label cost is the sum of its bought labels (one per package); its day is the day its first label was
bought (organization time zone); its supplier is the warehouse its labels were handed off to (shipping.handoffs),
blank when the seller's own warehouse printed them. Totals are per currency: a US and a UK shop are never added up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.db.models import Count, DecimalField, F, Min, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from erp import clock
from erp.events import Contributions
from integrations.models import Store
from orders.models import Order
from orders.selectors import Panel
from shipping.models import HandoffItem, LabelPurchase, PurchaseState

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


class SpendGroup(StrEnum):
    ORDER = "order"
    STORE = "store"
    WAREHOUSE = "warehouse"
    SUPPLIER = "supplier"
    DAY = "day"


GROUP_LABELS = {
    SpendGroup.ORDER: "Order",
    SpendGroup.STORE: "Store",
    SpendGroup.WAREHOUSE: "Warehouse",
    SpendGroup.SUPPLIER: "Supplier",
    SpendGroup.DAY: "Day",
}
NOT_ROUTED = "Not routed to a warehouse"
NOT_HANDED_OFF = "Own warehouse (no supplier)"


@dataclass(frozen=True)
class SpendPeriod:
    first_day: date
    last_day: date
    start: datetime
    end: datetime  # exclusive: the start of the day after last_day


def spend_period(*, first_day: date | None = None, last_day: date | None = None, days: int = 30) -> SpendPeriod:
    zone = clock.organization_zone()
    last = last_day or datetime.now(tz=zone).date()
    first = first_day or last - timedelta(days=days - 1)
    first, last = min(first, last), max(first, last)
    return SpendPeriod(
        first_day=first,
        last_day=last,
        start=clock.day_start(first, zone),
        end=clock.day_start(last + timedelta(days=1), zone),
    )


@dataclass(frozen=True)
class SpendLine:
    """One order: what its labels cost and what the buyer paid for shipping."""

    order_id: object
    external_id: str
    store: str
    warehouse: str
    supplier: str
    day: date
    labels: int
    label_cost: Decimal
    shipping_fee: Decimal
    currency: str
    bought_at: datetime | None = None  # the first label's purchase
    ship_by: datetime | None = None

    @property
    def margin(self) -> Decimal:
        """Buyer's shipping fee minus label cost: negative when the seller pays for shipping."""
        return self.shipping_fee - self.label_cost


@dataclass(frozen=True)
class SpendTotal:
    key: str  # the store's, warehouse's or supplier's name, or the day (ISO)
    currency: str
    orders: int
    labels: int
    label_cost: Decimal
    shipping_fee: Decimal

    @property
    def margin(self) -> Decimal:
        return self.shipping_fee - self.label_cost

    @property
    def uncovered(self) -> Decimal:
        """Label cost the buyers' shipping fees did not pay for (free shipping), never negative."""
        return max(self.label_cost - self.shipping_fee, ZERO)

    @property
    def cost_per_order(self) -> Decimal:
        return (self.label_cost / self.orders).quantize(Decimal("0.01")) if self.orders else ZERO


def _spend_orders(*, period: SpendPeriod, store: Store | None = None) -> QuerySet[Order]:
    """Orders with at least one bought label whose first label was bought in the period, annotated with `label_cost`,
    `labels`, `bought_at` and `supplier`."""
    bought = LabelPurchase.objects.filter(order=OuterRef("pk"), state=PurchaseState.PURCHASED).order_by()
    per_order = bought.values("order")
    orders = Order.objects.annotate(
        label_cost=Subquery(per_order.annotate(total=Sum("price")).values("total"), output_field=MONEY),
        labels=Subquery(per_order.annotate(n=Count("pk")).values("n")),
        bought_at=Subquery(per_order.annotate(first=Min("purchased_at")).values("first")),
        supplier=Subquery(
            HandoffItem.objects.filter(purchase__order=OuterRef("pk"))
            .order_by("handoff__created_at")
            .values("handoff__warehouse__name")[:1]
        ),
    ).filter(bought_at__gte=period.start, bought_at__lt=period.end)
    if store is not None:
        orders = orders.filter(store=store)
    return orders


def spend_lines(*, period: SpendPeriod, store: Store | None = None) -> Iterator[SpendLine]:
    """One line per order, by the day of its first label; streamed (`iterator`) so a CSV of a big month stays small."""
    zone = clock.organization_zone()
    rows = (
        _spend_orders(period=period, store=store)
        .annotate(day=TruncDate("bought_at", tzinfo=zone))
        .values_list(
            "pk",
            "external_id",
            "store__name",
            "warehouse__name",
            "supplier",
            "day",
            "labels",
            "label_cost",
            "shipping_fee",
            "currency",
            "bought_at",
            "ship_by",
        )
        .order_by("bought_at", "pk")
    )
    for row in rows.iterator(2000):
        pk, external_id, store_name, warehouse, supplier, day, labels, cost, fee, currency, bought_at, ship_by = row
        yield SpendLine(
            order_id=pk,
            external_id=external_id,
            store=store_name,
            warehouse=warehouse or NOT_ROUTED,
            supplier=supplier or NOT_HANDED_OFF,
            day=day,
            labels=labels or 0,
            label_cost=cost or ZERO,
            shipping_fee=fee or ZERO,
            currency=currency,
            bought_at=bought_at,
            ship_by=ship_by,
        )


def spend_totals(*, period: SpendPeriod, group: SpendGroup, store: Store | None = None) -> list[SpendTotal]:
    """Totals per store, warehouse, supplier or day (and currency), summed by the database."""
    if group == SpendGroup.ORDER:
        raise ValueError("orders are lines, not totals: use spend_lines")
    zone = clock.organization_zone()
    key = {
        SpendGroup.STORE: F("store__name"),
        SpendGroup.WAREHOUSE: Coalesce(F("warehouse__name"), Value(NOT_ROUTED)),
        SpendGroup.SUPPLIER: Coalesce(F("supplier"), Value(NOT_HANDED_OFF)),
        SpendGroup.DAY: TruncDate("bought_at", tzinfo=zone),
    }[group]
    rows = (
        _spend_orders(period=period, store=store)
        .annotate(group_key=key)
        .values("group_key", "currency")
        .annotate(
            orders=Count("pk"),
            label_count=Sum("labels"),
            cost=Coalesce(Sum("label_cost"), Value(ZERO), output_field=MONEY),
            fees=Coalesce(Sum("shipping_fee"), Value(ZERO), output_field=MONEY),
        )
        .order_by("group_key", "currency")
    )
    return [
        SpendTotal(
            key=row["group_key"].isoformat() if isinstance(row["group_key"], date) else str(row["group_key"]),
            currency=row["currency"],
            orders=row["orders"],
            labels=row["label_count"] or 0,
            label_cost=row["cost"],
            shipping_fee=row["fees"],
        )
        for row in rows
    ]


def spend_by_day(*, period: SpendPeriod, store: Store | None = None) -> list[SpendTotal]:
    """Every day of the period (zeros included) for the chart, in the organization's main currency."""
    totals = spend_totals(period=period, group=SpendGroup.DAY, store=store)
    currency = spend_main_currency(totals)
    found = {t.key: t for t in totals if t.currency == currency}
    days = (period.last_day - period.first_day).days + 1
    result = []
    for n in range(days):
        day = (period.first_day + timedelta(days=n)).isoformat()
        result.append(found.get(day) or SpendTotal(day, currency, 0, 0, ZERO, ZERO))
    return result


def spend_main_currency(totals: list[SpendTotal]) -> str:
    """The currency most of the spend is in (the chart shows one currency; the tables show each)."""
    by_currency: dict[str, Decimal] = {}
    for total in totals:
        by_currency[total.currency] = by_currency.get(total.currency, ZERO) + total.label_cost
    return max(by_currency, key=lambda c: by_currency[c]) if by_currency else "USD"


def spend_overall(*, period: SpendPeriod, store: Store | None = None) -> list[SpendTotal]:
    """One total per currency for the whole period."""
    rows = (
        _spend_orders(period=period, store=store)
        .values("currency")
        .annotate(
            orders=Count("pk"),
            label_count=Sum("labels"),
            cost=Coalesce(Sum("label_cost"), Value(ZERO), output_field=MONEY),
            fees=Coalesce(Sum("shipping_fee"), Value(ZERO), output_field=MONEY),
        )
        .order_by("currency")
    )
    return [SpendTotal("All", r["currency"], r["orders"], r["label_count"] or 0, r["cost"], r["fees"]) for r in rows]


# Sections for the period and store shown, `reader(start, end, store) -> Panel`; apps above shipping provide them in
# ready() (aftersales: returns and refunds), so this module never imports them.
spend_sources: Contributions[Panel] = Contributions("spend page sections")
