"""One parcel per source: the TikTok translation of the split endpoints (from the spec's own examples), and an order
whose lines ship from two warehouses split against the sandbox, once, whatever fails, each package labelled on its
own and printed only in its own warehouse's documents."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.errors import ErrorKind, PlatformError
from integrations.interface import SplitAttributes, SplitGroup, SplitLimit, SplitPackage
from integrations.models import Store
from integrations.tiktok import errors, translate
from inventory.models import Listing, Sku, StockLevel, Warehouse
from orders.models import HoldReason, Order, OrderLine, OrderStatus
from orders.services import store_sync
from shipping.combine import ChangeOutcome, package_change_execute, package_change_reconcile
from shipping.documents.packing_slips import SlipBranding, packing_slips_pdf
from shipping.labels.batches import label_batch_create
from shipping.labels.documents import batch_documents_input, label_document_fetch
from shipping.labels.purchase import PurchaseOutcome, label_purchase_execute, label_purchases_request
from shipping.models import LabelPurchase, PackageChange, PurchaseState
from shipping.split import SplitRefused, order_split, order_split_request
from tests.factories import StockLevelFactory, WarehouseFactory
from tests.workers import Workers, sandbox_env, wait_for

SPLIT_API = "POST /fulfillment/{v}/orders/{order_id}/split"
ACTOR = Actor.system("test")


# ---------------------------------------------------------------- translate, from the spec's examples
def test_get_order_split_attributes_example_reads_can_split_its_reason_and_limits() -> None:
    data = {
        "split_attributes": [
            {
                "order_id": "556643423444",
                "can_split": False,
                "reason": "Order has been canceled",
                "must_split": False,
                "must_split_reasons": [{"type": "CATEGORY_ITEM_LIMITATION", "category_id": "601990", "max_count": "2"}],
            }
        ]
    }
    assert translate.split_attributes_from_json(data) == [
        SplitAttributes(
            order_id="556643423444",
            can_split=False,
            reason="Order has been canceled",
            must_split=False,
            must_split_reasons=(SplitLimit(kind="CATEGORY_ITEM_LIMITATION", category_id="601990", max_count=2),),
        )
    ]


def test_split_orders_body_and_answer_are_the_specs_examples() -> None:
    body = translate.split_body([SplitGroup("123", ("57646237751283022", "576462377512830223"))])
    assert body == {
        "splittable_groups": [{"id": "123", "order_line_item_ids": ["57646237751283022", "576462377512830223"]}]
    }
    answer = {"packages": [{"splittable_group_id": "123", "id": "223362377512830222"}]}
    assert translate.split_result_from_json(answer) == [SplitPackage("123", "223362377512830222")]


@pytest.mark.parametrize(
    ("code", "words"),
    [(21011035, "ship it as one parcel"), (21011046, "uncombine it first"), (21011007, "approve or reject it")],
)
def test_split_refusals_carry_a_fix_a_person_can_follow(code: int, words: str) -> None:
    error = errors.explain(PlatformError("tiktok", code, "refused"), errors.ORDER_SPLIT)
    assert error.kind in (ErrorKind.REFUSED, ErrorKind.NOT_SHIPPABLE_YET)
    assert words in error.fix


# ----------------------------------------------------------------------------- against the sandbox
def two_source_order(store: Store) -> tuple[Order, Warehouse, Warehouse, dict[str, str]]:
    """An awaiting-shipment order with two SKUs, each stocked at only one of two warehouses (Reno, Austin): the
    allocation cannot ship it from one place. Returns the order, both warehouses and SKU code → its warehouse."""
    with organization_scope(store.organization):
        orders = (
            Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="platform")
            .exclude(fulfilled_by="platform")
            .exclude(holds__reason__in=[HoldReason.ADDRESS_INVALID, HoldReason.CANCEL_REQUESTED])
            .order_by("external_id")
        )
        order = next(
            o
            for o in orders
            if len({(li.sku_id, li.seller_sku) for li in o.lines.all()}) >= 2
            and all(li.seller_sku for li in o.lines.all())
        )
        lines = list(OrderLine.objects.filter(order=order).order_by("external_id"))
        reno = WarehouseFactory(organization=store.organization, name="Reno")
        austin = WarehouseFactory(organization=store.organization, name="Austin")
        Warehouse.objects.exclude(pk__in=[reno.pk, austin.pk]).update(is_active=False)
        where: dict[str, str] = {}
        for n, line in enumerate(lines):
            sku, _ = Sku.objects.get_or_create(code=line.seller_sku, defaults={"name": line.product_name})
            Listing.objects.filter(store=store, platform_sku_id=line.sku_id).update(sku=sku)
            warehouse = reno if n == 0 else austin
            if line.seller_sku not in where:
                StockLevelFactory(organization=store.organization, sku=sku, warehouse=warehouse, on_hand=50)
                where[line.seller_sku] = warehouse.name
    return order, reno, austin, where


def slip_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.django_db
def test_an_order_with_lines_at_two_sources_is_split_and_each_package_prints_in_its_own_warehouse(
    connected_store: Store, tiktok: Any
) -> None:
    order, reno, austin, where = two_source_order(connected_store)
    with organization_scope(connected_store.organization):
        change = order_split(order=order, actor=ACTOR)
        assert change.state == PurchaseState.PURCHASED, change.error_message
        parts = label_purchases_request(order=order)
        assert len(parts) == 2
        assert {p.warehouse_id for p in parts} == {reno.pk, austin.pk}
        batch = label_batch_create(actor=ACTOR, orders=[order])
        assert {p.pk for p in batch.purchases.all()} == {p.pk for p in parts}
        for part in parts:
            assert label_purchase_execute(purchase_id=part.pk) == PurchaseOutcome.BOUGHT
            assert label_document_fetch(purchase_id=part.pk)
        documents = {w.name: batch_documents_input(batch, warehouse=w) for w in (reno, austin)}
    sold = tiktok.control("GET", f"labels?order_id={order.external_id}")["labels"]
    assert len(sold) == 2  # two labels, in the platform's own ledger
    assert {s["package_id"] for s in sold} == {p["package_id"] for p in change.result["packages"]}
    for name, orders in documents.items():
        assert len(orders) == 1  # each warehouse's documents hold only its package
        text = slip_text(packing_slips_pdf(orders, SlipBranding(seller_name="Shop")))
        for code, home in where.items():
            assert (code in text) is (home == name), (name, code, text)


@pytest.mark.django_db
def test_an_order_one_warehouse_can_ship_is_not_split(connected_store: Store, tiktok: Any) -> None:
    order, reno, _austin, where = two_source_order(connected_store)
    with organization_scope(connected_store.organization):
        for code in where:  # Reno now stocks every SKU of the order
            StockLevel.objects.update_or_create(
                sku=Sku.objects.get(code=code), warehouse=reno, defaults={"on_hand": 50}
            )
        with pytest.raises(SplitRefused, match="One warehouse can ship all"):
            order_split_request(order=order, actor=ACTOR)
        assert not PackageChange.objects.exists()


@pytest.mark.django_db
@pytest.mark.chaos
def test_a_split_whose_answer_was_lost_is_read_back_not_repeated_and_two_labels_are_bought(
    connected_store: Store, tiktok: Any
) -> None:
    order, _reno, _austin, _where = two_source_order(connected_store)
    tiktok.control("POST", "faults", drop_response_after_commit=[{"api": SPLIT_API, "next": 1}])
    with organization_scope(connected_store.organization):
        change = order_split_request(order=order, actor=ACTOR)
        assert package_change_execute(change_id=change.pk) == ChangeOutcome.UNKNOWN
        assert package_change_execute(change_id=change.pk) == ChangeOutcome.BUSY
        assert package_change_reconcile(change_id=change.pk, stale_after=timedelta(0)) == ChangeOutcome.ADOPTED
        for part in label_purchases_request(order=order):
            assert label_purchase_execute(purchase_id=part.pk) == PurchaseOutcome.BOUGHT
    assert len(tiktok.control("GET", f"labels?order_id={order.external_id}")["labels"]) == 2


@pytest.mark.chaos
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_split_orders_was_sent_splits_once_and_two_labels_are_bought(
    tenant: Any, tiktok_server: Any, settings: Any, tmp_path: Path
) -> None:
    base_url, harness = tiktok_server
    store = harness.connect_store(tenant.organization)
    with organization_scope(tenant.organization):
        store_sync(store=store)
    order, _reno, _austin, _where = two_source_order(store)
    with organization_scope(tenant.organization):
        change = order_split_request(order=order, actor=ACTOR)  # committed before any call
    harness.control("PUT", "faults", timeouts=[{"api": SPLIT_API, "hold_ms": 2500, "next": 1}])
    workers = Workers(
        tmp_path,
        env=sandbox_env(base_url),
    )
    task = {"organization_id": str(tenant.organization.pk), "change_id": str(change.pk)}
    try:
        killed = workers.start()
        workers.send("shipping.labels_package_change", **task)
        wait_for(
            lambda: PackageChange.unscoped.get(pk=change.pk).state == PurchaseState.SUBMITTING,
            30,
            "the split to be under way",
        )
        time.sleep(0.5)
        workers.kill(killed)
        time.sleep(3.0)  # the held request is served after the worker is gone
        workers.start()
        workers.send("shipping.labels_package_change_reconcile", **task)
        wait_for(
            lambda: PackageChange.unscoped.get(pk=change.pk).state == PurchaseState.PURCHASED,
            60,
            "the restarted worker to read the split back",
        )
        with organization_scope(tenant.organization):
            parts = label_purchases_request(order=order)
        for part in parts:
            workers.send(
                "shipping.labels_purchase", organization_id=str(tenant.organization.pk), purchase_id=str(part.pk)
            )
        wait_for(
            lambda: all(LabelPurchase.unscoped.get(pk=p.pk).state == PurchaseState.PURCHASED for p in parts),
            60,
            "both packages' labels",
        )
    finally:
        workers.stop_all()
    change.refresh_from_db()
    assert change.adopted  # found split on the platform, not split a second time
    assert len(parts) == 2
    assert len(harness.control("GET", f"labels?order_id={order.external_id}")["labels"]) == 2
