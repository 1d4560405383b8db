"""erp.db.upsert passes some values to the driver without asking their field: that shortcut must give exactly what
the field would have given, and what upsert returns must be what a queryset returns."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection

from erp.db import _ready_types, insert, upsert
from erp.tenancy import organization_scope
from orders.models import Order, OrderStatusChange
from tests.factories import OrderFactory

SAMPLES = {
    str: "Reno Main",
    bool: True,
    int: 7,
    Decimal: Decimal("12.50"),
    datetime: datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    date: date(2026, 3, 2),
    uuid.UUID: uuid.UUID("0190a7f2-1111-7000-8000-000000000001"),
}


@pytest.mark.django_db
def test_the_values_passed_through_are_what_each_field_would_prepare():
    checked = 0
    for model in apps.get_models():
        for field, ready in zip(model._meta.concrete_fields, _ready_types(model), strict=True):
            for kind in ready or ():
                value = SAMPLES[kind]
                prepared = field.get_db_prep_save(value, connection)
                assert prepared == value, (model.__name__, field.name, kind)
                assert type(prepared) is type(value), (model.__name__, field.name, kind)
                checked += 1
    if connection.vendor == "postgresql":
        assert checked > 100  # every model's plain columns: the shortcut is in use
    else:
        assert checked == 0  # other backends convert more: every value is asked


@pytest.mark.django_db
def test_upsert_returns_the_types_a_queryset_returns(tenant):
    with organization_scope(tenant.organization):
        _upsert_one_and_compare(OrderFactory(organization=tenant.organization))


def _upsert_one_and_compare(order: Order) -> None:
    row = {
        name: getattr(order, name)
        for name in ("organization_id", "store_id", "external_id", "status", "platform_updated_at", "imported_at")
    }
    row["platform_updated_at"] = datetime(2030, 1, 1, tzinfo=UTC)  # newer: the row is updated and returned
    (returned,) = upsert(
        Order,
        [row],
        conflict_fields=["store", "external_id"],
        update_fields=["platform_updated_at"],
        newer_than="platform_updated_at",
        returning=("id", "imported_at", "platform_updated_at"),
    )
    expected = Order.objects.values_list("id", "imported_at", "platform_updated_at").get(pk=order.pk)
    assert returned == expected
    assert [type(value) for value in returned] == [type(value) for value in expected]
    assert returned[1].tzinfo is not None


@pytest.mark.django_db
def test_insert_writes_what_bulk_create_writes(tenant):
    """`insert` of field-name dicts and `bulk_create` of instances leave the same rows: given values as they were,
    each missing field its default (a new UUIDv7 key, `recorded_at` now)."""
    with organization_scope(tenant.organization):
        order = OrderFactory(organization=tenant.organization)
        changed_at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        given = {"order_id": order.pk, "from_status": "", "to_status": "AWAITING_SHIPMENT", "changed_at": changed_at}
        before = datetime.now(UTC)
        insert(OrderStatusChange, [{"organization_id": tenant.organization.pk, **given, "from_status": "UNPAID"}])
        OrderStatusChange.objects.bulk_create([OrderStatusChange(organization=tenant.organization, **given)])
        inserted, created = OrderStatusChange.objects.filter(order=order).order_by("-from_status")
    assert (inserted.from_status, inserted.to_status) == ("UNPAID", "AWAITING_SHIPMENT")
    assert inserted.changed_at == created.changed_at == changed_at
    assert inserted.organization_id == created.organization_id == tenant.organization.pk
    assert inserted.pk.version == created.pk.version == 7
    assert inserted.pk != created.pk
    assert before <= inserted.recorded_at <= created.recorded_at
