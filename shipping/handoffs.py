"""Label handoffs to supplier and 3PL warehouses: the bought labels of a batch whose orders ship from a warehouse
we do not run, sent to that warehouse, acknowledged by it, and marked handed to the carrier package by package.

A supplier works in the portal (`/supplier/`, role SUPPLIER, one warehouse through SupplierAccess) or through a
signed, expiring, revocable link for one handoff. Every look-up of a handoff on a supplier's behalf goes through
`handoffs_for_supplier` (or `handoff_link_from_token`), so one supplier never reaches another warehouse's handoffs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.inputs import parse_uuids
from erp.models import Membership
from erp.roles import Perm, Role
from erp.services import audit_record
from erp.tasks import email_send
from erp.tenancy import cross_tenant, organization_scope
from inventory.models import Warehouse
from shipping.documents.batch import BatchOrder
from shipping.documents.printing import FILE_SUFFIX, DocumentKind, document_render
from shipping.labels.documents import purchases_documents_input
from shipping.models import (
    HANDOFF_KINDS,
    Handoff,
    HandoffItem,
    HandoffLink,
    LabelBatch,
    LabelPurchase,
    PurchaseState,
    SupplierAccess,
)
from webhooks.services import event_publish

_LINK_SALT = "shipping.handoff-link"


def link_max_age() -> timedelta:
    return timedelta(hours=getattr(settings, "HANDOFF_LINK_MAX_AGE_HOURS", 72))


def ack_alert_after() -> timedelta:
    return timedelta(hours=getattr(settings, "HANDOFF_ACK_ALERT_HOURS", 4))


# ------------------------------------------------------------------------------------------------------ services
@transaction.atomic
def handoffs_for_batch(*, batch: LabelBatch) -> list[Handoff]:
    """Put every bought label of the batch whose order is routed to a supplier or 3PL warehouse into that
    warehouse's handoff. Idempotent: run it again after more labels are bought and only the new ones are added."""
    # Where each package ships from: its own source (a split order's package), else where its order was routed
    # (reserved there, or a make-to-order supplier that reserves nothing). Each handoff holds its own parcels only.
    purchases = list(
        batch.purchases.filter(state=PurchaseState.PURCHASED)
        .exclude(handoff_item__isnull=False)
        .select_related("order")
    )
    ship_from = {p.pk: p.warehouse_id or p.order.warehouse_id for p in purchases}
    handoff_warehouses = set(
        Warehouse.objects.filter(pk__in={w for w in ship_from.values() if w}, kind__in=HANDOFF_KINDS).values_list(
            "pk", flat=True
        )
    )
    handoffs: dict[object, Handoff] = {}
    for purchase in purchases:
        warehouse_id = ship_from[purchase.pk]
        if warehouse_id not in handoff_warehouses:
            continue
        if warehouse_id not in handoffs:
            handoffs[warehouse_id], created = Handoff.objects.get_or_create(batch=batch, warehouse_id=warehouse_id)
            if created:
                _publish(handoffs[warehouse_id], "handoff.created")
        HandoffItem.objects.get_or_create(purchase=purchase, defaults={"handoff": handoffs[warehouse_id]})
    return list(Handoff.objects.filter(batch=batch).select_related("warehouse").order_by("warehouse__name"))


def handoff_payload(handoff: Handoff) -> dict[str, Any]:
    """A handoff as outbound webhooks send it (docs/webhooks.md)."""
    items = handoff.items.all()
    return {
        "id": str(handoff.pk),
        "batch": {"id": str(handoff.batch_id), "reference": handoff.batch.reference},
        "warehouse": {"id": str(handoff.warehouse_id), "name": handoff.warehouse.name},
        "created_at": handoff.created_at.isoformat(),
        "acknowledged_at": handoff.acknowledged_at.isoformat() if handoff.acknowledged_at else None,
        "acknowledged_by": handoff.acknowledged_by_label,
        "parcels": items.count(),
        "handed_over": items.filter(handed_over_at__isnull=False).count(),
    }


def _publish(handoff: Handoff, event_type: str) -> None:
    event_publish(
        organization=handoff.organization,
        type=event_type,
        object_type="handoff",
        object_id=handoff.pk,
        data=lambda: handoff_payload(handoff),
    )


def handoff_acknowledge(*, handoff: Handoff, actor: Actor) -> bool:
    """The supplier has the labels. Once: a second press changes nothing and records nothing."""
    now = timezone.now()
    if not Handoff.objects.filter(pk=handoff.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by_label=actor.label[:200]
    ):
        return False
    handoff.acknowledged_at, handoff.acknowledged_by_label = now, actor.label[:200]
    _publish(handoff, "handoff.acknowledged")
    audit_record(
        organization=handoff.organization, actor=actor, action="handoff.acknowledged", target=handoff, changes={}
    )
    return True


def handoff_hand_over(*, handoff: Handoff, actor: Actor, item_ids: Sequence[str] | None = None) -> int:
    """Mark packages handed to the carrier: the ticked items, or (None) every item not handed over yet."""
    items = handoff.items.filter(handed_over_at__isnull=True)
    if item_ids is not None:
        items = items.filter(pk__in=parse_uuids(item_ids))  # a tampered value is no item, not an error
    references = list(items.values_list("purchase__order__external_id", flat=True))
    count = items.update(handed_over_at=timezone.now(), handed_over_by_label=actor.label[:200])
    if count:
        _publish(handoff, "handoff.handed_over")
        audit_record(
            organization=handoff.organization,
            actor=actor,
            action="handoff.handed_over",
            target=handoff,
            changes={"orders": sorted(references)},
        )
    return count


def handoff_scan(*, handoff: Handoff, code: str, actor: Actor) -> tuple[bool, str]:
    """A scanned tracking number (or package id, or order number) of this handoff: mark that one handed over."""
    code = code.strip()
    item = (
        handoff.items.select_related("purchase__order")
        .filter(Q(purchase__tracking_number=code) | Q(purchase__package_id=code) | Q(purchase__order__external_id=code))
        .first()
        if code
        else None
    )
    if item is None:
        cancelled = (
            LabelPurchase.objects.filter(batch_id=handoff.batch_id, order_cancelled_at__isnull=False)
            .filter(Q(tracking_number=code) | Q(package_id=code) | Q(order__external_id=code))
            .values_list("order__external_id", flat=True)
            .first()
            if code
            else None
        )
        if cancelled is not None:
            return False, f"Order {cancelled} was cancelled: do not ship. Its label was removed from this handoff."
        return False, f"“{code}” is not a package of this handoff. Do not hand it over: check the label."
    if item.handed_over_at is not None:
        return False, f"Order {item.purchase.order.external_id} was already handed over by {item.handed_over_by_label}."
    handoff_hand_over(handoff=handoff, actor=actor, item_ids=[str(item.pk)])
    return True, f"Order {item.purchase.order.external_id} handed over to the carrier."


def handoff_documents_input(handoff: Handoff) -> list[BatchOrder]:
    """This handoff's labels, and only those, as the printing functions take them (in picking order)."""
    return purchases_documents_input(LabelPurchase.objects.filter(handoff_item__handoff=handoff))


@dataclass(frozen=True)
class HandoffDocument:
    content: bytes
    filename: str


def handoff_document_build(*, handoff: Handoff, kind: DocumentKind, actor: Actor) -> HandoffDocument:
    """One of the handoff's printouts (a PDF), built from its stored labels (never bought again); the download is
    audited. The portal, the signed link and the API all print through here."""
    reference = handoff.batch.reference
    pdf = document_render(
        kind,
        handoff_documents_input(handoff),
        reference=reference,
        warehouse_name=handoff.warehouse.name,
        organization=handoff.organization,
    )
    handoff_document_record(handoff=handoff, actor=actor, document=kind)
    return HandoffDocument(content=pdf, filename=f"{reference}-{FILE_SUFFIX[kind]}.pdf")


def handoff_document_record(*, handoff: Handoff, actor: Actor, document: str) -> None:
    audit_record(
        organization=handoff.organization,
        actor=actor,
        action="handoff.downloaded",
        target=handoff,
        changes={"document": document},
    )


# -------------------------------------------------------------------------------------------- the signed link
# A link is a HandoffLink row, made by the seller's explicit "Create link" (never by viewing a page); the token is
# that row's id, signed. Expiry and revocation live on the row, so the seller can list, and revoke at once, every
# link in circulation. Tokens from before links were recorded (a timestamp-signed handoff id) still name a row: the
# migration gave each handoff a link with the handoff's own id (shipping/migrations/0014).
_LINK_SALT_V2 = "shipping.handoff-link.v2"


def handoff_link_create(*, handoff: Handoff, actor: Actor, label: str = "") -> HandoffLink:
    """A new link for a supplier without an account. Audited."""
    link = HandoffLink.objects.create(
        handoff=handoff,
        label=label.strip()[:120],
        created_by_label=actor.label[:200],
        expires_at=timezone.now() + link_max_age(),
    )
    audit_record(
        organization=handoff.organization,
        actor=actor,
        action="handoff.link_created",
        target=handoff,
        changes={"link": str(link.pk), "for": link.label},
    )
    return link


def handoff_link_revoke(*, link: HandoffLink, actor: Actor) -> bool:
    """The link stops working at once. Once: revoking again changes nothing and records nothing."""
    now = timezone.now()
    if not HandoffLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by_label=actor.label[:200]
    ):
        return False
    link.revoked_at, link.revoked_by_label = now, actor.label[:200]
    audit_record(
        organization=link.organization,
        actor=actor,
        action="handoff.link_revoked",
        target=link.handoff,
        changes={"link": str(link.pk), "for": link.label},
    )
    return True


def handoff_link_token(link: HandoffLink) -> str:
    """The same token every time for the same link: showing it again mints nothing."""
    return signing.Signer(salt=_LINK_SALT_V2).sign(str(link.pk))


def handoff_link_url(link: HandoffLink) -> str:
    return reverse("handoff_link", kwargs={"token": handoff_link_token(link)})


def _link_id_from(token: str) -> str | None:
    try:
        return signing.Signer(salt=_LINK_SALT_V2).unsign(token)
    except signing.BadSignature:
        pass
    try:  # a link handed out before links were recorded: its own signed time still bounds it
        return signing.TimestampSigner(salt=_LINK_SALT).unsign(token, max_age=link_max_age())
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None


def handoff_link_from_token(token: str) -> HandoffLink | None:
    """The link a token names (revoked ones too: the page says so), or None when the token was tampered with, the
    link has expired or never existed. A deliberate cross-tenant read (the link is the credential); the caller
    opens the handoff's organization scope."""
    link_id = _link_id_from(token)
    if link_id is None:
        return None
    with cross_tenant(reason="a handoff link is the credential: it names its organization"):
        link = (
            HandoffLink.unscoped.select_related("handoff__warehouse", "handoff__batch", "handoff__organization")
            .filter(pk=link_id)
            .first()
        )
    if link is None or link.is_expired:
        return None
    return link


def handoff_link_used(link: HandoffLink) -> None:
    """Last used / how often, shown to the seller beside the link."""
    with cross_tenant(reason="a handoff link is the credential: it names its organization"):
        HandoffLink.unscoped.filter(pk=link.pk).update(last_used_at=timezone.now(), use_count=F("use_count") + 1)


def handoff_links(handoff: Handoff) -> QuerySet[HandoffLink]:
    return handoff.links.order_by("-created_at")


def link_actor(handoff: Handoff, ip_address: str | None = None, link: HandoffLink | None = None) -> Actor:
    """Who acted through a link, as the audit log and the handoff record it: the warehouse, and whom the link was
    made for when the seller said."""
    who = f" ({link.label})" if link is not None and link.label else ""
    return Actor(label=f"link for {handoff.warehouse.name}{who}", ip_address=ip_address)


# ------------------------------------------------------------------------------------------------------ selectors
def _with_counts(handoffs: QuerySet[Handoff]) -> QuerySet[Handoff]:
    now = timezone.now()
    return (
        handoffs.select_related("warehouse", "batch")
        .annotate(
            total=Count("items", distinct=True),
            handed=Count("items", filter=Q(items__handed_over_at__isnull=False), distinct=True),
            late=Count(
                "items",
                filter=Q(items__handed_over_at__isnull=True, items__purchase__order__ship_by__lt=now),
                distinct=True,
            ),
        )
        .order_by("-created_at")
    )


def handoffs_list() -> QuerySet[Handoff]:
    """The seller's view: every handoff of the organization in scope, newest first, with its counts."""
    return _with_counts(Handoff.objects.all())


def handoffs_for_warehouse(warehouse: Warehouse | None) -> QuerySet[Handoff]:
    """The handoffs of one supplier or 3PL warehouse (a warehouse-bound API key's), or every handoff (None: the
    seller's own view), newest first, with their counts."""
    if warehouse is None:
        return handoffs_list()
    return _with_counts(Handoff.objects.filter(warehouse_id=warehouse.pk))


def handoffs_for_supplier(membership: Membership) -> QuerySet[Handoff]:
    """The handoffs a member may work in the supplier portal: those of the warehouse the seller gave them access to;
    everything for the seller's own staff who manage handoffs (owners, admins previewing the portal); else none."""
    access = SupplierAccess.objects.select_related("warehouse").filter(membership=membership).first()
    if access is not None:
        return handoffs_for_warehouse(access.warehouse)
    if Perm.HANDOFF_MANAGE in membership.permissions:
        return _with_counts(Handoff.objects.all())
    return _with_counts(Handoff.objects.none())


def handoff_items(handoff: Handoff) -> QuerySet[HandoffItem]:
    return handoff.items.select_related("purchase__order").order_by("purchase__order__ship_by", "purchase__pk")


def handoffs_unacknowledged_due() -> QuerySet[Handoff]:
    """All organizations: handoffs not acknowledged within the alert time whose seller has not been told yet."""
    return Handoff.unscoped.select_related("warehouse", "batch", "organization").filter(
        acknowledged_at__isnull=True, alerted_at__isnull=True, created_at__lt=timezone.now() - ack_alert_after()
    )


@transaction.atomic
def handoffs_alert_due() -> int:
    """Beat: mail the owners and admins of each handoff not acknowledged within HANDOFF_ACK_ALERT_HOURS, once per
    handoff (the conditional UPDATE of `alerted_at` decides who mails). Returns how many handoffs were alerted."""
    alerted = 0
    hours = int(ack_alert_after().total_seconds() // 3600)
    for handoff in handoffs_unacknowledged_due():
        if not Handoff.unscoped.filter(pk=handoff.pk, alerted_at__isnull=True).update(alerted_at=timezone.now()):
            continue  # another beat run took it
        alerted += 1
        with organization_scope(handoff.organization):
            recipients = list(
                Membership.objects.filter(role__in=[Role.OWNER, Role.ADMIN]).values_list("user__email", flat=True)
            )
            path = reverse("shipping_handoff", kwargs={"pk": handoff.pk})
        zone = clock.organization_zone(handoff.organization)  # a beat worker has no active zone
        if recipients:
            email_send.delay_on_commit(
                to=recipients,
                subject=f"{handoff.warehouse.name} has not acknowledged batch {handoff.batch.reference}",
                body=(
                    f"{handoff.warehouse.name} was sent the labels of batch {handoff.batch.reference} at "
                    f"{clock.format_local(handoff.created_at, zone)} and has not acknowledged them within "
                    f"{hours} hours.\n\nCall them, or send them the link again: {path}\n"
                ),
            )
    return alerted


def supplier_access_grant(*, membership: Membership, warehouse: Warehouse, actor: Actor) -> SupplierAccess:
    """Let a supplier member work the handoffs of `warehouse` (one warehouse per member; granting again moves it)."""
    if warehouse.kind not in HANDOFF_KINDS:
        raise ValidationError("Only a supplier or 3PL warehouse has handoffs.")
    access, _ = SupplierAccess.objects.update_or_create(membership=membership, defaults={"warehouse": warehouse})
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="supplier_access.granted",
        target=membership,
        changes={"warehouse": warehouse.name},
    )
    return access


def supplier_access_revoke(*, access: SupplierAccess, actor: Actor) -> None:
    """The supplier member keeps their account but sees no handoff until granted one again."""
    membership, warehouse = access.membership, access.warehouse
    access.delete()
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="supplier_access.revoked",
        target=membership,
        changes={"warehouse": warehouse.name},
    )


def supplier_access_overview() -> dict[str, Any]:
    """For the seller: supplier members with the warehouse each works for, and the warehouses one can grant."""
    accesses = {
        a.membership_id: a for a in SupplierAccess.objects.select_related("warehouse").order_by("warehouse__name")
    }
    members = list(Membership.objects.filter(role=Role.SUPPLIER).select_related("user").order_by("user__email"))
    return {
        "members": [(member, accesses.get(member.pk)) for member in members],
        "warehouses": list(Warehouse.objects.filter(kind__in=HANDOFF_KINDS, is_active=True).order_by("name")),
    }
