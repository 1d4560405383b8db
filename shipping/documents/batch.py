"""What every batch document is drawn from: the plain `BatchOrder` / `PickLine` dataclasses, and the picking order.

The caller loads a batch, builds `BatchOrder`s, puts them in picking order with `picking_order` and passes that same
list to every document, so the label stack, the pick list and the packing slips agree with each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

PickingSort = Literal["bin", "order"]


@dataclass(frozen=True)
class PickLine:
    """One SKU of one order in the batch."""

    order_ref: str  # the platform order id shown to people
    seller_sku: str
    name: str
    quantity: int
    bin_location: str = ""  # "" when unknown


@dataclass(frozen=True)
class BatchOrder:
    order_ref: str
    label_pdf: bytes = field(repr=False)  # the stored platform label (A6 PDF, one or more pages)
    lines: tuple[PickLine, ...]
    recipient_name: str  # as TikTok gives it, possibly masked ("D**** K***")
    ship_by: datetime | None
    tracking_number: str
    buyer_message: str = ""  # what the buyer wrote at checkout: printed on the slip and flagged on the pick list
    is_gift: bool = False  # a line of the order is a gift
    missing: str = ""  # why there is no label to print, and what to do (a placeholder page says it); "" when there is
    combined_with: tuple[str, ...] = ()  # the other orders in this parcel (a combined package): the slip lists them


def natural_key(text: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key where "A-2-9" comes before "A-2-10" (bins and SKUs are numbered by people)."""
    parts = re.split(r"(\d+)", text.strip().casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), text


def _line_key(line: PickLine) -> tuple[bool, tuple[tuple[str | int, ...], str], tuple[tuple[str | int, ...], str]]:
    return not line.bin_location.strip(), natural_key(line.bin_location), natural_key(line.seller_sku)


def stack_lines(order: BatchOrder) -> list[PickLine]:
    """An order's lines in walking order: by bin, then SKU; lines without a bin last."""
    return sorted(order.lines, key=_line_key)


def picking_order(orders: Iterable[BatchOrder], *, sort: PickingSort = "bin") -> list[BatchOrder]:
    """Orders in the order their labels should be stacked (and picked).

    "bin": by the smallest (bin, SKU) of each order, so a picker walking the stack walks the aisles once; then order
    ref. Orders with no bin at all come last, by their smallest SKU. "order": by order ref. Numbers inside bins, SKUs
    and refs compare as numbers ("A-2-9" < "A-2-10"). Deterministic for any input order.
    """
    if sort == "order":
        return sorted(orders, key=lambda o: natural_key(o.order_ref))
    if sort != "bin":
        raise ValueError(f"unknown sort {sort!r}: use 'bin' or 'order'")

    def key(order: BatchOrder) -> tuple[object, ...]:
        lines = stack_lines(order)
        first = _line_key(lines[0]) if lines else (True, natural_key(""), natural_key(""))
        return (*first, natural_key(order.order_ref))

    return sorted(orders, key=key)
