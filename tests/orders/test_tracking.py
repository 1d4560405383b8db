"""Tracking back: carrier events of parcels on their way land on the order, once each."""

from __future__ import annotations

from typing import Any

import pytest

from erp.tenancy import organization_scope
from integrations.models import Store
from orders.models import Order, OrderStatus, TrackingEvent
from orders.services import store_sync
from orders.tracking import store_tracking_refresh
from shipping.labels.purchase import PurchaseOutcome, label_purchase_execute, label_purchase_request

pytestmark = pytest.mark.django_db


def test_carrier_events_reach_the_order_once(tenant: Any, tiktok: Any, connected_store: Store) -> None:
    store = connected_store
    with organization_scope(tenant.organization):
        order = (
            Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="platform")
            .exclude(fulfilled_by="platform")
            .exclude(holds__reason__in=["address_invalid", "cancel_requested"])
            .first()
        )
        purchase = label_purchase_request(order=order)
        assert label_purchase_execute(purchase_id=purchase.pk) == PurchaseOutcome.BOUGHT
        tiktok.control("POST", "clock", advance=13 * 3600)  # the carrier collects the parcel
        store_sync(store=store)
        order.refresh_from_db()
        assert order.status == OrderStatus.IN_TRANSIT
        first = store_tracking_refresh(store=store)
        again = store_tracking_refresh(store=store)
    assert first.new_events >= 1
    assert again.new_events == 0
    assert TrackingEvent.unscoped.filter(order=order).exists()
    page = tenant.client.get(f"/orders/{order.pk}/").content.decode()
    described = TrackingEvent.unscoped.filter(order=order).first().description
    assert described in page  # the timeline shows what the carrier said
