"""Manual orders (partners, people): validated, then imported through the same path as platform orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.interface import Address
from inventory.models import Reservation
from orders.models import HoldReason, Order, OrderHold, OrderLine, OrderStatus
from orders.services import ManualLine, ManualOrderInput, order_create_manual
from tests.factories import SkuFactory, StockLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

GOOD = Address(
    name="Ada Park", line1="500 Main St", city="Austin", state="Texas", postal_code="78701", region_code="US"
)


def create(tenant: Any, **changes: Any) -> Order:
    data = ManualOrderInput(
        reference=changes.pop("reference", "WMS-1001"),
        recipient=changes.pop("recipient", GOOD),
        lines=changes.pop("lines", (ManualLine("RED-TEE-L", 2, "Crew tee", Decimal("12.50")), ManualLine("CAP-1", 1))),
        **changes,
    )
    with organization_scope(tenant.organization):
        return order_create_manual(actor=Actor.system(), data=data)


def test_a_manual_order_is_stored_like_a_platform_order_and_reserves_stock(tenant: Any) -> None:
    warehouse = WarehouseFactory(organization=tenant.organization)
    for code in ("RED-TEE-L", "CAP-1"):
        StockLevelFactory(
            organization=tenant.organization,
            warehouse=warehouse,
            on_hand=5,
            sku=SkuFactory(organization=tenant.organization, code=code),
        )
    order = create(tenant)
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    assert order.store.platform == "manual"
    assert order.unit_count == 3
    assert order.sku_summary == "2 × RED-TEE-L, 1 × CAP-1"
    assert order.subtotal == Decimal("25.00")
    lines = OrderLine.unscoped.filter(order=order).order_by("external_id")
    assert [(line.seller_sku, line.quantity, line.platform_line_ids) for line in lines] == [
        ("RED-TEE-L", 2, [f"{order.external_id}-1", f"{order.external_id}-2"]),
        ("CAP-1", 1, [f"{order.external_id}-3"]),
    ]
    assert not order.is_held
    reserved = dict(Reservation.unscoped.filter(order_id=order.pk).values_list("sku__code", "quantity"))
    assert reserved == {"RED-TEE-L": 2, "CAP-1": 1}


def test_a_manual_order_for_unknown_skus_is_held_with_the_fix(tenant: Any) -> None:
    order = create(tenant)
    assert order.is_held
    hold = OrderHold.unscoped.get(order=order, released_at=None)
    assert hold.reason == HoldReason.UNMAPPED_SKU
    assert "CAP-1" in hold.detail
    assert "Inventory" in hold.fix


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reference": " "}, "reference"),
        ({"lines": ()}, "lines"),
        ({"lines": (ManualLine("", 1),)}, "lines"),
        ({"lines": (ManualLine("A", 0),)}, "lines"),
        (
            {
                "recipient": Address(
                    name="Ada", line1="1 Main St", city="Austin", state="TX", postal_code="7870", region_code="US"
                )
            },
            "recipient",
        ),
        (
            {"recipient": Address(line1="1 Main St", city="Austin", state="TX", postal_code="78701", region_code="US")},
            "recipient",
        ),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(tenant: Any, changes: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        create(tenant, **changes)
    assert field in error.value.message_dict
    assert Order.unscoped.count() == 0


def test_the_same_reference_twice_is_refused(tenant: Any) -> None:
    create(tenant)
    with pytest.raises(ValidationError, match="already exists"):
        create(tenant)
    assert Order.unscoped.count() == 1
