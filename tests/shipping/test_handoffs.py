"""Label handoffs to supplier and 3PL warehouses: built from a batch's bought labels, worked by the supplier in its
portal or through a signed link, every action audited, and watched by the seller."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from erp.actors import Actor
from erp.models import AuditEntry, Membership
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory.models import Warehouse, WarehouseKind
from shipping import handoffs
from shipping.models import (
    Handoff,
    HandoffItem,
    HandoffLink,
    LabelBatch,
    LabelPurchase,
    PurchaseState,
    SupplierAccess,
)
from shipping.tasks import handoffs_alert_unacknowledged, handoffs_prepare
from tests.factories import (
    LabelBatchFactory,
    LabelPurchaseFactory,
    MembershipFactory,
    OrderFactory,
    WarehouseFactory,
)
from tests.shipping.batches import label_pdf


def bought(tenant: Any, batch: LabelBatch, warehouse: Warehouse, *, tracking: str, **order: Any) -> LabelPurchase:
    """A bought label (with its PDF) for an order the rules routed to `warehouse`."""
    org = tenant.organization
    order_row = OrderFactory(organization=org, warehouse=warehouse, **order)
    purchase = LabelPurchaseFactory(
        organization=org, order=order_row, batch=batch, state=PurchaseState.PURCHASED, tracking_number=tracking
    )
    with organization_scope(org):
        purchase.label_pdf.save(
            f"{tracking}.pdf", ContentFile(label_pdf(order_row.external_id, tracking, "Dana Kim", [])), save=True
        )
    return purchase


@pytest.fixture
def world(tenant: Any) -> dict[str, Any]:
    """One batch: two labels for supplier S1, one for 3PL T, one for the seller's own warehouse, one still pending."""
    org = tenant.organization
    s1 = WarehouseFactory(organization=org, name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER)
    tpl = WarehouseFactory(organization=org, name="Reno 3PL", kind=WarehouseKind.THREE_PL)
    own = WarehouseFactory(organization=org, name="Home", kind=WarehouseKind.OWN)
    batch = LabelBatchFactory(organization=org)
    past = timezone.now() - timedelta(hours=2)
    late = bought(tenant, batch, s1, tracking="TRK-LATE", ship_by=past)
    on_time = bought(tenant, batch, s1, tracking="TRK-OK", ship_by=timezone.now() + timedelta(days=1))
    bought(tenant, batch, tpl, tracking="TRK-3PL")
    bought(tenant, batch, own, tracking="TRK-OWN")
    LabelPurchaseFactory(
        organization=org, batch=batch, state=PurchaseState.PENDING, order=OrderFactory(organization=org, warehouse=s1)
    )
    with organization_scope(org):
        made = handoffs.handoffs_for_batch(batch=batch)
    return {"s1": s1, "tpl": tpl, "batch": batch, "handoffs": made, "late": late, "on_time": on_time}


def supplier_of(tenant: Any, warehouse: Warehouse) -> Client:
    """A supplier member the seller gave access to `warehouse` (through the service, audited)."""
    membership = MembershipFactory(organization=tenant.organization, role=Role.SUPPLIER)
    with organization_scope(tenant.organization):
        handoffs.supplier_access_grant(membership=membership, warehouse=warehouse, actor=Actor.for_user(tenant.owner))
        with pytest.raises(ValidationError):
            handoffs.supplier_access_grant(
                membership=membership,
                warehouse=WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.OWN),
                actor=Actor.for_user(tenant.owner),
            )
    client = Client()
    client.force_login(membership.user)
    return client


def s1_handoff(world: dict[str, Any]) -> Handoff:
    return next(h for h in world["handoffs"] if h.warehouse_id == world["s1"].pk)


def new_link(tenant: Any, handoff: Handoff, label: str = "") -> str:
    """A link made the way the seller makes one (the service behind "Create link"), as its token."""
    with organization_scope(tenant.organization):
        link = handoffs.handoff_link_create(handoff=handoff, actor=Actor.for_user(tenant.owner), label=label)
    return handoffs.handoff_link_token(link)


def audit_actions(tenant: Any) -> list[tuple[str, str]]:
    with organization_scope(tenant.organization):
        return list(AuditEntry.objects.filter(action__startswith="handoff.").values_list("action", "actor_label"))


@pytest.mark.django_db
def test_bought_labels_go_to_their_supplier_and_3pl_handoffs_once(tenant: Any, world: dict[str, Any]) -> None:
    assert sorted(h.warehouse.name for h in world["handoffs"]) == ["Reno 3PL", "Shenzhen Sun"]
    with organization_scope(tenant.organization):
        s1_tracking = set(s1_handoff(world).items.values_list("purchase__tracking_number", flat=True))
        assert s1_tracking == {"TRK-LATE", "TRK-OK"}  # not the pending one, not the own warehouse's
        again = handoffs.handoffs_for_batch(batch=world["batch"])
        assert [h.pk for h in again] == [h.pk for h in world["handoffs"]]
        assert HandoffItem.objects.count() == 3
    prepared = handoffs_prepare.delay(organization_id=str(tenant.organization.pk), batch_id=str(world["batch"].pk))
    assert prepared.get() == 2


@pytest.mark.django_db
def test_supplier_sees_only_its_warehouse_downloads_acknowledges_and_hands_over(
    tenant: Any, world: dict[str, Any]
) -> None:
    client = supplier_of(tenant, world["s1"])
    mine = s1_handoff(world)
    other = next(h for h in world["handoffs"] if h.pk != mine.pk)

    assert client.get("/").url == "/supplier/"
    home = client.get("/supplier/").content.decode()
    assert f"/supplier/handoffs/{mine.pk}/" in home
    assert str(other.pk) not in home
    assert client.get(f"/supplier/handoffs/{other.pk}/").status_code == 404
    assert client.post(f"/supplier/handoffs/{other.pk}/", {"action": "acknowledge"}).status_code == 404
    assert client.get("/orders/").status_code == 403
    assert client.get("/shipping/handoffs/").status_code == 403

    page = client.get(f"/supplier/handoffs/{mine.pk}/").content.decode()
    assert "TRK-LATE" in page
    assert "TRK-3PL" not in page
    labels_pdf = client.get(f"/supplier/handoffs/{mine.pk}/?document=labels")
    assert labels_pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(_bytes(labels_pdf)).pages)
    assert "TRK-LATE" in text
    assert "TRK-OK" in text
    assert "TRK-3PL" not in text
    for kind in ("pick-list", "slips"):
        assert client.get(f"/supplier/handoffs/{mine.pk}/?document={kind}").status_code == 200

    client.post(f"/supplier/handoffs/{mine.pk}/", {"action": "acknowledge"})
    client.post(f"/supplier/handoffs/{mine.pk}/", {"action": "acknowledge"})  # once only
    client.post(f"/supplier/handoffs/{mine.pk}/", {"action": "scan", "code": "TRK-OK"})
    client.post(f"/supplier/handoffs/{mine.pk}/", {"action": "scan", "code": "TRK-3PL"})  # not this handoff's
    client.post(f"/supplier/handoffs/{mine.pk}/", {"action": "hand_over", "all": "1"})
    with organization_scope(tenant.organization):
        mine.refresh_from_db()
        assert mine.acknowledged_at is not None
        assert set(HandoffItem.objects.filter(handoff=mine).values_list("handed_over_at", flat=True)) != {None}
        assert not HandoffItem.objects.filter(handoff=mine, handed_over_at=None).exists()
        assert not HandoffItem.objects.filter(handoff=other).exclude(handed_over_at=None).exists()
    actions = [action for action, _ in audit_actions(tenant)]
    assert actions.count("handoff.acknowledged") == 1
    assert actions.count("handoff.handed_over") == 2  # the scan, then the rest in bulk
    assert actions.count("handoff.downloaded") == 3


def _bytes(response: Any) -> Any:
    import io

    return io.BytesIO(response.content)


@pytest.mark.django_db
def test_supplier_without_access_sees_an_empty_portal(tenant: Any, world: dict[str, Any]) -> None:
    client = tenant.client_as(Role.SUPPLIER)
    body = client.get("/supplier/").content.decode()
    assert "ask the seller to give you access" in body
    assert str(s1_handoff(world).pk) not in body
    assert client.get(f"/supplier/handoffs/{s1_handoff(world).pk}/").status_code == 404


@pytest.mark.django_db
def test_signed_link_works_without_an_account_and_is_audited(tenant: Any, world: dict[str, Any]) -> None:
    handoff = s1_handoff(world)
    token = new_link(tenant, handoff)
    anonymous = Client()
    page = anonymous.get(f"/handoffs/link/{token}/")
    assert page.status_code == 200
    assert "TRK-LATE" in page.content.decode()
    assert anonymous.get(f"/handoffs/link/{token}/?document=labels")["Content-Type"] == "application/pdf"
    anonymous.post(f"/handoffs/link/{token}/", {"action": "acknowledge"})
    anonymous.post(f"/handoffs/link/{token}/", {"action": "hand_over", "item": [str(world["late"].handoff_item.pk)]})
    with organization_scope(tenant.organization):
        assert Handoff.objects.get(pk=handoff.pk).acknowledged_by_label == "link for Shenzhen Sun"
        assert HandoffItem.objects.filter(handoff=handoff, handed_over_at=None).count() == 1
    assert ("handoff.acknowledged", "link for Shenzhen Sun") in audit_actions(tenant)
    assert ("handoff.handed_over", "link for Shenzhen Sun") in audit_actions(tenant)


@pytest.mark.django_db
def test_tampered_or_expired_link_says_ask_the_seller(
    tenant: Any, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    handoff = s1_handoff(world)
    other = next(h for h in world["handoffs"] if h.pk != handoff.pk)
    token = new_link(tenant, handoff)
    other_token = new_link(tenant, other)
    tampered = token.split(":")[0] + ":" + other_token.split(":")[1]  # one link's id with another's signature
    expired = new_link(tenant, handoff)
    with organization_scope(tenant.organization):
        HandoffLink.objects.filter(pk=expired.split(":")[0]).update(expires_at=timezone.now())
    # A link from before links were recorded (a timestamp-signed handoff id), past its age.
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 73 * 3600)
    legacy_expired = signing.TimestampSigner(salt=handoffs._LINK_SALT).sign(str(handoff.pk))
    monkeypatch.undo()
    for bad in (tampered, expired, legacy_expired, "nonsense"):
        for method in ("get", "post"):
            response = getattr(Client(), method)(f"/handoffs/link/{bad}/", {"action": "acknowledge"})
            assert response.status_code == 404
            assert "Ask the seller for a new one" in response.content.decode()
    with organization_scope(tenant.organization):
        assert not Handoff.objects.exclude(acknowledged_at=None).exists()


@pytest.mark.django_db
def test_seller_sees_sent_acknowledged_handed_over_late_and_the_link(tenant: Any, world: dict[str, Any]) -> None:
    handoff = s1_handoff(world)
    with organization_scope(tenant.organization):
        handoffs.handoff_hand_over(
            handoff=handoff, actor=handoffs.link_actor(handoff), item_ids=[str(world["on_time"].handoff_item.pk)]
        )
        row = handoffs.handoffs_list().get(pk=handoff.pk)
    assert (row.total, row.handed, row.late) == (2, 1, 1)
    listing = tenant.client.get("/shipping/handoffs/").content.decode()
    assert "Shenzhen Sun" in listing
    assert "1/2" in listing
    assert "1 late" in listing
    detail = tenant.client.get(f"/shipping/handoffs/{handoff.pk}/").content.decode()
    assert "/handoffs/link/" not in detail  # viewing the page mints no link
    new_link(tenant, handoff)
    detail = tenant.client.get(f"/shipping/handoffs/{handoff.pk}/").content.decode()
    assert "/handoffs/link/" in detail
    viewer = tenant.client_as(Role.VIEWER)
    assert viewer.get(f"/shipping/handoffs/{handoff.pk}/").status_code == 200
    assert viewer.post(f"/shipping/handoffs/{handoff.pk}/", {"action": "acknowledge"}).status_code == 403


@pytest.mark.django_db
def test_unacknowledged_handoff_alerts_owners_and_admins_once(
    tenant: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    handoff = s1_handoff(world)
    with organization_scope(tenant.organization):
        Handoff.objects.filter(pk=handoff.pk).update(created_at=timezone.now() - timedelta(hours=5))
        Handoff.objects.exclude(pk=handoff.pk).update(acknowledged_at=timezone.now())  # the others are fine
        owners = set(Membership.objects.filter(role=Role.OWNER).values_list("user__email", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        assert handoffs_alert_unacknowledged.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert handoffs_alert_unacknowledged.delay().get() == 0
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == owners
    assert "Shenzhen Sun" in mail.outbox[0].subject


@pytest.mark.django_db
def test_the_seller_gives_a_supplier_member_one_warehouse_moves_and_revokes_it(
    tenant: Any, world: dict[str, Any]
) -> None:
    supplier = MembershipFactory(organization=tenant.organization, role=Role.SUPPLIER)
    operator = MembershipFactory(organization=tenant.organization, role=Role.OPERATOR)
    page = tenant.client.get("/shipping/handoffs/").content.decode()
    assert supplier.user.email in page
    assert "No warehouse yet: sees nothing" in page

    url = "/shipping/handoffs/access/"
    grant = {"member": str(supplier.pk), "warehouse": str(world["s1"].pk), "action": "grant"}
    assert tenant.client.post(url, grant).status_code == 302
    portal = Client()
    portal.force_login(supplier.user)
    assert "Shenzhen Sun" in portal.get("/supplier/").content.decode()

    tenant.client.post(url, grant | {"warehouse": str(world["tpl"].pk)})  # moved: one warehouse per member
    with organization_scope(tenant.organization):
        assert SupplierAccess.objects.get(membership=supplier).warehouse == world["tpl"]
    refused = tenant.client.post(url, grant | {"member": str(operator.pk)}, follow=True).content.decode()
    assert "is not a supplier member" in refused
    own = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.OWN)
    refused = tenant.client.post(url, grant | {"warehouse": str(own.pk)}, follow=True).content.decode()
    assert "Only a supplier or 3PL warehouse has handoffs." in refused

    tenant.client.post(url, {"member": str(supplier.pk), "action": "revoke"})
    with organization_scope(tenant.organization):
        assert not SupplierAccess.objects.filter(membership=supplier).exists()
        assert [
            a
            for a, _ in AuditEntry.objects.filter(action__startswith="supplier_access.")
            .values_list("action", "actor_label")
            .order_by("created_at")
        ] == ["supplier_access.granted", "supplier_access.granted", "supplier_access.revoked"]
    assert "Shenzhen Sun" not in portal.get("/supplier/").content.decode()


# Links: listed, created on purpose, revocable, their use shown ---------------------------------------------------


def links_on_page(tenant: Any, handoff: Handoff) -> str:
    return tenant.client.get(f"/shipping/handoffs/{handoff.pk}/").content.decode()


@pytest.mark.django_db
def test_viewing_the_handoff_page_mints_no_link_and_create_link_is_an_explicit_post(
    tenant: Any, world: dict[str, Any]
) -> None:
    handoff = s1_handoff(world)
    for _ in range(3):
        assert "No link yet" in links_on_page(tenant, handoff)
    with organization_scope(tenant.organization):
        assert HandoffLink.objects.filter(handoff=handoff).count() == 0

    response = tenant.client.post(
        f"/shipping/handoffs/{handoff.pk}/", {"action": "link_create", "label": "Maria at Sun (WhatsApp)"}
    )
    assert response.status_code == 302
    page = links_on_page(tenant, handoff)
    with organization_scope(tenant.organization):
        link = HandoffLink.objects.get(handoff=handoff)
    assert "Maria at Sun (WhatsApp)" in page
    assert handoffs.handoff_link_url(link) in page
    assert page.count(handoffs.handoff_link_url(link)) == 1
    assert links_on_page(tenant, handoff).count(handoffs.handoff_link_url(link)) == 1  # the same link, not a new one
    with organization_scope(tenant.organization):
        assert HandoffLink.objects.filter(handoff=handoff).count() == 1
    assert ("handoff.link_created", tenant.owner.email) in [
        (a, label.split(" ")[0]) for a, label in audit_actions(tenant)
    ]
    # Who may not manage handoffs cannot mint one.
    viewer = tenant.client_as(Role.VIEWER)
    assert viewer.post(f"/shipping/handoffs/{handoff.pk}/", {"action": "link_create"}).status_code == 403


@pytest.mark.django_db
def test_a_links_use_shows_beside_it_and_in_the_handoffs_activity(tenant: Any, world: dict[str, Any]) -> None:
    handoff = s1_handoff(world)
    token = new_link(tenant, handoff, label="Maria")
    supplier = Client()
    supplier.get(f"/handoffs/link/{token}/", REMOTE_ADDR="198.51.100.23")
    supplier.get(f"/handoffs/link/{token}/?document=pick-list", REMOTE_ADDR="198.51.100.23")
    supplier.post(f"/handoffs/link/{token}/", {"action": "acknowledge"}, REMOTE_ADDR="198.51.100.23")
    with organization_scope(tenant.organization):
        link = HandoffLink.objects.get(handoff=handoff)
    assert link.use_count == 3
    assert link.last_used_at is not None
    page = links_on_page(tenant, handoff)
    assert "3 uses" in page
    activity = page.split('data-testid="handoff-activity"')[1]
    assert "link for Shenzhen Sun (Maria)" in activity
    assert "handoff.downloaded" in activity
    assert "handoff.acknowledged" in activity
    assert "198.51.100.23" in activity


@pytest.mark.django_db
def test_a_revoked_link_stops_at_once_with_a_clear_410_page(tenant: Any, world: dict[str, Any]) -> None:
    handoff = s1_handoff(world)
    token = new_link(tenant, handoff, label="old contact")
    keep = new_link(tenant, handoff, label="new contact")
    assert Client().get(f"/handoffs/link/{token}/").status_code == 200
    link_id = token.split(":")[0]

    response = tenant.client.post(f"/shipping/handoffs/{handoff.pk}/", {"action": "link_revoke", "link": link_id})
    assert response.status_code == 302
    for method, extra in (("get", {}), ("get", {"document": "labels"}), ("post", {"action": "acknowledge"})):
        answer = getattr(Client(), method)(f"/handoffs/link/{token}/", extra)
        assert answer.status_code == 410
        assert "This link was revoked" in answer.content.decode()
        assert "ask the seller for a new link" in answer.content.decode()
    with organization_scope(tenant.organization):
        assert Handoff.objects.get(pk=handoff.pk).acknowledged_at is None
        assert HandoffLink.objects.get(pk=link_id).use_count == 1  # the refused tries are not uses
    assert Client().get(f"/handoffs/link/{keep}/").status_code == 200  # the other link still works
    page = links_on_page(tenant, handoff)
    assert "revoked" in page
    assert page.count('data-testid="handoff-link"') == 1  # only the active link's address is shown
    assert ("handoff.link_revoked", tenant.owner.email) in [
        (a, label.split(" ")[0]) for a, label in audit_actions(tenant)
    ]
    # Revoking twice changes nothing; an unknown or malformed id is a 404, not a 500.
    tenant.client.post(f"/shipping/handoffs/{handoff.pk}/", {"action": "link_revoke", "link": link_id})
    assert [a for a, _ in audit_actions(tenant)].count("handoff.link_revoked") == 1
    bad = tenant.client.post(f"/shipping/handoffs/{handoff.pk}/", {"action": "link_revoke", "link": "zzz"})
    assert bad.status_code == 404


@pytest.mark.django_db
def test_a_link_of_another_handoff_cannot_be_revoked_from_this_one(tenant: Any, world: dict[str, Any]) -> None:
    handoff = s1_handoff(world)
    other = next(h for h in world["handoffs"] if h.pk != handoff.pk)
    token = new_link(tenant, other)
    response = tenant.client.post(
        f"/shipping/handoffs/{handoff.pk}/", {"action": "link_revoke", "link": token.split(":")[0]}
    )
    assert response.status_code == 404
    assert Client().get(f"/handoffs/link/{token}/").status_code == 200


@pytest.mark.django_db
def test_a_link_handed_out_before_links_were_recorded_keeps_working_and_can_be_revoked(
    tenant: Any, world: dict[str, Any]
) -> None:
    """The migration gave each existing handoff a link row with the handoff's id: old tokens name it."""
    handoff = s1_handoff(world)
    with organization_scope(tenant.organization):
        HandoffLink.objects.create(
            id=handoff.pk,
            handoff=handoff,
            created_by_label="before links were listed",
            expires_at=timezone.now() + timedelta(hours=72),
        )
    legacy = signing.TimestampSigner(salt=handoffs._LINK_SALT).sign(str(handoff.pk))
    assert Client().get(f"/handoffs/link/{legacy}/").status_code == 200
    tenant.client.post(f"/shipping/handoffs/{handoff.pk}/", {"action": "link_revoke", "link": str(handoff.pk)})
    assert Client().get(f"/handoffs/link/{legacy}/").status_code == 410
