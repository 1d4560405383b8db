"""No per-row queries: a page of 50 orders costs the same few queries as a page of 5."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import HoldReason
from tests.factories import OrderHoldFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db

# The dashboard shell costs a few queries of its own (session, user, memberships, store health); a little slack for it.
PAGE_QUERIES = 11  # shell (+ the after-sales inbox counts); tab counts (2); stores; the page; its open holds
API_LIST_QUERIES = 4  # API key; the page; its open holds (+1 when the key's last use is recorded)
API_DETAIL_QUERIES = 7  # API key; order and store; lines; holds; status history; carrier tracking events
# shell; order and store; lines; holds; status history; tracking events; audit entries; the after-sales panel (its
# cancellation and return requests, the seller's own cancellation); for people who manage webhooks, the banner's
# auto-disabled endpoints
DETAIL_PAGE_QUERIES = 17


def seed(tenant: Any, make_order: Any, n: int) -> list[Any]:
    second = StoreFactory(organization=tenant.organization, name="Second shop")
    orders = []
    for i in range(n):
        order = make_order(is_held=i % 5 == 0, **({"store": second} if i % 2 else {}))
        OrderLineFactory(organization=tenant.organization, order=order)
        OrderLineFactory(organization=tenant.organization, order=order, seller_sku="BLUE-MUG")
        if order.is_held:
            OrderHoldFactory(organization=tenant.organization, order=order, reason=HoldReason.OUT_OF_STOCK)
        orders.append(order)
    return orders


def count(call: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries)


def test_the_list_page_does_no_per_row_query(tenant: Any, make_order: Any, django_assert_max_num_queries: Any) -> None:
    seed(tenant, make_order, 5)
    few = count(lambda: tenant.client.get("/orders/"))
    seed(tenant, make_order, 45)
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = tenant.client.get("/orders/")
    assert response.content.decode().count('name="order"') == 50
    assert count(lambda: tenant.client.get("/orders/")) == few


def test_the_api_list_does_no_per_row_query(
    tenant: Any, make_order: Any, api: Any, django_assert_max_num_queries: Any
) -> None:
    seed(tenant, make_order, 5)
    few = count(lambda: api())
    seed(tenant, make_order, 45)
    with django_assert_max_num_queries(API_LIST_QUERIES):
        response = api()
    assert len(response.json()["results"]) == 50
    assert count(lambda: api()) <= few  # the first call also records the key's last use
    with django_assert_max_num_queries(4):
        assert api("counts/").json()["all"] == 50


def test_the_detail_does_no_per_line_query(
    tenant: Any, make_order: Any, api: Any, django_assert_max_num_queries: Any
) -> None:
    order = make_order(is_held=True)
    for _ in range(30):
        OrderLineFactory(organization=tenant.organization, order=order)
    OrderHoldFactory(organization=tenant.organization, order=order)
    with django_assert_max_num_queries(API_DETAIL_QUERIES):
        assert api(f"{order.pk}/").status_code == 200
    with django_assert_max_num_queries(DETAIL_PAGE_QUERIES):
        assert tenant.client.get(f"/orders/{order.pk}/").status_code == 200
