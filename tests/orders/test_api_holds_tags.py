"""An order's holds and tags over the API: a hold is released once its cause is fixed (checked again now, as Dropline
would on its own), never while it still applies; tags are added and removed through one service, audited."""

from __future__ import annotations

from typing import Any

import pytest

from erp.actors import Actor
from erp.models import AuditEntry
from erp.tenancy import organization_scope
from inventory.services import stock_receive
from orders.models import HoldReason, Order, OrderHold
from tests.apiclient import API, read_key
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

ORDER = {
    "reference": "WMS-7001",
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
def held(tenant: Any) -> dict[str, Any]:
    """A manual order created through the API for a SKU with no stock: held out of stock."""
    warehouse = WarehouseFactory(organization=tenant.organization, name="Reno")
    sku = SkuFactory(organization=tenant.organization, code="MUG-RED")
    created = API(tenant.api_key).post("orders/", ORDER)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert [h["reason"] for h in body["open_holds"]] == [HoldReason.OUT_OF_STOCK]
    return {"order": body["id"], "hold": body["open_holds"][0]["id"], "warehouse": warehouse, "sku": sku}


def test_a_hold_is_released_once_its_cause_is_fixed_and_not_before(tenant: Any, held: dict[str, Any]) -> None:
    api = API(tenant.api_key)
    path, body = f"orders/{held['order']}/holds/release/", {"hold": held["hold"]}
    refused = api.post(path, body)
    assert refused.status_code == 400
    assert "still applies" in refused.json()["error"]["fields"]["non_field_errors"][0]
    assert api.get(f"orders/{held['order']}/").json()["is_held"] is True

    with organization_scope(tenant.organization):  # stock arrives (its background re-check has not run yet)
        stock_receive(sku=held["sku"], warehouse=held["warehouse"], quantity=5, actor=Actor.system())
    released = api.post(path, body)
    assert released.status_code == 200, released.json()
    assert released.json()["released_at"] is not None
    with organization_scope(tenant.organization):
        order = Order.objects.get(pk=held["order"])
        assert order.is_held is False
        assert order.warehouse_id == held["warehouse"].pk
        assert AuditEntry.objects.filter(action="order.hold_released", target_id=str(order.pk)).count() == 1
    holds = api.get(f"orders/{held['order']}/holds/").json()
    assert [(h["reason"], h["released_at"] is not None) for h in holds] == [(HoldReason.OUT_OF_STOCK, True)]
    assert api.post(path, body).status_code == 200  # released already: answered as it is, nothing recorded again
    with organization_scope(tenant.organization):
        assert AuditEntry.objects.filter(action="order.hold_released").count() == 1


def test_tags_are_added_and_removed_and_bad_tags_change_nothing(tenant: Any, held: dict[str, Any]) -> None:
    api = API(tenant.api_key)
    path = f"orders/{held['order']}/tags/"
    added = api.post(path, {"add": ["vip", " gift ", "vip"]})
    assert added.status_code == 200, added.json()
    assert added.json()["tags"] == ["vip", "gift"]
    changed = api.post(path, {"add": ["rush"], "remove": ["vip", "never-there"]})
    assert changed.json()["tags"] == ["gift", "rush"]
    for bad in ({"add": [""]}, {"add": ["x" * 51]}, {"add": "vip"}, {"add": [f"t{n}" for n in range(21)]}):
        response = api.post(path, bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["type"] == "validation_error"
    too_many = api.post(path, {"add": [f"t{n}" for n in range(19)]})  # 2 + 19 > 20
    assert too_many.status_code == 400
    assert "at most 20" in too_many.json()["error"]["fields"]["add"][0]
    with organization_scope(tenant.organization):
        assert Order.objects.get(pk=held["order"]).tags == ["gift", "rush"]
        assert AuditEntry.objects.filter(action="order.tagged").count() == 2
    assert api.get("orders/", {"status": "all"}).json()["results"][0]["tags"] == ["gift", "rush"]


def test_another_organizations_order_and_hold_are_not_found(
    tenant: Any, make_tenant: Any, held: dict[str, Any]
) -> None:
    stranger = API(make_tenant("Stranger").api_key)
    assert stranger.get(f"orders/{held['order']}/holds/").status_code == 404
    assert stranger.post(f"orders/{held['order']}/holds/release/", {"hold": held["hold"]}).status_code == 404
    assert stranger.post(f"orders/{held['order']}/tags/", {"add": ["x"]}).status_code == 404
    api = API(tenant.api_key)
    for bad in ({}, {"hold": "nope"}, {"hold": "01a21100-0000-7000-8000-000000000000"}):
        response = api.post(f"orders/{held['order']}/holds/release/", bad)
        assert response.status_code == 400, bad
        assert "hold" in response.json()["error"]["fields"]
    with organization_scope(tenant.organization):
        assert Order.objects.get(pk=held["order"]).tags == []
        assert OrderHold.objects.get(pk=held["hold"]).released_at is None


def test_a_read_key_reads_holds_but_cannot_release_or_tag(tenant: Any, held: dict[str, Any]) -> None:
    reader = API(read_key(tenant))
    assert reader.get(f"orders/{held['order']}/holds/").status_code == 200
    assert reader.post(f"orders/{held['order']}/holds/release/", {"hold": held["hold"]}).status_code == 403
    assert reader.post(f"orders/{held['order']}/tags/", {"add": ["x"]}).status_code == 403
    with organization_scope(tenant.organization):
        assert Order.objects.get(pk=held["order"]).tags == []
