"""Sending an order to another warehouse over the API: the reservation moves all or nothing, the rules never move it
back, and an order whose label is bought stays where its label says."""

from __future__ import annotations

from typing import Any

import pytest

from erp.models import AuditEntry
from erp.tenancy import organization_scope
from inventory.models import StockLevel
from orders.models import Order, WarehouseChoice
from shipping.models import PurchaseState
from tests.apiclient import API, read_key
from tests.factories import LabelPurchaseFactory, SkuFactory, StockLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

ORDER = {
    "reference": "WMS-8001",
    "recipient": {
        "name": "Ada Park",
        "line1": "500 Main St",
        "city": "Austin",
        "state": "Texas",
        "postal_code": "78701",
    },
    "lines": [{"seller_sku": "MUG-RED", "quantity": 2}],
}


@pytest.fixture
def world(tenant: Any) -> dict[str, Any]:
    org = tenant.organization
    sku = SkuFactory(organization=org, code="MUG-RED")
    first = WarehouseFactory(organization=org, name="A Reno")
    second = WarehouseFactory(organization=org, name="B Austin")
    empty = WarehouseFactory(organization=org, name="C Empty")
    for warehouse in (first, second):
        StockLevelFactory(organization=org, warehouse=warehouse, sku=sku, on_hand=5)
    created = API(tenant.api_key).post("orders/", ORDER)
    assert created.status_code == 201, created.json()
    return {"order": created.json()["id"], "first": first, "second": second, "empty": empty}


def reserved(tenant: Any) -> dict[str, int]:
    with organization_scope(tenant.organization):
        return {level.warehouse.name: level.reserved for level in StockLevel.objects.select_related("warehouse")}


def test_an_order_is_sent_to_another_warehouse_and_its_reservation_moves(tenant: Any, world: dict[str, Any]) -> None:
    api = API(tenant.api_key)
    start = api.get(f"orders/{world['order']}/").json()["warehouse_id"]
    target = world["second"] if start == str(world["first"].pk) else world["first"]
    moved = api.post(f"orders/{world['order']}/reroute/", {"warehouse": str(target.pk), "reason": "closer"})
    assert moved.status_code == 200, moved.json()
    assert moved.json()["warehouse_id"] == str(target.pk)
    assert moved.json()["warehouse_chosen_by"] == WarehouseChoice.PERSON
    assert reserved(tenant)[target.name] == 2
    assert sum(reserved(tenant).values()) == 2
    with organization_scope(tenant.organization):
        assert Order.objects.get(pk=world["order"]).routed_at is not None  # the rules leave the choice alone
        assert AuditEntry.objects.filter(action="order.rerouted").count() == 1

    short = api.post(f"orders/{world['order']}/reroute/", {"warehouse": str(world["empty"].pk)})
    assert short.status_code == 400
    assert "Short there" in short.json()["error"]["fields"]["warehouse"][0]
    assert reserved(tenant)[target.name] == 2  # nothing changed


def test_bad_input_and_a_bought_label_are_refused(tenant: Any, world: dict[str, Any]) -> None:
    api = API(tenant.api_key)
    path = f"orders/{world['order']}/reroute/"
    for body in ({}, {"warehouse": "nope"}, {"warehouse": "01a21100-0000-7000-8000-000000000000"}):
        response = api.post(path, body)
        assert response.status_code == 400, body
        assert "warehouse" in response.json()["error"]["fields"]
    with organization_scope(tenant.organization):
        order = Order.objects.get(pk=world["order"])
        LabelPurchaseFactory(organization=tenant.organization, order=order, state=PurchaseState.PURCHASED)
    before = reserved(tenant)
    pinned = api.post(path, {"warehouse": str(world["empty"].pk)})
    assert pinned.status_code == 400
    assert "label" in pinned.json()["error"]["fields"]["warehouse"][0]
    assert reserved(tenant) == before


def test_another_organizations_order_and_warehouse_and_a_read_key(
    tenant: Any, make_tenant: Any, world: dict[str, Any]
) -> None:
    stranger_tenant = make_tenant("Stranger")
    stranger = API(stranger_tenant.api_key)
    body = {"warehouse": str(world["second"].pk)}
    assert stranger.post(f"orders/{world['order']}/reroute/", body).status_code == 404
    theirs = WarehouseFactory(organization=stranger_tenant.organization)
    foreign = API(tenant.api_key).post(f"orders/{world['order']}/reroute/", {"warehouse": str(theirs.pk)})
    assert foreign.status_code == 400
    assert foreign.json()["error"]["fields"]["warehouse"] == ["No such warehouse."]
    assert API(read_key(tenant)).post(f"orders/{world['order']}/reroute/", body).status_code == 403
    assert sum(reserved(tenant).values()) == 2
