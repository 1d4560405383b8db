"""Logistics rules over the API: create, change, reorder, test and apply them through the dashboard's services;
a bad condition is a 400 naming it. Writing rules needs `rules.manage` (owners and admins), read through the
signed-in owner here; keys read them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from erp.models import AuditEntry
from erp.tenancy import organization_scope
from orders.models import Order
from shipping.models import LogisticsRule
from tests.apiclient import API, read_key
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

RULE = {"name": "Tag US orders", "conditions": {"countries": ["US"]}, "actions": {"tag": "domestic"}}


class Session:
    """The API as the signed-in owner (session authentication)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return getattr(self.client, method)(
            f"/api/v1/{path}", json.dumps(body) if body is not None else None, content_type="application/json"
        )


def rules(tenant: Any) -> list[tuple[str, int, bool]]:
    with organization_scope(tenant.organization):
        return list(LogisticsRule.objects.order_by("priority").values_list("name", "priority", "enabled"))


def test_an_owner_creates_changes_reorders_and_deletes_rules(tenant: Any) -> None:
    api = Session(tenant.client)
    created = api.call("post", "rules/", RULE)
    assert created.status_code == 201, created.json()
    first = created.json()["id"]
    second = api.call("post", "rules/", {**RULE, "name": "Second"}).json()["id"]
    assert rules(tenant) == [("Tag US orders", 10, True), ("Second", 20, True)]

    changed = api.call("patch", f"rules/{first}/", {"enabled": False})
    assert changed.status_code == 200
    assert changed.json()["conditions"] == {"countries": ["US"]}  # what was not sent stays
    reordered = api.call("post", "rules/reorder/", {"ids": [second, first]})
    assert [r["id"] for r in reordered.json()] == [second, first]
    assert rules(tenant) == [("Second", 10, True), ("Tag US orders", 20, False)]

    assert api.call("delete", f"rules/{second}/").status_code == 204
    assert rules(tenant) == [("Tag US orders", 20, False)]  # the others keep their place
    with organization_scope(tenant.organization):
        actions = sorted(
            AuditEntry.objects.filter(action__startswith="logistics_rule").values_list("action", flat=True)
        )
    assert actions == [
        "logistics_rule.created",
        "logistics_rule.created",
        "logistics_rule.deleted",
        "logistics_rule.updated",
        "logistics_rules.reordered",
    ]


def test_bad_rules_are_400s_naming_the_field_and_save_nothing(tenant: Any) -> None:
    api = Session(tenant.client)
    for body, field in (
        ({**RULE, "conditions": {"countries": ["USA"]}}, "conditions.countries"),
        ({**RULE, "conditions": {"colour": "red"}}, "conditions"),
        ({**RULE, "actions": {"service_strategy": "provider"}}, "actions.provider_name"),
        ({**RULE, "actions": {"warehouse_id": "01a21100-0000-7000-8000-000000000000"}}, "actions.warehouse_id"),
        ({**RULE, "name": ""}, "name"),
        ({**RULE, "conditions": ["US"]}, "conditions"),
    ):
        response = api.call("post", "rules/", body)
        assert response.status_code == 400, body
        assert any(key.startswith(field) for key in response.json()["error"]["fields"]), response.json()
    assert api.call("post", "rules/reorder/", {"ids": ["01a21100-0000-7000-8000-000000000000"]}).status_code == 400
    assert api.call("post", "rules/test/", {"conditions": {"total_min": "lots"}}).status_code == 400
    for huge in ({"ship_within_hours": 2**70}, {"weight_min_grams": "1e30"}, {"line_count_min": 10**20}):
        tested = api.call("post", "rules/test/", {"conditions": huge})  # once a server error, not a refusal
        assert tested.status_code == 400, huge
        assert set(tested.json()["error"]["fields"]) == {f"conditions.{next(iter(huge))}"}
    assert rules(tenant) == []


def test_testing_a_rule_shows_matching_orders_and_applying_routes_them(tenant: Any) -> None:
    api = Session(tenant.client)
    us = OrderFactory(organization=tenant.organization, country_code="US")
    OrderFactory(organization=tenant.organization, country_code="GB")
    rule = api.call("post", "rules/", RULE).json()
    tested = api.call("post", f"rules/{rule['id']}/test/")
    assert tested.status_code == 200, tested.json()
    assert [o["id"] for o in tested.json()["orders"]] == [str(us.pk)]
    assert tested.json()["orders"][0]["reasons"]
    unsaved = api.call("post", "rules/test/", {"conditions": {"countries": ["GB"]}})
    assert [o["external_id"] for o in unsaved.json()["orders"]] != [us.external_id]
    with organization_scope(tenant.organization):
        assert Order.objects.get(pk=us.pk).tags == []  # testing changes nothing

    applied = api.call("post", "rules/apply/")
    assert applied.status_code == 200, applied.json()
    assert applied.json()["tagged"] == 1
    with organization_scope(tenant.organization):
        assert Order.objects.get(pk=us.pk).tags == ["domestic"]


def test_another_organizations_rule_is_not_found_and_keys_only_read(tenant: Any, make_tenant: Any) -> None:
    rule = Session(tenant.client).call("post", "rules/", RULE).json()["id"]
    stranger = make_tenant("Stranger")
    theirs = Session(stranger.client)
    assert theirs.call("get", f"rules/{rule}/").status_code == 404
    assert theirs.call("patch", f"rules/{rule}/", {"enabled": False}).status_code == 404
    assert theirs.call("delete", f"rules/{rule}/").status_code == 404
    assert theirs.call("post", f"rules/{rule}/test/").status_code == 404
    reader = API(read_key(tenant))
    assert reader.get(f"rules/{rule}/").json()["name"] == "Tag US orders"
    assert reader.post("rules/", RULE).status_code == 403
    assert reader.delete(f"rules/{rule}/").status_code == 403
    assert reader.post("rules/apply/").status_code == 403
    assert rules(tenant) == [("Tag US orders", 10, True)]
