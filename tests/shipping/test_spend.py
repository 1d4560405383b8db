"""The label spend report: what official labels cost per order, store, warehouse, supplier and day, against the
shipping fee buyers paid; as a page, a chart and CSV. Totals are checked against sums computed here from the rows
this test created."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from erp.roles import Role
from erp.tenancy import organization_scope
from inventory.models import WarehouseKind
from shipping import spend
from shipping.models import PurchaseState
from tests.factories import (
    HandoffFactory,
    HandoffItemFactory,
    LabelBatchFactory,
    LabelPurchaseFactory,
    OrderFactory,
    StoreFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Bought:
    external_id: str
    store: str
    warehouse: str
    supplier: str
    day: str
    cost: Decimal
    fee: Decimal
    currency: str


@pytest.fixture
def month(tenant: Any) -> list[Bought]:
    """Labels bought over ten days for two US stores and one UK store, some handed off to a supplier; plus a failed
    purchase and a label bought before the period, which must not count."""
    org = tenant.organization
    zone = ZoneInfo(org.time_zone)
    today = timezone.now().astimezone(zone).date()
    home, outlet = StoreFactory(organization=org, name="Home US"), StoreFactory(organization=org, name="Outlet US")
    uk = StoreFactory(organization=org, name="Shop UK", region="GB")
    reno = WarehouseFactory(organization=org, name="Reno")
    sun = WarehouseFactory(organization=org, name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER)
    batch = LabelBatchFactory(organization=org)
    handoff = HandoffFactory(organization=org, warehouse=sun, batch=batch)
    made: list[Bought] = []
    for n in range(24):
        store = (home, outlet, uk)[n % 3]
        warehouse = sun if n % 4 == 0 else reno
        currency = "GBP" if store is uk else "USD"
        day = today - timedelta(days=n % 10)
        bought_at = datetime.combine(day, time(9 + n % 8, 15), tzinfo=zone)
        cost, fee = Decimal("4.10") + n, Decimal("5.99") if n % 2 else Decimal("0.00")
        order = OrderFactory(organization=org, store=store, warehouse=warehouse, shipping_fee=fee, currency=currency)
        purchase = LabelPurchaseFactory(
            organization=org,
            order=order,
            batch=batch,
            state=PurchaseState.PURCHASED,
            price=cost,
            currency=currency,
            purchased_at=bought_at,
        )
        if warehouse is sun:
            HandoffItemFactory(organization=org, handoff=handoff, purchase=purchase)
        made.append(
            Bought(
                order.external_id,
                store.name,
                warehouse.name,
                sun.name if warehouse is sun else spend.NOT_HANDED_OFF,
                day.isoformat(),
                cost,
                fee,
                currency,
            )
        )
    failed = OrderFactory(organization=org, store=home, shipping_fee=Decimal("5.99"))
    LabelPurchaseFactory(organization=org, order=failed, state=PurchaseState.FAILED, price=Decimal("9.99"))
    old = OrderFactory(organization=org, store=home, shipping_fee=Decimal("5.99"))
    LabelPurchaseFactory(
        organization=org,
        order=old,
        state=PurchaseState.PURCHASED,
        price=Decimal("7.00"),
        purchased_at=timezone.now() - timedelta(days=45),
    )
    return made


def expected_totals(rows: list[Bought], key: str) -> dict[tuple[str, str], tuple[int, Decimal, Decimal]]:
    totals: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for row in rows:
        total = totals[(getattr(row, key), row.currency)]
        total[0] += 1
        total[1] += row.cost
        total[2] += row.fee
    return {k: (v[0], v[1], v[2]) for k, v in totals.items()}


@pytest.mark.parametrize("group", ["store", "warehouse", "supplier", "day"])
def test_totals_per_group_equal_the_sum_of_the_orders(tenant: Any, month: list[Bought], group: str) -> None:
    with organization_scope(tenant.organization):
        totals = spend.spend_totals(period=spend.spend_period(), group=spend.SpendGroup(group))
    got = {(t.key, t.currency): (t.orders, t.label_cost, t.shipping_fee) for t in totals}
    assert got == expected_totals(month, group)


def test_one_csv_row_per_order_with_cost_and_buyer_fee(tenant: Any, month: list[Bought]) -> None:
    viewer = tenant.client_as(Role.VIEWER)
    response = viewer.get("/shipping/spend.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["order_id"] for r in rows} == {b.external_id for b in month}
    by_id = {b.external_id: b for b in month}
    for row in rows:
        b = by_id[row["order_id"]]
        assert (row["store"], row["warehouse"], row["supplier"], row["day"]) == (
            b.store,
            b.warehouse,
            b.supplier,
            b.day,
        )
        assert (Decimal(row["label_cost"]), Decimal(row["buyer_shipping_fee"])) == (b.cost, b.fee)
        assert Decimal(row["fee_minus_cost"]) == b.fee - b.cost
        assert row["currency"] == b.currency


def test_csv_totals_by_a_group_and_for_one_store(tenant: Any, month: list[Bought]) -> None:
    response = tenant.client.get("/shipping/spend.csv", {"group": "supplier"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    got = {(r["supplier"], r["currency"]): (int(r["orders"]), Decimal(r["label_cost"])) for r in rows}
    assert got == {k: (v[0], v[1]) for k, v in expected_totals(month, "supplier").items()}
    with organization_scope(tenant.organization):
        from integrations.models import Store

        home = Store.objects.get(name="Home US")
    response = tenant.client.get("/shipping/spend.csv", {"group": "store", "store": str(home.pk)})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["store"] for r in rows] == ["Home US"]
    assert Decimal(rows[0]["label_cost"]) == sum(b.cost for b in month if b.store == "Home US")


def test_the_period_bounds_what_counts(tenant: Any, month: list[Bought]) -> None:
    days = sorted({b.day for b in month})
    response = tenant.client.get("/shipping/spend.csv", {"start": days[-2], "end": days[-1]})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["order_id"] for r in rows} == {b.external_id for b in month if b.day in days[-2:]}


def test_the_page_shows_totals_and_a_chart(tenant: Any, month: list[Bought]) -> None:
    response = tenant.client_as(Role.VIEWER).get("/shipping/spend/", {"group": "warehouse"})
    assert response.status_code == 200
    overall = {t.currency: t for t in response.context["overall"]}
    assert overall["USD"].label_cost == sum(b.cost for b in month if b.currency == "USD")
    assert overall["GBP"].orders == sum(1 for b in month if b.currency == "GBP")
    chart = response.context["chart"]
    assert len(chart.x_ticks) >= 6
    assert len(chart.rects) == len({b.day for b in month if b.currency == "USD"})  # one bar per day with spend
    body = response.content.decode()
    assert 'data-testid="spend-chart"' in body
    assert "Shenzhen Sun" in body or "Reno" in body


def test_an_empty_period_says_so(tenant: Any) -> None:
    response = tenant.client.get("/shipping/spend/")
    assert response.status_code == 200
    assert "No official label was bought in this period" in response.content.decode()
    assert response.context["chart"].empty


def test_the_csv_neutralizes_formulas_in_text_and_keeps_negative_numbers_numbers(
    tenant: Any, month: list[Bought]
) -> None:
    """OWASP CSV injection: an order id or store name from a platform must not run in the seller's spreadsheet."""
    from orders.models import Order

    formula = '=HYPERLINK("http://evil.example","click")'
    with organization_scope(tenant.organization):
        order = Order.objects.get(external_id=month[0].external_id)
        order.external_id = formula
        order.save(update_fields=["external_id"])
        order.store.name = "@SUM(1+1)"
        order.store.save(update_fields=["name"])
    rows = list(csv.DictReader(io.StringIO(tenant.client.get("/shipping/spend.csv").content.decode())))
    row = next(r for r in rows if r["order_id"].endswith(formula))
    assert row["order_id"] == "'" + formula
    assert row["store"] == "'@SUM(1+1)"
    negative = [r["fee_minus_cost"] for r in rows if Decimal(r["fee_minus_cost"].lstrip("'")) < 0]
    assert negative
    assert all(cell.startswith("-") for cell in negative)  # a number, not text a spreadsheet cannot sum
    totals = list(csv.DictReader(io.StringIO(tenant.client.get("/shipping/spend.csv?group=store").content.decode())))
    assert "'@SUM(1+1)" in {t["store"] for t in totals}
