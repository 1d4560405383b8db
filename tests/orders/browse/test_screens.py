"""The dashboard's order list and detail pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from erp.actors import Actor
from erp.roles import Role
from erp.services import audit_record
from orders.models import HOLD_FIXES, HoldReason, OrderStatus
from tests.factories import OrderFactory, OrderHoldFactory, OrderLineFactory, OrderStatusChangeFactory

pytestmark = pytest.mark.django_db


def test_the_list_opens_on_orders_to_ship_soonest_deadline_first(tenant: Any, make_order: Any) -> None:
    now = timezone.now()
    make_order(external_id="LATER", ship_by=now + timedelta(days=2))
    make_order(external_id="URGENT", ship_by=now + timedelta(hours=5, minutes=12, seconds=30))
    make_order(external_id="GONE", status=OrderStatus.DELIVERED)

    response = tenant.client.get("/orders/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body
    assert body.index("URGENT") < body.index("LATER")
    assert "GONE" not in body
    assert "ships in 5 h 12 min" in body
    assert 'data-count="to_ship">2<' in body
    assert 'data-count="all">3<' in body
    assert "Buy labels" in body


def test_filters_swap_only_the_results_with_htmx(tenant: Any, make_order: Any) -> None:
    make_order(external_id="ONE", recipient_name="Dana Kim")
    make_order(external_id="TWO", recipient_name="Lee Park")

    response = tenant.client.get("/orders/", {"q": "dana", "status": "all"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="order-results">')
    assert "ONE" in body
    assert "TWO" not in body
    assert 'name="status" value="all" form="order-filters"' in body  # the tab the filter form carries
    assert 'data-count="all">1<' in body  # counts follow the search


def test_select_all_carries_the_filter_query(tenant: Any, make_order: Any) -> None:
    make_order()
    body = tenant.client.get("/orders/", {"q": "5764", "status": "to_ship"}).content.decode()
    assert 'name="filter" value="q=5764&amp;status=to_ship"' in body
    assert "Select all 1 orders matching this filter" in body


def test_overdue_and_urgent_deadlines_are_red(tenant: Any, make_order: Any) -> None:
    make_order(ship_by=timezone.now() - timedelta(hours=2, minutes=3, seconds=30))
    body = tenant.client.get("/orders/").content.decode()
    assert 'class="badge badge-bad"' in body
    assert "overdue by 2 h 3 min" in body


def test_an_empty_organization_is_told_to_connect_a_store(tenant: Any) -> None:
    body = tenant.client.get("/orders/").content.decode()
    assert "No orders yet" in body


def test_a_bad_cursor_starts_over_instead_of_failing(tenant: Any, make_order: Any) -> None:
    make_order(external_id="ONLY")
    response = tenant.client.get("/orders/", {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    assert "ONLY" in response.content.decode()


def test_detail_shows_holds_with_their_fix(tenant: Any, make_order: Any) -> None:
    order = make_order(is_held=True)
    OrderHoldFactory(
        organization=tenant.organization, order=order, reason=HoldReason.ADDRESS_INVALID, detail="No street line."
    )
    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()
    assert "Address looks invalid" in body
    assert "No street line." in body
    assert HOLD_FIXES[HoldReason.ADDRESS_INVALID].split(" (")[0] in body


def test_detail_aggregates_lines_by_sku_and_keeps_their_ids(tenant: Any, make_order: Any) -> None:
    order = make_order()
    for line_id in ("L1", "L2", "L3"):
        OrderLineFactory(organization=tenant.organization, order=order, external_id=line_id, seller_sku="RED-TEE-L")
    OrderLineFactory(organization=tenant.organization, order=order, external_id="L9", seller_sku="BLUE-MUG")

    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()

    assert "<strong>3</strong>" in body
    assert "L1, L2, L3" in body
    assert "BLUE-MUG" in body


@pytest.mark.parametrize(
    ("fields", "wording"),
    [
        ({"address_masked": True}, "Masked by TikTok"),
        ({"has_address": False, "status": OrderStatus.ON_HOLD}, "hidden until the remorse window ends"),
        ({"fulfilled_by": "platform"}, "Fulfilled by TikTok — nothing to do"),
        ({"label_source": "seller"}, "This order ships on <strong>your own carrier's label</strong>"),
        ({"buyer_message": "Please gift wrap"}, "Please gift wrap"),
        ({"total": "1234.50", "currency": "USD"}, "$1,234.50"),
    ],
)
def test_detail_says_what_matters_about_the_order(tenant: Any, make_order: Any, fields: dict, wording: str) -> None:
    order = make_order(**fields)
    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()
    assert wording in body


def test_seller_shipping_and_fbt_flags_only_when_they_apply(tenant: Any, make_order: Any) -> None:
    order = make_order()
    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()
    assert "Seller shipping" not in body
    assert "Fulfilled by TikTok" not in body


def test_timeline_merges_status_changes_and_audit_entries_in_time_order(tenant: Any, make_order: Any) -> None:
    now = timezone.now()
    order = make_order()
    OrderStatusChangeFactory(
        organization=tenant.organization,
        order=order,
        from_status="",
        to_status="ON_HOLD",
        changed_at=now - timedelta(hours=3),
    )
    OrderStatusChangeFactory(
        organization=tenant.organization,
        order=order,
        from_status="ON_HOLD",
        to_status="AWAITING_SHIPMENT",
        changed_at=now - timedelta(hours=1),
    )
    entry = audit_record(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), action="order.note_added", target=order
    )
    assert entry.target_type == "order"
    audit_record(  # another order's entry stays out
        organization=tenant.organization,
        actor=Actor.for_user(tenant.owner),
        action="order.other_thing",
        target=OrderFactory(organization=tenant.organization),
    )

    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()

    first, second, third = (
        body.index("Imported as On hold"),
        body.index("On hold → To ship"),
        body.index("order.note_added"),
    )
    assert first < second < third
    assert "order.other_thing" not in body


def test_the_timeline_names_warehouses_skus_and_rules_instead_of_their_ids(tenant: Any, make_order: Any) -> None:
    """What routing writes (a rule's warehouse action) reads as names; a row deleted since says so."""
    from shipping.routing import ROUTER
    from tests.factories import LogisticsRuleFactory, SkuFactory, WarehouseFactory

    org = tenant.organization
    order = make_order()
    reno = WarehouseFactory(organization=org, name="Reno DC")
    sku = SkuFactory(organization=org, code="CAST-12IN")
    rule = LogisticsRuleFactory(organization=org, name="Texas to Reno")
    gone = WarehouseFactory(organization=org, name="Closed")
    gone_id = str(gone.pk)
    gone.delete()
    audit_record(
        organization=org,
        actor=ROUTER,
        action="order.routed",
        target=order,
        changes={"rule": rule.name, "warehouse": str(reno.pk), "rule_id": str(rule.pk), "sku_ids": [str(sku.pk)]},
    )
    audit_record(organization=org, actor=ROUTER, action="order.routed", target=order, changes={"warehouse": gone_id})

    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()

    assert "warehouse: Reno DC" in body
    assert "rule: Texas to Reno" in body
    assert "sku: CAST-12IN" in body
    assert "warehouse: (a deleted warehouse)" in body
    for raw in (str(reno.pk), str(sku.pk), str(rule.pk), gone_id):
        assert raw not in body


def test_a_viewer_sees_orders_but_not_the_audit_trail(tenant: Any, make_order: Any) -> None:
    order = make_order(external_id="VISIBLE")
    audit_record(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), action="order.secret", target=order
    )
    viewer = tenant.client_as(Role.VIEWER)

    assert "VISIBLE" in viewer.get("/orders/").content.decode()
    detail = viewer.get(f"/orders/{order.pk}/")
    assert detail.status_code == 200
    assert "order.secret" not in detail.content.decode()
    assert viewer.post("/orders/").status_code in (403, 405)


def test_another_organizations_order_is_not_found(make_tenant: Any, tenant: Any) -> None:
    other = make_tenant("Other Co")
    theirs = OrderFactory(organization=other.organization)
    assert tenant.client.get(f"/orders/{theirs.pk}/").status_code == 404
