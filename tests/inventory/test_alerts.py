"""Low-stock alerts: mailed once per SKU when it falls to its threshold, closed when it recovers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from erp.actors import Actor
from erp.tenancy import organization_scope
from inventory import services
from inventory.alerts import low_stock_alerts_update
from inventory.models import LowStockAlert
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def test_an_alert_is_mailed_once_and_closed_when_stock_recovers(
    tenant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with organization_scope(tenant.organization):
        warehouse = WarehouseFactory(organization=tenant.organization)
        sku = SkuFactory(organization=tenant.organization, code="CANDLE-VAN", low_stock_threshold=5)
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=3, actor=ACTOR)
        with django_capture_on_commit_callbacks(execute=True):
            first = low_stock_alerts_update()
            second = low_stock_alerts_update()
        assert (first.opened, second.opened) == (1, 0)
        assert len(mail.outbox) == 1
        assert "CANDLE-VAN" in mail.outbox[0].body
        assert mail.outbox[0].to == [tenant.owner.email]
        assert "Low stock</div>" in tenant.client.get("/").content.decode()

        services.stock_receive(sku=sku, warehouse=warehouse, quantity=20, actor=ACTOR)
        with django_capture_on_commit_callbacks(execute=True):
            recovered = low_stock_alerts_update()
        assert recovered.closed == 1
        assert not LowStockAlert.objects.filter(closed_at=None).exists()

        services.stock_adjust(sku=sku, warehouse=warehouse, delta=-21, actor=ACTOR, reason="damaged in a flood")
        with django_capture_on_commit_callbacks(execute=True):
            low_stock_alerts_update()
        assert len(mail.outbox) == 2  # it fell again: a new alert


def test_skus_without_a_threshold_never_alert(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        SkuFactory(organization=tenant.organization, low_stock_threshold=0)
        assert low_stock_alerts_update().opened == 0
