"""Each domain action publishes its event once, with the object's API representation, inside its transaction; and
nothing at all when no endpoint subscribes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.interface import FulfilledBy, LabelSource, OrderStatus, PlatformOrder
from integrations.models import AuthorizationStatus, StoreStatus
from integrations.services import authorization_mark
from inventory.alerts import low_stock_alerts_update
from inventory.services import stock_adjust, stock_receive
from orders.services import orders_upsert
from shipping.handoffs import handoff_acknowledge, handoff_hand_over
from shipping.labels.batches import batch_completed_publish
from tests.factories import (
    HandoffFactory,
    HandoffItemFactory,
    LabelBatchFactory,
    SellerAuthorizationFactory,
    SkuFactory,
    StoreFactory,
    WarehouseFactory,
)
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
ACTOR = Actor.system("test")


@pytest.fixture
def org(tenant: Any) -> Iterator[Any]:
    with organization_scope(tenant.organization):
        services.endpoint_create(
            organization=tenant.organization, actor=ACTOR, url="https://hooks.example.com/all", events=["*"]
        )
        yield tenant.organization


def events(type_: str) -> list[WebhookEvent]:
    return list(WebhookEvent.objects.filter(type=type_).order_by("id"))


def platform_order(order_id: str, *, minute: int, status: str = OrderStatus.AWAITING_SHIPMENT) -> PlatformOrder:
    moment = datetime(2026, 12, 1, 9, minute, tzinfo=UTC)
    return PlatformOrder(
        platform="tiktok",
        order_id=order_id,
        status=status,
        label_source=LabelSource.PLATFORM,
        fulfilled_by=FulfilledBy.SELLER,
        lines=(),
        address=None,
        created_at=moment,
        updated_at=moment,
    )


def test_an_import_publishes_order_imported_then_a_change_order_updated(org: Any) -> None:
    store = StoreFactory(organization=org)
    orders_upsert(store=store, orders=[platform_order("A1", minute=1), platform_order("A2", minute=1)])
    imported = events("order.imported")
    assert len(imported) == 2
    assert {e.data["external_id"] for e in imported} == {"A1", "A2"}
    assert events("order.updated") == []
    orders_upsert(store=store, orders=[platform_order("A1", minute=1)])  # unchanged: nothing
    assert len(events("order.imported")) == 2
    assert events("order.updated") == []
    orders_upsert(store=store, orders=[platform_order("A1", minute=5, status=OrderStatus.CANCELLED)])
    (updated,) = events("order.updated")
    assert updated.object_id == next(e.object_id for e in imported if e.data["external_id"] == "A1")
    assert updated.data["status"] == OrderStatus.CANCELLED
    assert WebhookDelivery.objects.filter(event=updated).count() == 1


def test_a_held_import_publishes_order_held_after_order_imported(org: Any) -> None:
    store = StoreFactory(organization=org)
    orders_upsert(store=store, orders=[platform_order("H1", minute=1)])  # no address released yet: held for it
    (imported,) = events("order.imported")
    (held,) = events("order.held")
    assert held.object_id == imported.object_id
    assert held.pk > imported.pk  # the receiver hears of the order before its hold
    assert held.data["external_id"] == "H1"
    orders_upsert(store=store, orders=[platform_order("H1", minute=1)])  # the same copy again: no new hold
    assert len(events("order.held")) == 1


def test_nothing_is_built_or_written_without_a_subscriber(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        store = StoreFactory(organization=tenant.organization)
        orders_upsert(store=store, orders=[platform_order(f"N{n}", minute=1) for n in range(20)])
        assert not WebhookEvent.objects.exists()


def test_stock_changes_publish_stock_changed_once_per_movement(org: Any) -> None:
    sku, warehouse = SkuFactory(organization=org), WarehouseFactory(organization=org)
    stock_receive(sku=sku, warehouse=warehouse, quantity=5, actor=ACTOR)
    stock_adjust(sku=sku, warehouse=warehouse, delta=-2, actor=ACTOR, reason="damaged")
    changed = events("stock.changed")
    assert [(e.object_type, e.object_id) for e in changed] == [("sku", str(sku.pk))] * 2
    assert [e.data["on_hand_delta"] for e in changed] == [5, -2]
    assert changed[0].data["sku"]["code"] == sku.code


def test_a_sku_falling_low_publishes_stock_low_once(org: Any) -> None:
    sku = SkuFactory(organization=org, low_stock_threshold=3)
    stock_receive(sku=sku, warehouse=WarehouseFactory(organization=org), quantity=2, actor=ACTOR)
    low_stock_alerts_update()
    low_stock_alerts_update()  # still low: announced once
    (low,) = events("stock.low")
    assert low.object_id == str(sku.pk)
    assert low.data["code"] == sku.code


def test_handoff_acknowledged_and_handed_over_are_published_once(org: Any) -> None:
    item = HandoffItemFactory(organization=org, handoff=HandoffFactory(organization=org))
    handoff = item.handoff
    assert handoff_acknowledge(handoff=handoff, actor=ACTOR)
    assert not handoff_acknowledge(handoff=handoff, actor=ACTOR)
    assert handoff_hand_over(handoff=handoff, actor=ACTOR) == 1
    assert handoff_hand_over(handoff=handoff, actor=ACTOR) == 0
    (acknowledged,) = events("handoff.acknowledged")
    (handed,) = events("handoff.handed_over")
    assert acknowledged.data["acknowledged_at"] is not None
    assert (handed.data["parcels"], handed.data["handed_over"]) == (1, 1)


def test_a_store_needing_attention_is_published_once(org: Any) -> None:
    authorization = SellerAuthorizationFactory(organization=org)
    store = StoreFactory(organization=org, authorization=authorization)
    authorization_mark(authorization=authorization, status=AuthorizationStatus.FAILED, detail="refresh token expired")
    authorization_mark(authorization=authorization, status=AuthorizationStatus.FAILED, detail="refresh token expired")
    (event,) = events("store.needs_attention")
    assert event.object_id == str(store.pk)
    assert event.data["status"] == StoreStatus.NEEDS_ATTENTION
    assert "expired" in event.data["reason"]


def test_a_settled_batch_publishes_batch_completed(org: Any) -> None:
    batch = LabelBatchFactory(organization=org)
    batch_completed_publish(batch_id=batch.pk)
    (event,) = events("batch.completed")
    assert event.data["reference"] == batch.reference


def test_an_import_without_subscribers_asks_once_and_writes_no_event(tenant: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with organization_scope(tenant.organization):
        store = StoreFactory(organization=tenant.organization)
        with CaptureQueriesContext(connection) as queries:
            orders_upsert(store=store, orders=[platform_order(f"Q{n}", minute=1) for n in range(50)])
    endpoint_reads = [q["sql"] for q in queries.captured_queries if "webhooks_webhookendpoint" in q["sql"]]
    assert len(endpoint_reads) == 1
    assert not [q for q in queries.captured_queries if "webhooks_webhookevent" in q["sql"]]
