"""A batch's printouts, one warehouse at a time: the dashboard and the API build them with `batch_document_build`
and record each one they hand out with `print_event_record`.

A batch may hold orders for several warehouses. Each own warehouse prints its own labels, pick list and slips (one
pick list never mixes two warehouses). Orders routed to a supplier or 3PL warehouse (`HANDOFF_KINDS`) are never in a
seller-side printout: that warehouse prints them from its handoff (shipping.handoffs), and the seller sees them there
read-only. Every print is recorded with the warehouse it was for (PrintEvent): building a document writes nothing,
so the record is an explicit call where a document is handed out for printing.

Which own warehouses a member prints for: Dropline does not (yet) record which warehouse a warehouse-role member
works in, so every member allowed to print (Perm.LABELS_PRINT) prints for every own warehouse. The wall that holds
for everyone is the one above: no seller-side document contains a handoff warehouse's order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from django.utils import timezone

from erp.actors import Actor
from erp.clock import organization_zone
from erp.models import Organization
from inventory.models import Warehouse
from orders.models import OrderStatus
from shipping.documents.batch import BatchOrder
from shipping.documents.labels import labels_merge, labels_with_slips_pdf
from shipping.documents.packing_slips import SlipBranding
from shipping.documents.pick_list import pick_list_pdf
from shipping.labels.documents import batch_documents_input
from shipping.models import HANDOFF_KINDS, LabelBatch, PrintEvent, PurchaseState
from shipping.packages import ship_from_counts

DocumentKind = Literal["labels", "pick-list", "slips"]
DOCUMENT_KINDS: tuple[DocumentKind, ...] = ("labels", "pick-list", "slips")
FILE_SUFFIX: dict[str, str] = {"labels": "labels-4x6", "pick-list": "pick-list", "slips": "labels-and-slips"}
NO_WAREHOUSE = "none"  # the `warehouse` value for a batch's orders that were routed to no warehouse
NO_WAREHOUSE_NAME = "No warehouse"


class PrintRefused(Exception):
    """A document request that would mix warehouses or print labels that are not the seller's to print."""


@dataclass(frozen=True)
class PrintGroup:
    """One warehouse's share of a batch's bought labels."""

    warehouse_id: uuid.UUID | None
    name: str
    kind: str
    labels: int
    handoff_id: uuid.UUID | None = None  # the handoff, once the batch is settled (handoff warehouses only)

    @property
    def key(self) -> str:
        """The `warehouse` value that asks for this group's documents."""
        return str(self.warehouse_id) if self.warehouse_id is not None else NO_WAREHOUSE

    @property
    def is_handoff(self) -> bool:
        return self.kind in HANDOFF_KINDS


@dataclass(frozen=True)
class PrintedDocument:
    content: bytes
    filename: str
    group: PrintGroup
    kind: DocumentKind
    warehouse: Warehouse | None  # the group's warehouse; None for orders routed to no warehouse


def batch_print_groups(batch: LabelBatch) -> list[PrintGroup]:
    """The batch's bought labels per warehouse (those of cancelled orders left out): own warehouses first (by name;
    orders routed nowhere last), then the supplier and 3PL warehouses, whose labels go to their handoffs."""
    bought = batch.purchases.filter(state=PurchaseState.PURCHASED, order_cancelled_at__isnull=True).exclude(
        order__status=OrderStatus.CANCELLED
    )
    rows = ship_from_counts(bought)  # a split package: its source
    warehouses = Warehouse.objects.in_bulk([pk for pk in rows if pk is not None])
    handoff_ids = dict(batch.handoffs.values_list("warehouse_id", "pk"))
    groups = [
        PrintGroup(
            warehouse_id=warehouse_id,
            name=warehouses[warehouse_id].name if warehouse_id is not None else NO_WAREHOUSE_NAME,
            kind=warehouses[warehouse_id].kind if warehouse_id is not None else "",
            labels=labels,
            handoff_id=handoff_ids.get(warehouse_id) if warehouse_id is not None else None,
        )
        for warehouse_id, labels in rows.items()
    ]
    return sorted(groups, key=lambda g: (g.is_handoff, g.warehouse_id is None, g.name.casefold()))


def batch_print_group(batch: LabelBatch, *, warehouse: str | None) -> PrintGroup:
    """The group a seller-side document request prints: the warehouse it names (`PrintGroup.key`), or, when it names
    none, the batch's only own warehouse. Refused when that would mix warehouses, or when the warehouse works
    through handoffs or has no label in the batch."""
    groups = batch_print_groups(batch)
    own = [group for group in groups if not group.is_handoff]
    if not warehouse and not own and groups:
        names = ", ".join(group.name for group in groups)
        raise PrintRefused(
            f"Batch {batch.reference} has nothing for you to print: its labels are in the handoff of {names}."
        )
    if not warehouse:
        if len(own) > 1:
            names = ", ".join(group.name for group in own)
            raise PrintRefused(
                f"Batch {batch.reference} ships from {len(own)} warehouses ({names}): "
                "print each warehouse's documents on its own."
            )
        if own:
            return own[0]
        return PrintGroup(warehouse_id=None, name=NO_WAREHOUSE_NAME, kind="", labels=0)
    chosen = next((group for group in own if group.key == warehouse), None)
    if chosen is None:
        raise PrintRefused(
            f"Batch {batch.reference} has no labels to print for that warehouse here. A supplier's or 3PL's labels "
            "are printed from its handoff."
        )
    return chosen


def document_render(
    kind: DocumentKind, orders: list[BatchOrder], *, reference: str, warehouse_name: str, organization: Organization
) -> bytes:
    """One printout of `orders` (already in picking order): the label stack, the pick list (in bin order, times in
    the organization's zone) or the labels with their packing slips. A batch's warehouse and a handoff print alike."""
    if kind == "labels":
        return labels_merge(orders, page_size="4x6")
    if kind == "pick-list":
        return pick_list_pdf(
            orders,
            batch_ref=reference,
            warehouse_name=warehouse_name,
            printed_at=timezone.localtime(timezone=organization_zone()),
            row_order="bin",
        )
    return labels_with_slips_pdf(orders, SlipBranding.of(organization))


def batch_document_build(
    *, batch: LabelBatch, kind: DocumentKind, warehouse: str | None, organization: Organization
) -> PrintedDocument:
    """One warehouse's printout of a batch, built from the stored labels (printing never buys). Writes nothing: the
    caller that hands it out for printing records it (`print_event_record`). Raises PrintRefused (see
    `batch_print_group`)."""
    if kind not in DOCUMENT_KINDS:
        raise PrintRefused(f"No document {kind!r}: use one of {', '.join(DOCUMENT_KINDS)}.")
    group = batch_print_group(batch, warehouse=warehouse)
    place = Warehouse.objects.get(pk=group.warehouse_id) if group.warehouse_id is not None else None
    orders = batch_documents_input(batch, warehouse=place)
    content = document_render(
        kind, orders, reference=batch.reference, warehouse_name=group.name, organization=organization
    )
    code = (place.code or place.name) if place is not None else ""
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in code).strip("-")[:40]
    filename = f"{batch.reference}{'-' + slug if slug else ''}-{FILE_SUFFIX[kind]}.pdf"
    return PrintedDocument(content=content, filename=filename, group=group, kind=kind, warehouse=place)


def print_event_record(*, batch: LabelBatch, printed: PrintedDocument, actor: Actor) -> PrintEvent:
    """The batch's print history gains this printout: which document, for which warehouse, by whom."""
    return PrintEvent.objects.create(
        batch=batch, document=printed.kind, warehouse=printed.warehouse, printed_by_label=actor.label[:200]
    )
