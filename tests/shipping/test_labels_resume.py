"""Work whose message was lost (a broker restart keeps nothing) is resent from the rows: which rows the sweep picks,
which it leaves alone, that a resend happens once per grace period, and that resumed work completes its batch."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from erp.actors import Actor
from erp.celery import app
from erp.tenancy import organization_scope
from integrations.errors import PlatformError
from integrations.models import Store
from inventory.models import WarehouseKind
from orders.models import HoldReason, Order, OrderStatus
from shipping import handoffs, tasks
from shipping.labels.batches import label_batch_create
from shipping.labels.purchase import (
    GAVE_UP,
    MAX_AUTO_ATTEMPTS,
    RETRY_LATER,
    PurchaseOutcome,
    _fail,
    label_purchase_execute,
    label_purchase_request,
)
from shipping.labels.recovery import RESUME_AFTER, LostWork, lost_work_claim, work_lost
from shipping.models import HandoffItem, LabelBatch, LabelPurchase, PurchaseState
from tests.factories import LabelBatchFactory, LabelPurchaseFactory, OrderFactory, WarehouseFactory
from tests.shipping.test_labels import shippable

pytestmark = pytest.mark.django_db

GRACE = RESUME_AFTER


def ago(delta: timedelta) -> datetime:
    return timezone.now() - delta


def purchase(organization: Any, *, state: str, age: timedelta, pdf: bool = False, **fields: Any) -> LabelPurchase:
    row = LabelPurchaseFactory(
        organization=organization, state=state, label_pdf="labels/x.pdf" if pdf else "", **fields
    )
    LabelPurchase.unscoped.filter(pk=row.pk).update(updated_at=ago(age))  # the factory's default is "now"
    row.refresh_from_db()
    return row


def picked(grace: timedelta = GRACE) -> set[tuple[str, object]]:
    return {(lost.kind, lost.target_id) for lost in work_lost(grace=grace)}


def test_the_sweep_picks_waiting_purchases_and_missing_pdfs_of_every_tenant_and_nothing_else(
    make_tenant: Any,
) -> None:
    acme, other = make_tenant("Acme").organization, make_tenant("Other").organization
    waiting = purchase(acme, state=PurchaseState.PENDING, age=GRACE * 2)
    waiting_elsewhere = purchase(other, state=PurchaseState.PENDING, age=GRACE * 2)
    no_pdf = purchase(acme, state=PurchaseState.PURCHASED, age=GRACE * 2)
    # Left alone: queued a moment ago (its message is most likely still on its way), being bought (reconciliation
    # owns it), bought with its PDF kept, bought a moment ago (its PDF is being fetched), failed (a person retries).
    purchase(acme, state=PurchaseState.PENDING, age=timedelta(seconds=5))
    purchase(acme, state=PurchaseState.SUBMITTING, age=GRACE * 2, submitting_since=ago(GRACE * 2))
    purchase(acme, state=PurchaseState.PURCHASED, age=GRACE * 2, pdf=True)
    purchase(acme, state=PurchaseState.PURCHASED, age=timedelta(seconds=5))
    purchase(acme, state=PurchaseState.FAILED, age=GRACE * 2, retryable=False)

    lost = work_lost(grace=GRACE)

    assert {(item.kind, item.target_id) for item in lost} == {
        (LostWork.PURCHASE, waiting.pk),
        (LostWork.PURCHASE, waiting_elsewhere.pk),
        (LostWork.DOCUMENT, no_pdf.pk),
    }
    owners = {item.target_id: item.organization_id for item in lost}
    assert owners[waiting_elsewhere.pk] == other.pk
    assert owners[waiting.pk] == acme.pk


def test_a_resend_is_claimed_once_and_not_repeated_within_the_grace_period(tenant: Any) -> None:
    waiting = purchase(tenant.organization, state=PurchaseState.PENDING, age=GRACE * 2)
    [lost] = work_lost(grace=GRACE)

    assert lost_work_claim(lost=lost)
    assert not lost_work_claim(lost=lost)  # a second sweep that read the same row does not send it again
    assert picked() == set()  # and the next sweeps leave it for a grace period
    LabelPurchase.unscoped.filter(pk=waiting.pk).update(updated_at=ago(GRACE * 2))
    assert picked() == {(LostWork.PURCHASE, waiting.pk)}  # still waiting a grace period later: sent again


def test_work_that_moved_on_after_the_sweep_read_it_is_not_resent(tenant: Any) -> None:
    waiting = purchase(tenant.organization, state=PurchaseState.PENDING, age=GRACE * 2)
    no_pdf = purchase(tenant.organization, state=PurchaseState.PURCHASED, age=GRACE * 2)
    lost = {item.target_id: item for item in work_lost(grace=GRACE)}
    # Between the sweep's read and its resend, the original message turned up after all.
    LabelPurchase.unscoped.filter(pk=waiting.pk).update(state=PurchaseState.SUBMITTING, submitting_since=ago(GRACE))
    LabelPurchase.unscoped.filter(pk=no_pdf.pk).update(label_pdf="labels/kept.pdf")

    assert not lost_work_claim(lost=lost[waiting.pk])
    assert not lost_work_claim(lost=lost[no_pdf.pk])


def test_a_settled_batch_whose_supplier_labels_are_in_no_handoff_is_picked_until_they_are(tenant: Any) -> None:
    org = tenant.organization
    supplier = WarehouseFactory(organization=org, kind=WarehouseKind.SUPPLIER)
    own = WarehouseFactory(organization=org, kind=WarehouseKind.OWN)

    def bought(batch: LabelBatch, warehouse: Any) -> LabelPurchase:
        order = OrderFactory(organization=org, warehouse=warehouse)
        return purchase(org, state=PurchaseState.PURCHASED, age=GRACE * 2, pdf=True, batch=batch, order=order)

    settled = LabelBatchFactory(organization=org)
    bought(settled, supplier)
    bought(settled, own)
    purchase(org, state=PurchaseState.FAILED, age=GRACE * 2, batch=settled)  # settled includes failed
    still_buying = LabelBatchFactory(organization=org)
    bought(still_buying, supplier)
    pending = purchase(org, state=PurchaseState.PENDING, age=timedelta(seconds=5), batch=still_buying)
    own_only = LabelBatchFactory(organization=org)
    bought(own_only, own)

    assert picked() == {(LostWork.HANDOFFS, settled.pk)}
    [lost] = work_lost(grace=GRACE)
    assert lost_work_claim(lost=lost)
    assert picked() == set()  # resent: not again within the grace period

    LabelPurchase.unscoped.filter(batch=settled).update(updated_at=ago(GRACE * 2))
    with organization_scope(org):
        handoffs.handoffs_for_batch(batch=settled)
    assert picked() == set()  # in its handoff: nothing left to do
    LabelPurchase.unscoped.filter(pk=pending.pk).update(state=PurchaseState.FAILED)
    LabelPurchase.unscoped.filter(batch=still_buying).update(updated_at=ago(GRACE * 2))
    assert picked() == {(LostWork.HANDOFFS, still_buying.pk)}


def test_the_beat_task_sends_each_kind_of_lost_work_to_its_task_once(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = tenant.organization
    supplier = WarehouseFactory(organization=org, kind=WarehouseKind.SUPPLIER)
    waiting = purchase(org, state=PurchaseState.PENDING, age=GRACE * 2)
    no_pdf = purchase(org, state=PurchaseState.PURCHASED, age=GRACE * 2)
    batch = LabelBatchFactory(organization=org)
    purchase(
        org,
        state=PurchaseState.PURCHASED,
        age=GRACE * 2,
        pdf=True,
        batch=batch,
        order=OrderFactory(organization=org, warehouse=supplier),
    )
    sent: list[tuple[str, dict[str, str]]] = []
    for name in ("labels_purchase", "documents_fetch_label", "handoffs_prepare"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda name=name, **kwargs: sent.append((name, kwargs)))

    assert tasks.labels_resume_lost() == 3
    assert sorted(sent) == [
        ("documents_fetch_label", {"organization_id": str(org.pk), "purchase_id": str(no_pdf.pk)}),
        ("handoffs_prepare", {"organization_id": str(org.pk), "batch_id": str(batch.pk)}),
        ("labels_purchase", {"organization_id": str(org.pk), "purchase_id": str(waiting.pk)}),
    ]
    assert tasks.labels_resume_lost() == 0  # the next beat, a minute later: nothing is sent twice
    assert len(sent) == 3
    assert app.conf.beat_schedule["shipping-labels-resume-lost"]["task"] == "shipping.labels_resume_lost"


def test_workers_outlast_a_broker_outage_and_finish_the_task_in_hand() -> None:
    """What the sweep relies on: a worker keeps reconnecting however long the broker is away (Celery's default gives
    up after 100 attempts), and a purchase running when the connection drops is finished and recorded, not cut off
    in the hope of a redelivery that an empty Redis cannot make."""
    assert app.conf.broker_connection_retry is True
    assert app.conf.broker_connection_max_retries is None
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is False


# ------------------------------------------------------------------------------ resumed work completes the batch
def labels_sold(tiktok: Any, order: Order) -> int:
    return len(tiktok.control("GET", f"labels?order_id={order.external_id}")["labels"])


def test_a_batch_whose_messages_were_all_lost_is_bought_once_and_completed_by_the_sweep(
    connected_store: Store, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    org = connected_store.organization
    supplier = WarehouseFactory(organization=org, kind=WarehouseKind.SUPPLIER, name="Shenzhen Sun")
    good = shippable(connected_store, 3)
    Order.unscoped.filter(pk__in=[good[0].pk, good[1].pk]).update(warehouse=supplier)
    refused = Order.unscoped.filter(
        store=connected_store,
        holds__reason=HoldReason.ADDRESS_INVALID,
        status=OrderStatus.AWAITING_SHIPMENT,
        label_source="platform",
    ).first()
    assert refused is not None
    with organization_scope(org), django_capture_on_commit_callbacks(execute=False) as enqueued:
        batch = label_batch_create(actor=Actor.system(), orders=[*good, refused])
    assert len(enqueued) == 4  # the batch's messages, never delivered: the broker restarted

    # The first sweep (run eagerly here: each resent task runs at once) buys every waiting label once and keeps the
    # PDFs. The refused order fails last, so no PDF fetch is left to notice that the batch has settled...
    assert tasks.labels_resume_lost(grace_seconds=0) == 4
    rows = LabelPurchase.unscoped.filter(batch=batch)
    assert {p.order_id: p.state for p in rows} == {
        **{order.pk: PurchaseState.PURCHASED for order in good},
        refused.pk: PurchaseState.FAILED,
    }
    assert all(p.label_pdf for p in rows.filter(state=PurchaseState.PURCHASED))
    assert [labels_sold(tiktok, order) for order in [*good, refused]] == [1, 1, 1, 0]
    assert not HandoffItem.unscoped.filter(handoff__batch=batch).exists()
    # ...so the next sweep hands the supplier its two labels.
    assert tasks.labels_resume_lost(grace_seconds=0) == 1
    handed = HandoffItem.unscoped.filter(handoff__batch=batch, handoff__warehouse=supplier)
    assert sorted(handed.values_list("purchase__order_id", flat=True)) == sorted([good[0].pk, good[1].pk])
    assert tasks.labels_resume_lost(grace_seconds=0) == 0  # all done: nothing more to send
    assert [labels_sold(tiktok, order) for order in good] == [1, 1, 1]


def test_a_bought_label_whose_pdf_fetch_was_lost_gets_its_pdf_without_being_bought_again(
    connected_store: Store, tiktok: Any
) -> None:
    [order] = shippable(connected_store, 1)
    with organization_scope(connected_store.organization):
        row = label_purchase_request(order=order)
        assert label_purchase_execute(purchase_id=row.pk) == PurchaseOutcome.BOUGHT
    # The `documents_fetch_label` message was lost with the broker.
    assert tasks.labels_resume_lost(grace_seconds=0) == 1
    row.refresh_from_db()
    assert row.state == PurchaseState.PURCHASED
    assert row.label_pdf.read(4) == b"%PDF"
    assert labels_sold(tiktok, order) == 1


def test_a_temporary_failure_is_retried_by_the_sweep_until_its_attempts_run_out(tenant: Any) -> None:
    org = tenant.organization
    temporary = purchase(org, state=PurchaseState.FAILED, age=GRACE * 2, retryable=True, attempts=2)
    # Left alone: out of attempts (a person retries it), and one that failed a moment ago (waits its grace period).
    purchase(org, state=PurchaseState.FAILED, age=GRACE * 2, retryable=True, attempts=MAX_AUTO_ATTEMPTS)
    purchase(org, state=PurchaseState.FAILED, age=timedelta(seconds=5), retryable=True, attempts=1)
    assert picked() == {(LostWork.RETRY, temporary.pk)}


def test_the_fix_says_retrying_while_attempts_remain_then_asks_a_person(tenant: Any) -> None:
    org = tenant.organization
    error = PlatformError("tiktok", 36009003, "Internal error", retryable=True)
    with organization_scope(org):
        early = purchase(org, state=PurchaseState.SUBMITTING, age=timedelta(0), attempts=1)
        _fail(early, error)
        late = purchase(org, state=PurchaseState.SUBMITTING, age=timedelta(0), attempts=MAX_AUTO_ATTEMPTS)
        _fail(late, error)
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.error_fix == RETRY_LATER.format(platform="TikTok")
    assert late.error_fix == GAVE_UP.format(platform="TikTok")
    assert late.retryable  # "Retry failed" still takes it
