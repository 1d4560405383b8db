"""The packing station and the print history: what a warehouse worker sees.

The station takes a label scan, then every unit's barcode, and marks the parcel packed only when the units match the
order; a supervisor may override (audited). Labels of another warehouse, cancelled and already packed orders are
refused loudly."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from erp.actors import Actor
from erp.models import AuditEntry
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory.models import Warehouse, WarehouseKind
from orders.models import OrderLine, OrderStatus
from shipping import packing
from shipping.models import LabelPurchase, PrintEvent, PurchaseState
from tests.factories import (
    BundleComponentFactory,
    HandoffFactory,
    HandoffItemFactory,
    LabelBatchFactory,
    LabelPurchaseFactory,
    OrderFactory,
    OrderLineFactory,
    PackageOrderFactory,
    SkuFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db

TRACKING = "9400111000000000000777"
MUG_BARCODE = "0012345678905"


@pytest.fixture
def reno(tenant: Any) -> Warehouse:
    return WarehouseFactory(organization=tenant.organization, name="Reno DC")


@pytest.fixture
def bought(tenant: Any, reno: Warehouse) -> LabelPurchase:
    """Order 777 from Reno: 2 × MUG-RED (barcode 0012345678905) and 1 × COASTER, one line cancelled."""
    organization = tenant.organization
    SkuFactory(organization=organization, code="MUG-RED", name="Red mug", barcode=MUG_BARCODE)
    SkuFactory(organization=organization, code="COASTER", name="Cork coaster")
    SkuFactory(organization=organization, code="TEAPOT", name="Blue teapot", barcode="0099999999999")
    order = OrderFactory(organization=organization, external_id="576400000000000777", warehouse=reno)
    for _ in range(2):
        OrderLineFactory(organization=organization, order=order, seller_sku="MUG-RED", product_name="Red mug")
    OrderLineFactory(organization=organization, order=order, seller_sku="COASTER", product_name="Cork coaster")
    OrderLineFactory(
        organization=organization, order=order, seller_sku="TEAPOT", product_name="Blue teapot", is_cancelled=True
    )
    return LabelPurchaseFactory(
        organization=organization,
        order=order,
        state=PurchaseState.PURCHASED,
        tracking_number=TRACKING,
        package_id="1152321127278713777",
        batch=LabelBatchFactory(organization=organization),
    )


def scan(client: Client, code: str) -> str:
    response = client.post("/shipping/scan/", {"code": code}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def finish(client: Client) -> str:
    return client.post("/shipping/scan/", {"action": "finish", "code": ""}, HTTP_HX_REQUEST="true").content.decode()


def verdict(html: str) -> str:
    return html.split('data-verdict="', 1)[1].split('"', 1)[0]


def packed(purchase: LabelPurchase) -> bool:
    purchase.refresh_from_db()
    return purchase.packed_at is not None


def test_the_label_scan_shows_the_units_and_packs_only_when_every_unit_is_scanned(
    tenant: Any, bought: LabelPurchase
) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    first = scan(packer, TRACKING)
    assert verdict(first) == "packing"
    assert "MUG-RED" in first
    assert "COASTER" in first
    assert "TEAPOT" not in first  # a cancelled line is not expected
    assert "0 of 3 unit(s) scanned" in first
    assert not packed(bought)

    assert verdict(scan(packer, MUG_BARCODE)) == "counted"
    assert verdict(scan(packer, MUG_BARCODE)) == "counted"  # the same barcode twice: two units
    assert not packed(bought)
    last = scan(packer, "coaster")  # no barcode: its SKU code, in any case
    assert verdict(last) == "packed"
    assert packed(bought)
    assert bought.packed_units == {"MUG-RED": 2, "COASTER": 1}

    again = scan(packer, TRACKING)
    assert verdict(again) == "already_packed"
    assert "Do not ship it twice" in again


def test_a_upc_read_of_an_ean_barcode_is_the_same_product(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    scan(packer, TRACKING)
    assert verdict(scan(packer, "012345678905")) == "counted"  # 0012345678905 without its leading zero
    assert verdict(scan(packer, "12345678906")) == "wrong_item"
    bought.refresh_from_db()
    assert bought.packed_units == {"MUG-RED": 1}


def test_a_label_for_the_rest_of_a_partly_shipped_order_expects_only_its_own_lines(
    tenant: Any, bought: LabelPurchase
) -> None:
    still_to_ship = OrderLine.unscoped.filter(order=bought.order, seller_sku="MUG-RED").values_list("external_id")
    LabelPurchase.unscoped.filter(pk=bought.pk).update(line_ids=[line_id for (line_id,) in still_to_ship])
    packer = tenant.client_as(Role.WAREHOUSE)
    started = scan(packer, TRACKING)
    assert "0 of 2 unit(s) scanned" in started
    assert "COASTER" not in started
    scan(packer, MUG_BARCODE)
    assert verdict(scan(packer, MUG_BARCODE)) == "packed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_packers_scanning_at_once_never_lose_or_overcount_a_unit(tenant: Any) -> None:
    """10 scans of one barcode at once for an order of 6 units: exactly 6 are counted, the parcel is packed once."""
    organization = tenant.organization
    with organization_scope(organization):
        SkuFactory(organization=organization, code="MUG-RED", name="Red mug", barcode=MUG_BARCODE)
        order = OrderFactory(organization=organization)
        for _ in range(6):
            OrderLineFactory(organization=organization, order=order, seller_sku="MUG-RED")
        purchase = LabelPurchaseFactory(organization=organization, order=order, state=PurchaseState.PURCHASED)
    start = threading.Barrier(10)
    verdicts: list[str] = []

    def worker() -> None:
        try:
            with organization_scope(organization):
                start.wait()
                result = packing.pack_scan_item(purchase_id=purchase.pk, code=MUG_BARCODE, actor=Actor.system("packer"))
                verdicts.append(result.verdict)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(verdicts) == {"counted": 5, "packed": 1, "already_packed": 4}
    purchase.refresh_from_db()
    assert purchase.packed_units == {"MUG-RED": 6}
    assert purchase.packed_at is not None


def test_a_wrong_item_is_refused_naming_it_and_what_the_order_needs(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    scan(packer, TRACKING)
    wrong = scan(packer, "0099999999999")
    assert verdict(wrong) == "wrong_item"
    assert 'data-tone="bad"' in wrong
    assert "TEAPOT (Blue teapot), not in this order" in wrong
    assert "This order needs: 1 × COASTER (Cork coaster), 2 × MUG-RED (Red mug)" in wrong
    unknown = scan(packer, "NOPE-123")
    assert verdict(unknown) == "wrong_item"
    assert "“NOPE-123” is not a SKU barcode or code Dropline knows" in unknown
    bought.refresh_from_db()
    assert bought.packed_units == {}
    assert bought.packed_at is None


def test_an_extra_unit_is_refused_and_not_counted(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    scan(packer, TRACKING)
    scan(packer, MUG_BARCODE)
    scan(packer, MUG_BARCODE)
    extra = scan(packer, MUG_BARCODE)
    assert verdict(extra) == "extra_unit"
    assert "One MUG-RED too many: the order needs 2" in extra
    assert "Still needed: 1 × COASTER (Cork coaster)" in extra
    bought.refresh_from_db()
    assert bought.packed_units == {"MUG-RED": 2}
    assert bought.packed_at is None


def test_finishing_with_units_missing_is_refused_and_lists_them(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    scan(packer, TRACKING)
    scan(packer, "MUG-RED")
    just_enter = scan(packer, "")  # Enter on its own: where the parcel stands, nothing refused
    assert verdict(just_enter) == "packing"
    assert "1 of 3 unit(s) scanned" in just_enter
    refused = finish(packer)
    assert verdict(refused) == "missing"
    assert "the box is missing 1 × COASTER (Cork coaster), 1 × MUG-RED (Red mug)" in refused
    assert not packed(bought)


def test_a_bundle_is_packed_by_scanning_its_components(tenant: Any, reno: Warehouse) -> None:
    organization = tenant.organization
    kit = SkuFactory(organization=organization, code="GIFT-KIT", name="Gift kit", is_bundle=True, barcode="777000")
    BundleComponentFactory(
        organization=organization,
        bundle=kit,
        component=SkuFactory(organization=organization, code="CANDLE", name="Candle", barcode="111"),
        quantity=2,
    )
    BundleComponentFactory(
        organization=organization,
        bundle=kit,
        component=SkuFactory(organization=organization, code="WICK", name="Wick", barcode="222"),
        quantity=1,
    )
    order = OrderFactory(organization=organization, warehouse=reno)
    OrderLineFactory(organization=organization, order=order, seller_sku="GIFT-KIT", product_name="Gift kit")
    purchase = LabelPurchaseFactory(
        organization=organization, order=order, state=PurchaseState.PURCHASED, tracking_number="TRK-KIT"
    )
    packer = tenant.client_as(Role.WAREHOUSE)
    started = scan(packer, "TRK-KIT")
    assert "CANDLE" in started
    assert "WICK" in started
    assert "0 of 3 unit(s) scanned" in started
    the_kit = scan(packer, "777000")
    assert verdict(the_kit) == "wrong_item"
    assert "is the bundle GIFT-KIT (Gift kit): scan each of its components" in the_kit
    assert verdict(scan(packer, "111")) == "counted"
    assert verdict(scan(packer, "222")) == "counted"
    assert not packed(purchase)
    assert verdict(scan(packer, "111")) == "packed"
    assert packed(purchase)


def test_a_supervisor_override_packs_it_with_the_reason_audited(tenant: Any, bought: LabelPurchase) -> None:
    supervisor = tenant.client_as(Role.ADMIN)
    scan(supervisor, TRACKING)
    scan(supervisor, MUG_BARCODE)
    page = scan(supervisor, MUG_BARCODE)
    assert "Override: mark packed" in page
    no_reason = supervisor.post("/shipping/scan/override/", {"reason": "  "}, HTTP_HX_REQUEST="true")
    assert verdict(no_reason.content.decode()) == "missing"
    assert not packed(bought)

    done = supervisor.post(
        "/shipping/scan/override/", {"reason": "Coaster out of stock, buyer agreed"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert verdict(done) == "packed"
    assert packed(bought)
    assert bought.pack_override_reason == "Coaster out of stock, buyer agreed"
    entry = AuditEntry.unscoped.get(organization=tenant.organization, action="label.pack_overridden")
    assert entry.target_id == str(bought.pk)
    assert entry.changes["reason"] == "Coaster out of stock, buyer agreed"
    assert entry.changes["missing"] == {"COASTER": 1}
    assert entry.changes["scanned"] == {"MUG-RED": 2}
    assert "supervisor override" in scan(supervisor, TRACKING)


def test_the_warehouse_role_cannot_override(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    page = scan(packer, TRACKING)
    assert "Override: mark packed" not in page
    refused = packer.post("/shipping/scan/override/", {"reason": "trust me"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    assert not packed(bought)
    assert not AuditEntry.unscoped.filter(action="label.pack_overridden").exists()


def test_a_label_of_another_warehouse_is_refused_and_packing_does_not_start(tenant: Any, bought: LabelPurchase) -> None:
    dallas = WarehouseFactory(organization=tenant.organization, name="Dallas DC")
    packer = tenant.client_as(Role.WAREHOUSE)
    page = packer.get("/shipping/scan/").content.decode()
    assert "Choose a warehouse…" in page  # two own warehouses: the station must be told which it is
    assert verdict(scan(packer, TRACKING)) == "choose_station"
    supplier = WarehouseFactory(organization=tenant.organization, name="Candle Supply Co", kind=WarehouseKind.SUPPLIER)
    packer.post("/shipping/scan/station/", {"warehouse": str(supplier.pk)})  # not a station of the seller's
    assert verdict(scan(packer, TRACKING)) == "choose_station"
    packer.post("/shipping/scan/station/", {"warehouse": str(dallas.pk)})
    assert f'value="{dallas.pk}" selected' in packer.get("/shipping/scan/").content.decode()

    warned = scan(packer, TRACKING)
    assert verdict(warned) == "not_here"
    assert "ships from Reno DC: do not pack here" in warned
    after = scan(packer, MUG_BARCODE)  # nothing started: an item scan is not counted against that order
    assert verdict(after) == "unknown"
    bought.refresh_from_db()
    assert bought.packed_units == {}
    assert bought.packed_at is None


def test_a_label_in_a_suppliers_handoff_is_never_packed_at_the_sellers_station(
    tenant: Any, bought: LabelPurchase
) -> None:
    supplier = WarehouseFactory(organization=tenant.organization, name="Candle Supply Co", kind=WarehouseKind.SUPPLIER)
    handoff = HandoffFactory(organization=tenant.organization, warehouse=supplier, batch=bought.batch)
    HandoffItemFactory(organization=tenant.organization, handoff=handoff, purchase=bought)
    packer = tenant.client_as(Role.WAREHOUSE)  # Reno is the only own warehouse: the station's by default
    warned = scan(packer, TRACKING)
    assert verdict(warned) == "not_here"
    assert "ships from Candle Supply Co: do not pack here" in warned
    assert not packed(bought)


def test_the_buyer_message_seller_note_and_gift_reach_the_packer_escaped(tenant: Any, bought: LabelPurchase) -> None:
    type(bought.order).unscoped.filter(pk=bought.order_id).update(
        buyer_message="<script>alert(1)</script> Please wrap it, it's a gift!", seller_note="VIP: add a sample"
    )
    OrderLineFactory(
        organization=tenant.organization, order=bought.order, seller_sku="COASTER", product_name="Cork coaster"
    )
    OrderLine.unscoped.filter(order=bought.order, seller_sku="COASTER").update(is_gift=True)
    page = scan(tenant.client_as(Role.WAREHOUSE), TRACKING)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Please wrap it, it&#x27;s a gift!" in page
    assert "<script>alert(1)</script>" not in page
    assert "VIP: add a sample" in page
    assert "Gift:</strong> Cork coaster" in page


def test_a_reload_or_another_station_keeps_the_progress(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    scan(packer, TRACKING)
    scan(packer, MUG_BARCODE)
    reloaded = packer.get("/shipping/scan/").content.decode()
    assert verdict(reloaded) == "packing"
    assert "1 of 3 unit(s) scanned" in reloaded
    assert verdict(scan(packer, MUG_BARCODE)) == "counted"  # still counting against the same parcel after reload

    other = Client()
    other.force_login(tenant.members[Role.WAREHOUSE].user)
    resumed = scan(other, TRACKING)
    assert "Resumed: 2 already scanned" in resumed
    assert verdict(scan(other, "COASTER")) == "packed"
    assert packed(bought)


def test_scanning_the_next_label_keeps_the_unfinished_parcel(tenant: Any, bought: LabelPurchase) -> None:
    other_order = OrderFactory(organization=tenant.organization, warehouse=bought.order.warehouse)
    OrderLineFactory(organization=tenant.organization, order=other_order, seller_sku="COASTER")
    LabelPurchaseFactory(
        organization=tenant.organization, order=other_order, state=PurchaseState.PURCHASED, tracking_number="TRK-2"
    )
    packer = tenant.client_as(Role.WAREHOUSE)
    scan(packer, TRACKING)
    scan(packer, MUG_BARCODE)
    switched = scan(packer, "TRK-2")
    assert verdict(switched) == "packing"
    assert "Order 576400000000000777 is not finished (1 of 3 scanned; kept)" in switched
    bought.refresh_from_db()
    assert bought.packed_units == {"MUG-RED": 1}


def test_unknown_and_cancelled_scans_warn_and_mark_nothing(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    assert verdict(scan(packer, "NOT-A-LABEL")) == "unknown"
    supervisor = tenant.client
    scan(packer, TRACKING)
    scan(supervisor, TRACKING)
    type(bought.order).unscoped.filter(pk=bought.order_id).update(status=OrderStatus.CANCELLED)
    mid_packing = scan(packer, MUG_BARCODE)  # cancelled while being packed: the station stops counting
    assert verdict(mid_packing) == "not_shippable"
    override = supervisor.post("/shipping/scan/override/", {"reason": "ship it"}, HTTP_HX_REQUEST="true")
    assert verdict(override.content.decode()) == "not_shippable"  # not even a supervisor packs a cancelled order
    cancelled = scan(packer, "576400000000000777")
    assert verdict(cancelled) == "not_shippable"
    assert not packed(bought)


def test_finishing_or_overriding_with_no_parcel_started_asks_for_the_label(tenant: Any, bought: LabelPurchase) -> None:
    supervisor = tenant.client_as(Role.ADMIN)
    nothing = finish(supervisor)
    assert verdict(nothing) == "unknown"
    assert "scan its label first" in nothing
    override = supervisor.post("/shipping/scan/override/", {"reason": "because"}, HTTP_HX_REQUEST="true")
    assert "scan its label first" in override.content.decode()
    assert supervisor.post("/shipping/scan/station/", {"warehouse": "not-a-uuid"}).status_code == 302
    assert not packed(bought)


def test_viewers_cannot_pack(tenant: Any, bought: LabelPurchase) -> None:
    viewer = tenant.client_as(Role.VIEWER)
    assert viewer.post("/shipping/scan/", {"code": TRACKING}, HTTP_HX_REQUEST="true").status_code == 403


def test_every_print_is_recorded_and_shown(tenant: Any, bought: LabelPurchase, settings: Any, tmp_path: Any) -> None:
    from django.core.files.base import ContentFile

    from tests.shipping.batches import label_pdf

    settings.MEDIA_ROOT = tmp_path
    bought.label_pdf.save(
        "label.pdf",
        ContentFile(
            label_pdf("576400000000000777", "9400111000000000000777", "D**** K***", [(2, "MUG-RED", "Red mug")])
        ),
        save=True,
    )
    packer = tenant.client_as(Role.WAREHOUSE)
    for _ in range(2):
        response = packer.get(f"/shipping/batches/{bought.batch_id}/labels.pdf")
        assert response["Content-Type"] == "application/pdf"
    assert PrintEvent.unscoped.filter(batch=bought.batch, document="labels").count() == 2
    page = packer.get(f"/shipping/batches/{bought.batch_id}/").content.decode()
    assert "Print history" in page
    assert page.count("labels</td>") == 2


def test_scanning_a_combined_parcels_label_expects_every_orders_units(
    tenant: Any, reno: Warehouse, bought: LabelPurchase
) -> None:
    """Order 778 of the same buyer travels in 777's parcel (one label): the box holds both orders' units."""
    organization = tenant.organization
    other = OrderFactory(organization=organization, external_id="576400000000000778", warehouse=reno)
    OrderLineFactory(organization=organization, order=other, seller_sku="TEAPOT", product_name="Blue teapot")
    LabelPurchase.unscoped.filter(pk=bought.pk).update(package_key="combined")
    PackageOrderFactory(organization=organization, purchase=bought, order=other, part="order")
    packer = tenant.client_as(Role.WAREHOUSE)
    started = scan(packer, "576400000000000778")  # either order's number finds the parcel
    assert "0 of 4 unit(s) scanned" in started
    assert "TEAPOT" in started
    for code in (MUG_BARCODE, MUG_BARCODE, "coaster"):
        assert verdict(scan(packer, code)) == "counted"
    assert verdict(scan(packer, "0099999999999")) == "packed"
    bought.refresh_from_db()
    assert bought.packed_units == {"MUG-RED": 2, "COASTER": 1, "TEAPOT": 1}
