"""`?fields=id,status,updated_at`: only these top-level fields of each object (of a list's `results`, or of the
object itself). A partner polling a long list asks for what it stores and no more."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError

PARAMETER = "fields"


def select_fields(data: Any, fields: str | None) -> Any:
    if not fields:
        return data
    wanted = [name.strip() for name in fields.split(",") if name.strip()]
    if not wanted:
        return data
    if isinstance(data, dict) and isinstance(data.get("results"), list):  # a page: prune each result
        return {**data, "results": [_pick(item, wanted) for item in data["results"]]}
    if isinstance(data, list):
        return [_pick(item, wanted) for item in data]
    return _pick(data, wanted)


def _pick(item: Any, wanted: list[str]) -> Any:
    if not isinstance(item, dict):
        return item
    unknown = [name for name in wanted if name not in item]
    if unknown:
        raise ValidationError(
            {PARAMETER: [f"Unknown field(s): {', '.join(unknown)}. This endpoint has: {', '.join(item)}."]}
        )
    return {name: item[name] for name in wanted}
