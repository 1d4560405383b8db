"""Inventory's hot statements, in SQL: lock stock levels, change them, append ledger entries and reservations, and
mark listings for the stock push.

`inventory.services` decides what changes (`_apply`, `orders_reserve`, `_settle`) and `inventory.push` what to push;
this module only sends the few statements that carry it out. They run on every reservation, which is a handful of
tiny statements, and Django's query building cost five to seven times the Python CPU of sending them
(docs/adr/0029): the reservation path was CPU-bound in Python. The SQL is the same on PostgreSQL and SQLite (the
quick start); ids and datetimes are adapted by Django's own field methods.

Tenancy: every statement names the organization in scope (the application wall; the rows it writes carry it), and
on PostgreSQL row-level security still applies, as to any statement on the connection (docs/adr/0023).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection, models

from erp.db import from_rows, insert_statement, table_and_columns
from erp.tenancy import current_organization
from inventory.models import BundleComponent, Listing, Reservation, StockLevel, StockMovement, Warehouse

_UUID = models.UUIDField()


def _db(value: object) -> object:
    """A UUID (or its text) as this database stores it: the UUID where the database has the type, else its hex.
    What `UUIDField.get_db_prep_value` gives, without asking the connection for every id of every reservation."""
    uuid = value if type(value) is UUID or value is None else _UUID.to_python(value)
    return uuid if uuid is None or _stores_uuids() else uuid.hex


@functools.cache
def _stores_uuids() -> bool:
    return bool(connection.features.has_native_uuid_field)  # the process's one database: it does not change


def _uuid(value: object) -> UUID:
    """A UUID column as read: PostgreSQL returns UUIDs, SQLite their hex."""
    return value if isinstance(value, UUID) else UUID(str(value))


def _marks(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _table(model: type[models.Model]) -> str:
    return table_and_columns(model)[0]


def _organization() -> object:
    return _db(current_organization().pk)


def levels_for_update(*, sku_ids: Iterable[UUID], warehouse_ids: Iterable[UUID]) -> list[StockLevel]:
    """The existing stock rows of these SKUs at these warehouses, locked (SELECT … FOR UPDATE) in (sku, warehouse)
    order: the fixed order every writer takes them in, so two writers queue instead of deadlocking. One statement."""
    skus = [_db(s) for s in sorted(set(sku_ids), key=str)]
    warehouses = [_db(w) for w in sorted(set(warehouse_ids), key=str)]
    if not skus or not warehouses:
        return []
    table, columns = table_and_columns(StockLevel)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {columns} FROM {table} WHERE organization_id = %s AND sku_id IN ({_marks(skus)}) "  # noqa: S608
        f"AND warehouse_id IN ({_marks(warehouses)}) ORDER BY sku_id, warehouse_id{lock}"
    )
    # Built from the rows as a queryset would build them, without compiling one (a RawQuerySet resolved its columns
    # and converters on every call: a tenth of a reservation's Python, docs/adr/0029).
    return from_rows(StockLevel, _rows(sql, [_organization(), *skus, *warehouses]))


Statement = tuple[str, list[Any]]


def stock_write(
    *,
    levels: Sequence[tuple[UUID, int, int]],
    movements: Sequence[Mapping[str, object]],
    reservations: Sequence[Mapping[str, object]] = (),
    now: datetime,
) -> None:
    """Add (on hand, reserved) deltas to locked stock rows by id, append their ledger entries and any reservations:
    one UPDATE and one INSERT per table, sent in one round trip on PostgreSQL (one after the other on SQLite, whose
    driver takes one statement per call). The check constraints (on_hand ≥ 0, 0 ≤ reserved ≤ on_hand) judge the
    UPDATE, whatever the caller computed; a statement that fails fails the transaction, as it would alone."""
    sent = [
        statement
        for statement in (
            _levels_change(levels, now=now),
            _insert(StockMovement, movements),
            _insert(Reservation, reservations),
        )
        if statement is not None
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(sent) > 1:
            # psycopg2 fills the parameters in on this side and sends one query string: one round trip, not three
            # (a reservation's writes were half of its statements' wall time, docs/adr/0029).
            cursor.execute("; ".join(sql for sql, _ in sent), [param for _, params in sent for param in params])
        else:
            for sql, params in sent:
                cursor.execute(sql, params)


def _levels_change(changes: Sequence[tuple[UUID, int, int]], *, now: datetime) -> Statement | None:
    if not changes:
        return None
    ids = [_db(level_id) for level_id, _, _ in changes]
    on_hand_case = " ".join("WHEN %s THEN %s" for _ in changes)
    reserved_case = on_hand_case
    params: list[Any] = []
    for level_id, (_, on_hand, _) in zip(ids, changes, strict=True):
        params += [level_id, on_hand]
    for level_id, (_, _, reserved) in zip(ids, changes, strict=True):
        params += [level_id, reserved]
    at = connection.ops.adapt_datetimefield_value(now)
    params += [at, at, _organization(), *ids]
    # `unpushed_since` keeps the oldest change the stock push has not been told of: it travels with the change
    # itself, so a committed change always reaches the push (`levels_unpushed_take`, docs/adr/0040).
    return (
        f"UPDATE {_table(StockLevel)} SET on_hand = on_hand + (CASE id {on_hand_case} ELSE 0 END), "  # noqa: S608
        f"reserved = reserved + (CASE id {reserved_case} ELSE 0 END), updated_at = %s, "
        f"unpushed_since = COALESCE(unpushed_since, %s) WHERE organization_id = %s AND id IN ({_marks(ids)})",
        params,
    )


def _insert(model: type[models.Model], rows: Sequence[Mapping[str, object]]) -> Statement | None:
    """One multi-row INSERT of `rows` (field name → Python value), each row in the organization in scope."""
    if not rows:
        return None
    organization_id = current_organization().pk
    return insert_statement(model, [{"organization_id": organization_id, **row} for row in rows])


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class Prelude:
    """What a reservation reads before it locks anything."""

    reserved_at: dict[UUID, UUID]  # order id → the warehouse where it holds reservations (orders that hold any)
    components: list[tuple[UUID, UUID, int]]  # (bundle id, component id, units per bundle), by bundle and component
    tracking: dict[UUID, bool]  # warehouse id → whether it tracks stock (False: a supplier that makes to order)


def reservation_prelude(
    *, order_ids: Sequence[UUID], sku_ids: Sequence[UUID], warehouse_ids: Sequence[UUID]
) -> Prelude:
    """The orders' reservations, the bundles among the SKUs and the warehouses' kind: one statement (three SELECTs
    joined by UNION ALL, each row tagged with the question it answers)."""
    parts: list[str] = []
    params: list[Any] = []
    organization = _organization()
    for tag, columns, model, key, ids in (
        ("r", "order_id, warehouse_id, 0", Reservation, "order_id", order_ids),
        ("b", "bundle_id, component_id, quantity", BundleComponent, "bundle_id", sku_ids),
        ("w", "id, NULL, CASE WHEN tracks_stock THEN 1 ELSE 0 END", Warehouse, "id", warehouse_ids),
    ):
        if ids:
            values = [_db(pk) for pk in ids]
            parts.append(
                f"SELECT '{tag}', {columns} FROM {_table(model)} "  # noqa: S608
                f"WHERE organization_id = %s AND {key} IN ({_marks(values)})"
            )
            params += [organization, *values]
    prelude = Prelude(reserved_at={}, components=[], tracking={})
    if not parts:
        return prelude
    for answer, pk, other, number in _rows(" UNION ALL ".join(parts), params):
        if answer == "r":
            prelude.reserved_at[_uuid(pk)] = _uuid(other)
        elif answer == "b":
            prelude.components.append((_uuid(pk), _uuid(other), int(number)))  # type: ignore[call-overload]
        else:
            prelude.tracking[_uuid(pk)] = bool(number)
    prelude.components.sort(key=lambda row: (str(row[0]), str(row[1])))
    return prelude


def bundle_components(bundle_ids: Sequence[UUID]) -> list[tuple[UUID, UUID, int]]:
    """(bundle id, component id, units per bundle) for those of these SKUs that are bundles: one statement."""
    return reservation_prelude(order_ids=[], sku_ids=bundle_ids, warehouse_ids=[]).components


def warehouses_tracking(warehouse_ids: Sequence[UUID]) -> dict[UUID, bool]:
    """warehouse id → whether it tracks stock (False: a supplier that makes to order): one statement."""
    return reservation_prelude(order_ids=[], sku_ids=[], warehouse_ids=warehouse_ids).tracking


def levels_unpushed_take(*, limit: int) -> list[tuple[UUID, UUID, datetime]]:
    """(organization id, SKU id, oldest change not yet told to the push) of up to `limit` stock rows of every
    organization whose quantities changed since they were last taken, their `unpushed_since` cleared by the same
    statement. Callers run it in `cross_tenant()` and in the transaction that marks the SKUs' listings, so the
    clearing and the marks commit together.

    On PostgreSQL a row another transaction holds locked is skipped (SKIP LOCKED) and taken next time: waiting for
    it would queue the sweep behind a reservation, and, since reservations lock their rows in (sku, warehouse)
    order and this reads them in another, could deadlock with one."""
    table = _table(StockLevel)
    if connection.vendor == "postgresql":
        sql = (
            f"WITH due AS (SELECT id, unpushed_since FROM {table} WHERE unpushed_since IS NOT NULL "  # noqa: S608
            "ORDER BY organization_id, id LIMIT %s FOR UPDATE SKIP LOCKED) "
            f"UPDATE {table} AS level SET unpushed_since = NULL FROM due WHERE level.id = due.id "
            "RETURNING level.organization_id, level.sku_id, due.unpushed_since"
        )
        return [(_uuid(o), _uuid(s), since) for o, s, since in _rows(sql, [limit])]  # type: ignore[misc]
    # SQLite: read, then clear what was read. A change in between keeps its row's time (COALESCE) and is still
    # told: the marks that follow read no stock, the push after them does.
    taken = list(
        StockLevel.unscoped.filter(unpushed_since__isnull=False)
        .order_by("organization_id", "id")
        .values_list("id", "organization_id", "sku_id", "unpushed_since")[:limit]
    )
    StockLevel.unscoped.filter(pk__in=[pk for pk, *_ in taken]).update(unpushed_since=None)
    return [(organization_id, sku_id, since) for _, organization_id, sku_id, since in taken if since is not None]


def listings_mark(
    *, sku_ids: Sequence[object], listing_ids: Sequence[object], now: datetime, stale_before: datetime
) -> int:
    """Set `push_requested_at = now` on these listings and on every listing of these SKUs or of kits made of them,
    unless their marker is newer than `stale_before`: one UPDATE. Returns how many were marked."""
    listings = [_db(pk) for pk in listing_ids]
    skus = [_db(sku_id) for sku_id in sku_ids]
    if not listings and not skus:
        return 0
    organization = _organization()
    kits = f"SELECT bundle_id FROM {_table(BundleComponent)} WHERE organization_id = %s AND component_id"  # noqa: S608
    params: list[Any] = [connection.ops.adapt_datetimefield_value(now), organization]
    wanted: list[str] = []
    if connection.vendor == "postgresql":
        # The wanted ids as arrays: `sku_id = ANY(array)` is an index condition on (organization, sku), probed per
        # SKU whatever the planner believes about the table. `sku_id IN (…) OR sku_id IN (SELECT …)` read every
        # listing of the organization on every reservation (7.5 ms at 40,000 listings), and `IN (SELECT …)` alone
        # still did while the table had no statistics (docs/adr/0036). Callers mark listings or SKUs, not both.
        if listings:
            wanted.append("id = ANY(%s::uuid[])")
            params.append(listings)
        if skus:
            wanted.append(f"sku_id = ANY(%s::uuid[] || ARRAY({kits} = ANY(%s::uuid[])))")
            params += [skus, organization, skus]
    else:
        if listings:
            wanted.append(f"id IN ({_marks(listings)})")
            params += listings
        if skus:
            wanted.append(f"sku_id IN ({kits} IN ({_marks(skus)}) UNION ALL VALUES {', '.join(['(%s)'] * len(skus))})")
            params += [organization, *skus, *skus]
    params.append(connection.ops.adapt_datetimefield_value(stale_before))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(Listing)} SET push_requested_at = %s WHERE organization_id = %s "  # noqa: S608
            f"AND ({' OR '.join(wanted)}) AND (push_requested_at IS NULL OR push_requested_at < %s)",
            params,
        )
        return cursor.rowcount
