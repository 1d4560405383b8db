"""One parcel for one buyer: the TikTok translation of the combine endpoints (from the spec's own examples), and
combining two orders of one buyer against the sandbox, once, whatever fails, then buying one label for both."""

from __future__ import annotations

import copy
import io
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from erp.actors import Actor
from erp.models import AuditEntry
from erp.roles import Role
from erp.tenancy import organization_scope
from integrations.errors import ErrorKind, PlatformError
from integrations.interface import PackageOrders, PackageRefusal
from integrations.models import Store
from integrations.services import store_client
from integrations.tiktok import errors, translate
from orders.models import Order, OrderHold, OrderStatus
from orders.services import store_sync
from shipping.combine import (
    ChangeOutcome,
    combinable_refresh,
    combine_offer,
    package_change_execute,
    package_change_reconcile,
    package_combine,
    package_combine_request,
    package_uncombine,
)
from shipping.documents.packing_slips import SlipBranding, packing_slips_pdf
from shipping.labels.documents import label_document_fetch, purchases_documents_input
from shipping.labels.purchase import PurchaseOutcome, label_purchase_execute, label_purchase_request
from shipping.models import LabelPurchase, PackageChange, PackageOrder, PurchaseState
from shipping.services import label_batch_plan_and_create
from tests.factories import LogisticsRuleFactory
from tests.workers import Workers, sandbox_env, wait_for

COMBINE_API = "POST /fulfillment/{v}/packages/combine"
ACTOR = Actor.system("test")


# ---------------------------------------------------------------- translate, from the spec's examples
def test_search_combinable_packages_example_reads_as_one_group_of_two_orders() -> None:
    data = {
        "combinable_packages": [{"id": "57466538837665", "order_ids": ["57466538837665", "57466538837666"]}],
        "next_page_token": "6AsPQsUMvH3RkchNUPPh22NROHkE0D8pmq/N5M1kHYcZmtRyv9aVrNv65W7Q6tFA",
        "total_count": 10,
    }
    assert translate.combinable_packages_from_json(data) == [
        PackageOrders(package_id="57466538837665", order_ids=("57466538837665", "57466538837666"))
    ]


def test_combine_package_body_is_the_specs_request_example() -> None:
    body = translate.combine_body([PackageOrders("12321313133", ("1233213123123", "32132131231"))])
    assert body == {"combinable_packages": [{"id": "12321313133", "order_ids": ["1233213123123", "32132131231"]}]}


def test_combine_package_example_reads_the_package_made_and_the_refusal_with_its_package() -> None:
    data = {
        "packages": [{"id": "413234134123412", "order_ids": ["1233213123123", "32132131231"]}],
        "errors": [
            {
                "code": 10007014,
                "message": "fulfillment not allow combine package",
                "detail": {"package_id": "1231231231231313123132"},
            }
        ],
    }
    result = translate.combine_result_from_json(data)
    assert result.packages == (PackageOrders("413234134123412", ("1233213123123", "32132131231")),)
    assert result.refused == (
        PackageRefusal("1231231231231313123132", "10007014", "fulfillment not allow combine package"),
    )
    explained = errors.refusal_explained(result.refused[0], errors.PACKAGE_COMBINE)
    assert explained.kind == ErrorKind.REFUSED
    assert "separate parcels" in explained.fix


def test_uncombine_packages_example_reads_the_packages_left() -> None:
    data = {"packages": [{"id": "123456", "order_ids": ["576462377512830168", "576462377512830168"]}]}
    assert translate.uncombine_result_from_json(data) == [
        PackageOrders("123456", ("576462377512830168", "576462377512830168"))
    ]


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (21011033, ErrorKind.ALREADY_DONE, "already combined"),
        (21011046, ErrorKind.REFUSED, "uncombine it first"),
        (21011007, ErrorKind.NOT_SHIPPABLE_YET, "approve or reject it"),
    ],
)
def test_combine_refusals_carry_a_kind_and_a_fix_a_person_can_follow(code: int, kind: ErrorKind, words: str) -> None:
    error = errors.explain(PlatformError("tiktok", code, "refused"), errors.PACKAGE_COMBINE)
    assert error.kind == kind
    assert words in error.fix


def test_the_offer_counts_parcels_and_saves_every_label_but_the_dearest_of_each_group() -> None:
    from shipping.combine import CombinableGroup, CombineOffer

    group = CombinableGroup(store_id=None, package_id="1", order_ids=("A", "B", "C"))  # type: ignore[arg-type]
    offer = CombineOffer(orders=5, parcels=3, saving={"USD": Decimal("9.10")}, groups=(group,))
    assert offer.text == "5 orders can ship as 3 parcels, saving ≈ 9.10 USD"
    assert group.parcels_saved == 2


# ----------------------------------------------------------------------------- against the sandbox
def one_buyer(tiktok: Any, store: Store, n: int = 2) -> list[Order]:
    """n of the store's awaiting-shipment orders made one buyer's on the platform (same buyer, recipient,
    warehouse and delivery option): what a buyer ordering twice looks like."""
    world = tiktok.sandbox.world
    with organization_scope(store.organization):
        ours = {o.external_id: o for o in Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT)}
    candidates = [
        o
        for o in sorted(world.orders.values(), key=lambda o: o.id)
        if o.id in ours
        and o.shipping_type == "TIKTOK"
        and o.fulfillment_type == "FULFILLMENT_BY_SELLER"
        and not o.is_buyer_request_cancel
        and not o.address.bad_reason
        and not o.package_ids
        and sum(world.skus[li.sku_id].weight_lb for li in o.line_items) < 10
    ]
    first = candidates[0]
    twins = [first]
    for o in candidates[1:]:
        if len(twins) == n:
            break
        if o.warehouse_id == first.warehouse_id and o.delivery_option_id == first.delivery_option_id:
            o.user_id = first.user_id
            o.address = copy.deepcopy(first.address)
            twins.append(o)
    assert len(twins) == n
    return [ours[o.id] for o in twins]


def unheld(store: Store, orders: list[Order]) -> None:
    """The seeded shop's SKUs are not mapped to Dropline's, so its orders wait on an "unmapped SKU" hold; mapping is
    not what these tests are about: release it, as mapping would."""
    with organization_scope(store.organization):
        OrderHold.objects.filter(order__in=orders, released_at__isnull=True).update(released_at=timezone.now())
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(is_held=False)


def group_of(store: Store, orders: list[Order]) -> PackageOrders:
    wanted = {o.external_id for o in orders}
    with organization_scope(store.organization):
        groups = combinable_refresh(store=store)
    return next(PackageOrders(g.package_id, g.order_ids) for g in groups if set(g.order_ids) == wanted)


def labels_for(tiktok: Any, order: Order) -> list[dict]:
    return tiktok.control("GET", f"labels?order_id={order.external_id}")["labels"]


def slip_text(store: Store, purchase: LabelPurchase) -> str:
    with organization_scope(store.organization):
        orders = purchases_documents_input(LabelPurchase.objects.filter(pk=purchase.pk))
        pdf = packing_slips_pdf(orders, SlipBranding(seller_name="Shop"))
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.django_db
def test_two_orders_of_one_buyer_combine_and_ship_on_one_label(connected_store: Store, tiktok: Any) -> None:
    first, second = one_buyer(tiktok, connected_store)
    group = group_of(connected_store, [first, second])
    with organization_scope(connected_store.organization):
        change = package_combine(store=connected_store, group=group, actor=ACTOR)
        assert change.state == PurchaseState.PURCHASED
        package_id = change.result["packages"][0]["package_id"]
        # Either order asks for the same purchase: the package is the purchase.
        purchase = label_purchase_request(order=first)
        assert label_purchase_request(order=second).pk == purchase.pk
        assert set(PackageOrder.objects.filter(purchase=purchase).values_list("order_id", flat=True)) == {
            first.pk,
            second.pk,
        }
        assert label_purchase_execute(purchase_id=purchase.pk) == PurchaseOutcome.BOUGHT
        assert label_document_fetch(purchase_id=purchase.pk)
    purchase.refresh_from_db()
    assert purchase.package_id == package_id
    platform = tiktok.control("GET", f"packages/{package_id}")
    assert sorted(platform["order_ids"]) == sorted([first.external_id, second.external_id])
    assert len(platform["labels"]) == 1  # one label, in the platform's own ledger, for both orders
    assert labels_for(tiktok, first) == labels_for(tiktok, second)
    text = slip_text(connected_store, purchase)
    assert first.external_id in text
    assert second.external_id in text  # a combined parcel's slip lists every order in it


@pytest.mark.django_db
def test_an_order_with_a_label_purchase_is_never_combined(connected_store: Store, tiktok: Any) -> None:
    from shipping.combine import CombineRefused

    first, second = one_buyer(tiktok, connected_store)
    group = group_of(connected_store, [first, second])
    with organization_scope(connected_store.organization):
        label_purchase_request(order=first)
        with pytest.raises(CombineRefused, match=first.external_id):
            package_combine_request(store=connected_store, group=group, actor=ACTOR)
        assert not PackageChange.objects.exists()


@pytest.mark.django_db
@pytest.mark.chaos
def test_a_combine_whose_answer_was_lost_is_read_back_not_repeated_and_one_label_is_bought(
    connected_store: Store, tiktok: Any
) -> None:
    first, second = one_buyer(tiktok, connected_store)
    group = group_of(connected_store, [first, second])
    tiktok.control("POST", "faults", drop_response_after_commit=[{"api": COMBINE_API, "next": 1}])
    with organization_scope(connected_store.organization):
        change = package_combine_request(store=connected_store, group=group, actor=ACTOR)
        assert package_change_execute(change_id=change.pk) == ChangeOutcome.UNKNOWN
        change.refresh_from_db()
        assert change.state == PurchaseState.SUBMITTING  # not failed, not repeated: we do not know yet
        assert package_change_execute(change_id=change.pk) == ChangeOutcome.BUSY
        assert package_change_reconcile(change_id=change.pk, stale_after=timedelta(0)) == ChangeOutcome.ADOPTED
        assert package_change_reconcile(change_id=change.pk, stale_after=timedelta(0)) == ChangeOutcome.DONE
        change.refresh_from_db()
        assert change.adopted
        purchase = label_purchase_request(order=second)
        assert label_purchase_execute(purchase_id=purchase.pk) == PurchaseOutcome.BOUGHT
    package_id = change.result["packages"][0]["package_id"]
    assert len(tiktok.control("GET", f"packages/{package_id}")["labels"]) == 1
    assert len(labels_for(tiktok, first)) == 1


@pytest.mark.django_db
def test_the_buy_confirmation_offers_fewer_parcels_from_the_quotes(connected_store: Store, tiktok: Any) -> None:
    first, second = one_buyer(tiktok, connected_store)
    group_of(connected_store, [first, second])
    with organization_scope(connected_store.organization):
        others = list(Order.objects.filter(store=connected_store).exclude(pk__in=[first.pk, second.pk])[:1])
        offer = combine_offer(
            [first, second, *others],
            {first.external_id: (Decimal("5.10"), "USD"), second.external_id: (Decimal("7.20"), "USD")},
        )
    assert offer.parcels == offer.orders - 1
    assert offer.saving == {"USD": Decimal("5.10")}  # the cheaper label is the one no longer bought
    assert f"{offer.orders} orders can ship as {offer.parcels} parcels" in offer.text


@pytest.mark.django_db
def test_only_a_channel_that_combines_is_asked(connected_store: Store, tiktok: Any) -> None:
    from integrations.base import Capability

    with organization_scope(connected_store.organization):
        assert Capability.COMBINE_PACKAGES in store_client(connected_store).capabilities


@pytest.mark.chaos
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_combine_package_was_sent_combines_once_and_one_label_is_bought(
    tenant: Any, tiktok_server: Any, settings: Any, tmp_path: Path
) -> None:
    base_url, harness = tiktok_server
    store = harness.connect_store(tenant.organization)
    with organization_scope(tenant.organization):
        store_sync(store=store)
    first, second = one_buyer(harness, store)
    group = group_of(store, [first, second])
    with organization_scope(tenant.organization):
        change = package_combine_request(store=store, group=group, actor=ACTOR)  # committed before any call
    # The platform holds Combine Package, then serves it after our worker is dead: combined, answer never recorded.
    harness.control("PUT", "faults", timeouts=[{"api": COMBINE_API, "hold_ms": 2500, "next": 1}])
    workers = Workers(
        tmp_path,
        env=sandbox_env(base_url),
    )
    task = {"organization_id": str(tenant.organization.pk), "change_id": str(change.pk)}
    try:
        killed = workers.start()
        workers.send("shipping.labels_package_change", **task)
        wait_for(
            lambda: PackageChange.unscoped.get(pk=change.pk).state == PurchaseState.SUBMITTING,
            30,
            "the combine to be under way",
        )
        time.sleep(0.5)
        workers.kill(killed)
        time.sleep(3.0)  # the held request is served after the worker is gone
        workers.start()  # the redelivered task finds the change SUBMITTING and does not combine blindly
        workers.send("shipping.labels_package_change_reconcile", **task)  # what beat does for a stale change
        wait_for(
            lambda: PackageChange.unscoped.get(pk=change.pk).state == PurchaseState.PURCHASED,
            60,
            "the restarted worker to read the combine back",
        )
        with organization_scope(tenant.organization):
            purchase = label_purchase_request(order=second)
        workers.send(
            "shipping.labels_purchase", organization_id=str(tenant.organization.pk), purchase_id=str(purchase.pk)
        )
        wait_for(
            lambda: LabelPurchase.unscoped.get(pk=purchase.pk).state == PurchaseState.PURCHASED,
            60,
            "the combined package's label",
        )
    finally:
        workers.stop_all()
    change.refresh_from_db()
    assert change.adopted  # found combined on the platform, not combined a second time
    package_id = change.result["packages"][0]["package_id"]
    platform = harness.control("GET", f"packages/{package_id}")
    assert sorted(platform["order_ids"]) == sorted([first.external_id, second.external_id])
    assert len(platform["labels"]) == 1
    assert labels_for(harness, first) == labels_for(harness, second)
    assert len(labels_for(harness, first)) == 1


# ------------------------------------------------------------------------------ offered before a label is bought
@pytest.mark.django_db
def test_the_order_list_marks_orders_that_can_combine_and_its_combine_button_makes_one_parcel(
    tenant: Any, connected_store: Store, tiktok: Any
) -> None:
    first, second = one_buyer(tiktok, connected_store)
    seller = tenant.client_as(Role.OWNER)
    found = seller.post(reverse("shipping_combinable_refresh"), follow=True)
    assert "can ship as one parcel" in found.content.decode()
    listed = seller.get(reverse("orders_home"), {"can_combine": "true", "status": "all"}).content.decode()
    assert first.external_id in listed
    assert second.external_id in listed
    assert "data-can-combine" in listed
    seller.post(reverse("shipping_combine"), {"order": [str(first.pk), str(second.pk)]})
    with organization_scope(connected_store.organization):
        purchase = label_purchase_request(order=first)
        assert purchase.package_key == "combined"
        assert label_purchase_request(order=second).pk == purchase.pk


@pytest.mark.django_db
def test_the_buy_confirmation_says_how_many_parcels_and_what_combining_saves(
    tenant: Any, connected_store: Store, tiktok: Any
) -> None:
    first, second = one_buyer(tiktok, connected_store)
    unheld(connected_store, [first, second])
    group_of(connected_store, [first, second])
    page = tenant.client_as(Role.OWNER).post(
        reverse("shipping_batch_create"), {"order": [str(first.pk), str(second.pk)]}
    )
    text = page.content.decode()
    assert "2 orders can ship as 1 parcels, saving ≈ " in text
    assert 'data-testid="combine-first"' in text


@pytest.mark.django_db
def test_a_rule_saying_combine_when_possible_combines_before_the_batch_buys_one_label(
    connected_store: Store, tiktok: Any
) -> None:
    first, second = one_buyer(tiktok, connected_store)
    unheld(connected_store, [first, second])
    group_of(connected_store, [first, second])
    with organization_scope(connected_store.organization):
        LogisticsRuleFactory(organization=connected_store.organization, actions={"combine_when_possible": True})
        _plan, batch = label_batch_plan_and_create(
            actor=ACTOR, orders=Order.objects.filter(pk__in=[first.pk, second.pk])
        )
        assert batch is not None
        purchases = list(batch.purchases.all())
        assert len(purchases) == 1  # one parcel, one label to buy
        assert label_purchase_execute(purchase_id=purchases[0].pk) == PurchaseOutcome.BOUGHT
    assert len(labels_for(tiktok, first)) == 1
    assert labels_for(tiktok, first) == labels_for(tiktok, second)


@pytest.mark.django_db
def test_a_combined_package_is_taken_apart_before_its_label_and_each_order_ships_alone(
    connected_store: Store, tiktok: Any
) -> None:
    first, second = one_buyer(tiktok, connected_store)
    group = group_of(connected_store, [first, second])
    with organization_scope(connected_store.organization):
        package_combine(store=connected_store, group=group, actor=ACTOR)
        combined = label_purchase_request(order=first)
        change = package_uncombine(purchase=combined, actor=ACTOR)
        assert change.state == PurchaseState.PURCHASED, change.error_message
        assert not LabelPurchase.objects.filter(pk=combined.pk).exists()
        alone = [label_purchase_request(order=o) for o in (first, second)]
        assert alone[0].pk != alone[1].pk
        assert {p.package_key for p in alone} == {"order"}
        audit = AuditEntry.objects.filter(action="package.uncombined").count()
        assert audit == 1
    orders = store_client_orders(connected_store, [first, second])
    assert len({line.package_id for o in orders for line in o.lines}) != 1  # apart on the platform too


def store_client_orders(store: Store, orders: list[Order]) -> list[Any]:
    with organization_scope(store.organization):
        return store_client(store).get_orders([o.external_id for o in orders])
