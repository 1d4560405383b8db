"""The logistics-rules screens: the list, the structured form (create, edit, field-named errors), reorder by drag and
by ↑/↓, enable/disable, "Test this rule" (nothing saved), who may change rules, and the order page's decision card."""

from __future__ import annotations

import json
from typing import Any

import pytest

from erp.roles import Role
from erp.units import UnitSystem
from orders.models import OrderStatus
from shipping.models import LogisticsRule, PurchaseState
from tests.factories import (
    LabelPurchaseFactory,
    LogisticsRuleFactory,
    OrderFactory,
    StoreFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db


def _rules(tenant: Any) -> list[LogisticsRule]:
    return list(LogisticsRule.unscoped.filter(organization=tenant.organization).order_by("priority", "created_at"))


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Texas express", "enabled": "on", "service_strategy": "cheapest"}
    data.update(overrides)
    return data


def test_list_shows_rules_in_priority_order_with_summaries(tenant: Any) -> None:
    org = tenant.organization
    warehouse = WarehouseFactory(organization=org, name="Reno DC")
    LogisticsRuleFactory(
        organization=org,
        name="Second",
        priority=20,
        conditions={"countries": ["US"], "total_min": "10", "total_max": "50"},
        actions={"service_strategy": "fastest", "warehouse_id": str(warehouse.pk), "hold_for_review": True},
    )
    LogisticsRuleFactory(organization=org, name="First", priority=10, enabled=False)
    response = tenant.client.get("/shipping/rules/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("First") < body.index("Second")
    assert "country US · total 10–50" in body
    assert "from Reno DC · fastest · hold for review" in body
    assert "New rule" in body
    assert 'draggable="true"' in body
    assert "/shipping/rules/reorder/" in body


def metric(tenant: Any) -> None:
    tenant.organization.unit_system = UnitSystem.METRIC
    tenant.organization.save(update_fields=["unit_system"])


def test_create_from_the_structured_form(tenant: Any) -> None:
    org = tenant.organization
    metric(tenant)  # typed as stored: grams and centimetres
    store = StoreFactory(organization=org)
    warehouse = WarehouseFactory(organization=org)
    response = tenant.client.post(
        "/shipping/rules/new/",
        _form(
            store_ids=[str(store.pk)],
            countries="us, ca",
            states="TX, OK",
            postal_prefixes="750",
            total_min="10",
            total_max="99.50",
            weight_max_grams="500",
            max_side_cm="40",
            seller_skus_any="RED-TEE-L, BLUE-TEE-M",
            line_count_min="1",
            line_count_max="3",
            delivery_option_names="Standard shipping",
            ship_within_hours="24",
            has_buyer_message="no",
            warehouse_id=str(warehouse.pk),
            package_length_cm="30",
            package_width_cm="20",
            package_height_cm="10",
            package_weight_grams="450",
            service_strategy="cheapest_within_days",
            within_days="3",
            handover_method="PICKUP",
            pickup_slot="morning",
            auto_buy="yes",
            hold_for_review="on",
            tag="TX",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/shipping/rules/"
    [rule] = _rules(tenant)
    assert rule.name == "Texas express"
    assert rule.enabled
    assert rule.conditions == {
        "store_ids": [str(store.pk)],
        "countries": ["US", "CA"],
        "states": ["TX", "OK"],
        "postal_prefixes": ["750"],
        "total_min": "10",
        "total_max": "99.50",
        "weight_max_grams": "500",
        "max_side_cm": "40",
        "seller_skus_any": ["RED-TEE-L", "BLUE-TEE-M"],
        "line_count_min": 1,
        "line_count_max": 3,
        "delivery_option_names": ["Standard shipping"],
        "ship_within_hours": 24,
        "has_buyer_message": False,
    }
    assert rule.actions == {
        "warehouse_id": str(warehouse.pk),
        "package_length_cm": "30",
        "package_width_cm": "20",
        "package_height_cm": "10",
        "package_weight_grams": "450",
        "service_strategy": "cheapest_within_days",
        "within_days": 3,
        "handover_method": "PICKUP",
        "pickup_slot": "morning",
        "auto_buy": True,
        "hold_for_review": True,
        "tag": "TX",
    }


def test_edit_shows_the_saved_values_and_saves_changes(tenant: Any) -> None:
    metric(tenant)
    rule = LogisticsRuleFactory(
        organization=tenant.organization,
        name="Heavy",
        conditions={"weight_min_grams": "2000", "countries": ["US"], "product_ids_any": ["P1"]},
        actions={"service_strategy": "provider", "provider_name": "USPS", "auto_buy": False},
    )
    page = tenant.client.get(f"/shipping/rules/{rule.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="Heavy"' in body
    assert 'value="2000"' in body
    assert 'value="USPS"' in body
    assert "product_ids_any" in body  # shown as kept, not lost
    response = tenant.client.post(
        f"/shipping/rules/{rule.pk}/",
        _form(name="Heavy parcels", weight_min_grams="2500", countries="US", service_strategy="fastest"),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Heavy parcels"
    assert rule.enabled
    assert rule.conditions == {"weight_min_grams": "2500", "countries": ["US"], "product_ids_any": ["P1"]}
    assert rule.actions == {"service_strategy": "fastest"}
    assert len(_rules(tenant)) == 1


def test_validation_errors_are_shown_next_to_their_fields(tenant: Any) -> None:
    response = tenant.client.post(
        "/shipping/rules/new/",
        _form(
            name="",
            countries="USA",
            total_min="50",
            total_max="10",
            service_strategy="cheapest_within_days",
            package_length_cm="30",
            pickup_slot="morning",
        ),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["name"] == ["Give the rule a name."]
    assert "is not a two-letter country code" in form.errors["countries"][0]
    assert "must not be below the minimum" in form.errors["total_max"][0]
    assert form.errors["within_days"] == ["Say within how many days the parcel must arrive."]
    assert "give all three" in form.errors["package_width_cm"][0]
    assert form.errors["pickup_slot"] == ["A pickup slot needs the PICKUP handover method."]
    body = response.content.decode()
    assert "is not a two-letter country code" in body
    assert 'value="USA"' in body  # what was typed is kept
    assert _rules(tenant) == []


def test_a_form_level_number_error_is_shown_too(tenant: Any) -> None:
    response = tenant.client.post("/shipping/rules/new/", _form(total_min="lots"))
    assert response.status_code == 400
    assert response.context["form"].errors["total_min"]
    assert _rules(tenant) == []


def test_reorder_by_drag_posts_the_ids_in_order(tenant: Any) -> None:
    a, b, c = (LogisticsRuleFactory(organization=tenant.organization, name=n) for n in "ABC")
    response = tenant.client.post(
        "/shipping/rules/reorder/",
        data=json.dumps({"ids": [str(c.pk), str(a.pk), str(b.pk)]}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["ok"]
    assert [r.name for r in _rules(tenant)] == ["C", "A", "B"]
    bad = tenant.client.post(
        "/shipping/rules/reorder/", data=json.dumps({"ids": [str(a.pk), str(a.pk)]}), content_type="application/json"
    )
    assert bad.status_code == 400
    assert "twice" in bad.json()["error"]
    assert [r.name for r in _rules(tenant)] == ["C", "A", "B"]


def test_reorder_by_up_and_down_buttons(tenant: Any) -> None:
    a, _b, c = (LogisticsRuleFactory(organization=tenant.organization, name=n) for n in "ABC")
    assert tenant.client.post(f"/shipping/rules/{c.pk}/move/", {"direction": "up"}).status_code == 302
    assert [r.name for r in _rules(tenant)] == ["A", "C", "B"]
    tenant.client.post(f"/shipping/rules/{a.pk}/move/", {"direction": "down"})
    assert [r.name for r in _rules(tenant)] == ["C", "A", "B"]
    tenant.client.post(f"/shipping/rules/{c.pk}/move/", {"direction": "up"})  # already first: nothing moves
    assert [r.name for r in _rules(tenant)] == ["C", "A", "B"]


def test_enable_and_disable(tenant: Any) -> None:
    rule = LogisticsRuleFactory(organization=tenant.organization, enabled=True)
    assert tenant.client.post(f"/shipping/rules/{rule.pk}/toggle/").status_code == 302
    rule.refresh_from_db()
    assert not rule.enabled
    tenant.client.post(f"/shipping/rules/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert rule.enabled


def test_test_this_rule_lists_matching_open_orders_without_saving(tenant: Any) -> None:
    org = tenant.organization
    OrderFactory(organization=org, external_id="576400000000000111", country_code="US", state="TX")
    OrderFactory(organization=org, external_id="576400000000000222", country_code="US", state="CA")
    OrderFactory(
        organization=org, external_id="576400000000000333", country_code="US", state="TX", status=OrderStatus.DELIVERED
    )
    response = tenant.client.get(
        "/shipping/rules/test/", {"name": "", "states": "TX", "service_strategy": "cheapest"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "576400000000000111" in body
    assert "576400000000000222" not in body
    assert "576400000000000333" not in body
    assert "TX" in body
    assert "Nothing was saved" in body
    assert _rules(tenant) == []
    errors = tenant.client.get("/shipping/rules/test/", {"countries": "USA"}).content.decode()
    assert "two-letter country code" in errors
    page = tenant.client.get("/shipping/rules/new/").content.decode()
    assert 'hx-get="/shipping/rules/test/"' in page
    assert "Test this rule" in page


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.WAREHOUSE])
def test_operators_and_warehouse_staff_read_but_cannot_change_rules(tenant: Any, role: Role) -> None:
    rule = LogisticsRuleFactory(organization=tenant.organization, name="Keep", enabled=True)
    other = LogisticsRuleFactory(organization=tenant.organization, name="Other")
    client = tenant.client_as(role)
    listing = client.get("/shipping/rules/")
    assert listing.status_code == 200
    assert "Keep" in listing.content.decode()
    assert "New rule" not in listing.content.decode()
    detail = client.get(f"/shipping/rules/{rule.pk}/")
    assert detail.status_code == 200
    assert "Save rule" not in detail.content.decode()
    assert client.post("/shipping/rules/new/", _form(name="Mine")).status_code == 403
    assert client.post(f"/shipping/rules/{rule.pk}/", _form(name="Renamed")).status_code == 403
    assert client.post(f"/shipping/rules/{rule.pk}/toggle/").status_code == 403
    assert client.post(f"/shipping/rules/{other.pk}/move/", {"direction": "up"}).status_code == 403
    reorder = client.post(
        "/shipping/rules/reorder/",
        data=json.dumps({"ids": [str(other.pk), str(rule.pk)]}),
        content_type="application/json",
    )
    assert reorder.status_code == 403
    assert [(r.name, r.enabled) for r in _rules(tenant)] == [("Keep", True), ("Other", True)]


def test_admin_can_change_rules(tenant: Any) -> None:
    response = tenant.client_as(Role.ADMIN).post("/shipping/rules/new/", _form(name="By admin"))
    assert response.status_code == 302
    assert [r.name for r in _rules(tenant)] == ["By admin"]


def _service(sid: str, name: str, price: str | None, days: list, *, default: bool = False) -> dict[str, Any]:
    return {
        "id": sid,
        "name": name,
        "carrier": "USPS",
        "price": price,
        "currency": "USD",
        "days": days,
        "default": default,
    }


def test_order_page_shows_the_shipping_decision(tenant: Any) -> None:
    org = tenant.organization
    rule = LogisticsRuleFactory(organization=org, name="Texas cheap")
    order = OrderFactory(organization=org)
    LabelPurchaseFactory(
        organization=org,
        order=order,
        state=PurchaseState.PURCHASED,
        decision={
            "rule": {"id": str(rule.pk), "name": "Texas cheap", "reasons": ["destination state TX is in [TX, OK]"]},
            "services": [
                _service("S1", "Ground Advantage", "4.10", [3, 5]),
                _service("S2", "Priority Mail", "8.90", [1, 2], default=True),
            ],
            "chosen": "S1",
            "reason": "cheapest of 2 eligible services: Ground Advantage (USPS), 4.10 USD, 3–5 days",
            "single_service": False,
        },
    )
    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()
    assert "Shipping decision" in body
    assert "Texas cheap" in body
    assert "destination state TX is in [TX, OK]" in body
    assert "Ground Advantage" in body
    assert "4.10 USD" in body
    assert "3–5 days" in body
    assert "Priority Mail" in body
    assert "8.90 USD" in body
    assert "1–2 days" in body
    assert body.count("Chosen</span>") == 1
    assert "cheapest of 2 eligible services" in body
    assert "single shipping service" not in body


def test_order_page_says_when_the_platform_allocated_a_single_service(tenant: Any) -> None:
    org = tenant.organization
    order = OrderFactory(organization=org)
    LabelPurchaseFactory(
        organization=org,
        order=order,
        decision={
            "rule": None,
            "services": [_service("S9", "Standard", None, [None, None])],
            "chosen": "S9",
            "reason": "the platform allocated a single service for this package: Standard (USPS)",
            "single_service": True,
        },
    )
    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()
    assert "TikTok allocated a single shipping service" in body
    assert "No logistics rule matched" in body
    assert "not quoted" in body


def test_order_page_without_a_label_has_no_decision_card(tenant: Any) -> None:
    order = OrderFactory(organization=tenant.organization)
    body = tenant.client.get(f"/orders/{order.pk}/").content.decode()
    assert "Shipping decision" not in body


# ---------------------------------------------------------------------------------- the organization's units
def test_an_imperial_organization_types_and_reads_rules_in_ounces_and_inches(tenant: Any) -> None:
    """US sellers' SKUs are in oz/in: so are their rules. Stored in grams and centimetres all the same."""
    assert tenant.organization.unit_system == UnitSystem.IMPERIAL  # the default
    form = tenant.client.get("/shipping/rules/new/").content.decode()
    assert "Weight at most (oz)" in form
    assert "Longest side at most (in)" in form
    assert "Package weight (oz)" in form

    response = tenant.client.post(
        "/shipping/rules/new/",
        _form(
            weight_max_grams="16",
            max_side_cm="12",
            package_length_cm="10",
            package_width_cm="8",
            package_height_cm="4",
            package_weight_grams="20",
        ),
    )

    assert response.status_code == 302
    [rule] = _rules(tenant)
    assert rule.conditions == {"weight_max_grams": "453.59237", "max_side_cm": "30.48"}
    assert rule.actions["package_length_cm"] == "25.4"
    assert rule.actions["package_weight_grams"] == "566.9904625"
    page = tenant.client.get(f"/shipping/rules/{rule.pk}/").content.decode()
    assert 'value="16"' in page
    assert 'value="12"' in page
    listing = tenant.client.get("/shipping/rules/").content.decode()
    assert "weight ≤ 16 oz · longest side ≤ 12 in" in listing
    assert "box 10×8×4 in · 20 oz" in listing


def test_a_rule_means_the_same_whatever_the_units_shown(tenant: Any) -> None:
    rule = LogisticsRuleFactory(organization=tenant.organization, name="Light", conditions={"weight_max_grams": "500"})
    imperial = tenant.client.get("/shipping/rules/").content.decode()
    assert "weight ≤ 17.64 oz" in imperial
    metric(tenant)
    assert "weight ≤ 500 g" in tenant.client.get("/shipping/rules/").content.decode()
    rule.refresh_from_db()
    assert rule.conditions == {"weight_max_grams": "500"}


def test_rule_test_explains_weights_in_the_organizations_units(tenant: Any) -> None:
    from tests.factories import ListingFactory, OrderLineFactory, SkuFactory

    org = tenant.organization
    store = StoreFactory(organization=org)
    order = OrderFactory(organization=org, store=store, external_id="HEAVY")
    sku = SkuFactory(organization=org, weight="20", weight_unit="oz")
    listing = ListingFactory(organization=org, store=store, sku=sku)
    OrderLineFactory(organization=org, order=order, sku_id=listing.platform_sku_id)

    body = tenant.client.get("/shipping/rules/test/", {"weight_min_grams": "16"}).content.decode()

    assert "HEAVY" in body
    assert "weight 20 oz is at least 16 oz" in body
