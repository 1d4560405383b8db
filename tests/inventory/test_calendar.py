"""One warehouse calendar: blank working days mean Monday to Friday everywhere, and the two screens that read a
warehouse's days (the at-risk deadlines and the pickup day) now agree on every hour of a fortnight."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inventory.calendar import MONDAY_TO_FRIDAY, warehouse_calendar, weekdays
from inventory.models import Warehouse
from shipping import pickup
from shipping.at_risk import Calendar

LA = ZoneInfo("America/Los_Angeles")


def _warehouse(**fields: Any) -> Warehouse:
    base = {"name": "W", "time_zone": "America/Los_Angeles", "working_days": "", "cutoff_time": time(14)}
    return Warehouse(**{**base, **fields})


@pytest.mark.parametrize(
    ("text", "days"),
    [("", MONDAY_TO_FRIDAY), ("12345", MONDAY_TO_FRIDAY), ("67", {6, 7}), ("1,3", {1, 3}), ("089", MONDAY_TO_FRIDAY)],
)
def test_working_days_are_read_one_way_and_blank_means_monday_to_friday(text: str, days: set[int]) -> None:
    assert weekdays(text) == days


def test_the_calendar_reads_hours_and_cutoff() -> None:
    calendar = warehouse_calendar(_warehouse(working_hours="Mon–Fri 9:30–18:00", cutoff_time=time(15)))
    assert (calendar.zone, calendar.opens, calendar.closes, calendar.cutoff) == (LA, time(9, 30), time(15), time(15))
    default = warehouse_calendar(None, fallback_zone=LA)
    assert (default.working_days, default.opens, default.closes, default.zone) == (
        MONDAY_TO_FRIDAY,
        time(8),
        time(17),
        LA,
    )


@pytest.mark.parametrize("working_days", ["", "12345", "123456", "7"])
def test_at_risk_and_pickup_agree_on_the_day_a_warehouse_ships(working_days: str) -> None:
    """Before: at_risk read blank days as Mon-Fri and pickup as all week, so a package bought on a Saturday was
    due on the manifest that day while the at-risk list waited for Monday. Each hour (at :30, off the cut-off's
    exact minute, where a window that closes at 14:00 and "bought after 14:00" rightly differ by a minute) of two
    weeks: the pickup day is the day the at-risk calendar next opens."""
    warehouse = _warehouse(working_days=working_days)
    start = datetime(2026, 11, 23, 0, 30, tzinfo=LA)  # a Monday
    calendar = Calendar.for_warehouse(warehouse, default_zone=LA, since=start)
    for hour in range(14 * 24):
        moment = start + timedelta(hours=hour)
        opens = calendar.next_open(moment)
        assert opens is not None
        shipped = pickup.pickup_day(warehouse=warehouse, slot_start=None, purchased_at=moment)
        assert shipped == opens.astimezone(LA).date(), moment


def test_a_package_bought_on_saturday_at_a_warehouse_with_blank_days_waits_for_monday() -> None:
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=LA)
    assert pickup.pickup_day(warehouse=_warehouse(), slot_start=None, purchased_at=saturday) == date(2026, 11, 30)
