"""Bulk upsert with a version guard — the one statement Django's bulk_create cannot express — and a plain bulk insert.

    INSERT INTO t (...) VALUES (...), (...)
    ON CONFLICT (store_id, external_id) DO UPDATE SET col = excluded.col, ...
    WHERE t.platform_updated_at < excluded.platform_updated_at
    RETURNING id, external_id

`bulk_create(update_conflicts=True)` has no WHERE, so two workers racing on the same new row could let an older
payload overwrite a newer one. PostgreSQL and SQLite (3.35+) both accept this statement as written. `insert` is the
same statement without the conflict clause.

On PostgreSQL the rows travel as one JSON parameter instead of a VALUES list:

    INSERT INTO t (...) SELECT ... FROM json_populate_recordset(NULL::t, %s::json) ON CONFLICT ...

A page of 100 orders is 6,300 values: psycopg2 quoted each one into the query string, and PostgreSQL parsed and
coerced 6,300 literals. Encoded by msgspec in one call and read by the server in one function, the same page costs
the importing process a twentieth of the CPU and the server a third of the time (docs/adr/0038).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Col
from psycopg2.extras import Json


def upsert(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict_fields: Sequence[str],
    update_fields: Iterable[str],
    newer_than: str | None = None,
    same_version_too: bool = False,
    returning: Sequence[str] = ("id",),
) -> list[tuple[Any, ...]]:
    """Insert `rows` (dicts of field name → Python value; missing fields take their defaults) or update the
    existing rows on `conflict_fields`. With `newer_than`, a row is only updated when the incoming value of that
    field is strictly greater (or equal too, with `same_version_too`: the caller knows the row changed within the
    version's resolution, e.g. a platform's update time in whole seconds). Returns `returning` for every row
    inserted or updated (skipped rows are absent)."""
    if not rows:
        return []
    meta = model._meta
    by_name = {f.name: f for f in meta.concrete_fields}
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    sql, params = insert_statement(model, rows)
    conflict = ", ".join(quote(by_name[name].column) for name in conflict_fields)
    assignments = ", ".join(
        f"{quote(by_name[name].column)} = excluded.{quote(by_name[name].column)}" for name in update_fields
    )
    sql += f" ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
    if newer_than:
        column = quote(by_name[newer_than].column)
        sql += f" WHERE {table}.{column} {'<=' if same_version_too else '<'} excluded.{column}"
    return _returning(model, sql, params, returning)


def insert(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts of field name → Python value; missing fields take their defaults) in one statement, as
    `bulk_create` would, without building a model instance per row: a page of imported orders records hundreds of
    status changes and holds, and their instances cost more than the statement."""
    if not rows:
        return
    sql, params = insert_statement(model, rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_statement(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> tuple[str, list[Any]]:
    """`INSERT INTO t (every column) …` of `rows` and its parameters, each value prepared as its field would: for a
    caller that sends it with others (`inventory.statements.stock_write`) or adds a clause (`upsert`)."""
    fields = list(model._meta.concrete_fields)
    table, columns = table_and_columns(model)
    if _as_json_records(model):
        records = _prepared(model, fields, rows, keyed=True)
        sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{table}, %s::json)"  # noqa: S608
        return sql, [_records_encoder.encode(records).decode()]
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(rows))}"  # noqa: S608
    return sql, [value for row in _prepared(model, fields, rows, keyed=False) for value in row]


def table_and_columns(model: type[models.Model]) -> tuple[str, str]:
    """`model`'s table and every concrete column, quoted, as a statement names them (asked on every reservation)."""
    key = (model, connection.vendor)
    if key not in _table_and_columns_cache:
        quote = connection.ops.quote_name
        _table_and_columns_cache[key] = (
            quote(model._meta.db_table),
            ", ".join(quote(field.column) for field in model._meta.concrete_fields),
        )
    return _table_and_columns_cache[key]


_table_and_columns_cache: dict[tuple[type[models.Model], str], tuple[str, str]] = {}


def _prepared(
    model: type[models.Model], fields: Sequence[models.Field], rows: Sequence[Mapping[str, Any]], *, keyed: bool
) -> list[Any]:
    """Per row, each field's value as the database driver takes it (missing fields take their defaults): a dict by
    column (`keyed`, for JSON records) or a list in field order. The import runs this for every value of every row it
    writes, so the per-field work is looked up once per call."""
    spec = [(field, field.name, field.attname, ready) for field, ready in zip(fields, _ready_types(model), strict=True)]
    columns = [field.column for field in fields]
    prepared: list[Any] = []
    for row in rows:
        values: list[Any] = []
        for field, name, attname, ready in spec:
            value = row.get(name, _MISSING)
            if value is _MISSING:
                value = row.get(attname, _MISSING)
                if value is _MISSING:
                    value = _default(field)
            # The driver takes these values as they are; asking the field costs more than the import's SQL. A naive
            # datetime is made aware by the field (with a warning): it is never passed through.
            kind = type(value)
            if value is not None and (ready is None or kind not in ready or (kind is datetime and not value.tzinfo)):
                value = field.get_db_prep_save(value, connection)
                if keyed and isinstance(value, Json):
                    # A JSON column's value as its field encodes it (its own encoder), embedded as it is.
                    value = msgspec.Raw(value.dumps(value.adapted))
            values.append(value)
        prepared.append(dict(zip(columns, values, strict=True)) if keyed else values)
    return prepared


_MISSING = object()


def _returning(
    model: type[models.Model], sql: str, params: list[Any], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    meta = model._meta
    by_name = {f.name: f for f in meta.concrete_fields}
    fields = [by_name[name] for name in returning]
    sql += " RETURNING " + ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        results = cursor.fetchall()
    converters = _converters(model, fields)
    if not converters:
        return results
    return [_converted(row, converters) for row in results]


def from_rows(model: type[models.Model], rows: Iterable[Sequence[Any]]) -> list[Any]:
    """Model instances of rows that hold every concrete column of `model` in field order (as `table_and_columns`
    names them), built as a queryset builds them (`Model.from_db`, the backend's converters) without compiling one."""
    fields = list(model._meta.concrete_fields)
    names = [field.attname for field in fields]
    converters = _converters(model, fields)
    alias = connection.alias
    return [model.from_db(alias, names, _converted(row, converters) if converters else row) for row in rows]


def _converters(model: type[models.Model], fields: Sequence[models.Field]) -> list[tuple[int, Col, list[Any]]]:
    """(position, column, converters) of the columns whose values the backend converts on the way out: raw cursors
    return what the driver gives (UUIDs as strings and naive datetimes on SQLite); the ORM's converters give callers
    the same Python types a queryset would. None at all on PostgreSQL for the columns Dropline has."""
    key = (model, tuple(field.attname for field in fields), connection.vendor)
    if key not in _converters_cache:
        columns = [field.get_col(model._meta.db_table) for field in fields]
        _converters_cache[key] = [
            (position, column, converters)
            for position, column in enumerate(columns)
            if (converters := connection.ops.get_db_converters(column) + column.get_db_converters(connection))
        ]
    return _converters_cache[key]


_converters_cache: dict[tuple[type[models.Model], tuple[str, ...], str], list[tuple[int, Col, list[Any]]]] = {}


def _converted(row: Sequence[Any], converters: list[tuple[int, Col, list[Any]]]) -> tuple[Any, ...]:
    values = list(row)
    for position, column, functions in converters:
        for function in functions:
            values[position] = function(values[position], column, connection)
    return tuple(values)


def _default(field: models.Field) -> Any:
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return ""
    raise ValueError(f"upsert: no value and no default for {field.model.__name__}.{field.name}")


# Field classes whose get_db_prep_save returns a value of these types unchanged on PostgreSQL (psycopg2 adapts them
# itself): checked by tests/erp/test_db_upsert.py against the fields' own answer. Exact classes only: a subclass may
# prepare its values (an encrypted field, say), and then it is asked.
_PASS_THROUGH: dict[type[models.Field], tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.URLField: (str,),
    models.EmailField: (str,),
    models.SlugField: (str,),
    models.BooleanField: (bool,),
    models.IntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.BigIntegerField: (int,),
    models.DecimalField: (Decimal,),
    models.DateTimeField: (datetime,),
    models.DateField: (date,),
    models.UUIDField: (UUID,),
}
_ready_types_cache: dict[tuple[type[models.Model], str], list[tuple[type, ...] | None]] = {}


def _ready_types(model: type[models.Model]) -> list[tuple[type, ...] | None]:
    """Per concrete field of `model`, the value types the database driver takes as they are (None: always ask the
    field). Only on PostgreSQL; other backends convert more (SQLite stores UUIDs as text). In JSON records, a JSON
    column's lists and dicts too, when its field has no encoder of its own: msgspec writes the same JSON value."""
    key = (model, connection.vendor)
    if key not in _ready_types_cache:
        json_records = _as_json_records(model)
        ready: list[tuple[type, ...] | None] = []
        for field in model._meta.concrete_fields:
            target = _stored_as(field)
            if connection.vendor != "postgresql":
                ready.append(None)
            elif json_records and type(target) is models.JSONField and target.encoder is None:
                ready.append((list, dict))
            else:
                ready.append(_PASS_THROUGH.get(type(target)))
        _ready_types_cache[key] = ready
    return _ready_types_cache[key]


# Field classes whose prepared values msgspec encodes as text that PostgreSQL reads back into the column exactly
# (UUIDs, datetimes with their offset, decimals as strings). Exact classes only, as above: a model with any other
# field (an encrypted column, say) keeps the VALUES list, where psycopg2 adapts whatever its field prepares.
_JSON_RECORD_FIELDS: frozenset[type[models.Field]] = frozenset({*_PASS_THROUGH, models.JSONField})
_records_encoder = msgspec.json.Encoder(decimal_format="string")
_as_json_records_cache: dict[tuple[type[models.Model], str], bool] = {}


def _as_json_records(model: type[models.Model]) -> bool:
    """Whether `model`'s rows travel as JSON records (PostgreSQL, and only fields of the classes above)."""
    key = (model, connection.vendor)
    if key not in _as_json_records_cache:
        _as_json_records_cache[key] = connection.vendor == "postgresql" and all(
            type(_stored_as(field)) in _JSON_RECORD_FIELDS for field in model._meta.concrete_fields
        )
    return _as_json_records_cache[key]


def _stored_as(field: models.Field) -> models.Field:
    """The field whose values the column holds: a foreign key's target field, else the field itself."""
    return field.target_field if isinstance(field, models.ForeignKey) else field


class PlannerStatistics:
    """Refreshes the planner's statistics of the tables a bulk write fills, each time it has doubled what they held.

    Until autovacuum reaches a table that grew fast (a minute or more, and never where it is off), PostgreSQL plans
    with what the table held before: believing it nearly empty, it walks a whole store's or organization's rows per
    lookup instead of probing the index that names the row. Refreshing at every doubling (1,000 rows, 2,000,
    4,000, ...) keeps every estimate within a factor of two of the truth for a logarithmic number of ANALYZE runs,
    each of which reads a bounded sample; a fixed interval instead costs in proportion to the size, and runs most
    often when the table is already large (docs/adr/0030). `tables[0]` is the one counted: the others grow with it.
    """

    FIRST_AFTER = 1000

    def __init__(self, tables: Sequence[str]) -> None:
        self.tables = tuple(tables)
        self._held = self._rows_estimated() if connection.vendor == "postgresql" else 0
        self._since = 0

    def written(self, created: int) -> None:
        """`created` more rows in `tables[0]`."""
        self._since += created
        if connection.vendor != "postgresql" or self._since < max(self._held, self.FIRST_AFTER):
            return
        with connection.cursor() as cursor:
            # Through the owner's function: the application role owns no table, and PostgreSQL skips (with only a
            # warning) an ANALYZE by anyone but the owner.
            cursor.execute(f"SELECT {ANALYZE_FUNCTION}(%s)", [list(self.tables)])
        self._held += self._since
        self._since = 0

    def _rows_estimated(self) -> int:
        # What the planner believes the table holds (-1: never analysed, counted as empty).
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [self.tables[0]])
            row = cursor.fetchone()
        return max(int(row[0]), 0) if row else 0


ANALYZE_FUNCTION = "dropline_analyze"


def analyze_function_install(connection: BaseDatabaseWrapper) -> None:
    """Create (or replace) `dropline_analyze(tables text[])`: ANALYZE of tables of the current schema, run as the
    function's owner, the role that migrates and owns the tables. PostgreSQL lets only a table's owner analyze it;
    the application connects as a role that owns nothing (docs/adr/0023), and its `PlannerStatistics` refresh was
    skipped with a warning. ANALYZE changes no row and reads a bounded sample; the function takes only table names
    of that one schema (quoted with `%I`) and runs with a fixed search_path, as a SECURITY DEFINER function must.
    Runs after every `migrate` (erp.apps), like the row-level security policies."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_literal(current_schema())")
        (schema,) = cursor.fetchone()
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {ANALYZE_FUNCTION}(tables text[]) RETURNS void LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$ "
            "DECLARE name text; BEGIN FOREACH name IN ARRAY tables LOOP "
            f"EXECUTE format('ANALYZE %I.%I', {schema}, name); END LOOP; END $body$"
        )
