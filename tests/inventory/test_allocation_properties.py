"""Properties of allocation over generated stock (hypothesis, real rows): where `orders.stock.allocate` sends an
order, namely `inventory.services.store_warehouse_order` (the candidates, best first) and `order_reserve` (the
first candidate that can ship it whole).

- an order goes to the first candidate with stock for all of it whenever one exists, never to one short of it, and
  to a make-to-order supplier only when no stocked warehouse can ship it and the supplier supplies every SKU;
- reserved never exceeds on hand, and equals the reservations held at each level;
- the same state allocates the same way.

Each example builds its rows inside a savepoint and rolls them back, so examples do not see each other."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erp.actors import Actor
from erp.tenancy import organization_scope
from inventory.models import Reservation, StockLevel, WarehouseKind
from inventory.services import (
    ReservationRequest,
    order_reserve,
    orders_reserve,
    sources_by_sku,
    store_warehouse_order,
)
from tests.factories import (
    SkuFactory,
    SkuSupplierFactory,
    StockLevelFactory,
    StoreFactory,
    StoreWarehouseFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db

SKUS = ("CAST", "WICK", "JAR")
ACTOR = Actor.system("Allocation properties")
# The tenant fixture is made once per test and shared by its examples: each example rolls its own rows back.
PROPERTY = settings(
    max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@dataclass(frozen=True)
class Place:
    name: str
    on_hand: dict[str, int]  # a stocked warehouse's units per SKU
    buffer: int  # safety buffer on each of its levels
    ranked: bool  # in the store's ranking (ranked ones come first, in this order)


@dataclass(frozen=True)
class World:
    places: tuple[Place, ...]
    supplies: tuple[str, ...]  # SKUs the make-to-order supplier supplies (none: no supplier)
    orders: tuple[dict[str, int], ...]  # each order's units per SKU, in arrival order


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(1, 4))
    places = tuple(
        Place(
            name=f"W{i}",
            on_hand=draw(st.fixed_dictionaries({sku: st.integers(0, 4) for sku in SKUS})),
            buffer=draw(st.integers(0, 1)),
            ranked=draw(st.booleans()),
        )
        for i in range(count)
    )
    supplies = tuple(draw(st.lists(st.sampled_from(SKUS), unique=True, max_size=len(SKUS))))
    demand = st.dictionaries(st.sampled_from(SKUS), st.integers(1, 3), min_size=1, max_size=len(SKUS))
    return World(places=places, supplies=supplies, orders=tuple(draw(st.lists(demand, min_size=1, max_size=5))))


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint undone at the end, whatever happens inside."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def build(org: Any, world: World) -> tuple[Any, dict[str, Any], dict[Any, str]]:
    """The rows of `world`: a store, SKUs, warehouses with stock, the ranking, the supplier. (store, sku by code,
    warehouse name by id)."""
    store = StoreFactory(organization=org)
    skus = {code: SkuFactory(organization=org, code=code) for code in SKUS}
    names: dict[Any, str] = {}
    rank = 0
    for place in world.places:
        warehouse = WarehouseFactory(organization=org, name=place.name, kind=WarehouseKind.OWN)
        names[warehouse.pk] = place.name
        for code, units in place.on_hand.items():
            StockLevelFactory(
                organization=org, sku=skus[code], warehouse=warehouse, on_hand=units, safety_buffer=place.buffer
            )
        if place.ranked:
            rank += 1
            StoreWarehouseFactory(organization=org, store=store, warehouse=warehouse, rank=rank)
    if world.supplies:
        maker = WarehouseFactory(organization=org, name="Maker", kind=WarehouseKind.SUPPLIER, tracks_stock=False)
        names[maker.pk] = "Maker"
        for code in world.supplies:
            SkuSupplierFactory(organization=org, sku=skus[code], warehouse=maker)
    return store, skus, names


def available(skus: dict[str, Any]) -> dict[tuple[str, Any], int]:
    """(SKU code, warehouse id) → units available now, read from the rows."""
    code_of = {sku.pk: code for code, sku in skus.items()}
    return {
        (code_of[level.sku_id], level.warehouse_id): level.available
        for level in StockLevel.objects.filter(sku__in=list(skus.values()))
    }


def allocate_all(store: Any, skus: dict[str, Any], world: World, names: dict[Any, str]) -> list[str | None]:
    """Reserve each order in turn as `orders.stock.allocate` does, checking each choice against the stock it was
    made on; the names of the warehouses chosen (None: held)."""
    chosen: list[str | None] = []
    for demand in world.orders:
        candidates = store_warehouse_order(store=store)
        free = available(skus)
        can_ship = [
            c.warehouse_id
            for c in candidates
            if c.tracks_stock and all(free.get((code, c.warehouse_id), 0) >= units for code, units in demand.items())
        ]
        result = order_reserve(
            order_id=uuid4(),
            demand={skus[code].pk: units for code, units in demand.items()},
            warehouse_ids=[c.warehouse_id for c in candidates],
            actor=ACTOR,
        )
        if can_ship:  # stock exists somewhere: the first candidate that has it all, never one short of it
            assert result.warehouse_id == can_ship[0]
        elif result.warehouse_id is not None:  # no stocked warehouse can: only a supplier of every SKU in it
            assert names[result.warehouse_id] == "Maker"
            assert set(demand) <= set(world.supplies)
        else:
            assert not set(demand) <= set(world.supplies)
        chosen.append(names.get(result.warehouse_id))
    return chosen


def assert_levels_consistent(skus: dict[str, Any]) -> None:
    held = {
        (row["sku_id"], row["warehouse_id"]): row["units"]
        for row in Reservation.objects.values("sku_id", "warehouse_id").annotate(units=Sum("quantity"))
    }
    for level in StockLevel.objects.filter(sku__in=list(skus.values())):
        assert 0 <= level.reserved <= level.on_hand, level
        assert level.reserved == held.get((level.sku_id, level.warehouse_id), 0), level


@PROPERTY
@given(world=worlds())
def test_an_order_goes_to_the_first_warehouse_with_stock_for_all_of_it(tenant: Any, world: World) -> None:
    org = tenant.organization
    with organization_scope(org), rolled_back():
        store, skus, names = build(org, world)
        allocate_all(store, skus, world, names)
        assert_levels_consistent(skus)


@settings(PROPERTY, max_examples=20)
@given(world=worlds())
def test_the_same_state_allocates_the_same_way(tenant: Any, world: World) -> None:
    org = tenant.organization
    runs = []
    for _ in range(2):
        with organization_scope(org), rolled_back():
            store, skus, names = build(org, world)
            runs.append(allocate_all(store, skus, world, names))
    assert runs[0] == runs[1]


Outcome = tuple[str | None, dict[str, int], dict[str, list[str]] | None]


def outcomes_one_by_one(store: Any, skus: dict[str, Any], world: World, names: dict[Any, str]) -> list[Outcome]:
    """Each order reserved on its own, in turn (the first order once more at the end: it keeps what it got); for a
    held order, where each SKU could ship from right then (`sources_by_sku`)."""
    code_of = {sku.pk: code for code, sku in skus.items()}
    warehouse_ids = [c.warehouse_id for c in store_warehouse_order(store=store)]
    order_ids = [uuid4() for _ in world.orders]
    outcomes: list[Outcome] = []
    for order_id, demand in [*zip(order_ids, world.orders, strict=True), (order_ids[0], world.orders[0])]:
        units = {skus[code].pk: n for code, n in demand.items()}
        result = order_reserve(order_id=order_id, demand=units, warehouse_ids=warehouse_ids, actor=ACTOR)
        sources = None
        if result.warehouse_id is None:
            by_sku = sources_by_sku(demand=units, warehouse_ids=warehouse_ids)
            sources = {code_of[sku_id]: [names[w] for w in where] for sku_id, where in by_sku.items()}
        short = {code_of[sku_id]: n for sku_id, n in result.short.items()}
        outcomes.append((names.get(result.warehouse_id), short, sources))
    return outcomes


def outcomes_as_a_page(store: Any, skus: dict[str, Any], world: World, names: dict[Any, str]) -> list[Outcome]:
    """The same orders (and the first one again) reserved in one call, as a page of imported orders is."""
    code_of = {sku.pk: code for code, sku in skus.items()}
    warehouse_ids = [c.warehouse_id for c in store_warehouse_order(store=store)]
    order_ids = [uuid4() for _ in world.orders]
    requests = [
        ReservationRequest(
            order_id=order_id, demand={skus[code].pk: n for code, n in demand.items()}, warehouse_ids=warehouse_ids
        )
        for order_id, demand in [*zip(order_ids, world.orders, strict=True), (order_ids[0], world.orders[0])]
    ]
    return [
        (
            names.get(result.warehouse_id),
            {code_of[sku_id]: n for sku_id, n in result.short.items()},
            None
            if result.sources is None
            else {code_of[sku_id]: [names[w] for w in where] for sku_id, where in result.sources.items()},
        )
        for result in orders_reserve(requests=requests, actor=ACTOR, explain=True)
    ]


@settings(PROPERTY, max_examples=30)
@given(world=worlds())
def test_a_page_reserved_at_once_gives_each_order_what_it_gets_one_by_one(tenant: Any, world: World) -> None:
    """The batch path (one set of locks for a page) decides every order as reserving them in turn would: the same
    warehouse, the same shortfall, the same explanation of a hold, and the same stock left."""
    org = tenant.organization
    runs, levels = [], []
    for reserve in (outcomes_one_by_one, outcomes_as_a_page):
        with organization_scope(org), rolled_back():
            store, skus, names = build(org, world)
            runs.append(reserve(store, skus, world, names))
            assert_levels_consistent(skus)
            code_of = {sku.pk: code for code, sku in skus.items()}
            levels.append(
                sorted(
                    (code_of[level.sku_id], names[level.warehouse_id], level.on_hand, level.reserved)
                    for level in StockLevel.objects.filter(sku__in=list(skus.values()))
                )
            )
    assert runs[0] == runs[1]
    assert levels[0] == levels[1]
