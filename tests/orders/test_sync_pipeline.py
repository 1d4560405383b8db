"""The sync's page pipeline (docs/adr/0033): pages listed on one thread, compared and translated on another, while
the caller commits; and a re-sync of orders Dropline already holds translates none of them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from erp.tenancy import organization_scope
from integrations.interface import ListedOrders
from integrations.models import Store
from integrations.tiktok import translate
from orders import services
from orders.models import Order

LAST_PAGE = 12


def listing(fail_at: int | None = None, listed: list[int] | None = None) -> Any:
    """Pages 1..LAST_PAGE of a platform, each naming the next; page `fail_at` raises instead."""

    def list_page(cursor: str | None) -> ListedOrders:
        number = int(cursor or 1)
        if number == fail_at:
            raise RuntimeError(f"page {number} failed")
        if listed is not None:
            listed.append(number)
        return ListedOrders.translated([], next_cursor=str(number + 1) if number < LAST_PAGE else None)

    return list_page


def prepare(listed: ListedOrders) -> services._PageToImport:
    return services._PageToImport(orders=(), held=0, newest_update=None, next_cursor=listed.next_cursor)


def numbers(pages: Iterator[services._PageToImport]) -> Iterator[int]:
    for page in pages:
        yield int(page.next_cursor) - 1 if page.next_cursor else LAST_PAGE


def test_every_page_is_handed_over_once_in_order() -> None:
    with services._PagePipeline(list_page=listing(), prepare=prepare, more=lambda: True) as pipeline:
        assert list(numbers(pipeline.pages())) == list(range(1, LAST_PAGE + 1))


def test_an_error_comes_after_every_page_listed_before_it() -> None:
    handed: list[int] = []
    with (
        pytest.raises(RuntimeError, match="page 5 failed"),
        services._PagePipeline(list_page=listing(fail_at=5), prepare=prepare, more=lambda: True) as pipeline,
    ):
        handed.extend(numbers(pipeline.pages()))
    assert handed == [1, 2, 3, 4]


def test_a_page_that_cannot_be_prepared_stops_the_listing_and_comes_after_the_pages_before_it() -> None:
    listed: list[int] = []

    def prepare_or_fail(page: ListedOrders) -> services._PageToImport:
        if page.next_cursor == "6":
            raise ValueError("page 5 could not be read")
        return prepare(page)

    handed: list[int] = []
    with (
        pytest.raises(ValueError, match="page 5 could not be read"),
        services._PagePipeline(list_page=listing(listed=listed), prepare=prepare_or_fail, more=lambda: True) as p,
    ):
        handed.extend(numbers(p.pages()))
    assert handed == [1, 2, 3, 4]
    assert len(listed) < LAST_PAGE  # the lister stopped instead of listing on for nobody
    assert not [t for t in threading.enumerate() if t.name == "order-pages"]


def test_the_time_budget_stops_the_listing_and_the_pages_listed_are_still_handed_over() -> None:
    listed: list[int] = []
    budget = iter([True, True, False])
    with services._PagePipeline(list_page=listing(listed=listed), prepare=prepare, more=lambda: next(budget)) as p:
        handed = list(numbers(p.pages()))
    assert handed == listed == [1, 2]  # the first page is always read; `more()` is asked before each one after it


def test_a_slow_caller_holds_at_most_five_pages_and_leaves_no_thread_behind() -> None:
    listed: list[int] = []
    ahead = []
    with services._PagePipeline(list_page=listing(listed=listed), prepare=prepare, more=lambda: True) as pipeline:
        for number in numbers(pipeline.pages()):
            time.sleep(0.02)  # committing
            ahead.append(len(listed) - number)
            if number == 6:
                break  # the caller stops (a failed commit): the threads must end too
    assert max(ahead) <= 4  # one being committed, four more at most: one in each queue and one in each stage
    assert not [t for t in threading.enumerate() if t.name == "order-pages"]


@pytest.fixture
def home_store(tenant: Any, tiktok: Any) -> Store:
    tiktok.connect(tenant.client)
    return Store.unscoped.select_related("authorization").get(name="Dropline Home US")


@pytest.mark.django_db(transaction=True)  # the pipeline's threads read what the sync committed
def test_a_resync_translates_only_the_orders_that_changed(
    home_store: Store, tiktok: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    translated: list[str] = []
    order_from_json = translate.order_from_json

    def counted(data: Any) -> Any:
        translated.append(str(data.get("id")))
        return order_from_json(data)

    tiktok.control("POST", f"shops/{home_store.external_id}/orders", count=450, seed=3)
    monkeypatch.setattr(translate, "order_from_json", counted)
    with organization_scope(home_store.organization):
        Store.unscoped.filter(pk=home_store.pk).update(sync_cursor=None)  # read every order again
        home_store.refresh_from_db()
        services.store_sync(store=home_store)  # the orders new since connecting (connecting imported the rest)
        assert set(translated) <= set(versions())

        translated.clear()
        Store.unscoped.filter(pk=home_store.pk).update(sync_cursor=None)
        home_store.refresh_from_db()
        again = services.store_sync(store=home_store)
        assert again.pages > 2
        assert (again.created, again.updated) == (0, 0)
        assert again.unchanged >= 450  # every order listed, the 450 just placed among them
        assert translated == []

        held = versions()
        tiktok.control("POST", "clock", advance=2 * 3600)  # remorse windows end: those orders change
        third = services.store_sync(store=home_store)
        changed = {external_id for external_id, version in versions().items() if held.get(external_id) != version}
    assert third.updated > 0
    assert len(translated) == third.created + third.updated == len(changed)
    assert set(translated) == changed


def versions() -> dict[str, Any]:
    return dict(Order.objects.values_list("external_id", "platform_updated_at"))
