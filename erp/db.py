"""Bulk upsert with a version guard — the one statement Django's bulk_create cannot express.

    INSERT INTO t (...) VALUES (...), (...)
    ON CONFLICT (store_id, external_id) DO UPDATE SET col = excluded.col, ...
    WHERE t.platform_updated_at < excluded.platform_updated_at
    RETURNING id, external_id

`bulk_create(update_conflicts=True)` has no WHERE, so two workers racing on the same new row could let an older
payload overwrite a newer one. PostgreSQL and SQLite (3.35+) both accept this statement as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


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
    fields = list(meta.concrete_fields)
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    for row in rows:
        for field in fields:
            if field.name in row:
                value = row[field.name]
            elif field.attname in row:
                value = row[field.attname]
            else:
                value = _default(field)
            params.append(field.get_db_prep_save(value, connection))
    by_name = {f.name: f for f in fields}
    conflict = ", ".join(quote(by_name[name].column) for name in conflict_fields)
    assignments = ", ".join(
        f"{quote(by_name[name].column)} = excluded.{quote(by_name[name].column)}" for name in update_fields
    )
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(rows))} "  # noqa: S608
    sql += f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
    if newer_than:
        column = quote(by_name[newer_than].column)
        sql += f" WHERE {table}.{column} {'<=' if same_version_too else '<'} excluded.{column}"
    sql += " RETURNING " + ", ".join(quote(by_name[name].column) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        results = cursor.fetchall()
    converters = [by_name[name] for name in returning]
    return [tuple(_from_db(field, value) for field, value in zip(converters, row, strict=True)) for row in results]


def _default(field: models.Field) -> Any:
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return ""
    raise ValueError(f"upsert: no value and no default for {field.model.__name__}.{field.name}")


def _from_db(field: models.Field, value: Any) -> Any:
    # Raw cursors return UUIDs as strings on SQLite; give callers the same Python types as the ORM would.
    return field.to_python(value) if value is not None else None
