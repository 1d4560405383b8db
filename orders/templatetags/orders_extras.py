"""Template helpers of the order screens: deadlines as countdowns, money with its currency."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone

from erp.durations import duration_text, is_now
from orders.models import OPEN_STATUSES
from orders.selectors import URGENT_WITHIN

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€"}


def countdown(deadline: datetime | None, *, verb: str = "ships", now: datetime | None = None) -> dict[str, Any]:
    """What a deadline looks like to someone who has to meet it: `ships in 5 h 12 min`, `overdue by 2 h 3 min`,
    `due now`."""
    if deadline is None:
        return {"text": "no deadline", "urgent": False, "overdue": False, "at": None}
    left = deadline - (now or timezone.now())
    overdue = left < timedelta(0)
    if overdue:
        text = f"overdue by {duration_text(left)}"
    else:
        text = "due now" if is_now(left) else f"{verb} in {duration_text(left)}"
    return {"text": text, "urgent": overdue or left < URGENT_WITHIN, "overdue": overdue, "at": deadline}


@register.inclusion_tag("orders/_deadline.html")
def deadline(at: datetime | None, verb: str = "ships", live: bool = True) -> dict[str, Any]:
    """A countdown while the order still has to meet the deadline (`live`); the plain date and time otherwise."""
    return {**countdown(at, verb=verb), "live": live}


@register.filter
def is_open(status: str) -> bool:
    """Whether an order in this status still has to ship (its deadlines count down)."""
    return status in OPEN_STATUSES


@register.filter
def money(amount: Decimal | str | None, currency: str = "") -> str:
    if amount is None or amount == "":
        return "—"
    if isinstance(amount, str):  # amounts kept in JSON (a batch's estimate) come back as text
        try:
            amount = Decimal(amount)
        except ArithmeticError:
            return amount
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}".strip()
