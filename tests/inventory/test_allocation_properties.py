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
from inventory.services import order_reserve, store_warehouse_order
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
