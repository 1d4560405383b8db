"""How a length of time reads to a person: the one place durations are put into words (the order screens'
countdowns, the at-risk list and its mails). Moments of the clock are formatted elsewhere (time zones)."""

from __future__ import annotations

from datetime import timedelta

UNDER_A_MINUTE = "under a minute"


def duration_text(delta: timedelta) -> str:
    """`2 d 5 h`, `3 h 20 min`, `12 min`: the two largest units, rounded down, sign ignored. Less than a minute reads
    `under a minute`, never `0 min`."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes == 0:
        return UNDER_A_MINUTE
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def is_now(delta: timedelta) -> bool:
    """Whether a time still to come is so close that "due now" says it better than a count of minutes."""
    return timedelta(0) <= delta < timedelta(minutes=1)
