"""Service leaks closed (issue 13): the plan → create of a label batch is one service the dashboard and the API both
call, and a printout goes into the print history through an explicit call where it is handed out, never as a side
effect of building it or of viewing the batch."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.actors import Actor
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory.models import WarehouseKind
from orders.models import Order
from shipping import services as shipping_services
from shipping.api import views as api_views
from shipping.documents import printing
from shipping.models import LabelBatch, PrintEvent
from shipping.services import label_batch_plan_and_create
from shipping.views import batches as batch_views
from tests.factories import LabelBatchFactory, OrderFactory, WarehouseFactory
from tests.shipping.test_batch_documents import bought

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def test_plan_and_create_buys_what_may_be_bought_and_says_why_not_the_rest(tenant: Any) -> None:
    org = tenant.organization
    ready = OrderFactory(organization=org)
    held = OrderFactory(organization=org, is_held=True)
    with organization_scope(org):
        plan, batch = label_batch_plan_and_create(
            actor=Actor.system(), orders=Order.objects.filter(pk__in=[ready.pk, held.pk]), estimate={"count": 1}
        )
        assert batch is not None
        assert [o.pk for o in plan.orders] == [ready.pk]
        assert plan.skipped == {"held (see each order's reason)": 1}
        assert list(batch.purchases.values_list("order_id", flat=True)) == [ready.pk]
        assert batch.estimate == {"count": 1}

        again, none = label_batch_plan_and_create(actor=Actor.system(), orders=Order.objects.filter(pk=ready.pk))
        assert none is None
        assert again.skipped == {f"already in batch {batch.reference}": 1}
        assert LabelBatch.objects.count() == 1


@pytest.mark.parametrize("via", ["dashboard", "api"])
def test_the_dashboard_and_the_api_create_a_batch_through_the_one_service(
    tenant: Any, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    calls: list[list[Any]] = []

    def spy(**kwargs: Any) -> Any:
        calls.append([o.pk for o in kwargs["orders"]])
        return shipping_services.label_batch_plan_and_create(**kwargs)

    monkeypatch.setattr(batch_views, "label_batch_plan_and_create", spy)
    monkeypatch.setattr(api_views, "label_batch_plan_and_create", spy)
    order = OrderFactory(organization=tenant.organization)
    if via == "dashboard":
        response = tenant.client.post("/shipping/batches/new/", {"order": [str(order.pk)], "confirmed": "1"})
        assert response.status_code == 302
    else:
        response = tenant.client.post(
            "/api/v1/label-batches/",
            {"orders": [str(order.pk)]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}",
        )
        assert response.status_code == 201
    assert calls == [[order.pk]]
    with organization_scope(tenant.organization):
        assert LabelBatch.objects.get().purchases.get().order_id == order.pk


def test_building_a_printout_writes_nothing_and_print_event_record_puts_it_in_the_history(
    tenant: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    org = tenant.organization
    reno = WarehouseFactory(organization=org, name="Reno", kind=WarehouseKind.OWN)
    batch = LabelBatchFactory(organization=org)
    bought(tenant, batch, reno, tracking="TRK-RENO-1", sku="MUG-RED")
    with organization_scope(org):
        with CaptureQueriesContext(connection) as queries:
            printed = printing.batch_document_build(batch=batch, kind="pick-list", warehouse=None, organization=org)
        assert printed.content.startswith(b"%PDF")
        assert [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)] == []
        assert not PrintEvent.objects.exists()

        event = printing.print_event_record(batch=batch, printed=printed, actor=Actor.system("packer@example.com"))
        assert PrintEvent.objects.get() == event
    assert (event.document, event.warehouse_id, event.printed_by_label) == ("pick-list", reno.pk, "packer@example.com")


def test_viewing_the_batch_records_no_print_and_each_download_records_one(
    tenant: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    org = tenant.organization
    reno = WarehouseFactory(organization=org, name="Reno", kind=WarehouseKind.OWN)
    batch = LabelBatchFactory(organization=org)
    bought(tenant, batch, reno, tracking="TRK-RENO-1", sku="MUG-RED")
    packer = tenant.client_as(Role.WAREHOUSE)
    for _ in range(2):
        assert packer.get(f"/shipping/batches/{batch.pk}/").status_code == 200
    with organization_scope(org):
        assert not PrintEvent.objects.exists()
    assert packer.get(f"/shipping/batches/{batch.pk}/labels-and-slips.pdf")["Content-Type"] == "application/pdf"
    with organization_scope(org):
        assert list(PrintEvent.objects.values_list("document", "warehouse__name")) == [("slips", "Reno")]
