"""Creating a batch of a thousand orders is one click: its purchases are recorded in a few statements whatever the
number of orders, packages already recorded are taken as they are, and an order recorded by another request at the
same moment is read, never recorded twice (docs/adr/0019-package-is-the-purchase.md). The batch page shows what each
label cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.actors import Actor
from erp.models import Organization
from orders.models import Order
from shipping.labels.batches import label_batch_create
from shipping.labels.purchase import label_purchase_request, lines_to_ship, orders_label_purchases_request
from shipping.models import LabelBatch, LabelPurchase, PackageOrder, PurchaseState
from tests.factories import LabelBatchFactory, LabelPurchaseFactory, OrderFactory, OrderLineFactory, PackageOrderFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def orders_with_lines(organization: Organization, n: int) -> list[Order]:
    orders = OrderFactory.create_batch(n, organization=organization)
    store = orders[0].store
    for order in orders:
        Order.objects.filter(pk=order.pk).update(store=store)
        order.store = store
        OrderLineFactory(organization=organization, order=order)
        OrderLineFactory(organization=organization, order=order, platform_line_ids=["L-2", "L-1"])
        OrderLineFactory(organization=organization, order=order, is_cancelled=True)
    return orders


def test_a_batch_records_its_orders_purchases_in_the_same_few_statements_whatever_their_number(
    org: Organization,
) -> None:
    statements = []
    for n in (3, 30):
        orders = orders_with_lines(org, n)
        batch = LabelBatchFactory(organization=org)
        with CaptureQueriesContext(connection) as queries:
            requested = orders_label_purchases_request(orders=orders, batch=batch)
        statements.append(len(queries))
        for order in orders:
            [purchase] = requested[order.pk]
            assert purchase.line_ids == lines_to_ship(order)  # what one order's request records
            assert (purchase.order_id, purchase.package_key, purchase.batch_id) == (order.pk, "order", batch.pk)
            cover = PackageOrder.objects.get(order=order)
            assert (cover.purchase_id, cover.part, cover.line_ids) == (purchase.pk, "order", purchase.line_ids)
            assert label_purchase_request(order=order).pk == purchase.pk  # asking again returns the same row
    # Not a statement per order. SQLite caps the parameters of one statement, so Django sends 30 orders' purchases
    # in two INSERTs there.
    assert statements[1] - statements[0] <= (1 if connection.vendor == "sqlite" else 0), statements
    assert statements[0] <= 7, statements


def test_packages_already_recorded_are_taken_as_they_are(org: Organization) -> None:
    waiting, combined_lead, combined_other, split, elsewhere = orders_with_lines(org, 5)
    alone = label_purchase_request(order=waiting)  # asked for before, in no batch yet
    parcel = LabelPurchaseFactory(organization=org, order=combined_lead)
    PackageOrderFactory(organization=org, purchase=parcel, order=combined_other, part="order")
    parts = [
        LabelPurchaseFactory(organization=org, order=split, package_key=key, cover__part=f"split:{key}")
        for key in ("2", "1")
    ]
    other_batch = LabelBatchFactory(organization=org)
    taken = LabelPurchaseFactory(organization=org, order=elsewhere, batch=other_batch)

    batch = label_batch_create(actor=ACTOR, orders=[waiting, combined_lead, combined_other, split, elsewhere])

    assert set(LabelPurchase.objects.filter(batch=batch).values_list("pk", flat=True)) == {
        alone.pk,
        parcel.pk,
        *(part.pk for part in parts),
    }
    assert LabelPurchase.objects.count() == 5  # nothing recorded twice
    assert LabelPurchase.objects.get(pk=taken.pk).batch_id == other_batch.pk
    assert [entry["order_id"] for entry in batch.left_out] == [str(elsewhere.pk)]
    assert LabelBatch.objects.get(pk=batch.pk).left_out == batch.left_out


def test_an_order_recorded_by_another_request_at_the_same_moment_is_read_not_recorded_twice(
    org: Organization,
) -> None:
    raced, first, second = orders_with_lines(org, 3)
    # Another request's purchase of `raced`, inserted after this batch read the covers: the batch's INSERT meets
    # the unique (order, package) and the batch falls back to reading each order's own way.
    other = LabelPurchase.objects.create(order=raced, store_id=raced.store_id, line_ids=lines_to_ship(raced))
    batch = LabelBatchFactory(organization=org)

    requested = orders_label_purchases_request(orders=[raced, first, second], batch=batch)

    assert requested[raced.pk] == [other]
    assert LabelPurchase.objects.filter(order=raced).count() == 1
    assert {requested[o.pk][0].order_id for o in (first, second)} == {first.pk, second.pk}
    assert LabelPurchase.objects.filter(batch=batch).count() == 3


def test_the_batch_page_shows_each_labels_cost_in_its_own_currency(tenant: Any, org: Organization) -> None:
    [order] = orders_with_lines(org, 1)
    batch = LabelBatchFactory(organization=org)
    LabelPurchaseFactory(
        organization=org, order=order, batch=batch, state=PurchaseState.PURCHASED, price=Decimal("4.5"), currency="GBP"
    )
    page = tenant.client.get(f"/shipping/batches/{batch.pk}/").content.decode()
    assert '<td class="right">£4.50</td>' in page  # it read "$4.50": a dollar sign whatever the currency
