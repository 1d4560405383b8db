"""The packing station and the print history: what a warehouse worker sees."""

from __future__ import annotations

from typing import Any

import pytest

from erp.roles import Role
from orders.models import OrderStatus
from shipping.models import LabelPurchase, PrintEvent, PurchaseState
from tests.factories import LabelBatchFactory, LabelPurchaseFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bought(tenant: Any) -> LabelPurchase:
    order = OrderFactory(organization=tenant.organization, external_id="576400000000000777")
    for _ in range(2):
        OrderLineFactory(organization=tenant.organization, order=order, seller_sku="MUG-RED", product_name="Red mug")
    return LabelPurchaseFactory(
        organization=tenant.organization,
        order=order,
        state=PurchaseState.PURCHASED,
        tracking_number="9400111000000000000777",
        package_id="1152321127278713777",
        batch=LabelBatchFactory(organization=tenant.organization),
    )


def scan(client: Any, code: str) -> Any:
    return client.post("/shipping/scan/", {"code": code}, HTTP_HX_REQUEST="true")


def test_scanning_a_label_shows_the_box_contents_and_packs_it_once(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    first = scan(packer, "9400111000000000000777").content.decode()
    assert 'data-verdict="pack"' in first
    assert "MUG-RED" in first
    assert ">2<" in first.replace(" ", "")
    bought.refresh_from_db()
    assert bought.packed_at is not None
    again = scan(packer, "9400111000000000000777").content.decode()
    assert 'data-verdict="already_packed"' in again
    assert "Do not ship it twice" in again


def test_unknown_and_cancelled_scans_warn_and_mark_nothing(tenant: Any, bought: LabelPurchase) -> None:
    packer = tenant.client_as(Role.WAREHOUSE)
    assert 'data-verdict="unknown"' in scan(packer, "NOT-A-LABEL").content.decode()
    type(bought.order).unscoped.filter(pk=bought.order_id).update(status=OrderStatus.CANCELLED)
    cancelled = scan(packer, "576400000000000777").content.decode()
    assert 'data-verdict="not_shippable"' in cancelled
    bought.refresh_from_db()
    assert bought.packed_at is None


def test_viewers_cannot_pack(tenant: Any, bought: LabelPurchase) -> None:
    assert scan(tenant.client_as(Role.VIEWER), "9400111000000000000777").status_code == 403


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
