"""`?expand=lines,holds` on a list: nested objects a detail carries, inlined into each row of the page so a partner
needs one call instead of one per row. Each expansion names the detail serializer's field and the prefetch that
loads it for the whole page at once (the query count stays bounded, whatever the page size)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

PARAMETER = "expand"


@dataclass(frozen=True)
class Expansion:
    source: type[serializers.Serializer]  # whose declared field is inlined (the detail serializer)
    field: str  # its name there (and in the answer)
    prefetch: Callable[[], Prefetch | str]  # what loads it for a whole page (made per request: tenant managers)


def requested(request: Request, expansions: dict[str, Expansion]) -> tuple[str, ...]:
    """The expansions asked for, in the order of `expansions`; an unknown name is a 400 that lists the known ones."""
    names = {name.strip() for name in request.query_params.get(PARAMETER, "").split(",") if name.strip()}
    unknown = sorted(names - set(expansions))
    if unknown:
        raise ValidationError(
            {PARAMETER: [f"Cannot expand {', '.join(unknown)}. This endpoint expands: {', '.join(expansions)}."]}
        )
    return tuple(name for name in expansions if name in names)


@cache
def expanded(base: Any, expansions: tuple[tuple[str, Expansion], ...]) -> type:
    """`base` plus the expansions' fields (a subclass made once per combination)."""
    declared = {name: expansion.source._declared_fields[expansion.field] for name, expansion in expansions}
    meta = type("Meta", (base.Meta,), {"fields": [*base.Meta.fields, *declared]})  # type: ignore[attr-defined]
    return type(
        f"{base.__name__}Expanded", (base,), {**{n: f.__deepcopy__({}) for n, f in declared.items()}, "Meta": meta}
    )


def parameter(expansions: dict[str, Expansion]) -> OpenApiParameter:
    return OpenApiParameter(
        PARAMETER,
        OpenApiTypes.STR,
        description=f"Comma-separated nested objects to include in each result: {', '.join(expansions)}. "
        "Each costs one query per page, not one per row.",
    )


def serializer_for(base: Any, request: Request, expansions: dict[str, Expansion]) -> Any:
    names = requested(request, expansions)
    return expanded(base, tuple((name, expansions[name]) for name in names)) if names else base


def prefetches(request: Request, expansions: dict[str, Expansion]) -> list[Prefetch | str]:
    return [expansions[name].prefetch() for name in requested(request, expansions)]
