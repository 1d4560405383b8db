"""Routing: the first matching rule sends a ready order to its warehouse (moving the reservation, all or nothing),
tags it and buys its label when auto-buy says so, once per order."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from erp.actors import Actor
from erp.models import AuditEntry, Organization
from inventory import services as inventory
from inventory.models import Reservation, StockLevel, WarehouseKind
from orders.models import Order
from orders.services import orders_imported
from shipping import routing
from shipping.models import LabelPurchase, LogisticsRule
from tests.factories import (
    LabelPurchaseFactory,
    ListingFactory,
    LogisticsRuleFactory,
    OrderFactory,
    OrderLineFactory,
    SkuFactory,
    SkuSupplierFactory,
    StockLevelFactory,
    StoreFactory,
    WarehouseFactory,
)


@pytest.fixture
def shop(org: Organization) -> dict[str, Any]:
    """A store, one SKU stocked at home (5) and at a 3PL (2), and a supplier that makes to order."""
    store = StoreFactory(organization=org)
    sku = SkuFactory(organization=org, code="RED-TEE-L")
    home = WarehouseFactory(organization=org, name="Home", kind=WarehouseKind.OWN)
    tpl = WarehouseFactory(organization=org, name="Reno 3PL", kind=WarehouseKind.THREE_PL)
    maker = WarehouseFactory(organization=org, name="Maker", kind=WarehouseKind.SUPPLIER, tracks_stock=False)
    StockLevelFactory(organization=org, sku=sku, warehouse=home, on_hand=5)
    StockLevelFactory(organization=org, sku=sku, warehouse=tpl, on_hand=2)
    return {"store": store, "sku": sku, "home": home, "tpl": tpl, "maker": maker}


def reserved_order(shop: dict[str, Any], *, units: int = 1, **fields: Any) -> Order:
    """An unrouted order for `units` × RED-TEE-L, reserved at Home as import would leave it."""
    org = shop["store"].organization
    order = OrderFactory(organization=org, store=shop["store"], warehouse=shop["home"], **fields)
    for _ in range(units):
        line = OrderLineFactory(organization=org, order=order)
        ListingFactory(organization=org, store=shop["store"], platform_sku_id=line.sku_id, sku=shop["sku"])
    inventory.order_reserve(
        order_id=order.pk, demand={shop["sku"].pk: units}, warehouse_ids=[shop["home"].pk], actor=Actor.system()
    )
    return order


def levels(shop: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {
        level.warehouse.name: (level.on_hand, level.reserved)
        for level in StockLevel.objects.filter(sku=shop["sku"]).select_related("warehouse")
    }


@pytest.mark.django_db
def test_a_rule_moves_the_order_and_its_reservation_to_its_warehouse(shop: dict[str, Any]) -> None:
    order = reserved_order(shop)
    LogisticsRuleFactory(organization=order.organization, actions={"warehouse_id": str(shop["tpl"].pk)})
    result = routing.orders_route()
    order.refresh_from_db()
    assert (result.routed, result.moved) == (1, 1)
    assert order.warehouse == shop["tpl"]
    assert order.routed_at is not None
    assert set(Reservation.objects.filter(order_id=order.pk).values_list("warehouse__name", flat=True)) == {"Reno 3PL"}
    assert levels(shop) == {"Home": (5, 0), "Reno 3PL": (2, 1)}
    entry = AuditEntry.objects.get(action="order.routed")
    assert entry.changes["warehouse"] == str(shop["tpl"].pk)


@pytest.mark.django_db
def test_a_warehouse_that_cannot_ship_it_leaves_the_order_where_it_was_and_says_why(shop: dict[str, Any]) -> None:
    order = reserved_order(shop, units=3)  # the 3PL has 2
    LogisticsRuleFactory(organization=order.organization, actions={"warehouse_id": str(shop["tpl"].pk)})
    result = routing.orders_route()
    order.refresh_from_db()
    assert order.warehouse == shop["home"]
    assert levels(shop) == {"Home": (5, 3), "Reno 3PL": (2, 0)}  # untouched: the move was all or nothing
    assert result.not_moved == {order.external_id: "Short there: 1 × RED-TEE-L."}
    assert AuditEntry.objects.get(action="order.routed").changes["warehouse_refused"] == "Short there: 1 × RED-TEE-L."


@pytest.mark.django_db
def test_a_make_to_order_supplier_takes_the_order_without_stock(shop: dict[str, Any]) -> None:
    order = reserved_order(shop)
    SkuSupplierFactory(organization=order.organization, sku=shop["sku"], warehouse=shop["maker"])
    LogisticsRuleFactory(
        organization=order.organization, name="To the maker", actions={"warehouse_id": str(shop["maker"].pk)}
    )
    routing.orders_route()
    order.refresh_from_db()
    assert order.warehouse == shop["maker"]
    assert (order.warehouse_chosen_by, order.warehouse_reason) == ("rule", "Rule “To the maker” sends it here.")
    assert not Reservation.objects.filter(order_id=order.pk).exists()
    assert levels(shop) == {"Home": (5, 0), "Reno 3PL": (2, 0)}


@pytest.mark.django_db
def test_a_rule_cannot_send_a_supplier_what_it_does_not_supply(shop: dict[str, Any]) -> None:
    order = reserved_order(shop)
    LogisticsRuleFactory(organization=order.organization, actions={"warehouse_id": str(shop["maker"].pk)})
    result = routing.orders_route()
    order.refresh_from_db()
    assert order.warehouse == shop["home"]
    assert "does not supply every SKU" in result.not_moved[order.external_id]
    assert levels(shop) == {"Home": (5, 1), "Reno 3PL": (2, 0)}


@pytest.mark.django_db
def test_an_order_is_routed_once_and_a_person_is_not_overruled(shop: dict[str, Any]) -> None:
    order = reserved_order(shop)
    rule = LogisticsRuleFactory(
        organization=order.organization, actions={"warehouse_id": str(shop["tpl"].pk), "tag": "3pl"}
    )
    routing.orders_route()
    order.refresh_from_db()
    assert order.tags == ["3pl"]
    Order.objects.filter(pk=order.pk).update(tags=[])  # a person removed the tag
    rule.actions = {"warehouse_id": str(shop["home"].pk), "tag": "again"}
    rule.save()
    again = routing.orders_route()
    order.refresh_from_db()
    assert again.routed == 0
    assert (order.warehouse, order.tags) == (shop["tpl"], [])


@pytest.mark.django_db
def test_rules_auto_buy_overrides_the_store_and_review_never_buys(shop: dict[str, Any], org: Organization) -> None:
    buying_store = StoreFactory(organization=org, auto_buy_labels=True)
    by_rule = reserved_order(shop, total="80.00")
    by_store = OrderFactory(organization=org, store=buying_store, total="10.00")
    vetoed = OrderFactory(organization=org, store=buying_store, total="55.00")
    reviewed = OrderFactory(organization=org, store=buying_store, total="500.00")
    quiet = OrderFactory(organization=org, store=shop["store"], total="10.00")
    LogisticsRuleFactory(organization=org, priority=1, conditions={"total_min": 400}, actions={"hold_for_review": True})
    LogisticsRuleFactory(organization=org, priority=2, conditions={"total_min": 70}, actions={"auto_buy": True})
    LogisticsRuleFactory(
        organization=org, priority=3, conditions={"total_min": 50, "total_max": 60}, actions={"auto_buy": False}
    )
    result = routing.orders_route()
    bought = set(LabelPurchase.objects.values_list("order_id", flat=True))
    assert bought == {by_rule.pk, by_store.pk}
    assert {vetoed.pk, reviewed.pk, quiet.pk}.isdisjoint(bought)
    assert result.auto_buy == 2
    assert len(result.batches) == 1
    assert set(Order.objects.filter(routed_at__isnull=False).values_list("pk", flat=True)) == {
        by_rule.pk,
        by_store.pk,
        vetoed.pk,
        reviewed.pk,
        quiet.pk,
    }
    assert routing.orders_route().auto_buy == 0  # never a second batch for the same orders


@pytest.mark.django_db
def test_held_and_fbt_orders_are_not_routed_and_own_label_orders_are_routed_but_never_bought(
    org: Organization,
) -> None:
    ready = OrderFactory(organization=org, store=StoreFactory(organization=org, auto_buy_labels=True))
    OrderFactory(organization=org, is_held=True)
    OrderFactory(organization=org, fulfilled_by="platform")
    own_label = OrderFactory(
        organization=org, label_source="seller", store=StoreFactory(organization=org, auto_buy_labels=True)
    )
    assert routing.organizations_with_unrouted_orders() == [org.pk]
    result = routing.orders_route()
    assert result.routed == 2
    assert set(Order.objects.filter(routed_at__isnull=False).values_list("pk", flat=True)) == {ready.pk, own_label.pk}
    assert set(LabelPurchase.objects.values_list("order_id", flat=True)) == {ready.pk}  # the store's auto-buy
    assert routing.organizations_with_unrouted_orders() == []


@pytest.mark.django_db
def test_an_import_routes_its_orders_once_committed(org: Organization, django_capture_on_commit_callbacks: Any) -> None:
    order = OrderFactory(organization=org)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        orders_imported.send(order_ids=[order.pk])
    assert len(callbacks) == 1
    order.refresh_from_db()
    assert order.routed_at is not None


@pytest.mark.django_db
def test_applying_changed_rules_reroutes_open_orders_without_a_label(tenant: Any, shop: dict[str, Any]) -> None:
    org = tenant.organization
    waiting = reserved_order(shop)
    labelled = reserved_order(shop)
    routing.orders_route()  # no rule yet: both stay at Home
    LabelPurchaseFactory(organization=org, order=labelled)
    LogisticsRuleFactory(organization=org, actions={"warehouse_id": str(shop["tpl"].pk)})
    assert routing.orders_route().routed == 0  # routed once: a new rule alone changes nothing

    response = tenant.client.post("/shipping/rules/apply/", follow=True)
    assert "Rules applied to 1 open order(s): 1 moved to the rule&#x27;s warehouse." in response.content.decode()
    waiting.refresh_from_db()
    labelled.refresh_from_db()
    assert waiting.warehouse == shop["tpl"]
    assert labelled.warehouse == shop["home"]  # its label is bought from Home: never moved under it
    assert AuditEntry.objects.get(action="rules.applied").changes == {"orders": 1}


@pytest.mark.django_db
def test_a_tag_set_by_routing_is_a_condition_at_purchase(tenant: Any, shop: dict[str, Any]) -> None:
    from shipping.rules.engine import first_match
    from shipping.rules.facts import facts_for

    order = reserved_order(shop, total="300.00")
    org = tenant.organization
    LogisticsRuleFactory(organization=org, priority=1, conditions={"total_min": 200}, actions={"tag": "VIP"})
    routing.orders_route()
    order.refresh_from_db()
    express = LogisticsRuleFactory(
        organization=tenant.organization,
        priority=0,
        conditions={"tags_any": ["vip"]},
        actions={"service_strategy": "fastest"},
    )
    decision = first_match(LogisticsRule.objects.all(), facts_for(order), timezone.now())
    assert decision is not None
    assert decision.rule == express
    assert decision.reasons == ["tagged vip"]
