"""Which holds an order should have, from what the platform says about it. Pure functions: no database."""

from __future__ import annotations

import re

from integrations.interface import Address, PlatformOrder
from orders.models import OPEN_STATUSES, HoldReason, OrderStatus

US_POSTAL_CODE = re.compile(r"^\d{5}(-\d{4})?$")
PO_BOX = re.compile(r"\bP\.?\s*O\.?\s*BOX\b", re.IGNORECASE)


def address_problems(address: Address) -> list[str]:
    """What would make a carrier refuse this address. US rules only; other regions are left to the platform."""
    problems = []
    if not address.line1.strip():
        problems.append("no street line (address line 1)")
    if address.region_code == "US":
        postal_code = address.postal_code or ""
        if not US_POSTAL_CODE.match(postal_code):
            problems.append(f"ZIP code “{postal_code}” is not 5 or 9 digits")
        elif postal_code.startswith("000"):
            problems.append(f"ZIP code “{postal_code}” does not exist (the lowest US ZIP is 00501)")
        if not address.state:
            problems.append("no state")
        if not address.city:
            problems.append("no city")
    return problems


def holds_for(order: PlatformOrder) -> dict[str, str]:
    """reason → detail for every hold that applies now. Orders TikTok fulfils, and closed orders, have none."""
    if order.is_fulfilled_by_platform or order.status not in OPEN_STATUSES:
        return {}
    holds: dict[str, str] = {}
    if order.status == OrderStatus.ON_HOLD:
        holds[HoldReason.REMORSE_WINDOW] = "The buyer can still cancel for free."
    elif order.address is None:
        holds[HoldReason.ADDRESS_MISSING] = "The platform has not released the shipping address."
    else:
        problems = address_problems(order.address)
        if problems:
            holds[HoldReason.ADDRESS_INVALID] = "; ".join(problems).capitalize() + "."
    if order.is_buyer_request_cancel:
        holds[HoldReason.CANCEL_REQUESTED] = "Waiting for your answer under Cancellations."
    return holds
