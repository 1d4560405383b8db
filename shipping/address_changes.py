"""The buyer changed the address (TikTok's webhook 3, RECIPIENT_ADDRESS_UPDATE, or a sync that reads a new one):
what it means for the order's label.

    address changed (orders.services.orders_address_changed, inside the import's transaction)
        ├─ no label bought yet ──► the note says so at once; a worker quotes the order again for the new address
        │                           (shipping.estimate.order_quote) and writes "address changed at …; quote
        │                           refreshed: …" on the order and in the decision log of a label not yet bought
        └─ label bought ──► the order is flagged "The label shows the old address" with the fix the platform allows,
                            on the order's page, the batch page and the packing-station scan; audited

TikTok's API lets a seller change nothing on a package once its label is bought: Update Shipping Info and Update
Package Shipping Info only replace the tracking number of a package the seller shipped themself, and buying again is
refused (21022025, a label was already purchased). The fix is the seller's, in Seller Center (docs/platforms/tiktok.md
records the guess).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.services import audit_record
from erp.tenancy import current_organization
from orders.models import Order
from shipping.estimate import order_quote
from shipping.models import LabelPurchase, PurchaseState

OLD_ADDRESS = "The label shows the old address"
OLD_ADDRESS_FIX = (
    "TikTok lets no one change a bought label's address through its API (Update Shipping Info only changes the "
    "tracking number of a seller-shipped package; buying again is refused with 21022025). Do not hand this parcel "
    "over as it is: reprint the label from TikTok Seller Center to check whether TikTok updated it, otherwise "
    "contact TikTok seller support to redirect it, or ask the buyer to cancel and order again."
)
WATCHER = Actor.system("Address change")


def _when(moment: datetime) -> str:
    return clock.format_local(moment, clock.organization_zone())


def orders_address_changed_mark(*, order_ids: Sequence[UUID], changed_at: datetime) -> tuple[list[UUID], list[UUID]]:
    """Note the change on each order at once (no platform call): flagged when its label is bought, "quote being
    refreshed" otherwise. Returns (flagged, to quote)."""
    bought = set(
        LabelPurchase.objects.filter(order_id__in=list(order_ids), state=PurchaseState.PURCHASED)
        .filter(order_cancelled_at__isnull=True)
        .values_list("order_id", flat=True)
    )
    flagged = [pk for pk in order_ids if pk in bought]
    to_quote = [pk for pk in order_ids if pk not in bought]
    when = _when(changed_at)
    if flagged:
        Order.objects.filter(pk__in=flagged).update(
            address_changed_at=changed_at,
            label_shows_old_address=True,
            address_note=f"{OLD_ADDRESS} (the buyer changed it at {when}). {OLD_ADDRESS_FIX}"[:500],
        )
        for order in Order.objects.filter(pk__in=flagged).only("pk", "external_id", "organization_id"):
            audit_record(
                organization=current_organization(),
                actor=WATCHER,
                action="order.address_changed_after_label",
                target=order,
                changes={"order": order.external_id, "changed_at": changed_at.isoformat()},
            )
    if to_quote:
        Order.objects.filter(pk__in=to_quote).update(
            address_changed_at=changed_at,
            label_shows_old_address=False,
            address_note=f"Address changed at {when}; the quote is being refreshed.",
        )
    return flagged, to_quote


def order_quote_refresh(*, order_id: UUID | str) -> str:
    """Quote the order again for its new address (no label is bought yet) and say so on the order and in the decision
    log of its label not yet bought. Returns the note written. Running it twice quotes twice and writes the same kind
    of note: it spends nothing."""
    order = Order.objects.select_related("store").filter(pk=order_id).first()
    if order is None or order.address_changed_at is None or order.label_shows_old_address:
        return ""
    service, why_not = order_quote(order)
    quoted = (
        f"quote refreshed: {service.display_name} {service.price.amount} {service.price.currency}"
        if service is not None and service.price is not None
        else f"quote refreshed: {why_not}"
    )
    note = f"Address changed at {_when(order.address_changed_at)}; {quoted}."[:500]
    Order.objects.filter(pk=order.pk, label_shows_old_address=False).update(address_note=note)
    pending = LabelPurchase.objects.filter(order=order).exclude(state=PurchaseState.PURCHASED).order_by("-pk").first()
    if pending is not None:
        decision = dict(pending.decision or {})
        decision["address_changed"] = note
        LabelPurchase.objects.filter(pk=pending.pk).exclude(state=PurchaseState.PURCHASED).update(
            decision=decision, updated_at=timezone.now()
        )
    return note


def on_orders_address_changed(order_ids: list[UUID], changed_at: datetime) -> None:
    """`orders.services.orders_address_changed` receiver: mark now, quote in a worker after the import commits."""
    _, to_quote = orders_address_changed_mark(order_ids=order_ids, changed_at=changed_at)
    if to_quote:
        from shipping.tasks import orders_quote_refresh  # tasks import this module

        orders_quote_refresh.delay_on_commit(
            organization_id=str(current_organization().pk), order_ids=[str(pk) for pk in to_quote]
        )
