"""An order cancelled after its label was bought (by the buyer's request, the seller or the platform): every place that
would still ship it says so at once, from one service function.

    order becomes CANCELLED (orders.services.orders_cancelled, inside the import's transaction)
        └─► labels_order_cancelled: for each bought label not yet stopped (LabelPurchase.order_cancelled_at, set once)
              ├─ print queue: the batch page shows it "Cancelled: do not ship"; no printout holds it any more
              │    (shipping.labels.documents.purchases_documents_input leaves it out, so the pick list, the label
              │    stack and the slips of a batch not yet printed are built without it; a batch already printed
              │    says which label to pull from the stack)
              ├─ packing station: its scan is refused "Cancelled: do not ship" (shipping.packing)
              ├─ supplier handoff: its item is removed and the supplier is mailed (a parcel already handed to the
              │    carrier stays, and the seller is told)
              ├─ stock: its reservation is released (inventory.services.orders_release)
              └─ audited, with what the label cost (the order page says the label was bought and the order cancelled)

Exactly once: the conditional UPDATE of `order_cancelled_at` decides; a replayed webhook or a second sync writes
nothing upstream (the import's version guard) and, were it called again, this finds nothing left to stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.models import Membership
from erp.services import audit_record
from erp.tasks import email_send
from erp.tenancy import current_organization
from inventory import services as inventory
from orders.models import Order, OrderStatus
from shipping.models import HandoffItem, LabelPurchase, PrintEvent, PurchaseState, SupplierAccess

CANCELLED_DO_NOT_SHIP = "Cancelled: do not ship"
STOPPER = Actor.system("Order cancelled")


@dataclass(frozen=True)
class Stopped:
    """What stopping one bought label did, as the audit log records it."""

    purchase_id: UUID
    order_ref: str
    handoff_removed: str  # the supplier's warehouse name, "" when it was in no handoff (or already handed over)
    handed_over: bool  # it was already handed to the carrier: it could not be taken back
    printed_at: str  # when its batch's documents were printed before the cancellation, "" when never


def _who_cancelled(order: Order) -> str:
    who = (order.cancellation_initiator or "").lower()
    reason = f" ({order.cancel_reason})" if order.cancel_reason else ""
    return f"cancelled by the {who}{reason}" if who else f"cancelled{reason}"


def _printed_before(purchase: LabelPurchase) -> PrintEvent | None:
    if purchase.batch_id is None:
        return None
    prints = PrintEvent.objects.filter(batch_id=purchase.batch_id)
    warehouse_id = purchase.order.warehouse_id
    prints = prints.filter(warehouse_id=warehouse_id) if warehouse_id else prints.filter(warehouse__isnull=True)
    return prints.order_by("-printed_at").first()


def _notify_supplier(item: HandoffItem, order: Order) -> None:
    """Mail the people who work this supplier's handoffs (its portal members and its contact), like the handoff
    alerts: the order number and tracking number to pull, and why."""
    handoff = item.handoff
    warehouse = handoff.warehouse
    recipients = list(
        Membership.objects.filter(
            pk__in=SupplierAccess.objects.filter(warehouse=warehouse).values("membership_id")
        ).values_list("user__email", flat=True)
    )
    if warehouse.contact_email and warehouse.contact_email not in recipients:
        recipients.append(warehouse.contact_email)
    if not recipients:
        return
    tracking = item.purchase.tracking_number or item.purchase.package_id
    email_send.delay_on_commit(
        to=recipients,
        subject=f"{CANCELLED_DO_NOT_SHIP}: order {order.external_id} (batch {handoff.batch.reference})",
        body=(
            f"Order {order.external_id} was {_who_cancelled(order)}. Its label (tracking {tracking}) was removed from "
            f"your handoff for batch {handoff.batch.reference}.\n\n"
            "Do not ship it: take the label off the parcel (or out of the stack) and keep the goods for the seller.\n"
            f"Your handoff: {reverse('supplier_handoff', kwargs={'pk': handoff.pk})}\n"
        ),
    )


def _stop(purchase: LabelPurchase) -> Stopped:
    order = purchase.order
    handoff_item = (
        HandoffItem.objects.select_related("handoff__warehouse", "handoff__batch", "purchase")
        .filter(purchase=purchase)
        .first()
    )
    removed, handed_over = "", False
    if handoff_item is not None:
        if handoff_item.handed_over_at is None:
            removed = handoff_item.handoff.warehouse.name
            _notify_supplier(handoff_item, order)
            handoff_item.delete()
        else:
            handed_over = True
    printed = _printed_before(purchase)
    return Stopped(
        purchase_id=purchase.pk,
        order_ref=order.external_id,
        handoff_removed=removed,
        handed_over=handed_over,
        printed_at=clock.format_local(printed.printed_at, clock.organization_zone()) if printed else "",
    )


@transaction.atomic
def labels_order_cancelled(*, order_ids: Sequence[UUID | object]) -> list[Stopped]:
    """The one service for orders cancelled after their label was bought: stop every place that would still ship
    them (see the module's docstring). Called with any orders; does something only for a bought label not yet
    stopped whose order is cancelled, once."""
    now = timezone.now()
    purchases = list(
        LabelPurchase.objects.select_for_update(of=("self",))
        .select_related("order", "batch")
        .filter(
            order_id__in=list(order_ids),
            order__status=OrderStatus.CANCELLED,
            state=PurchaseState.PURCHASED,
            order_cancelled_at__isnull=True,
        )
        .order_by("pk")
    )
    stopped = []
    for purchase in purchases:
        if not LabelPurchase.objects.filter(pk=purchase.pk, order_cancelled_at__isnull=True).update(
            order_cancelled_at=now
        ):
            continue
        purchase.order_cancelled_at = now
        result = _stop(purchase)
        stopped.append(result)
        order = purchase.order
        audit_record(
            organization=current_organization(),
            actor=STOPPER,
            action="label.order_cancelled",
            target=order,
            changes={
                "order": order.external_id,
                "why": _who_cancelled(order),
                "package_id": purchase.package_id,
                "tracking_number": purchase.tracking_number,
                "batch": purchase.batch.reference if purchase.batch else None,
                "label_price": f"{purchase.price} {purchase.currency}" if purchase.price is not None else None,
                "handoff_removed": result.handoff_removed or None,
                "handed_over": result.handed_over,
                "printed_before": result.printed_at or None,
            },
        )
    released_for = list(dict.fromkeys(p.order_id for p in purchases))
    if released_for:
        inventory.orders_release(
            order_ids=released_for, actor=STOPPER, reason="order cancelled after its label was bought"
        )
    return stopped


def on_orders_cancelled(order_ids: list[object]) -> None:
    """`orders.services.orders_cancelled` receiver: stop them now, in the import's transaction (no platform call)."""
    labels_order_cancelled(order_ids=order_ids)


def label_cancelled_notice(purchase: LabelPurchase) -> str:
    """What the order page, the batch page and the station say of a label whose order was cancelled; "" if none."""
    if purchase.order_cancelled_at is None:
        return ""
    cost = f" for {purchase.price} {purchase.currency}" if purchase.price is not None else ""
    when = clock.format_local(purchase.order_cancelled_at, clock.organization_zone())
    return (
        f"The label was bought{cost} and the order was cancelled ({when}): {CANCELLED_DO_NOT_SHIP}. "
        "TikTok documents no call to void a bought label or refund it; Dropline assumes TikTok does not charge for "
        "a label that is never scanned by the carrier (check your TikTok Shop statement)."
    )
