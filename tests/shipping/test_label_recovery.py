"""One missing label file never breaks a print (issue 12): the batch's labels.pdf has one page per label, the missing
one fetched again from the platform and saved back; when the platform will not give it again, a placeholder page
says which order, why, and what to do."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage, storages
from pypdf import PdfReader

from erp.actors import Actor
from erp.roles import Role
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory.models import WarehouseKind
from orders.models import Order
from shipping.labels import documents
from shipping.labels.batches import label_batch_create
from shipping.models import LabelBatch, LabelPurchase
from tests.factories import WarehouseFactory
from tests.shipping.test_labels import shippable

pytestmark = pytest.mark.django_db

BATCH = 3


@pytest.fixture
def bought(
    tenant: Any, connected_store: Store, settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> Any:
    """A batch of BATCH orders for one own warehouse, every label bought from the sandbox and stored."""
    settings.MEDIA_ROOT = tmp_path
    store = connected_store
    orders = shippable(store, BATCH)
    reno = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.OWN, name="Reno")
    Order.unscoped.filter(pk__in=[o.pk for o in orders]).update(warehouse=reno)
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        batch = label_batch_create(actor=Actor.system(), orders=orders)
    purchases = list(LabelPurchase.unscoped.filter(batch=batch).select_related("order").order_by("order__external_id"))
    assert all(p.label_pdf and default_storage.exists(p.label_pdf.name) for p in purchases)
    return batch, purchases


def printed(tenant: Any, batch: LabelBatch, document: str = "labels.pdf") -> list[str]:
    response = tenant.client_as(Role.WAREHOUSE).get(f"/shipping/batches/{batch.pk}/{document}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


def test_a_deleted_label_file_is_fetched_again_from_the_platform_and_saved_back(tenant: Any, bought: Any) -> None:
    batch, purchases = bought
    lost = purchases[1]
    default_storage.delete(lost.label_pdf.name)

    pages = printed(tenant, batch)

    assert len(pages) == BATCH
    assert not any("NO LABEL" in text for text in pages)
    assert any(lost.tracking_number in text for text in pages)  # the platform's label, not a stand-in
    restored = LabelPurchase.unscoped.get(pk=lost.pk)
    assert default_storage.exists(restored.label_pdf.name)
    with restored.label_pdf.open("rb") as handle:
        assert handle.read()[:5] == b"%PDF-"
    assert len(printed(tenant, batch)) == BATCH  # and the next print reads the stored copy


def test_a_label_the_platform_will_not_give_again_prints_a_placeholder_saying_why_and_what_to_do(
    tenant: Any, tiktok: Any, bought: Any
) -> None:
    batch, purchases = bought
    lost = purchases[0]
    default_storage.delete(lost.label_pdf.name)
    tiktok.control("POST", f"orders/{lost.order.external_id}/events", type="advance")  # the carrier collected it

    pages = printed(tenant, batch)

    assert len(pages) == BATCH  # every other label still prints, in its place
    stand_ins = [text for text in pages if "NO LABEL" in text]
    assert len(stand_ins) == 1
    text = " ".join(stand_ins[0].split())
    assert "DO NOT SHIP" in text
    assert lost.order.external_id in text
    assert "picked up" in text  # why
    assert "Reprint it from TikTok Seller Center" in text  # what to do
    for other in purchases[1:]:
        assert any(other.tracking_number in page for page in pages)
    # The slips and the pick list still print, one slip per order beside its label or stand-in.
    assert len(printed(tenant, batch, "labels-and-slips.pdf")) == BATCH * 2
    assert printed(tenant, batch, "pick-list.pdf")


def test_a_platform_that_does_not_answer_says_print_again_later(tenant: Any, tiktok: Any, bought: Any) -> None:
    batch, purchases = bought
    lost = purchases[2]
    default_storage.delete(lost.label_pdf.name)
    api = "GET /fulfillment/{v}/packages/{package_id}/shipping_documents"
    tiktok.control("PUT", "faults", errors=[{"api": api, "code": 36009003, "http_status": 503, "next": 50}])

    pages = printed(tenant, batch)

    assert len(pages) == BATCH
    (stand_in,) = [" ".join(text.split()) for text in pages if "NO LABEL" in text]
    assert "did not answer" in stand_in
    assert "print again in a few minutes" in stand_in


def test_beyond_what_one_print_fetches_inline_the_worker_fetches_it_and_the_next_print_has_it(
    tenant: Any, bought: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    batch, purchases = bought
    for purchase in purchases:  # the whole volume was lost
        default_storage.delete(purchase.label_pdf.name)
    monkeypatch.setattr(documents, "REFETCH_PER_PRINT", 1)

    with django_capture_on_commit_callbacks(execute=True) as woken:  # tasks run eagerly here: the worker's fetch
        pages = printed(tenant, batch)
    assert len(woken) == BATCH - 1

    assert len(pages) == BATCH
    stand_ins = [" ".join(text.split()) for text in pages if "NO LABEL" in text]
    assert len(stand_ins) == BATCH - 1
    assert all("being fetched again from TikTok: print again in a minute" in text for text in stand_ins)
    again = printed(tenant, batch)
    assert not any("NO LABEL" in text for text in again)
    assert all(any(p.tracking_number in text for text in again) for p in purchases)


@pytest.mark.s3
def test_an_object_deleted_from_the_bucket_is_fetched_again_and_saved_back(
    tenant: Any, connected_store: Store, s3_storage: str, django_capture_on_commit_callbacks: Any
) -> None:
    store = connected_store
    orders = shippable(store, 2)
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        batch = label_batch_create(actor=Actor.system(), orders=orders)
    lost = LabelPurchase.unscoped.filter(batch=batch).first()
    assert type(storages["default"]).__name__ == "S3Storage"
    default_storage.delete(lost.label_pdf.name)
    assert not default_storage.exists(lost.label_pdf.name)

    pages = printed(tenant, batch)

    assert len(pages) == 2
    assert not any("NO LABEL" in text for text in pages)
    assert default_storage.exists(LabelPurchase.unscoped.get(pk=lost.pk).label_pdf.name)
