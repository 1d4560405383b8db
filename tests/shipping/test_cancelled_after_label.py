"""An order cancelled on TikTok after its label was bought: the notification arrives (webhook, in-process, signed by
the sandbox), and at once no place would still ship it: the print queue, the pick list of the batch, the packing
station, the supplier's handoff; its reservation is released, and the ledger still equals the levels. A replayed
notification or a second sync does nothing more."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from erp.actors import Actor
from erp.models import AuditEntry
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory import services as inventory
from inventory.models import Reservation, StockLevel, StockMovement, WarehouseKind
from orders import services as order_services
from orders.models import Order, OrderStatus
from shipping import handoffs
from shipping.cancelled import labels_order_cancelled
from shipping.documents import printing
from shipping.labels.documents import label_document_fetch
from shipping.labels.purchase import PurchaseOutcome, label_purchase_execute, label_purchase_request
from shipping.models import HandoffItem, LabelPurchase
from tests.factories import LabelBatchFactory, SkuFactory, WarehouseFactory
from tests.shipping.test_labels import shippable
from tests.tiktok_harness import into_dropline

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def short(order: Order) -> str:
    return order.external_id[-6:]


def deliver(tiktok: Any, capture: Any, organization: Any) -> None:
    """Flush the sandbox's notifications into Dropline. The view enqueues their processing after commit; a worker
    runs each in its organization's scope, and what that work announces on commit runs there too."""
    with organization_scope(organization), capture(execute=True):
        tiktok.control("POST", "webhooks/flush")


@pytest.fixture
def world(tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """Three TikTok orders with bought labels in one batch: A and B ship from the seller's own warehouse (2 mugs each
    reserved there), C from a make-to-order supplier, in its handoff."""
    tiktok.sandbox.webhook_transport = into_dropline()
    with django_capture_on_commit_callbacks(execute=True):
        tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    org = tenant.organization
    with organization_scope(org):
        order_services.store_sync(store=store)
        a, b, c = shippable(store, 3)
        own = WarehouseFactory(organization=org, name="Reno", kind=WarehouseKind.OWN)
        sun = WarehouseFactory(
            organization=org,
            name="Shenzhen Sun",
            kind=WarehouseKind.SUPPLIER,
            tracks_stock=False,
            contact_email="orders@sun.example",
        )
        mug = SkuFactory(organization=org, code="MUG-1")
        inventory.stock_receive(sku=mug, warehouse=own, quantity=10, actor=ACTOR, reference="PO-1")
        for order in (a, b):
            inventory.order_reserve(order_id=order.pk, demand={mug.pk: 2}, warehouse_ids=[own.pk], actor=ACTOR)
        Order.objects.filter(pk__in=[a.pk, b.pk]).update(warehouse=own)
        Order.objects.filter(pk=c.pk).update(warehouse=sun)
        batch = LabelBatchFactory(organization=org)
        purchases = {}
        for name, order in (("a", a), ("b", b), ("c", c)):
            purchase = label_purchase_request(order=order, batch=batch)
            assert label_purchase_execute(purchase_id=purchase.pk) == PurchaseOutcome.BOUGHT
            assert label_document_fetch(purchase_id=purchase.pk)
            purchases[name] = LabelPurchase.objects.get(pk=purchase.pk)
        handoffs.handoffs_for_batch(batch=batch)
    return {
        "store": store,
        "a": a,
        "b": b,
        "c": c,
        "own": own,
        "sun": sun,
        "mug": mug,
        "batch": batch,
        **{f"label_{k}": v for k, v in purchases.items()},
    }


def cancel_on_tiktok(tiktok: Any, order: Order, initiator: str = "SYSTEM") -> None:
    tiktok.control("POST", f"orders/{order.external_id}/events", type="cancel", initiator=initiator, reason="Late")


def test_a_platform_cancellation_stops_every_place_that_would_still_ship_the_order(
    world: dict[str, Any], tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a, b, c, batch = world["a"], world["b"], world["c"], world["batch"]
    client = tenant.client
    cancel_on_tiktok(tiktok, a)
    cancel_on_tiktok(tiktok, c, initiator="BUYER")
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)

    a.refresh_from_db()
    assert a.status == OrderStatus.CANCELLED
    world["label_a"].refresh_from_db()
    assert world["label_a"].order_cancelled_at is not None
    # The print queue: the batch page says it, and the own warehouse's printouts hold B alone.
    page = client.get(reverse("shipping_batch", args=[batch.pk])).content.decode()
    assert "Cancelled: do not ship" in page
    assert 'data-testid="cancelled-label"' in page
    with organization_scope(tenant.organization):
        groups = printing.batch_print_groups(batch)
    assert {g.name: g.labels for g in groups} == {"Reno": 1}  # C's handoff share is gone too
    pick = client.get(reverse("shipping_batch_pick_list", args=[batch.pk]), {"warehouse": str(world["own"].pk)})
    assert pick.status_code == 200
    pick_text = pdf_text(pick.content)
    assert "1 orders" in pick_text
    assert short(b) in pick_text  # the pick list prints order numbers by their last digits
    assert short(a) not in pick_text
    own_labels = client.get(reverse("shipping_batch_labels", args=[batch.pk]), {"warehouse": str(world["own"].pk)})
    stack = pdf_text(own_labels.content)
    assert world["label_b"].tracking_number in stack
    assert world["label_a"].tracking_number not in stack
    # The packing station refuses it, loudly.
    scan = client.post(reverse("shipping_scan"), {"code": world["label_a"].tracking_number}).content.decode()
    assert 'data-verdict="not_shippable"' in scan
    assert "Cancelled: do not ship" in scan
    # The supplier's handoff lost C, and the supplier was told.
    assert not HandoffItem.unscoped.filter(purchase=world["label_c"]).exists()
    [notice] = [m for m in mail.outbox if "orders@sun.example" in m.to]
    assert "Cancelled: do not ship" in notice.subject
    assert c.external_id in notice.subject
    assert world["label_c"].tracking_number in notice.body
    # Stock: A's two mugs are free again, B's stay reserved; the ledger equals the levels.
    assert not Reservation.unscoped.filter(order_id=a.pk).exists()
    level = StockLevel.unscoped.get(sku=world["mug"], warehouse=world["own"])
    assert (level.on_hand, level.reserved) == (10, 2)
    call_command("stock_check")
    # The order's page says a label was bought and the order cancelled; the audit log has it once per order.
    detail = client.get(reverse("orders_detail", args=[a.pk])).content.decode()
    assert "The label was bought for" in detail
    assert "Cancelled: do not ship" in detail
    audited = AuditEntry.unscoped.filter(action="label.order_cancelled")
    assert sorted(e.changes["order"] for e in audited) == sorted([a.external_id, c.external_id])


@pytest.mark.chaos
def test_a_replayed_cancellation_and_a_second_sync_change_nothing_more(
    world: dict[str, Any], tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a, c = world["a"], world["c"]
    tiktok.sandbox.faults.set_webhook_duplicates(4)
    cancel_on_tiktok(tiktok, a)
    cancel_on_tiktok(tiktok, c)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    stopped_at = LabelPurchase.unscoped.get(pk=world["label_a"].pk).order_cancelled_at
    mails, audits, moves = len(mail.outbox), AuditEntry.unscoped.count(), StockMovement.unscoped.count()
    assert AuditEntry.unscoped.filter(action="label.order_cancelled").count() == 2
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        order_services.store_sync(store=world["store"])  # the poller sees the same cancellations
        order_services.orders_fetch(store=world["store"], order_ids=[a.external_id, c.external_id])
        assert labels_order_cancelled(order_ids=[a.pk, c.pk]) == []  # called again: nothing left to stop
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    assert LabelPurchase.unscoped.get(pk=world["label_a"].pk).order_cancelled_at == stopped_at
    assert (len(mail.outbox), AuditEntry.unscoped.count(), StockMovement.unscoped.count()) == (mails, audits, moves)
    call_command("stock_check")


def test_a_batch_printed_before_the_cancellation_says_which_label_to_pull(
    world: dict[str, Any], tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    batch, a = world["batch"], world["a"]
    first = tenant.client.get(reverse("shipping_batch_pick_list", args=[batch.pk]), {"warehouse": str(world["own"].pk)})
    assert short(a) in pdf_text(first.content)  # printed while it was still to ship
    cancel_on_tiktok(tiktok, a, initiator="SELLER")
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    page = tenant.client.get(reverse("shipping_batch", args=[batch.pk])).content.decode()
    assert "printed before it was cancelled: take it out of the stack" in page
    again = tenant.client.get(reverse("shipping_batch_pick_list", args=[batch.pk]), {"warehouse": str(world["own"].pk)})
    assert short(a) not in pdf_text(again.content)  # regenerated without it
    assert short(world["b"]) in pdf_text(again.content)


def test_another_organization_sees_nothing_of_the_cancelled_label(
    world: dict[str, Any], tenant: Any, make_tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    cancel_on_tiktok(tiktok, world["a"])
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    other = make_tenant("Other Co")
    scan = other.client.post(reverse("shipping_scan"), {"code": world["label_a"].tracking_number}).content.decode()
    assert 'data-verdict="unknown"' in scan
    assert world["a"].external_id not in scan
    assert other.client.get(reverse("shipping_batch", args=[world["batch"].pk])).status_code == 404
