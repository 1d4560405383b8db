"""The money path against the LabelProvider protocol alone: a label provider that is not TikTok, with faults injected
into it, and the platform's own ledger (the market's) as the judge. Whatever fails, each order's lines get one
label, never two."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from erp.tenancy import organization_scope
from integrations.models import Store
from orders.models import Order
from orders.services import store_sync
from shipping.labels.documents import label_document_fetch, label_document_stored
from shipping.labels.purchase import (
    RETRY_LATER,
    PurchaseOutcome,
    label_purchase_execute,
    label_purchase_reconcile,
    label_purchase_request,
)
from shipping.models import LabelPurchase, PurchaseState
from tests.channels.fake import Market

pytestmark = [pytest.mark.chaos]


def _order(store: Store, market: Market, order_id: str) -> Order:
    market.add_order(order_id, {"MUG": 2}, platform_label=True)
    with organization_scope(store.organization):
        store_sync(store=store)
        return Order.objects.get(store=store, external_id=order_id)


def _purchase(store: Store, order: Order) -> LabelPurchase:
    with organization_scope(store.organization):
        return label_purchase_request(order=order)


def _execute(store: Store, purchase: LabelPurchase) -> str:
    with organization_scope(store.organization):
        return label_purchase_execute(purchase_id=purchase.pk)


@pytest.mark.django_db
def test_a_lost_answer_is_reconciled_by_adopting_never_by_buying_again(
    label_store: Store, label_market: Market
) -> None:
    order = _order(label_store, label_market, "L-1")
    purchase = _purchase(label_store, order)
    label_market.lose_next_answer = True
    assert _execute(label_store, purchase) == PurchaseOutcome.UNKNOWN
    with organization_scope(label_store.organization):
        assert label_purchase_reconcile(purchase_id=purchase.pk, stale_after=timedelta(0)) == (PurchaseOutcome.ADOPTED)
        # The same task delivered again afterwards: done, nothing bought.
        assert label_purchase_execute(purchase_id=purchase.pk) == PurchaseOutcome.DONE
        purchase.refresh_from_db()
    assert [(o, p) for o, p, _ in label_market.labels] == [("L-1", "PKG-1")]
    assert (purchase.state, purchase.package_id, purchase.adopted) == (PurchaseState.PURCHASED, "PKG-1", True)


@pytest.mark.django_db
def test_a_passing_trouble_fails_retryably_and_the_retry_buys_once(label_store: Store, label_market: Market) -> None:
    order = _order(label_store, label_market, "L-2")
    purchase = _purchase(label_store, order)
    label_market.fail_next_buy_temporarily = True
    assert _execute(label_store, purchase) == PurchaseOutcome.FAILED
    purchase.refresh_from_db()
    assert purchase.retryable
    assert purchase.error_fix == RETRY_LATER.format(platform="FakeLabels")
    LabelPurchase.unscoped.filter(pk=purchase.pk).update(state=PurchaseState.PENDING)  # what Retry failed does
    assert _execute(label_store, purchase) == PurchaseOutcome.BOUGHT
    assert len(label_market.labels) == 1


@pytest.mark.django_db
def test_a_label_bought_elsewhere_is_adopted(label_store: Store, label_market: Market) -> None:
    order = _order(label_store, label_market, "L-3")
    purchase = _purchase(label_store, order)
    label_market.labels.append(("L-3", "PKG-ELSEWHERE", tuple(purchase.line_ids)))  # bought on the platform's site
    assert _execute(label_store, purchase) == PurchaseOutcome.ADOPTED  # its ALREADY_DONE, then find_label
    assert len(label_market.labels) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_deliveries_at_once_buy_one_label(label_store: Store, label_market: Market) -> None:
    order = _order(label_store, label_market, "L-4")
    purchase = _purchase(label_store, order)
    label_market.buy_latency = 0.3
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def deliver() -> None:
        try:
            start.wait()
            outcomes.append(_execute(label_store, purchase))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(PurchaseOutcome.BOUGHT) == 1
    assert len(label_market.labels) == 1


@pytest.mark.django_db
def test_the_label_document_comes_from_the_provider_and_is_kept(label_store: Store, label_market: Market) -> None:
    order = _order(label_store, label_market, "L-5")
    purchase = _purchase(label_store, order)
    assert _execute(label_store, purchase) == PurchaseOutcome.BOUGHT
    with organization_scope(label_store.organization):
        assert label_document_fetch(purchase_id=purchase.pk)
        purchase.refresh_from_db()
        stored = label_document_stored(purchase=purchase)
    assert stored is not None
    assert stored.startswith(b"%PDF")
    assert purchase.tracking_number == "FPPKG-1"
