"""Look-ups over the platform's cancel, return and refund reasons (transcribed in ``reasons_data``).

Reason kinds: buyer_cancel, seller_reject_cancel, seller_cancel, system_cancel, operator_cancel, buyer_return,
seller_reject_return, seller_reject_receive, seller_return, buyer_refund, seller_reject_refund, seller_refund.
"""

from __future__ import annotations

from .errors import ApiError
from .reasons_data import REASONS, Reason

UNKNOWN_REASON = (25001014, "Unknown return reason. Please ensure you are passing a valid return reason.")
NOT_SELLER_REASON = (
    25001015,
    "The provided return reason cannot be used by the seller. Please select a valid return reason and try again.",
)
REASON_NOT_MATCH_ACTION = (25001016, "reverse reason not match action type")
REASON_NOT_MATCH_STATUS = (25001021, "Reason not match order status")

# The sandbox's own wording for the cancellations it makes by itself, mapped to the documented reason names.
SYSTEM_TEXT_TO_NAME = {
    "Payment timeout": "system_cancel_unpaid_time_out",
    "Seller did not ship within the required time": "system_cancel_order_reason_shipping_timeout",
    "Package delivery failed": "returned_to_shipper_other",
}


def market(region: str) -> str:
    """The reason tables the sandbox carries: the US one, and the UK one for every other shop (GB)."""
    return "US" if region == "US" else "GB"


def table(region: str, kind: str) -> list[Reason]:
    return REASONS[market(region)].get(kind, [])


def find(region: str, kind: str, name: str) -> Reason | None:
    return next((r for r in table(region, kind) if r[0] == name), None)


def kinds_of(region: str, name: str) -> list[str]:
    return [kind for kind, rows in REASONS[market(region)].items() if any(r[0] == name for r in rows)]


def text(region: str, name: str) -> str:
    for rows in REASONS[market(region)].values():
        for r in rows:
            if r[0] == name:
                return r[1]
    return name


def resolve(region: str, kinds: tuple[str, ...], value: str, status: str | None = None) -> str:
    """The reason name for a name or a display text (seeded orders and control events carry texts): an exact name,
    else a text that applies to ``status``, else the first reason of the first kind that applies to ``status``."""
    if value in SYSTEM_TEXT_TO_NAME:
        return SYSTEM_TEXT_TO_NAME[value]
    rows = [r for kind in kinds for r in table(region, kind)]
    fits = [r for r in rows if status is None or not r[2] or status in r[2]]
    for r in rows:
        if r[0] == value:
            return r[0]
    for r in fits:
        if r[1].lower() == value.lower():
            return r[0]
    return (fits or rows)[0][0] if rows else value


def default(region: str, kind: str, status: str) -> Reason:
    rows = table(region, kind)
    return next((r for r in rows if not r[2] or status in r[2]), rows[0])


def check(region: str, kind: str, name: object, status: str | None, *, other_kinds_code: tuple[int, str]) -> Reason:
    """Validate a reason the caller passed for ``kind`` (and, when given, the order ``status``).

    Unknown names answer 25001014; a name that exists for another action answers ``other_kinds_code``; a name for
    another order status answers 25001021.
    """
    if not isinstance(name, str) or not name:
        raise ApiError(*UNKNOWN_REASON)
    found = find(region, kind, name)
    if found is None:
        if kinds_of(region, name):
            raise ApiError(*other_kinds_code)
        raise ApiError(*UNKNOWN_REASON)
    if status is not None and found[2] and status not in found[2]:
        raise ApiError(*REASON_NOT_MATCH_STATUS)
    return found
