"""Enumerate every URL pattern of the project, so tests cover new endpoints without being edited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern


@dataclass(frozen=True)
class Route:
    name: str
    kwarg_names: tuple[str, ...]
    id_kwarg: str | None  # the kwarg that carries an object id (uuid converter or DRF's pk), if any
    view_class: Any

    def url(self, object_id: str | None = None) -> str:
        kwargs = {}
        for kwarg in self.kwarg_names:
            if kwarg == self.id_kwarg:
                kwargs[kwarg] = object_id
            elif kwarg == "format":
                kwargs[kwarg] = "json"
            else:
                kwargs[kwarg] = "x"
        return reverse(self.name, kwargs=kwargs)

    @property
    def model(self) -> type | None:
        """The model the view says it shows (`model` or `queryset.model`), when it says one; None otherwise."""
        model = getattr(self.view_class, "model", None)
        queryset = getattr(self.view_class, "queryset", None)
        return model or getattr(queryset, "model", None)


def _kwargs_of(pattern: Any) -> tuple[list[str], str | None]:
    if isinstance(pattern, RoutePattern):
        names = list(pattern.converters)
        ids = [name for name, conv in pattern.converters.items() if type(conv).__name__ == "UUIDConverter"]
        return names, ids[0] if ids else None
    if isinstance(pattern, RegexPattern):
        names = list(pattern.regex.groupindex)
        return names, "pk" if "pk" in names else None
    return [], None


def routes() -> Iterator[Route]:
    def walk(patterns: list[Any], names: list[str], id_kwarg: str | None) -> Iterator[Route]:
        for entry in patterns:
            entry_names, entry_id = _kwargs_of(entry.pattern)
            all_names = names + entry_names
            this_id = id_kwarg or entry_id
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, all_names, this_id)
            elif isinstance(entry, URLPattern):
                if entry.name is None:
                    raise AssertionError(f"URL pattern {entry.pattern} has no name: name it so tests can reach it")
                callback = entry.callback
                view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback
                yield Route(entry.name, tuple(all_names), this_id, view_class)

    seen = set()
    for route in walk(get_resolver().url_patterns, [], None):
        key = (route.name, route.kwarg_names)
        if key not in seen:
            seen.add(key)
            yield route
