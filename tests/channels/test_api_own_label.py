"""A supplier's WMS reports the tracking of the orders it ships on its own label over the API (docs/adr/0020), through
the portal's services: one order at a time or as the portal's CSV, only its own warehouse's orders, the channel told
once."""

from __future__ import annotations

from typing import Any

import pytest

from erp.tenancy import organization_scope
from integrations.models import Store
from orders import seller_shipping
from orders.models import Order, SellerShipment
from tests.apiclient import API, read_key, warehouse_key
from tests.channels.fake import Market
from tests.channels.test_supplier_own_label import _order, _world

pytestmark = pytest.mark.django_db


def shipments(tenant: Any) -> list[tuple[str, str, str]]:
    with organization_scope(tenant.organization):
        return list(SellerShipment.objects.values_list("order__external_id", "tracking_number", "source"))


def test_a_supplier_key_lists_and_reports_only_its_own_label_orders(tenant: Any, market: Market, store: Store) -> None:
    world = _world(tenant, market, store)
    api = API(warehouse_key(tenant, world["ours"]))
    listed = api.get("own-label-orders/", {"pending": "true"})
    assert listed.status_code == 200
    assert [o["external_id"] for o in listed.json()["results"]] == ["F-1"]  # not F-2, not the TikTok order

    first = _order(tenant, "F-1")
    sent = api.post(f"own-label-orders/{first.pk}/tracking/", {"carrier": "fp", "tracking_number": "FP123456789GB"})
    assert sent.status_code == 202, sent.json()
    assert sent.json()["state"] == "pending"
    again = api.post(f"own-label-orders/{first.pk}/tracking/", {"carrier": "fp", "tracking_number": "FP999999999GB"})
    assert again.status_code == 200  # the first one stands
    assert shipments(tenant) == [("F-1", "FP123456789GB", "supplier")]
    with organization_scope(tenant.organization):
        shipment = SellerShipment.objects.get(order=first)
        assert seller_shipping.seller_shipment_send(shipment_id=shipment.pk) == seller_shipping.SendOutcome.SHIPPED
    assert market.shipments == [("F-1", "fp", "FP123456789GB")]
    assert api.get("own-label-orders/", {"pending": "true"}).json()["results"] == []

    other = _order(tenant, "F-2")
    refused = api.post(f"own-label-orders/{other.pk}/tracking/", {"carrier": "fp", "tracking_number": "FP1234567"})
    assert refused.status_code == 404
    assert shipments(tenant) == [("F-1", "FP123456789GB", "supplier")]


def test_bad_tracking_input_is_a_400_with_the_field(tenant: Any, market: Market, store: Store) -> None:
    world = _world(tenant, market, store)
    api = API(warehouse_key(tenant, world["ours"]))
    order = _order(tenant, "F-1")
    for body, field in (
        ({"tracking_number": "FP123456789GB"}, "carrier"),
        ({"carrier": "no-such-carrier", "tracking_number": "FP123456789GB"}, "carrier"),
        ({"carrier": "fp", "tracking_number": "x"}, "tracking_number"),
    ):
        response = api.post(f"own-label-orders/{order.pk}/tracking/", body)
        assert response.status_code == 400, (body, response.json())
        assert field in response.json()["error"]["fields"], (body, response.json())
    official = api.post(
        f"own-label-orders/{world['official'].pk}/tracking/", {"carrier": "fp", "tracking_number": "FP1234567"}
    )
    assert official.status_code == 400  # its warehouse's TikTok order ships on its official label
    assert "handoff" in official.json()["error"]["fields"]["non_field_errors"][0]
    assert shipments(tenant) == []


def test_the_csv_is_checked_whole_then_applied_only_when_every_row_is_good(
    tenant: Any, market: Market, store: Store
) -> None:
    world = _world(tenant, market, store)
    api = API(warehouse_key(tenant, world["ours"]))
    csv = "order_id,carrier,tracking_number\nF-2,fp,FP123456789GB\nF-1,FakePost,FP555555555GB\n"
    checked = api.post("own-label-orders/tracking-import/", {"csv": csv})
    assert checked.status_code == 200
    assert checked.json()["applied"] is False
    assert [e["message"] for e in checked.json()["errors"]] == ["no order F-2"]  # another warehouse's order
    refused = api.post("own-label-orders/tracking-import/", {"csv": csv, "dry_run": False})
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["csv"] == ["line 2, order_id: no order F-2"]
    assert shipments(tenant) == []

    good = api.post(
        "own-label-orders/tracking-import/", {"csv": csv.replace("F-2,fp,FP123456789GB\n", ""), "dry_run": False}
    )
    assert good.status_code == 200
    assert good.json()["applied"] is True
    assert shipments(tenant) == [("F-1", "FP555555555GB", "supplier")]
    assert api.post("own-label-orders/tracking-import/", {"dry_run": False}).status_code == 400  # no csv


def test_another_organization_and_a_read_key(tenant: Any, make_tenant: Any, market: Market, store: Store) -> None:
    _world(tenant, market, store)
    order = _order(tenant, "F-1")
    stranger = API(make_tenant("Stranger").api_key)
    assert stranger.get("own-label-orders/").json()["results"] == []
    body = {"carrier": "fp", "tracking_number": "FP123456789GB"}
    assert stranger.post(f"own-label-orders/{order.pk}/tracking/", body).status_code == 404
    reader = API(read_key(tenant))
    assert sorted(o["external_id"] for o in reader.get("own-label-orders/").json()["results"]) == ["F-1", "F-2"]
    assert reader.post(f"own-label-orders/{order.pk}/tracking/", body).status_code == 403
    assert reader.post("own-label-orders/tracking-import/", {"csv": "order_id\n"}).status_code == 403
    assert shipments(tenant) == []
    with organization_scope(tenant.organization):
        assert Order.objects.filter(external_id="F-1", status="AWAITING_SHIPMENT").exists()
