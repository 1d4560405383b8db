"""Logistics rules: conditions match and refuse with reasons, first match by priority, validation that names the
field, weights from SKU weights, the service strategies (ties, a single allocated service, the fallback), reorder,
and "Test this rule" over open orders."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erp.actors import Actor
from erp.models import AuditEntry, Organization
from erp.tenancy import organization_scope
from integrations.interface import Money, ShippingServiceQuote, Weight
from orders.models import Order, OrderStatus
from shipping.labels.purchase import _whole_package_weight
from shipping.models import LogisticsRule
from shipping.rules import engine, services
from shipping.rules.facts import OrderFacts, facts_for, facts_for_orders
from shipping.rules.schema import Actions, Conditions
from tests.factories import (
    LabelPurchaseFactory,
    ListingFactory,
    LogisticsRuleFactory,
    OrderFactory,
    OrderLineFactory,
    PackageOrderFactory,
    SkuFactory,
    StoreFactory,
    WarehouseFactory,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ACTOR = Actor.system("Rules test")
STORE = "0191e3a0-0000-7000-8000-000000000001"


def _facts(**overrides: Any) -> OrderFacts:
    base: dict[str, Any] = {
        "store_id": STORE,
        "country": "US",
        "state": "TX",
        "postal_code": "75001",
        "total": Decimal("40.00"),
        "weight_grams": Decimal("500"),
        "max_side_cm": Decimal("30"),
        "seller_skus": frozenset({"RED-TEE-L"}),
        "product_ids": frozenset({"P1"}),
        "line_count": 2,
        "delivery_option_name": "Standard shipping",
        "ship_by": NOW + timedelta(hours=10),
        "has_buyer_message": False,
    }
    base.update(overrides)
    return OrderFacts(**base)


def _check(conditions: dict[str, Any], **facts: Any) -> tuple[bool, list[str]]:
    return engine.matches(Conditions.from_json(conditions), _facts(**facts), NOW)


# ----------------------------------------------------------------------------------------------- each condition
@pytest.mark.parametrize(
    ("conditions", "facts", "reason"),
    [
        ({"store_ids": [STORE]}, {"store_name": "Glow US"}, "store Glow US is one of the rule's stores"),
        ({"channels": ["shopify", "tiktok"]}, {"channel": "shopify"}, "Shopify is one of the rule's channels"),
        ({"countries": ["us", "CA"]}, {}, "destination country US is in [US, CA]"),
        ({"states": ["TX", "OK"]}, {}, "destination state TX is in [TX, OK]"),
        ({"states": ["tx"]}, {"state": "TX"}, "destination state TX is in [tx]"),
        ({"postal_prefixes": ["750", "90"]}, {}, "postal code 75001 starts with 750"),
        ({"total_min": "25", "total_max": 50}, {}, "order total 40 is at least 25 and at most 50"),
        ({"weight_min_grams": 100, "weight_max_grams": 1000}, {}, "weight 500 g is at least 100 g and at most 1000 g"),
        ({"max_side_cm": 40}, {}, "longest side 30 cm is at most 40 cm"),
        ({"seller_skus_any": ["RED-TEE-L", "X"]}, {}, "contains SKU RED-TEE-L"),
        ({"product_ids_any": ["P1"]}, {}, "contains product P1"),
        ({"tags_any": ["Fragile", "x"]}, {"tags": frozenset({"fragile"})}, "tagged Fragile"),
        ({"line_count_min": 2, "line_count_max": 3}, {}, "line count 2 is at least 2 and at most 3"),
        ({"delivery_option_names": ["standard SHIPPING"]}, {}, "delivery option Standard shipping is in"),
        ({"ship_within_hours": 12}, {}, "ship-by in 10.0 h is within 12 h"),
        ({"has_buyer_message": True}, {"has_buyer_message": True}, "the buyer left a message"),
        ({"has_buyer_message": False}, {}, "the buyer left no message"),
    ],
)
def test_each_condition_matches_and_says_why(conditions: dict, facts: dict, reason: str) -> None:
    ok, reasons = _check(conditions, **facts)
    assert ok, reasons
    assert len(reasons) == 1
    assert reasons[0].startswith(reason)


@pytest.mark.parametrize(
    ("conditions", "facts", "reason"),
    [
        ({"store_ids": ["0191e3a0-0000-7000-8000-000000000002"]}, {}, "the order's store is not one of the rule's"),
        ({"channels": ["shopify"]}, {"channel": "tiktok"}, "TikTok Shop is not one of the rule's channels (Shopify)"),
        ({"countries": ["CA"]}, {}, "destination country US is not in [CA]"),
        ({"states": ["CA", "OK"]}, {}, "destination state TX is not in [CA, OK]"),
        ({"postal_prefixes": ["90"]}, {}, "postal code 75001 starts with none of [90]"),
        ({"total_min": "50"}, {}, "order total 40 is not at least 50"),
        ({"total_max": "39.99"}, {}, "order total 40 is not at most 39.99"),
        ({"total_min": "1"}, {"total": None}, "order total is unknown"),
        ({"weight_max_grams": 400}, {}, "weight 500 g is not at most 400 g"),
        ({"max_side_cm": 20}, {}, "longest side 30 cm is not at most 20 cm"),
        ({"max_side_cm": 20}, {"max_side_cm": None}, "longest side is unknown"),
        ({"seller_skus_any": ["BLUE"]}, {}, "contains none of the SKUs [BLUE]"),
        ({"product_ids_any": ["P9"]}, {}, "contains none of the products [P9]"),
        ({"tags_any": ["fragile"]}, {}, "tagged none of [fragile]"),
        ({"line_count_max": 1}, {}, "line count 2 is not at most 1"),
        ({"delivery_option_names": ["Express"]}, {}, "delivery option Standard shipping is not in [Express]"),
        ({"ship_within_hours": 6}, {}, "ship-by in 10.0 h is not within 6 h"),
        ({"ship_within_hours": 6}, {"ship_by": None}, "no ship-by deadline"),
        ({"has_buyer_message": True}, {}, "the buyer left no message"),
    ],
)
def test_each_condition_refuses_and_says_why(conditions: dict, facts: dict, reason: str) -> None:
    ok, reasons = _check(conditions, **facts)
    assert not ok
    assert reasons[0].startswith(reason), reasons


def test_all_conditions_must_hold_and_each_is_explained() -> None:
    ok, reasons = _check({"countries": ["US"], "states": ["CA"]})
    assert not ok
    assert reasons == ["destination country US is in [US]", "destination state TX is not in [CA]"]


def test_no_conditions_match_every_order() -> None:
    assert _check({}) == (True, ["no conditions: matches every order"])


def test_unknown_weight_does_not_match_and_names_the_sku() -> None:
    ok, reasons = _check({"weight_min_grams": 1}, weight_grams=None, unknown_weight_skus=("MYSTERY-BOX",))
    assert not ok
    assert "no weight for SKU MYSTERY-BOX" in reasons[0]
    assert "cannot be checked" in reasons[0]


# ------------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"countries": "US"}, "countries", "Give a non-empty list of texts."),
        ({"countries": ["USA"]}, "countries", "not a two-letter country code"),
        ({"total_min": "lots"}, "total_min", "is not a number"),
        ({"total_min": -1}, "total_min", "zero or more"),
        ({"total_min": 10, "total_max": 5}, "total_max", "must not be below the minimum"),
        ({"line_count_min": 1.5}, "line_count_min", "whole number"),
        ({"ship_within_hours": 0}, "ship_within_hours", "whole number of 1 or more"),
        ({"has_buyer_message": "yes"}, "has_buyer_message", "true or false"),
        ({"store_ids": ["shop-1"]}, "store_ids", "is not an id"),
        ({"channels": ["etsy"]}, "channels", "“etsy” is not a sales channel"),
        ({"colour": ["red"]}, "colour", "not a condition Dropline knows"),
    ],
)
def test_invalid_conditions_name_the_field(data: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Conditions.from_json(data)
    assert message in " ".join(caught.value.message_dict[field])


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"service_strategy": "luckiest"}, "service_strategy", "is not one of: cheapest, fastest"),
        ({"service_strategy": "cheapest_within_days"}, "within_days", "within how many days"),
        ({"service_strategy": "provider"}, "provider_name", "Name the provider"),
        ({"within_days": 3}, "within_days", "Only used with"),
        ({"package_length_cm": 10}, "package_width_cm", "give all three"),
        ({"package_weight_grams": 0}, "package_weight_grams", "greater than zero"),
        ({"handover_method": "COURIER"}, "handover_method", "PICKUP, DROP_OFF"),
        ({"handover_method": "DROP_OFF", "pickup_slot": "morning"}, "pickup_slot", "needs the PICKUP"),
        ({"auto_buy": "on"}, "auto_buy", "true or false"),
        ({"warehouse_id": "main"}, "warehouse_id", "not a warehouse id"),
        ({"tag": "x" * 41}, "tag", "40 characters"),
    ],
)
def test_invalid_actions_name_the_field(data: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Actions.from_json(data)
    assert message in " ".join(caught.value.message_dict[field])


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError):
        Conditions.from_json(["US"])


def test_json_round_trips() -> None:
    conditions = Conditions.from_json(
        {"countries": ["us"], "total_min": "10.5", "ship_within_hours": 24, "has_buyer_message": False}
    )
    assert conditions.to_json() == {
        "countries": ["US"],
        "total_min": "10.5",
        "ship_within_hours": 24,
        "has_buyer_message": False,
    }
    assert Conditions.from_json(conditions.to_json()) == conditions
    actions = Actions.from_json(
        {
            "service_strategy": "cheapest_within_days",
            "within_days": 3,
            "package_length_cm": 30,
            "package_width_cm": 20,
            "package_height_cm": "10",
            "package_weight_grams": 450,
            "handover_method": "PICKUP",
            "pickup_slot": "morning",
            "auto_buy": True,
            "hold_for_review": True,
            "tag": "fragile",
        }
    )
    assert Actions.from_json(actions.to_json()) == actions
    assert actions.package_height_cm == Decimal("10")


# ---------------------------------------------------------------------------------------------- rule priority
def test_first_enabled_rule_by_priority_wins(org: Organization) -> None:
    late = LogisticsRuleFactory(organization=org, name="Texas", priority=30, conditions={"states": ["TX"]})
    disabled = LogisticsRuleFactory(organization=org, name="Off", priority=5, enabled=False)
    early = LogisticsRuleFactory(organization=org, name="US", priority=20, conditions={"countries": ["US"]})
    refused = LogisticsRuleFactory(organization=org, name="CA", priority=10, conditions={"countries": ["CA"]})
    decision = engine.first_match([late, disabled, early, refused], _facts(), NOW)
    assert decision is not None
    assert decision.rule == early
    assert decision.reasons == ["destination country US is in [US]"]
    assert decision.actions.service_strategy == "cheapest"
    assert engine.first_match([disabled, refused], _facts(), NOW) is None


# ------------------------------------------------------------------------------------------ facts from orders
@pytest.mark.parametrize(
    ("weight", "unit", "grams"),
    [
        ("250", "g", Decimal("250")),
        ("1.5", "kg", Decimal("1500")),
        ("16", "oz", Decimal("453.59237")),
        ("2", "lb", Decimal("907.18474")),
    ],
)
def test_weight_comes_from_sku_weights_in_grams(org: Organization, weight: str, unit: str, grams: Decimal) -> None:
    order = OrderFactory(organization=org)
    sku = SkuFactory(organization=org, weight=Decimal(weight), weight_unit=unit)
    listing = ListingFactory(organization=org, store=order.store, sku=sku)
    OrderLineFactory(organization=org, order=order, sku_id=listing.platform_sku_id)
    OrderLineFactory(organization=org, order=order, sku_id=listing.platform_sku_id)
    facts = facts_for(order)
    assert facts.weight_grams == pytest.approx(grams * 2)
    assert facts.line_count == 2


def test_mixed_units_add_up_and_sides_convert_to_cm(org: Organization) -> None:
    order = OrderFactory(organization=org, buyer_message="  leave at door ")
    tee = SkuFactory(organization=org, weight=Decimal(8), weight_unit="oz", length=10, width=8, height=1)
    mug = SkuFactory(
        organization=org, weight=Decimal("0.5"), weight_unit="kg", length=15, width=15, height=12, dimension_unit="cm"
    )
    for sku, product in ((tee, "P-TEE"), (mug, "P-MUG")):
        listing = ListingFactory(organization=org, store=order.store, sku=sku)
        OrderLineFactory(
            organization=org, order=order, sku_id=listing.platform_sku_id, seller_sku=sku.code, product_id=product
        )
    OrderLineFactory(organization=org, order=order, is_cancelled=True)  # unknown SKU, but cancelled: ignored
    facts = facts_for(order)
    assert facts.weight_grams == pytest.approx(Decimal("726.796185"))
    assert facts.max_side_cm == Decimal("25.4")
    assert facts.seller_skus == {tee.code, mug.code}
    assert facts.product_ids == {"P-TEE", "P-MUG"}
    assert facts.line_count == 2
    assert facts.has_buyer_message
    assert facts.country == "US"


def test_a_combined_parcel_weighs_what_its_orders_weigh_and_a_rules_preset_still_wins(org: Organization) -> None:
    first = OrderFactory(organization=org)
    second = OrderFactory(organization=org, store=first.store)
    for order, grams in ((first, 300), (second, 450)):
        sku = SkuFactory(organization=org, weight=Decimal(grams), weight_unit="g")
        listing = ListingFactory(organization=org, store=first.store, sku=sku)
        OrderLineFactory(organization=org, order=order, sku_id=listing.platform_sku_id)
    alone = LabelPurchaseFactory(organization=org, order=first)
    assert _whole_package_weight(alone, None) is None  # one order: the caller's facts already weigh it
    PackageOrderFactory(organization=org, purchase=alone, order=second, part="order")
    with CaptureQueriesContext(connection) as queries:
        assert _whole_package_weight(alone, None) == Weight(value=Decimal(750), unit="GRAM")
    assert len(queries) == 5  # the parcel's orders; their orders, lines, listings, channels: not reads per order
    assert _whole_package_weight(alone, Actions(package_weight_grams=900)) is None


def test_a_sku_without_weight_makes_the_weight_unknown_and_says_which(org: Organization) -> None:
    order = OrderFactory(organization=org)
    weighed = SkuFactory(organization=org, weight=Decimal(100), weight_unit="g")
    listing = ListingFactory(organization=org, store=order.store, sku=weighed)
    OrderLineFactory(organization=org, order=order, sku_id=listing.platform_sku_id, seller_sku="WEIGHED")
    unweighed = SkuFactory(organization=org, weight=None)
    listing = ListingFactory(organization=org, store=order.store, sku=unweighed)
    OrderLineFactory(organization=org, order=order, sku_id=listing.platform_sku_id, seller_sku="NO-WEIGHT")
    OrderLineFactory(organization=org, order=order, sku_id="unmapped", seller_sku="UNMAPPED")
    facts = facts_for(order)
    assert facts.weight_grams is None
    assert facts.unknown_weight_skus == ("NO-WEIGHT", "UNMAPPED")
    assert facts.max_side_cm is None
    ok, reasons = engine.matches(Conditions(weight_max_grams=Decimal(5000)), facts, NOW)
    assert not ok
    assert reasons == [
        "weight is unknown (no weight for SKU NO-WEIGHT, UNMAPPED), so “at most 5000 g” cannot be checked"
    ]


def test_facts_for_many_orders_take_a_fixed_number_of_queries(org: Organization) -> None:
    def make(n: int) -> list:
        orders = []
        for _ in range(n):
            order = OrderFactory(organization=org)
            listing = ListingFactory(organization=org, store=order.store, sku=SkuFactory(organization=org))
            OrderLineFactory(organization=org, order=order, sku_id=listing.platform_sku_id)
            orders.append(order)
        return orders

    few, many = make(2), make(12)
    with CaptureQueriesContext(connection) as small:
        facts_for_orders(few)
    with CaptureQueriesContext(connection) as large:
        facts = facts_for_orders(many)
    assert len(large.captured_queries) == len(small.captured_queries) == 2
    assert all(f.weight_grams == pytest.approx(Decimal(8) * Decimal("28.349523125")) for f in facts.values())


# ------------------------------------------------------------------------------------------ choosing a service
def _quote(sid: str, price: str | None, days: tuple[int, int] | None, carrier: str = "USPS", **kw: Any) -> Any:
    return ShippingServiceQuote(
        service_id=sid,
        name=kw.get("name", f"Service {sid}"),
        price=Money(Decimal(price), "USD") if price is not None else None,
        earliest_delivery_days=days[0] if days else None,
        latest_delivery_days=days[1] if days else None,
        is_default=kw.get("is_default", False),
        carrier_id=carrier.lower(),
        carrier_name=carrier,
    )


QUOTES = (
    _quote("a", "7.50", (2, 3), "UPS"),
    _quote("b", "4.10", (5, 7), "USPS"),
    _quote("c", "12.00", (1, 2), "FedEx"),
    _quote("d", "5.20", (3, 4), "USPS"),
)


def _choose(strategy: str, quotes: tuple = QUOTES, **extra: Any) -> tuple[Any, str]:
    return engine.choose_service(quotes, Actions.from_json({"service_strategy": strategy, **extra}))


def test_cheapest_is_the_default_and_the_cheapest_strategy() -> None:
    chosen, reason = engine.choose_service(QUOTES, None)
    assert chosen.service_id == "b"
    assert reason == "cheapest of 4 eligible services: USPS Service b (4.10 USD, 5–7 days)"
    assert _choose("cheapest")[0].service_id == "b"


def test_fastest() -> None:
    chosen, reason = _choose("fastest")
    assert chosen.service_id == "c"
    assert reason.startswith("fastest of 4 eligible services: FedEx Service c")


def test_cheapest_arriving_within_days() -> None:
    chosen, reason = _choose("cheapest_within_days", within_days=4)
    assert chosen.service_id == "d"
    assert reason.startswith("cheapest of 3 services arriving within 4 days: USPS Service d")


def test_named_provider() -> None:
    chosen, reason = _choose("provider", provider_name="ups")
    assert chosen.service_id == "a"
    assert reason.startswith("cheapest of 1 services from ups")


@pytest.mark.parametrize(
    ("strategy", "extra", "why"),
    [
        ("cheapest_within_days", {"within_days": 1}, "no service is quoted to arrive within 1 days; fell back to"),
        ("provider", {"provider_name": "DHL"}, "no quoted service is from DHL; fell back to"),
    ],
)
def test_no_service_fits_the_strategy_falls_back_to_cheapest_and_says_so(strategy: str, extra: dict, why: str) -> None:
    chosen, reason = _choose(strategy, **extra)
    assert chosen.service_id == "b"
    assert reason.startswith(why)
    assert "cheapest of 4 eligible services" in reason


def test_fastest_without_delivery_days_falls_back_to_cheapest() -> None:
    quotes = (_quote("x", "6", None), _quote("y", "5", None))
    chosen, reason = _choose("fastest", quotes)
    assert chosen.service_id == "y"
    assert reason.startswith("no delivery days were quoted, so the fastest cannot be known; fell back to the cheapest")


def test_ties_are_broken_deterministically() -> None:
    same_price = (_quote("z", "5", (3, 5)), _quote("m", "5", (2, 4)), _quote("k", "5", (3, 5)))
    for order in (same_price, same_price[::-1]):
        chosen, reason = engine.choose_service(order, None)
        assert chosen.service_id == "m"  # equally cheap: the faster
        assert "chosen as the faster" in reason
    identical = (_quote("z", "5", (3, 5)), _quote("k", "5", (3, 5)))
    for order in (identical, identical[::-1]):
        chosen, reason = engine.choose_service(order, None)
        assert chosen.service_id == "k"
        assert "then by service id" in reason
    same_speed = (_quote("q", "9", (1, 2)), _quote("p", "8", (1, 2)), _quote("o", "8", (1, 2)))
    for order in (same_speed, same_speed[::-1]):
        assert _choose("fastest", order)[0].service_id == "o"


def test_a_single_allocated_service_is_said_so() -> None:
    only = (_quote("solo", "6.66", (2, 4)),)
    for actions in (None, Actions(service_strategy="fastest"), Actions(service_strategy="provider", provider_name="X")):
        chosen, reason = engine.choose_service(only, actions)
        assert chosen is only[0]
        assert reason.startswith("the platform allocated a single service for this package")


def test_no_services_and_no_prices() -> None:
    assert engine.choose_service((), None) == (None, "no eligible shipping services were quoted")
    unpriced = (_quote("u", None, (2, 3)), _quote("t", None, (1, 2), is_default=True))
    chosen, reason = engine.choose_service(unpriced, None)
    assert chosen.service_id == "t"
    assert reason.startswith("no prices quoted: the platform’s default service")


def test_the_decision_log_records_rule_services_choice_and_why(org: Organization) -> None:
    rule = LogisticsRuleFactory(
        organization=org, conditions={"states": ["TX"]}, actions={"service_strategy": "fastest"}
    )
    decision = engine.first_match([rule], _facts(), NOW)
    chosen, reason = engine.choose_service(QUOTES, decision.actions if decision else None)
    record = engine.decision_record(decision=decision, services=QUOTES, chosen=chosen, reason=reason)
    assert record["rule"] == {"id": str(rule.pk), "name": rule.name, "reasons": ["destination state TX is in [TX]"]}
    assert record["services"][1] == {
        "id": "b",
        "name": "Service b",
        "carrier": "USPS",
        "price": "4.10",
        "currency": "USD",
        "days": [5, 7],
        "default": False,
    }
    assert record["chosen"] == "c"
    assert record["reason"] == reason
    assert record["single_service"] is False


# --------------------------------------------------------------------------------------------------- services
def test_rule_save_validates_stores_normalised_json_goes_last_and_audits(org: Organization) -> None:
    warehouse = WarehouseFactory(organization=org)
    first = services.rule_save(actor=ACTOR, name=" US ", conditions={"countries": ["us"]}, actions={})
    second = services.rule_save(
        actor=ACTOR,
        name="Heavy",
        conditions={"weight_min_grams": 2000},
        actions={"warehouse_id": str(warehouse.pk), "hold_for_review": True},
        enabled=False,
    )
    assert (first.name, first.priority, second.priority) == ("US", 10, 20)
    assert first.conditions == {"countries": ["US"]}
    assert second.actions == {
        "warehouse_id": str(warehouse.pk),
        "service_strategy": "cheapest",
        "hold_for_review": True,
    }
    assert not second.enabled
    updated = services.rule_save(actor=ACTOR, name="US only", conditions={}, actions={"tag": "us"}, rule=first)
    assert updated.priority == 10
    assert LogisticsRule.objects.get(pk=first.pk).actions == {"service_strategy": "cheapest", "tag": "us"}
    assert sorted(AuditEntry.objects.filter(target_type="logisticsrule").values_list("action", flat=True)) == [
        "logistics_rule.created",
        "logistics_rule.created",
        "logistics_rule.updated",
    ]


def test_rule_save_refuses_with_field_named_errors(org: Organization, make_tenant: Any) -> None:
    other = make_tenant("Other")
    with organization_scope(other.organization):
        foreign_store = StoreFactory(organization=other.organization)
        foreign_warehouse = WarehouseFactory(organization=other.organization)
    with pytest.raises(ValidationError) as caught:
        services.rule_save(
            actor=ACTOR,
            name="",
            conditions={"store_ids": [str(foreign_store.pk)], "countries": ["USA"]},
            actions={"warehouse_id": str(foreign_warehouse.pk), "service_strategy": "provider"},
        )
    errors = caught.value.message_dict
    assert errors["name"] == ["Give the rule a name."]
    assert "two-letter country code" in errors["conditions.countries"][0]
    assert errors["actions.provider_name"] == ["Name the provider (carrier) to ship with."]
    assert not LogisticsRule.objects.exists()
    with pytest.raises(ValidationError) as caught:
        services.rule_save(
            actor=ACTOR,
            name="Theirs",
            conditions={"store_ids": [str(foreign_store.pk)]},
            actions={"warehouse_id": str(foreign_warehouse.pk)},
        )
    assert "No store with id" in caught.value.message_dict["conditions.store_ids"][0]
    assert caught.value.message_dict["actions.warehouse_id"] == ["No warehouse with this id in your organization."]


def test_reorder_rewrites_priorities_in_steps_of_ten(org: Organization) -> None:
    a, b, c = (LogisticsRuleFactory(organization=org, priority=p) for p in (1, 2, 3))
    services.rules_reorder(actor=ACTOR, ordered_ids=[c.pk, a.pk])
    assert list(LogisticsRule.objects.values_list("pk", "priority")) == [(c.pk, 10), (a.pk, 20), (b.pk, 30)]
    assert AuditEntry.objects.filter(action="logistics_rules.reordered").count() == 1
    with pytest.raises(ValidationError, match="listed twice"):
        services.rules_reorder(actor=ACTOR, ordered_ids=[a.pk, a.pk])
    with pytest.raises(ValidationError, match="No rule with id"):
        services.rules_reorder(actor=ACTOR, ordered_ids=["0191e3a0-0000-7000-8000-00000000dead"])


def test_rule_test_lists_the_open_orders_it_would_match_without_saving(org: Organization) -> None:
    store = StoreFactory(organization=org)
    now = timezone.now()
    texas_soon = OrderFactory(organization=org, store=store, state="TX", ship_by=now + timedelta(hours=2))
    texas_later = OrderFactory(organization=org, store=store, state="TX", ship_by=now + timedelta(hours=20))
    OrderFactory(organization=org, store=store, state="CA")
    OrderFactory(organization=org, store=store, state="TX", status=OrderStatus.IN_TRANSIT)  # not open
    OrderFactory(organization=org, state="TX")  # another store
    held = OrderFactory(organization=org, store=store, state="tx", status=OrderStatus.ON_HOLD, total=Decimal(5))
    conditions = {"store_ids": [str(store.pk)], "states": ["TX"]}

    found = engine.rule_test(rule_or_conditions=conditions, now=now)
    assert [order for order, _ in found] == [texas_soon, texas_later, held]
    assert found[0][1] == [f"store {store.name} is one of the rule's stores", "destination state TX is in [TX]"]
    assert [o for o, _ in engine.rule_test(rule_or_conditions=conditions, limit=1, now=now)] == [texas_soon]
    within = Conditions(states=("TX",), ship_within_hours=4, total_min=Decimal(10))
    assert [o for o, _ in engine.rule_test(rule_or_conditions=within, now=now)] == [texas_soon]
    rule = LogisticsRuleFactory(organization=org, conditions={"total_max": "10"})
    assert [o for o, _ in engine.rule_test(rule_or_conditions=rule, now=now)] == [held]
    assert LogisticsRule.objects.count() == 1


def test_rule_test_refuses_invalid_conditions(org: Organization) -> None:
    with pytest.raises(ValidationError):
        engine.rule_test(rule_or_conditions={"countries": "US"})


def test_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Conditions().countries = ("US",)  # type: ignore[misc]


# --------------------------------------------------------------------------------------- a service's name
@pytest.mark.parametrize(
    ("carrier", "service", "shown"),
    [
        ("USPS", "USPS Ground Advantage", "USPS Ground Advantage"),
        ("USPS", "Ground Advantage", "USPS Ground Advantage"),
        ("usps", "USPS Priority Mail", "USPS Priority Mail"),
        ("UPS", "UPSX Economy", "UPS UPSX Economy"),
        ("FedEx", "FedEx", "FedEx"),
        ("", "Standard", "Standard"),
        ("USPS", "", "USPS"),
    ],
)
def test_a_service_is_named_without_repeating_its_carrier(carrier: str, service: str, shown: str) -> None:
    from integrations.interface import service_display_name

    assert service_display_name(carrier, service) == shown
    assert _quote("x", "1.00", (1, 2), carrier, name=service).display_name == shown


def test_the_choice_reason_names_a_service_that_starts_with_its_carrier_once() -> None:
    """The sandbox (like TikTok) quotes "USPS Ground Advantage" by carrier "USPS": the reason on the batch and order
    pages read "USPS USPS Ground Advantage"."""
    quotes = (_quote("g", "4.50", (2, 5), "USPS", name="USPS Ground Advantage"), _quote("p", "9.00", (1, 3), "UPS"))
    chosen, reason = _choose("cheapest", quotes)
    assert chosen.service_id == "g"
    assert reason == "cheapest of 2 eligible services: USPS Ground Advantage (4.50 USD, 2–5 days)"


def test_a_channel_condition_picks_the_orders_of_that_channel_whether_or_not_the_store_was_loaded(tenant: Any) -> None:
    org = tenant.organization
    shopify = OrderFactory(organization=org, store=StoreFactory(organization=org, platform="shopify"))
    OrderFactory(organization=org)  # a TikTok order
    with organization_scope(org):
        matched = engine.rule_test(rule_or_conditions={"channels": ["shopify"]})
        bare = Order.objects.get(pk=shopify.pk)  # its store not loaded
        facts = facts_for_orders([bare])[bare.pk]
    assert [order.pk for order, _ in matched] == [shopify.pk]
    assert facts.channel == "shopify"
