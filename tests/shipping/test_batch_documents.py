"""A batch's printouts belong to one warehouse: own warehouses print only their own orders, supplier and 3PL orders
appear only in their handoffs, and the buyer's message reaches the packer on the slip and the pick list."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfReader

from erp.roles import Role
from erp.tenancy import organization_scope
from inventory.models import Warehouse, WarehouseKind
from shipping import handoffs
from shipping.documents.batch import BatchOrder, PickLine
from shipping.documents.labels import labels_merge
from shipping.documents.packing_slips import SlipBranding, packing_slips_pdf
from shipping.documents.pick_list import pick_list_pdf
from shipping.labels.documents import batch_documents_input
from shipping.models import LabelBatch, LabelPurchase, PrintEvent, PurchaseState
from tests.factories import (
    LabelBatchFactory,
    LabelPurchaseFactory,
    OrderFactory,
    OrderLineFactory,
    WarehouseFactory,
)
from tests.shipping.batches import label_pdf

pytestmark = pytest.mark.django_db


def bought(
    tenant: Any, batch: LabelBatch, warehouse: Warehouse | None, *, tracking: str, sku: str, **order: Any
) -> LabelPurchase:
    """A bought label (with its stored PDF) for a one-line order routed to `warehouse`."""
    org = tenant.organization
    row = OrderFactory(organization=org, warehouse=warehouse, **order)
    OrderLineFactory(organization=org, order=row, seller_sku=sku, product_name=f"{sku} product")
    purchase = LabelPurchaseFactory(
        organization=org, order=row, batch=batch, state=PurchaseState.PURCHASED, tracking_number=tracking
    )
    with organization_scope(org):
        purchase.label_pdf.save(
            f"{tracking}.pdf", ContentFile(label_pdf(row.external_id, tracking, "Dana Kim", [])), save=True
        )
    return purchase


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def mixed(tenant: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    """One batch: two labels for the own warehouse Reno, one for the dropship supplier Candle Supply Co."""
    settings.MEDIA_ROOT = tmp_path
    org = tenant.organization
    own = WarehouseFactory(organization=org, name="Reno", kind=WarehouseKind.OWN)
    supplier = WarehouseFactory(organization=org, name="Candle Supply Co", kind=WarehouseKind.SUPPLIER)
    batch = LabelBatchFactory(organization=org)
    bought(tenant, batch, own, tracking="TRK-OWN-1", sku="MUG-RED")
    bought(tenant, batch, own, tracking="TRK-OWN-2", sku="MUG-BLUE")
    bought(tenant, batch, supplier, tracking="TRK-SUP-1", sku="CANDLE-12")
    with organization_scope(org):
        made = handoffs.handoffs_for_batch(batch=batch)
    return {"own": own, "supplier": supplier, "batch": batch, "handoff": made[0]}


def test_the_sellers_printouts_hold_only_own_warehouse_orders(tenant: Any, mixed: dict[str, Any]) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    batch = mixed["batch"]

    labels = packer.get(f"/shipping/batches/{batch.pk}/labels.pdf")
    assert labels["Content-Type"] == "application/pdf"
    pages, text = pdf_text(labels.content)
    assert pages == 2
    assert "TRK-OWN-1" in text
    assert "TRK-OWN-2" in text
    assert "TRK-SUP-1" not in text

    pages, pick = pdf_text(packer.get(f"/shipping/batches/{batch.pk}/pick-list.pdf").content)
    assert "MUG-RED" in pick
    assert "MUG-BLUE" in pick
    assert "CANDLE-12" not in pick
    assert "Candle Supply" not in pick
    assert "Reno" in pick

    _, slips = pdf_text(packer.get(f"/shipping/batches/{batch.pk}/labels-and-slips.pdf").content)
    assert "CANDLE-12" not in slips
    assert "TRK-SUP-1" not in slips

    with organization_scope(tenant.organization):
        warehouses = set(PrintEvent.objects.filter(batch=batch).values_list("warehouse__name", flat=True))
    assert warehouses == {"Reno"}


def test_the_supplier_handoff_documents_hold_only_its_own(tenant: Any, mixed: dict[str, Any]) -> None:
    with organization_scope(tenant.organization):
        orders = handoffs.handoff_documents_input(mixed["handoff"])
    assert [o.tracking_number for o in orders] == ["TRK-SUP-1"]
    pages, text = pdf_text(labels_merge(orders))
    assert pages == 1
    assert "TRK-SUP-1" in text
    assert "TRK-OWN-1" not in text


def test_the_batch_page_sends_supplier_labels_to_the_handoff_not_to_a_download(
    tenant: Any, mixed: dict[str, Any]
) -> None:
    page = tenant.client_as(Role.WAREHOUSE).get(f"/shipping/batches/{mixed['batch'].pk}/").content.decode()
    assert "1 label goes to" in page
    assert f"/shipping/handoffs/{mixed['handoff'].pk}/" in page
    assert f"?warehouse={mixed['own'].pk}" in page
    assert f"?warehouse={mixed['supplier'].pk}" not in page


def test_the_warehouse_role_cannot_download_a_handoff_warehouses_labels(tenant: Any, mixed: dict[str, Any]) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    batch, supplier = mixed["batch"], mixed["supplier"]
    for document in ("labels.pdf", "pick-list.pdf", "labels-and-slips.pdf"):
        response = packer.get(f"/shipping/batches/{batch.pk}/{document}?warehouse={supplier.pk}")
        assert response.status_code == 302
        assert response.url == f"/shipping/batches/{batch.pk}/"
    with organization_scope(tenant.organization):
        assert not PrintEvent.objects.filter(batch=batch).exists()
        with pytest.raises(ValueError, match="handoff"):
            batch_documents_input(batch, warehouse=supplier)


def test_two_own_warehouses_give_two_pick_lists_never_one_mixed(tenant: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    org = tenant.organization
    reno = WarehouseFactory(organization=org, name="Reno", kind=WarehouseKind.OWN)
    dallas = WarehouseFactory(organization=org, name="Dallas", kind=WarehouseKind.OWN)
    batch = LabelBatchFactory(organization=org)
    bought(tenant, batch, reno, tracking="TRK-RENO", sku="MUG-RED")
    bought(tenant, batch, dallas, tracking="TRK-DAL", sku="LAMP-01")
    client = tenant.client_as(Role.WAREHOUSE)

    mixed = client.get(f"/shipping/batches/{batch.pk}/pick-list.pdf")
    assert mixed.status_code == 302  # no warehouse named: refused, not mixed

    _, reno_pick = pdf_text(client.get(f"/shipping/batches/{batch.pk}/pick-list.pdf?warehouse={reno.pk}").content)
    _, dallas_pick = pdf_text(client.get(f"/shipping/batches/{batch.pk}/pick-list.pdf?warehouse={dallas.pk}").content)
    assert "MUG-RED" in reno_pick
    assert "LAMP-01" not in reno_pick
    assert "LAMP-01" in dallas_pick
    assert "MUG-RED" not in dallas_pick
    page = client.get(f"/shipping/batches/{batch.pk}/").content.decode()
    assert page.count('data-testid="warehouse-documents"') == 2
    with organization_scope(org):
        printed = sorted(PrintEvent.objects.filter(batch=batch).values_list("warehouse__name", flat=True))
    assert printed == ["Dallas", "Reno"]


def test_the_api_answers_per_warehouse_and_never_mixes(tenant: Any, mixed: dict[str, Any]) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {tenant.api_key}"}
    batch, own, supplier = mixed["batch"], mixed["own"], mixed["supplier"]
    listing = tenant.client.get(f"/api/v1/label-batches/{batch.pk}/documents/", **headers).json()
    by_name = {group["warehouse_name"]: group for group in listing}
    assert by_name["Reno"]["labels"] == 2
    assert set(by_name["Reno"]["documents"]) == {"labels", "pick-list", "slips"}
    assert by_name["Candle Supply Co"]["documents"] == {}
    assert by_name["Candle Supply Co"]["handoff"] == str(mixed["handoff"].pk)

    url = f"/api/v1/label-batches/{batch.pk}/documents/labels/"
    refused = tenant.client.get(f"{url}?warehouse={supplier.pk}", **headers)
    assert refused.status_code == 400
    response = tenant.client.get(f"{url}?warehouse={own.pk}", **headers)
    assert response["Content-Type"] == "application/pdf"
    pages, text = pdf_text(response.content)
    assert pages == 2
    assert "TRK-SUP-1" not in text


def test_the_api_requires_a_warehouse_when_the_batch_spans_two(tenant: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    org = tenant.organization
    batch = LabelBatchFactory(organization=org)
    bought(tenant, batch, WarehouseFactory(organization=org, name="Reno"), tracking="TRK-1", sku="A")
    bought(tenant, batch, WarehouseFactory(organization=org, name="Dallas"), tracking="TRK-2", sku="B")
    response = tenant.client.get(
        f"/api/v1/label-batches/{batch.pk}/documents/pick-list/", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}"
    )
    assert response.status_code == 400
    assert "2 warehouses" in response.content.decode()


def test_buyer_message_and_gift_reach_the_packer_on_slip_and_pick_list(
    tenant: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    org = tenant.organization
    batch = LabelBatchFactory(organization=org)
    own = WarehouseFactory(organization=org, name="Reno")
    purchase = bought(
        tenant, batch, own, tracking="TRK-MSG", sku="MUG-RED", buyer_message="Please wrap it, it is a birthday gift"
    )
    OrderLineFactory(organization=org, order=purchase.order, seller_sku="CARD-01", is_gift=True)
    client = tenant.client_as(Role.WAREHOUSE)

    _, slips = pdf_text(client.get(f"/shipping/batches/{batch.pk}/labels-and-slips.pdf").content)
    assert "BUYER MESSAGE" in slips
    assert "GIFT" in slips
    assert "Please wrap it, it is a birthday gift" in slips
    _, pick = pdf_text(client.get(f"/shipping/batches/{batch.pk}/pick-list.pdf").content)
    assert "MSG" in pick
    assert "GIFT" in pick
    assert "Please wrap" in " ".join(pick.split())


def test_a_long_message_is_cut_to_fit_the_pick_list_row() -> None:
    order = BatchOrder(
        order_ref="576400000000000123",
        label_pdf=b"",
        lines=(PickLine("576400000000000123", "MUG-RED", "Red mug", 1, "A-01-1"),),
        recipient_name="D**** K***",
        ship_by=None,
        tracking_number="TRK",
        buyer_message="word " * 200,
    )
    printed_at = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    _, pick = pdf_text(pick_list_pdf([order], batch_ref="B-1", warehouse_name="Reno", printed_at=printed_at))
    assert "MSG" in pick
    assert "…" in pick
    assert pick.count("word") < 40
    _, slip = pdf_text(packing_slips_pdf([order], SlipBranding(seller_name="Acme")))
    assert "BUYER MESSAGE" in slip
    assert "…" in slip


def test_a_batch_of_supplier_orders_only_prints_nothing_on_the_seller_side(
    tenant: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    org = tenant.organization
    batch = LabelBatchFactory(organization=org)
    supplier = WarehouseFactory(organization=org, name="Candle Supply Co", kind=WarehouseKind.SUPPLIER)
    bought(tenant, batch, supplier, tracking="TRK-SUP", sku="CANDLE-12")
    response = tenant.client.get(f"/shipping/batches/{batch.pk}/labels.pdf")
    assert response.status_code == 302
    with organization_scope(org):
        assert not PrintEvent.objects.filter(batch=batch).exists()
