"""The quick start's demo organizations show a working shop: a connected TikTok shop with its orders, SKUs made from
its seller SKUs, stock in an own warehouse with bins, and a bought label batch, all made through Dropline's services
against the sandbox. Running it again adds nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.management import call_command

from erp.demo import WAREHOUSE_NAME, DemoResult, demo_organizations, demo_populate
from erp.models import Organization, User
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory.models import Sku, StockLevel, Warehouse
from orders.models import Order
from shipping.models import LabelBatch, LabelPurchase, PurchaseState

pytestmark = pytest.mark.django_db


def counts(organization: Organization) -> dict[str, int]:
    with organization_scope(organization):
        return {
            "stores": Store.objects.count(),
            "orders": Order.objects.count(),
            "skus": Sku.objects.count(),
            "warehouses": Warehouse.objects.filter(name=WAREHOUSE_NAME).count(),
            "stocked": StockLevel.objects.filter(on_hand__gt=0).exclude(bin_location="").count(),
            "batches": LabelBatch.objects.count(),
            "bought": LabelPurchase.objects.filter(state=PurchaseState.PURCHASED).count(),
        }


def populate(organization: Organization, seed: int, tiktok: Any, capture: Any) -> DemoResult:
    """As the worker runs it: what each step queues after its commit (syncs, label purchases) runs too, in the
    organization's scope (tasks run inline in tests)."""
    with organization_scope(organization), capture(execute=True):
        return demo_populate(organization=organization, seed=seed, http=tiktok.http)


def test_the_demo_organizations_are_a_working_shop_and_seeding_again_adds_nothing(
    tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    call_command("seed_demo", "--no-populate")
    organizations = demo_organizations()
    assert [o.name for o in organizations] == ["Demo Outfitters", "Demo Print Shop"]

    started = time.monotonic()
    for seed, organization in enumerate(organizations, start=1):
        populate(organization, seed, tiktok, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 30

    for organization in organizations:
        seeded = counts(organization)
        assert seeded["stores"] == 1
        assert seeded["orders"] >= 20
        assert seeded["skus"] > 0
        assert seeded["warehouses"] == 1
        assert seeded["stocked"] == seeded["skus"]
        assert seeded["batches"] == 1
        assert seeded["bought"] >= 1
    # Each demo organization has a sandbox seller of its own: the sandbox's default sellers stay free for a visitor.
    names = sorted(Store.unscoped.filter(organization__in=organizations).values_list("name", flat=True))
    assert names == ["Demo Outfitters Shop 1", "Demo Print Shop Shop 1"]
    first = counts(organizations[0])

    again = populate(organizations[0], 1, tiktok, django_capture_on_commit_callbacks)

    assert counts(organizations[0]) == first
    assert again.steps == []


def test_seed_demo_queues_the_population_for_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr("erp.tasks.demo_seed.delay", lambda **kwargs: queued.append(kwargs))
    call_command("seed_demo")
    call_command("seed_demo")
    assert User.objects.filter(email="demo@dropline.local").count() == 1
    assert Organization.objects.filter(name__startswith="Demo ").count() == 2
    assert len(queued) == 2  # each run asks; the task itself adds nothing the second time
