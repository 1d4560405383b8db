"""Receiving a returned parcel at a warehouse: found by its tracking number or order number, each SKU restocked
(a `return` entry in the ledger, the level up by as much, the stock push asked for) or written off with a reason;
exactly once whatever is scanned, submitted or retried twice; the ledger check still passes."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from erp.actors import Actor
from erp.models import AuditEntry
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory import services as inventory
from inventory.models import (
    MovementKind,
    ReturnOutcome,
    ReturnReceipt,
    ReturnReceiptLine,
    StockLevel,
    StockMovement,
    WarehouseKind,
)
from inventory.push import changed_stock_mark
from orders.models import OrderStatus
from orders.returns import order_return_receive
from tests.factories import (
    ListingFactory,
    OrderFactory,
    OrderLineFactory,
    SkuFactory,
    StoreFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
URL = "/orders/returns/receive/"


@pytest.fixture
def shop(tenant: Any) -> dict[str, Any]:
    """A delivered order of 3 mugs and 1 bag shipped with tracking TRK-OUT-1; 10 mugs and 5 bags on the shelf in
    Reno (received through the ledger)."""
    org = tenant.organization
    with organization_scope(org):
        store = StoreFactory(organization=org)
        reno = WarehouseFactory(organization=org, name="Reno", kind=WarehouseKind.OWN)
        mug = SkuFactory(organization=org, code="MUG-1", name="Mug")
        bag = SkuFactory(organization=org, code="BAG-1", name="Bag")
        inventory.stock_receive(sku=mug, warehouse=reno, quantity=10, actor=ACTOR)
        inventory.stock_receive(sku=bag, warehouse=reno, quantity=5, actor=ACTOR)
        order = OrderFactory(organization=org, store=store, status=OrderStatus.DELIVERED, tracking_number="TRK-OUT-1")
        mug_line = OrderLineFactory(organization=org, order=order, seller_sku="MUG-1", quantity=3)
        OrderLineFactory(organization=org, order=order, seller_sku="BAG-1", quantity=1)
        listing = ListingFactory(organization=org, store=store, platform_sku_id=mug_line.sku_id, sku=mug)
    return {"org": org, "store": store, "reno": reno, "mug": mug, "bag": bag, "order": order, "listing": listing}


def level(shop: dict[str, Any], sku: str) -> int:
    return StockLevel.unscoped.get(sku=shop[sku], warehouse=shop["reno"]).on_hand


def form(shop: dict[str, Any], submission: str | None = None, **lines: Any) -> dict[str, str]:
    """The screen's form: `mug=(2, "restock", "")`-style lines."""
    data = {
        "order": str(shop["order"].pk),
        "warehouse": str(shop["reno"].pk),
        "submission": submission or uuid.uuid4().hex,
        "tracking_number": "RET-9001",
    }
    for name, (quantity, outcome, reason) in lines.items():
        key = str(shop[name].pk)
        data |= {f"quantity-{key}": str(quantity), f"outcome-{key}": outcome, f"reason-{key}": reason}
    return data


def state(shop: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        level(shop, "mug"),
        level(shop, "bag"),
        ReturnReceipt.unscoped.count(),
        StockMovement.unscoped.filter(kind=MovementKind.RETURN).count(),
    )


def test_a_parcel_scanned_by_its_tracking_number_shows_what_can_come_back(shop: dict[str, Any], tenant: Any) -> None:
    page = tenant.client_as(Role.WAREHOUSE).get(URL, {"code": "TRK-OUT-1"}).content.decode()
    assert shop["order"].external_id in page
    assert 'data-sku="MUG-1"' in page
    assert "3 of 3" in page
    assert 'data-sku="BAG-1"' in page


def test_restock_and_write_off_keep_the_ledger_equal_to_the_levels_and_ask_for_a_stock_push(
    shop: dict[str, Any], tenant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = tenant.client_as(Role.WAREHOUSE)
    # What the receipt announces on commit runs in the request's organization scope in production; here the test
    # runs the captured callbacks, in that scope.
    with organization_scope(shop["org"]), django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, form(shop, mug=(2, "restock", ""), bag=(1, "write_off", "crushed box")))
    assert response.status_code == 302
    assert (level(shop, "mug"), level(shop, "bag")) == (12, 5)
    [move] = StockMovement.unscoped.filter(kind=MovementKind.RETURN)
    assert (move.sku_id, move.warehouse_id, move.on_hand_delta, move.order_id) == (
        shop["mug"].pk,
        shop["reno"].pk,
        2,
        shop["order"].pk,
    )
    assert move.reference == "RET-9001"
    receipt = ReturnReceipt.unscoped.get()
    lines = {
        (line.sku.code, line.quantity, line.outcome, line.reason)
        for line in ReturnReceiptLine.unscoped.filter(receipt=receipt).select_related("sku")
    }
    assert lines == {("MUG-1", 2, ReturnOutcome.RESTOCK, ""), ("BAG-1", 1, ReturnOutcome.WRITE_OFF, "crushed box")}
    assert AuditEntry.unscoped.filter(action="return.received").count() == 1
    changed_stock_mark()  # beat's sweep
    shop["listing"].refresh_from_db()
    assert shop["listing"].push_requested_at is not None  # the channels will be told of the two mugs back
    call_command("stock_check")
    page = client.get(URL, {"code": shop["order"].external_id}).content.decode()
    assert "1 of 3" in page  # one mug may still come back; the bag has come back
    assert "0 of 1" in page


@pytest.mark.chaos
def test_a_double_submit_a_retried_request_and_a_second_scan_never_restock_twice(
    shop: dict[str, Any], tenant: Any
) -> None:
    client = tenant.client_as(Role.WAREHOUSE)
    data = form(shop, submission="once-1234", mug=(3, "restock", ""))
    assert client.post(URL, data).status_code == 302
    after = state(shop)
    assert after == (13, 5, 1, 1)
    again = client.post(URL, data, follow=True)  # the same form twice (a double click, a retried request)
    assert "nothing was done twice" in again.content.decode()
    assert client.post(URL, form(shop, mug=(3, "restock", ""))).status_code == 302  # the parcel scanned again
    with organization_scope(shop["org"]):  # and a retried call of the service itself
        receipt, new = order_return_receive(
            order=shop["order"],
            warehouse=shop["reno"],
            lines=[inventory.ReturnLine(shop["mug"].pk, 3, ReturnOutcome.RESTOCK)],
            submission="once-1234",
            actor=ACTOR,
        )
    assert not new
    assert receipt.tracking_number == "RET-9001"  # the first receipt, handed back
    assert state(shop) == after
    call_command("stock_check")


def test_no_sku_comes_back_more_often_than_the_order_holds(shop: dict[str, Any], tenant: Any) -> None:
    client = tenant.client_as(Role.WAREHOUSE)
    first = form(shop, mug=(2, "restock", ""))
    first["tracking_number"] = "RET-A"
    assert client.post(URL, first).status_code == 302
    second = form(shop, mug=(2, "restock", ""))
    second["tracking_number"] = "RET-B"  # another parcel of the same order
    before = state(shop)
    response = client.post(URL, second)
    assert response.status_code == 400
    assert "only 1 of the order" in response.content.decode()
    assert state(shop) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mug": (1, "write_off", "")}, "say why it is written off"),
        ({"mug": ("1e30", "restock", "")}, "is not a whole number"),
        ({"mug": ("-2", "restock", "")}, "cannot be negative"),
        ({"mug": (1, "burn", "")}, "choose restock or write off"),
        ({"mug": (0, "restock", "")}, "Nothing received"),
    ],
)
def test_bad_lines_are_refused_with_the_reason_and_change_nothing(
    shop: dict[str, Any], tenant: Any, change: dict[str, Any], message: str
) -> None:
    before = state(shop)
    response = tenant.client_as(Role.WAREHOUSE).post(URL, form(shop, **change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert state(shop) == before


def test_a_tampered_form_is_refused_and_changes_nothing(shop: dict[str, Any], tenant: Any) -> None:
    client = tenant.client_as(Role.WAREHOUSE)
    before = state(shop)
    for tamper in ({"order": "not-an-id"}, {"warehouse": "x"}, {"submission": ""}, {"submission": "s" * 65}):
        response = client.post(URL, form(shop, mug=(1, "restock", "")) | tamper)
        assert response.status_code == 400, tamper
    assert state(shop) == before


def test_an_order_that_never_shipped_has_nothing_to_receive(shop: dict[str, Any], tenant: Any) -> None:
    type(shop["order"]).unscoped.filter(pk=shop["order"].pk).update(status=OrderStatus.CANCELLED)
    before = state(shop)
    response = tenant.client_as(Role.WAREHOUSE).post(URL, form(shop, mug=(1, "restock", "")))
    assert response.status_code == 400
    assert "never shipped" in response.content.decode()
    assert state(shop) == before


def test_another_organization_cannot_find_or_receive_the_order(
    shop: dict[str, Any], make_tenant: Any, tenant: Any
) -> None:
    other = make_tenant("Other Co")
    with organization_scope(other.organization):
        theirs = WarehouseFactory(organization=other.organization, name="Theirs", kind=WarehouseKind.OWN)
    page = other.client.get(URL, {"code": "TRK-OUT-1"}).content.decode()
    assert 'data-testid="return-not-found"' in page
    assert shop["order"].external_id not in page.replace("TRK-OUT-1", "")
    before = state(shop)
    data = form(shop, mug=(1, "restock", "")) | {"warehouse": str(theirs.pk)}
    assert other.client.post(URL, data).status_code == 400
    # Our order in our form, but their warehouse: refused too.
    assert (
        tenant.client.post(URL, form(shop, mug=(1, "restock", "")) | {"warehouse": str(theirs.pk)}).status_code == 400
    )
    assert state(shop) == before
    assert not ReturnReceiptLine.unscoped.exists()


def test_a_viewer_can_neither_open_the_screen_nor_receive(shop: dict[str, Any], tenant: Any) -> None:
    viewer = tenant.client_as(Role.VIEWER)
    assert viewer.get(URL).status_code == 403
    assert viewer.post(URL, form(shop, mug=(1, "restock", ""))).status_code == 403
    assert ReturnReceipt.unscoped.count() == 0


@pytest.mark.postgres
@pytest.mark.chaos
@pytest.mark.django_db(transaction=True)
def test_four_people_receiving_the_same_parcel_at_once_restock_it_once(shop: dict[str, Any]) -> None:
    start = threading.Barrier(4)
    news: list[bool] = []
    errors: list[str] = []

    def receive(n: int) -> None:
        try:
            start.wait()
            with organization_scope(shop["org"]):
                _, new = order_return_receive(
                    order=shop["order"],
                    warehouse=shop["reno"],
                    lines=[inventory.ReturnLine(shop["mug"].pk, 3, ReturnOutcome.RESTOCK)],
                    submission=f"station-{n}",  # four forms, one parcel
                    actor=ACTOR,
                    tracking_number="RET-SAME",
                )
            news.append(new)
        except inventory.StockError as error:
            errors.extend(error.messages)
        finally:
            connection.close()

    threads = [threading.Thread(target=receive, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(news) == [False, False, False, True]
    assert errors == []
    assert state(shop) == (13, 5, 1, 1)
    call_command("stock_check")
