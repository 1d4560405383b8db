"""A supplier ships the orders of a channel without official labels on its own label (docs/adr/0020): it sees only
its warehouse's such orders, enters or uploads the tracking, and the channel is told once. TikTok orders in the same
warehouse stay with their official labels and never appear here."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erp.tenancy import organization_scope
from integrations.models import Store
from inventory.models import WarehouseKind
from orders import seller_shipping
from orders.models import Order, SellerShipment
from orders.services import store_sync
from tests.channels.fake import Market
from tests.factories import OrderFactory, WarehouseFactory
from tests.shipping.test_handoffs import supplier_of

pytestmark = pytest.mark.django_db

PAGE = "/supplier/own-label/"


def _world(tenant: Any, market: Market, store: Store) -> dict[str, Any]:
    org = tenant.organization
    ours = WarehouseFactory(organization=org, name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER)
    theirs = WarehouseFactory(organization=org, name="Dongguan Moon", kind=WarehouseKind.SUPPLIER)
    market.add_order("F-1", {"MUG": 2})
    market.add_order("F-2", {"TEE": 1})
    with organization_scope(org):
        store_sync(store=store)
        Order.objects.filter(external_id="F-1").update(warehouse=ours)
        Order.objects.filter(external_id="F-2").update(warehouse=theirs)
        official = OrderFactory(organization=org, warehouse=ours, label_source="platform")  # a TikTok order
    return {"ours": ours, "theirs": theirs, "official": official}


def _order(tenant: Any, external_id: str) -> Order:
    with organization_scope(tenant.organization):
        return Order.objects.get(external_id=external_id)


def test_the_supplier_sees_only_its_own_label_orders_and_the_channel_is_told_once(
    tenant: Any, market: Market, store: Store
) -> None:
    world = _world(tenant, market, store)
    supplier = supplier_of(tenant, world["ours"])
    page = supplier.get(PAGE)
    assert page.status_code == 200
    listed = [order.external_id for order, _ in page.context["rows"]]
    assert listed == ["F-1"]  # not the other warehouse's F-2, not the TikTok order on its official label
    assert "FakePost" in page.content.decode()  # the channel's carriers to choose from

    first = _order(tenant, "F-1")
    saved = supplier.post(PAGE, {"order": str(first.pk), "carrier": "fp", "tracking_number": "FP123456789GB"})
    assert saved.status_code == 302
    again = supplier.post(PAGE, {"order": str(first.pk), "carrier": "fp", "tracking_number": "FP999999999GB"})
    assert again.status_code == 302
    with organization_scope(tenant.organization):
        shipment = SellerShipment.objects.get(order=first)
        assert (shipment.source, shipment.tracking_number) == (
            "supplier",
            "FP123456789GB",
        )  # the second changed nothing
        assert seller_shipping.seller_shipment_send(shipment_id=shipment.pk) == seller_shipping.SendOutcome.SHIPPED
        assert seller_shipping.seller_shipment_send(shipment_id=shipment.pk) == seller_shipping.SendOutcome.DONE
    assert market.shipments == [("F-1", "fp", "FP123456789GB")]
    after = supplier.get(PAGE)
    assert after.context["rows"] == []
    assert "FP123456789GB" in after.content.decode()


def test_another_warehouses_order_is_not_found_by_form_or_csv(tenant: Any, market: Market, store: Store) -> None:
    world = _world(tenant, market, store)
    supplier: Client = supplier_of(tenant, world["ours"])
    other = _order(tenant, "F-2")
    assert (
        supplier.post(PAGE, {"order": str(other.pk), "carrier": "fp", "tracking_number": "FP1234567"}).status_code
        == 404
    )
    assert (
        supplier.post(PAGE, {"order": "not-an-id", "carrier": "fp", "tracking_number": "FP1234567"}).status_code == 404
    )
    csv = "order_id,carrier,tracking_number\nF-2,fp,FP123456789GB\nF-1,FakePost,FP555555555GB\n"
    checked = supplier.post(PAGE, {"action": "apply", "text": csv, "filename": "t.csv"})
    assert checked.status_code == 200
    assert [e.message for e in checked.context["report"].errors] == ["no order F-2"]
    with organization_scope(tenant.organization):
        assert not SellerShipment.objects.exists()  # one bad row: nothing recorded
    good = supplier.post(PAGE, {"action": "apply", "text": csv.replace("F-2,fp,FP123456789GB\n", ""), "filename": ""})
    assert good.status_code == 302
    with organization_scope(tenant.organization):
        assert list(SellerShipment.objects.values_list("order__external_id", "source")) == [("F-1", "supplier")]


def test_the_sellers_staff_preview_every_suppliers_own_label_orders(tenant: Any, market: Market, store: Store) -> None:
    _world(tenant, market, store)
    owner = tenant.client.get(PAGE)  # the seller's staff preview every supplier's own-label orders
    assert sorted(order.external_id for order, _ in owner.context["rows"]) == ["F-1", "F-2"]


def test_a_channel_that_sells_official_labels_never_has_its_orders_shipped_on_a_suppliers_label(
    tenant: Any, market: Market, store: Store, label_market: Market, label_store: Store
) -> None:
    world = _world(tenant, market, store)
    label_market.add_order("L-1", {"MUG": 1}, platform_label=False)  # a legacy seller-shipping order
    with organization_scope(tenant.organization):
        store_sync(store=label_store)
        legacy = Order.objects.get(store=label_store, external_id="L-1")
        Order.objects.filter(pk=legacy.pk).update(warehouse=world["ours"])
    assert legacy.label_source == "seller"
    supplier = supplier_of(tenant, world["ours"])
    assert [order.external_id for order, _ in supplier.get(PAGE).context["rows"]] == ["F-1"]
    refused = supplier.post(PAGE, {"order": str(legacy.pk), "carrier": "fp", "tracking_number": "FP123456789GB"})
    assert refused.status_code == 404
