"""erp.db.upsert passes some values to the driver without asking their field: that shortcut must give exactly what
the field would have given, and what upsert returns must be what a queryset returns. On PostgreSQL the rows travel
as JSON records: they must store exactly what the VALUES list stores."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection

import erp.db
from erp.db import _as_json_records, _ready_types, from_rows, insert, upsert
from erp.tenancy import organization_scope
from integrations.models import SellerAuthorization
from orders.models import Order, OrderLine, OrderStatusChange
from tests.factories import OrderFactory

SAMPLES = {
    str: "Reno Main",
    bool: True,
    int: 7,
    Decimal: Decimal("12.50"),
    datetime: datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    date: date(2026, 3, 2),
    uuid.UUID: uuid.UUID("0190a7f2-1111-7000-8000-000000000001"),
    list: ["a", {"b": [1, 2.5, None, True]}],
    dict: {"k": ["x'y", "\\z"], "n": 3},
}
JSON_KINDS = (list, dict)


@pytest.mark.django_db
def test_the_values_passed_through_are_what_each_field_would_prepare():
    checked = 0
    for model in apps.get_models():
        for field, ready in zip(model._meta.concrete_fields, _ready_types(model), strict=True):
            for kind in ready or ():
                value = SAMPLES[kind]
                prepared = field.get_db_prep_save(value, connection)
                if kind in JSON_KINDS:  # a JSON column in JSON records: the value its field would write
                    assert json.loads(prepared.dumps(prepared.adapted)) == value, (model.__name__, field.name)
                    checked += 1
                    continue
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


@pytest.mark.django_db
def test_instances_from_rows_are_what_a_queryset_builds(tenant):
    """`from_rows` turns a raw cursor's rows into the instances a queryset gives: every field's value and type (a
    UUID and an aware datetime on SQLite too, where the driver returns text), saved state and database."""
    with organization_scope(tenant.organization):
        order = OrderFactory(organization=tenant.organization)
        fields = Order._meta.concrete_fields
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {Order._meta.db_table} WHERE id = %s", [order.pk.hex])  # noqa: S608
            (built,) = from_rows(Order, cursor.fetchall())
        expected = Order.objects.get(pk=order.pk)
    assert type(built) is Order
    assert (built._state.adding, built._state.db) == (expected._state.adding, expected._state.db) == (False, "default")
    for field in fields:
        mine, theirs = getattr(built, field.attname), getattr(expected, field.attname)
        assert (mine, type(mine)) == (theirs, type(theirs)), field.name
    assert built.placed_at.tzinfo is not None


TRICKY_TEXT = 'O\'Brien \\ "quoted" \t tab\nline – é ß 中文 🎁 \u202eRTL'


@pytest.mark.postgres
@pytest.mark.django_db
def test_json_records_store_what_the_values_list_stores(tenant, monkeypatch):
    """The same rows, inserted once as JSON records and once as a VALUES list, read back the same in every column:
    text with quotes, backslashes, control characters and characters beyond the BMP, decimals, datetimes in another
    offset with microseconds, nested JSON."""
    assert _as_json_records(Order)
    assert _as_json_records(OrderLine)
    with organization_scope(tenant.organization):
        store = OrderFactory(organization=tenant.organization).store
        moment = datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
        row = {
            "organization_id": tenant.organization.pk,
            "store_id": store.pk,
            "status": "AWAITING_SHIPMENT",
            "recipient_name": TRICKY_TEXT,
            "address_line1": "",
            "buyer_message": TRICKY_TEXT * 3,
            "total": Decimal("1234567.89"),
            "shipping_fee": Decimal("0.10"),
            "placed_at": moment,
            "platform_updated_at": moment,
            "updated_at": moment,  # its default is now: the two inserts would differ by their microseconds
            "has_address": True,
            "address_masked": False,
            "line_count": 2,
            "tags": [{"a": TRICKY_TEXT}, 1, 2.5, True, None, []],
        }
        upsert_kwargs = {"conflict_fields": ["store", "external_id"], "update_fields": ["status"]}
        ((as_records,),) = upsert(Order, [{**row, "external_id": "json"}], **upsert_kwargs)
        monkeypatch.setattr(erp.db, "_as_json_records", lambda model: False)
        monkeypatch.setattr(erp.db, "_ready_types_cache", {})
        ((as_values,),) = upsert(Order, [{**row, "external_id": "values"}], **upsert_kwargs)
        records, values = (Order.objects.values().get(pk=pk) for pk in (as_records, as_values))
    differ = {
        name: (records[name], values[name])
        for name in records
        if name not in ("id", "external_id", "imported_at") and records[name] != values[name]
    }
    assert differ == {}
    assert records["recipient_name"] == TRICKY_TEXT
    assert records["tags"] == row["tags"]
    assert records["placed_at"] == moment
    assert records["total"] == Decimal("1234567.89")


def test_a_model_with_a_field_json_cannot_carry_keeps_the_values_list(db):
    """An encrypted column prepares its own value (ciphertext): JSON records would bypass it, so its model's rows
    are always sent as a VALUES list, adapted by psycopg2 from what the field prepares."""
    assert not _as_json_records(SellerAuthorization)
