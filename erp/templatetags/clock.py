"""Times in templates, one way everywhere (docs/time.md): `{% load clock %}` then

- `{{ order.ship_by|local }}` → "Dec 4, 09:28 PST" in the organization's zone (`|local:"seconds"`, `"year"`, `"date"`);
- `{{ moment|iso }}` → "2026-12-04T09:28:00-08:00" for attributes, `{{ moment|local_day }}` → "Dec 4, 2026";
- `{{ warehouse.cutoff_time|warehouse_time:warehouse }}` → "17:00 CST", a time of day in the warehouse's zone;
- `{{ slot_start|zone_time:"America/Chicago" }}` → "09:00 CST", a moment's time of day in a named zone;
- `{% organization_zone_name %}` → "America/Chicago (CST)".
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

from django import template

from erp import clock

if TYPE_CHECKING:  # erp comes first in the layer order: a warehouse is only passed in
    from inventory.models import Warehouse

register = template.Library()


@register.filter
def local(moment: datetime | None, style: clock.Style = "short") -> str:
    return clock.format_local(moment, clock.organization_zone(), style)


@register.filter
def iso(moment: datetime | None) -> str:
    """ISO 8601 in the organization's zone, for a `title` or a `data-` attribute; never raises (a stored year 1)."""
    return clock.format_iso(moment, clock.organization_zone())


@register.filter
def local_day(moment: datetime | None) -> str:
    """The day of a moment in the organization's zone: "Dec 4, 2026"."""
    if moment is None:
        return ""
    local, _ = clock.in_zone(moment, clock.organization_zone())
    return f"{local:%b} {local.day}, {local.year:04d}"


@register.filter
def warehouse_time(value: time | None, warehouse: Warehouse | None) -> str:
    return clock.format_clock_time(value, clock.warehouse_zone(warehouse))


@register.filter
def zone_time(moment: datetime | None, zone_name: str) -> str:
    if moment is None:
        return "—"
    local, zone = clock.in_zone(moment, clock.zone_named(zone_name, clock.organization_zone()))
    return f"{local:%H:%M} {clock.zone_abbreviation(local, zone)}"


@register.simple_tag
def organization_zone_name() -> str:
    """The organization's zone as people read it: "America/Chicago (CST)"."""
    zone = clock.organization_zone()
    return f"{zone.key} ({clock.zone_abbreviation(clock.now_in(zone), zone)})"


@register.simple_tag
def warehouse_zone_name(warehouse: Warehouse) -> str:
    """A warehouse's zone, and where it comes from when nobody chose one: "America/Chicago (from the address)"."""
    zone = clock.warehouse_zone(warehouse)
    return zone.key if warehouse.time_zone else f"{zone.key}, from the address"
