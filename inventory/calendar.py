"""A warehouse's calendar: the one reading of its working days, working hours, cut-off and time zone.

Every place that asks "does this warehouse ship on that day, until when, in which zone" asks `warehouse_calendar`
(the at-risk deadlines of `shipping.at_risk`, the pickup day of `shipping.pickup`), so two screens cannot disagree.
It lives here and not in `erp.clock` because it reads the `Warehouse` model's fields and their meaning, which belong
to inventory; `erp.clock` stays free of models and only answers which zone (`warehouse_zone`).

**Blank working days mean Monday to Friday.** That is what the model and the form already promise: the field's
default is "12345", the form's "Ships on" starts with Mon-Fri ticked and requires a day. A blank (or unreadable)
value can only come from outside the form (an import, a hand-made row), and it then means what the form would have
shown. Unreadable characters are ignored ("1,2,3" reads as Mon-Wed).

There are no holidays yet: a warehouse's calendar is its weekly pattern. When holidays come, they go here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from erp import clock

if TYPE_CHECKING:
    from inventory.models import Warehouse

MONDAY_TO_FRIDAY = frozenset({1, 2, 3, 4, 5})
DEFAULT_OPENS = time(8, 0)
DEFAULT_CLOSES = time(17, 0)
# "8:00–17:00", "8.00-17.00", "8h00 to 17h00" anywhere in the free-text working hours ("Mon–Fri 8:00–17:00").
_HOURS = re.compile(r"(\d{1,2})[:.h](\d{2})\s*(?:-|–|—|to)\s*(\d{1,2})[:.h](\d{2})")


def weekdays(value: str | None) -> frozenset[int]:
    """The ISO weekdays (1 = Monday … 7 = Sunday) written in `value`; Monday to Friday when it names none."""
    days = frozenset(int(d) for d in value or "" if d.isdigit() and 1 <= int(d) <= 7)
    return days or MONDAY_TO_FRIDAY


@dataclass(frozen=True)
class WarehouseCalendar:
    """When a warehouse works: on `working_days`, from `opens` to `closes` (its cut-off when it has one), in `zone`."""

    zone: ZoneInfo
    working_days: frozenset[int]
    opens: time
    closes: time
    cutoff: time | None  # the warehouse's own cut-off; None: `closes` comes from its working hours or the default

    def works_on(self, day: date) -> bool:
        return day.isoweekday() in self.working_days

    def next_working_day(self, day: date) -> date:
        """`day` when the warehouse works on it, else the first working day after it."""
        while not self.works_on(day):
            day += timedelta(days=1)
        return day

    def dispatch_day(self, moment: datetime) -> date:
        """The day something ready at `moment` leaves: that day in the warehouse's zone, or the next working day when
        it is past the cut-off or not a working day."""
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.cutoff is not None and local.time() > self.cutoff:
            day += timedelta(days=1)
        return self.next_working_day(day)


def _hours(text: str) -> tuple[time, time] | None:
    """Opening and closing time written in the free-text working hours, or None when they are not readable."""
    found = _HOURS.search(text)
    if found is None:
        return None
    h1, m1, h2, m2 = (int(x) for x in found.groups())
    if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60:
        return time(h1, m1), time(h2, m2)
    return None


def warehouse_calendar(warehouse: Warehouse | None, *, fallback_zone: ZoneInfo | None = None) -> WarehouseCalendar:
    """The calendar of `warehouse`. Its day opens at the start of its working hours (else 08:00) and closes at its
    cut-off (else the end of its working hours, else 17:00); a cut-off before the opening means the day's work
    happens before it (the day opens at midnight). Without a warehouse (an order not routed yet): Monday to Friday,
    08:00-17:00, in `fallback_zone` (else the organization's)."""
    zone = clock.warehouse_zone(warehouse, fallback_zone)
    if warehouse is None:
        return WarehouseCalendar(
            zone=zone, working_days=MONDAY_TO_FRIDAY, opens=DEFAULT_OPENS, closes=DEFAULT_CLOSES, cutoff=None
        )
    opens, closes = _hours(warehouse.working_hours or "") or (DEFAULT_OPENS, DEFAULT_CLOSES)
    if warehouse.cutoff_time is not None:
        closes = warehouse.cutoff_time
    if closes <= opens:
        opens = time(0, 0)
    return WarehouseCalendar(
        zone=zone,
        working_days=weekdays(warehouse.working_days),
        opens=opens,
        closes=closes,
        cutoff=warehouse.cutoff_time,
    )
