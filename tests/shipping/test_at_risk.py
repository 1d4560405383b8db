"""Orders at risk: the situations a seller meets (a held order near its deadline, a supplier that does not
acknowledge, a warehouse past its cut-off, a weekend, a queue beyond a warehouse's capacity) are ranked by slack with
the reason and the fix; orders TikTok fulfils, or with time to spare, are left out; alerts go once per order and
threshold. Every test runs at a fixed "now" (no wall clock)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from erp.celery import app as celery_app
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory.models import WarehouseKind
from orders.models import HoldReason, OrderStatus
from shipping.at_risk import Assessment, Calendar, at_risk_alerts_send, orders_assess, orders_at_risk
from shipping.models import AtRiskAlert, PurchaseState
from shipping.tasks import at_risk_check
from tests.factories import (
    HandoffFactory,
    HandoffItemFactory,
    LabelBatchFactory,
    LabelPurchaseFactory,
    MembershipFactory,
    OrderFactory,
    OrderHoldFactory,
    StoreFactory,
    WarehouseFactory,
)

LA = ZoneInfo("America/Los_Angeles")


def la(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Los Angeles time (the 24th is a Tuesday, the 28th a Saturday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LA)


TUESDAY_1PM = la(24, 13)


def at_risk(tenant: Any, now: datetime, **filters: Any) -> list[Assessment]:
    with organization_scope(tenant.organization):
        return orders_at_risk(organization=tenant.organization, now=now, **filters)


def by_ref(assessments: list[Assessment]) -> dict[str, Assessment]:
    return {a.external_id: a for a in assessments}


def warehouse(tenant: Any, name: str, **fields: Any) -> Any:
    fields = {"time_zone": "America/Los_Angeles", "working_days": "12345", **fields}
    return WarehouseFactory(organization=tenant.organization, name=name, **fields)


def order(tenant: Any, ref: str, store: Any, **fields: Any) -> Any:
    return OrderFactory(organization=tenant.organization, store=store, external_id=ref, **fields)


def bought(tenant: Any, order_row: Any, batch: Any = None, **fields: Any) -> Any:
    return LabelPurchaseFactory(
        organization=tenant.organization,
        order=order_row,
        batch=batch or LabelBatchFactory(organization=tenant.organization),
        state=PurchaseState.PURCHASED,
        **fields,
    )


@pytest.fixture
def world(tenant: Any) -> dict[str, Any]:
    """Tuesday 13:00 in Los Angeles. Reno's cut-off (12:00) has passed; Ontario ships until 17:00; a supplier that
    has not acknowledged its labels; and orders that are fine."""
    org = tenant.organization
    store = StoreFactory(organization=org, name="Glow US")
    reno = warehouse(tenant, "Reno DC", cutoff_time=time(12, 0), contact_name="Sam", phone="775-555-0100")
    ontario = warehouse(tenant, "Ontario", cutoff_time=time(17, 0))
    sun = warehouse(tenant, "Shenzhen Sun", kind=WarehouseKind.SUPPLIER, cutoff_time=time(18, 0))
    # Past cut-off: bought and waiting to be packed at Reno, due tonight; Reno ships again tomorrow 08:00.
    cutoff = order(tenant, "CUTOFF", store, warehouse=reno, ship_by=la(24, 20))
    bought(tenant, cutoff)
    # Held near its deadline: an invalid address, no label, 1 h 30 min left.
    held = order(tenant, "HELD", store, warehouse=ontario, ship_by=la(24, 14, 30), is_held=True)
    OrderHoldFactory(organization=org, order=held, reason=HoldReason.ADDRESS_INVALID, detail="ZIP code “0000”.")
    # The supplier has had the label five hours and not acknowledged it; 2 h left.
    silent = order(tenant, "SILENT", store, warehouse=sun, ship_by=la(24, 15))
    batch = LabelBatchFactory(organization=org, reference="B-0007")
    handoff = HandoffFactory(organization=org, warehouse=sun, batch=batch, created_at=TUESDAY_1PM - timedelta(hours=5))
    HandoffItemFactory(organization=org, handoff=handoff, purchase=bought(tenant, silent, batch))
    # Fine: a bought label with a day to spare; an order TikTok fulfils, already past its deadline; an order already
    # packed; a cancelled one.
    spare = order(tenant, "SPARE", store, warehouse=ontario, ship_by=la(25, 17))
    bought(tenant, spare)
    order(tenant, "FBT", store, fulfilled_by="platform", ship_by=la(24, 9))
    packed = order(tenant, "PACKED", store, warehouse=ontario, ship_by=la(24, 12))
    bought(tenant, packed, packed_at=TUESDAY_1PM - timedelta(hours=2))
    order(tenant, "CANCELLED", store, status=OrderStatus.CANCELLED, ship_by=la(24, 9))
    return {
        "store": store,
        "reno": reno,
        "ontario": ontario,
        "sun": sun,
        "held": held,
        "silent": silent,
        "cutoff": cutoff,
        "handoff": handoff,
    }


@pytest.mark.django_db
def test_the_situations_are_ranked_by_slack_with_reasons_and_fixes(tenant: Any, world: dict[str, Any]) -> None:
    ranked = at_risk(tenant, TUESDAY_1PM)

    # Reno cannot ship before tomorrow 08:00 (+30 min packing): 12 h 30 min too late. The supplier needs its lead
    # (2 h) and packing (30 min) after 13:00: 30 min too late. The held order needs a person (1 h), the label
    # (15 min) and packing (30 min): 15 min too late.
    assert [a.external_id for a in ranked] == ["CUTOFF", "SILENT", "HELD"]
    assert [a.slack for a in ranked] == [
        -timedelta(hours=12, minutes=30),
        -timedelta(minutes=30),
        -timedelta(minutes=15),
    ]
    assert not any(a.late for a in ranked)

    cutoff, silent, held = ranked
    assert cutoff.primary.code == "closed"
    assert cutoff.primary.text == "Reno DC is past today's cut-off (12:00 PST); it ships again Wed 08:00 PST."
    assert cutoff.primary.fix_text == (
        "Ask Reno DC (Sam, 775-555-0100) to ship it today anyway, or take the package to the carrier yourself."
    )
    assert cutoff.primary.fix.url == reverse("inventory_warehouse_detail", kwargs={"pk": world["reno"].pk})
    assert [r.code for r in cutoff.reasons] == ["closed", "not_packed"]
    assert cutoff.deadline_text == "Ships by Tue 20:00 PST · 7 h left"
    assert cutoff.ready_text == "Can be out Wed 08:30 PST at the earliest, 12 h 30 min too late"

    assert silent.primary.code == "supplier_ack"
    assert silent.primary.text == "Shenzhen Sun has not acknowledged the label (sent Tue 08:00 PST)."
    assert silent.primary.fix.label == "Nudge Shenzhen Sun"
    assert silent.primary.fix.url == reverse("shipping_handoff", kwargs={"pk": world["handoff"].pk})

    assert [r.code for r in held.reasons] == ["held:address_invalid", "no_label"]
    assert held.primary.text == "Held: the address looks invalid."
    assert held.primary.detail == "ZIP code “0000”."
    assert held.primary.fix.url == reverse("orders_detail", kwargs={"pk": world["held"].pk})
    assert "Ask the buyer to correct the address" in held.primary.fix_text
    buy = held.reasons[1].fix
    assert (buy.label, buy.method, buy.url) == ("Buy label", "post", reverse("shipping_batch_create"))
    assert buy.fields == (("order", str(world["held"].pk)),)
    assert held.deadline_text == "Ships by Tue 14:30 PST · 1 h 30 min left"


@pytest.mark.django_db
def test_orders_that_can_make_it_or_have_nothing_to_do_are_not_at_risk(tenant: Any, world: dict[str, Any]) -> None:
    with organization_scope(tenant.organization):
        everything = by_ref(orders_assess(organization=tenant.organization, now=TUESDAY_1PM))
    # A bought label with a day to spare: assessed, positive slack, not at risk.
    spare = everything["SPARE"]
    assert not spare.at_risk
    assert spare.slack == la(25, 17) - la(24, 13, 30)
    assert spare.ready_text == "Can be out Tue 13:30 PST, 1 d 3 h to spare"
    # TikTok fulfils FBT orders; packed and cancelled orders have left: none is even assessed.
    assert {"FBT", "PACKED", "CANCELLED"}.isdisjoint(everything)
    assert set(everything) == {"CUTOFF", "SILENT", "HELD", "SPARE"}


@pytest.mark.django_db
def test_a_bought_order_stays_tracked_until_packed_even_when_tiktok_says_awaiting_collection(
    tenant: Any, world: dict[str, Any]
) -> None:
    """Buying the label moves the order to "awaiting collection" on TikTok; it has still to leave the warehouse.
    A label bought elsewhere (no purchase here) is not ours to track."""
    store, reno = world["store"], world["reno"]
    bought(tenant, order(tenant, "COLLECT", store, warehouse=reno, ship_by=la(24, 18), status="AWAITING_COLLECTION"))
    order(tenant, "ELSEWHERE", store, warehouse=reno, ship_by=la(24, 18), status="AWAITING_COLLECTION")
    refs = by_ref(at_risk(tenant, TUESDAY_1PM))
    assert refs["COLLECT"].primary.code == "closed"
    assert "ELSEWHERE" not in refs


@pytest.mark.django_db
def test_late_orders_come_first_and_say_how_late(tenant: Any, world: dict[str, Any]) -> None:
    ranked = at_risk(tenant, la(24, 16))  # the held order (14:30) and the supplier's (15:00) are now late
    # At 16:00 everything left spills into Wednesday: the held order (a person, then the label: 17:15, past Ontario's
    # 17:00 cut-off) and the supplier's (its 2 h lead ends at its 18:00 cut-off) are both packed Wed 08:30.
    assert [(a.external_id, a.slack) for a in ranked] == [
        ("HELD", -timedelta(hours=18)),
        ("SILENT", -timedelta(hours=17, minutes=30)),
        ("CUTOFF", -timedelta(hours=12, minutes=30)),
    ]
    refs = by_ref(ranked)
    assert refs["HELD"].late
    assert refs["HELD"].deadline_text == "Late by 1 h 30 min (ship-by Tue 14:30 PST)"
    assert refs["SILENT"].short_text == "late by 1 h"
    assert not refs["CUTOFF"].late
    assert refs["CUTOFF"].short_text == "4 h left"


@pytest.mark.django_db
def test_weekends_do_not_count_as_working_time(tenant: Any) -> None:
    store = StoreFactory(organization=tenant.organization)
    weekdays = warehouse(tenant, "Weekdays", cutoff_time=time(17, 0))
    six_days = warehouse(tenant, "Six days", cutoff_time=time(17, 0), working_days="123456")
    saturday_10am = la(28, 10)
    due_today = order(tenant, "SAT-WEEKDAYS", store, warehouse=weekdays, ship_by=la(28, 18))
    bought(tenant, due_today)
    bought(tenant, order(tenant, "SAT-SIX-DAYS", store, warehouse=six_days, ship_by=la(28, 18)))
    # Monday 08:15: the label (15 min) can be bought over the weekend, but packing waits for Monday 08:00.
    order(tenant, "MON-EARLY", store, warehouse=weekdays, ship_by=la(30, 8, 15))
    order(tenant, "MON-NOON", store, warehouse=weekdays, ship_by=la(30, 12))

    ranked = by_ref(at_risk(tenant, saturday_10am))
    assert set(ranked) == {"SAT-WEEKDAYS", "MON-EARLY"}
    closed = ranked["SAT-WEEKDAYS"].primary
    assert closed.code == "closed"
    assert closed.text == "Weekdays does not ship on Saturdays; it ships again Mon 08:00 PST."
    assert ranked["SAT-WEEKDAYS"].slack == la(28, 18) - la(30, 8, 30)
    assert ranked["MON-EARLY"].primary.code == "no_label"
    assert ranked["MON-EARLY"].slack == -timedelta(minutes=15)


@pytest.mark.django_db
def test_a_queue_beyond_the_warehouse_capacity_puts_the_last_order_at_risk(tenant: Any) -> None:
    """Four packages a day (08:00–17:00, so 2 h 15 min each); eight unheld orders due before ours. A held order
    waits for a person, not for the queue, so it does not count."""
    store = StoreFactory(organization=tenant.organization)
    barn = warehouse(tenant, "Backlog Barn", cutoff_time=time(17, 0), daily_capacity=4)
    tuesday_10am = la(24, 10)
    for n in range(8):
        bought(tenant, order(tenant, f"Q{n}", store, warehouse=barn, ship_by=la(26, 9)))
    held = order(tenant, "HELD-EARLY", store, warehouse=barn, ship_by=la(25, 12), is_held=True)
    OrderHoldFactory(organization=tenant.organization, order=held, reason=HoldReason.OUT_OF_STOCK)
    last = order(tenant, "LAST", store, warehouse=barn, ship_by=la(26, 9, 1))
    bought(tenant, last)

    ranked = at_risk(tenant, tuesday_10am)
    # 8 ahead = 2 working days (18 h) + 30 min packing from Tue 10:00: Thu 10:30, 1 h 29 min after 09:01.
    assert [a.external_id for a in ranked] == ["LAST"]
    queue = ranked[0]
    assert queue.slack == la(26, 9, 1) - la(26, 10, 30)
    assert queue.primary.code == "backlog"
    assert queue.primary.text == (
        "8 orders due earlier are queued at Backlog Barn, which ships 4 a day: about 2.0 working days of work ahead."
    )
    assert queue.primary.fix.url == reverse("inventory_warehouse_detail", kwargs={"pk": barn.pk})
    assert [r.code for r in queue.reasons] == ["backlog", "not_packed"]


@pytest.mark.django_db
def test_filters_by_store_and_warehouse(tenant: Any, world: dict[str, Any]) -> None:
    other_store = StoreFactory(organization=tenant.organization, name="Glow UK")
    order(tenant, "UK-HELD", other_store, warehouse=world["ontario"], ship_by=la(24, 13, 30), is_held=True)
    assert [a.external_id for a in at_risk(tenant, TUESDAY_1PM, store_id=other_store.pk)] == ["UK-HELD"]
    by_warehouse = at_risk(tenant, TUESDAY_1PM, warehouse_id=world["ontario"].pk)
    assert [a.external_id for a in by_warehouse] == ["UK-HELD", "HELD"]


@pytest.mark.django_db
def test_the_pass_is_a_handful_of_queries_whatever_the_number_of_orders(
    tenant: Any, world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    store = world["store"]
    for n in range(40):
        held = order(tenant, f"MORE-{n}", store, warehouse=world["sun"], ship_by=la(24, 14), is_held=True)
        OrderHoldFactory(organization=tenant.organization, order=held, reason=HoldReason.UNMAPPED_SKU)
        bought(tenant, order(tenant, f"BOUGHT-{n}", store, warehouse=world["reno"], ship_by=la(25, 8, 15)))
    with django_assert_max_num_queries(4):
        ranked = at_risk(tenant, TUESDAY_1PM)
    assert len(ranked) == 83
    unmapped = by_ref(ranked)["MORE-0"].primary
    assert unmapped.code == "held:unmapped_sku"
    assert unmapped.fix.url == f"{reverse('inventory_listings')}?mapped=no&store={store.pk}"


def test_business_time_skips_nights_weekends_and_moves_work_past_the_cutoff_to_the_next_day() -> None:
    calendar = Calendar(zone=LA, working_days="12345", opens=time(8), closes=time(14), since=la(27, 9))
    assert calendar.advance(la(27, 13), timedelta(hours=2)) == la(30, 9)  # Fri 13:00 + 2 h → Mon 09:00
    assert calendar.advance(la(27, 15), timedelta(minutes=30)) == la(30, 8, 30)  # after the cut-off
    assert calendar.working_between(la(27, 12), la(30, 10)) == timedelta(hours=4)
    assert calendar.next_open(la(28, 11)) == la(30, 8)


# --------------------------------------------------------------------------------------------------------- alerts
@pytest.fixture
def owners_and_admins(tenant: Any) -> set[str]:
    admin = MembershipFactory(organization=tenant.organization, role=Role.ADMIN)
    MembershipFactory(organization=tenant.organization, role=Role.OPERATOR)  # not mailed
    return {tenant.owner.email, admin.user.email}


def run_alerts(tenant: Any, now: datetime, capture: Any) -> Any:
    with capture(execute=True), organization_scope(tenant.organization):
        return at_risk_alerts_send(organization=tenant.organization, now=now)


@pytest.mark.django_db
def test_an_alert_goes_once_per_order_and_threshold(
    tenant: Any, owners_and_admins: set[str], django_capture_on_commit_callbacks: Any
) -> None:
    """Mondays only: nothing at this warehouse ships before next Monday, so every order there is at risk."""
    store = StoreFactory(organization=tenant.organization)
    mondays = warehouse(tenant, "Mondays only", working_days="1", cutoff_time=time(17, 0))
    start = la(24, 10)
    bought(tenant, order(tenant, "SOON", store, warehouse=mondays, ship_by=start + timedelta(hours=20)))
    bought(tenant, order(tenant, "LATER", store, warehouse=mondays, ship_by=start + timedelta(hours=30)))
    bought(tenant, order(tenant, "LATE", store, warehouse=mondays, ship_by=start - timedelta(hours=1)))

    first = run_alerts(tenant, start, django_capture_on_commit_callbacks)
    # SOON crossed 24 h; LATE is past every threshold (recorded at once, announced once); LATER is 30 h away.
    assert (first.announced, first.recorded) == (2, 4)
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert set(digest.to) == owners_and_admins
    assert digest.subject == "Acme Outfitters: 2 orders at risk of shipping late (1 already late)"
    assert "Order SOON" in digest.body
    assert "Order LATE" in digest.body
    assert "LATER" not in digest.body
    assert "Mondays only does not ship on Tuesdays" in digest.body
    assert reverse("shipping_at_risk") in digest.body

    # The next runs find nothing new: no mail.
    again = run_alerts(tenant, start + timedelta(minutes=5), django_capture_on_commit_callbacks)
    assert (again.announced, again.recorded) == (0, 0)
    assert len(mail.outbox) == 1

    # Six hours later LATER crosses 24 h; SOON has 14 h left (no new threshold).
    later = run_alerts(tenant, start + timedelta(hours=6), django_capture_on_commit_callbacks)
    assert later.announced == 1
    assert "Order LATER" in mail.outbox[-1].body
    assert "SOON" not in mail.outbox[-1].body

    # Thirteen hours in, SOON has 7 h left: its 8 h threshold, once.
    for _ in range(2):
        run_alerts(tenant, start + timedelta(hours=13), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 3
    assert "Order SOON" in mail.outbox[-1].body
    assert "(Alert at 8 h before its deadline.)" in mail.outbox[-1].body

    with organization_scope(tenant.organization):
        sent = sorted(AtRiskAlert.objects.values_list("order__external_id", "threshold_hours"))
    assert sent == [("LATE", 2), ("LATE", 8), ("LATE", 24), ("LATER", 24), ("SOON", 8), ("SOON", 24)]


@pytest.mark.django_db
def test_the_beat_task_runs_every_organization_with_a_store(
    tenant: Any, make_tenant: Any, owners_and_admins: set[str], django_capture_on_commit_callbacks: Any
) -> None:
    store = StoreFactory(organization=tenant.organization)
    make_tenant("No stores yet")
    # Against the wall clock here: the beat task has no "now" to inject. Late by a day: at risk whenever it runs.
    held = order(tenant, "WALL", store, ship_by=la(1, 0) - timedelta(days=1), is_held=True)
    OrderHoldFactory(organization=tenant.organization, order=held, reason=HoldReason.CANCEL_REQUESTED)
    with django_capture_on_commit_callbacks(execute=True):
        assert at_risk_check.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        at_risk_check.delay().get()
    assert len(mail.outbox) == 1
    assert celery_app.conf.beat_schedule["shipping-at-risk-check"]["task"] == "shipping.at_risk_check"
    assert "Order WALL" in mail.outbox[0].body
    assert "Held: the buyer asked to cancel" in mail.outbox[0].body


# ------------------------------------------------------------------------------------------------ the screens
@pytest.fixture
def tuesday_1pm(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The screens read the clock through shipping.at_risk.clock: fix it."""
    monkeypatch.setattr("shipping.at_risk.clock", lambda: TUESDAY_1PM)
    return TUESDAY_1PM


@pytest.mark.django_db
def test_the_page_ranks_and_offers_the_fix_the_member_may_use(
    tenant: Any, world: dict[str, Any], tuesday_1pm: datetime
) -> None:
    response = tenant.client.get(reverse("shipping_at_risk"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("HELD") > body.index("SILENT") > body.index("CUTOFF")
    assert "Nudge Shenzhen Sun" in body
    assert "Fix the address" in body
    viewer = tenant.client_as(Role.VIEWER).get(reverse("shipping_at_risk")).content.decode()
    assert "Nudge Shenzhen Sun" not in viewer
    assert "Open order" in viewer
    filtered = tenant.client.get(reverse("shipping_at_risk"), {"warehouse": str(world["sun"].pk)}).content.decode()
    assert "SILENT" in filtered
    assert "CUTOFF" not in filtered
    nonsense = tenant.client.get(reverse("shipping_at_risk"), {"store": "not-a-store"})
    assert nonsense.status_code == 200  # an unknown filter value is ignored, not an error


@pytest.mark.django_db
def test_the_dashboard_card_counts_and_names_the_worst(
    tenant: Any, world: dict[str, Any], tuesday_1pm: datetime
) -> None:
    cards = {card.label: card for card in tenant.client.get(reverse("dashboard")).context["cards"]}
    card = cards["At risk of shipping late"]
    assert card.value == "3"
    assert card.url == reverse("shipping_at_risk")
    assert card.hint == "Most urgent: CUTOFF (7 h left), SILENT (2 h left)"
    assert card.tone == "warn"


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_sends_alerts_from_a_worker_outside_any_transaction(
    tenant: Any, owners_and_admins: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a worker runs it: no test transaction around it (select_for_update needs one of its own)."""
    from shipping import at_risk
    from shipping.tasks import at_risk_check

    store = StoreFactory(organization=tenant.organization)
    mondays = warehouse(tenant, "Mondays only", working_days="1", cutoff_time=time(17, 0))
    start = la(24, 10)
    bought(tenant, order(tenant, "SOON", store, warehouse=mondays, ship_by=start + timedelta(hours=20)))
    monkeypatch.setattr(at_risk, "clock", lambda: start)
    assert at_risk_check() == 1  # tasks run inline in tests: the organization's alert run happened
    assert len(mail.outbox) == 1
    assert "Order SOON" in mail.outbox[0].body
    assert AtRiskAlert.unscoped.filter(order__external_id="SOON").count() == 1


# ------------------------------------------------------------------------------- every row says why, in words
@pytest.mark.django_db
def test_a_supplier_that_acknowledged_but_has_not_handed_over_is_the_reason(
    tenant: Any, world: dict[str, Any], tuesday_1pm: datetime
) -> None:
    """Acknowledged, not handed over, 20 min to go (packing alone takes 30): at risk, and the row names the supplier
    and its handoff instead of an empty reason."""
    org = tenant.organization
    store, sun = world["store"], world["sun"]
    waiting = order(tenant, "ACKED", store, warehouse=sun, ship_by=la(24, 13, 20))
    batch = LabelBatchFactory(organization=org, reference="B-0008")
    handoff = HandoffFactory(organization=org, warehouse=sun, batch=batch, acknowledged_at=TUESDAY_1PM)
    HandoffItemFactory(organization=org, handoff=handoff, purchase=bought(tenant, waiting, batch))

    acked = by_ref(at_risk(tenant, TUESDAY_1PM))["ACKED"]

    assert acked.primary is not None
    assert acked.primary.code == "not_handed_over"
    assert acked.primary.text == "Shenzhen Sun acknowledged the label but has not handed the package over yet."
    assert acked.primary.fix.url == reverse("shipping_handoff", kwargs={"pk": handoff.pk})
    body = tenant.client.get(reverse("shipping_at_risk")).content.decode()
    assert "Shenzhen Sun acknowledged the label but has not handed the package over yet." in body


@pytest.mark.django_db
def test_every_at_risk_order_states_a_reason_and_a_fix(tenant: Any, world: dict[str, Any]) -> None:
    for now in (TUESDAY_1PM, la(24, 16), la(24, 21), la(26, 9)):
        for assessment in at_risk(tenant, now):
            assert assessment.primary is not None, (now, assessment.external_id)
            assert assessment.primary.text
            assert assessment.primary.fix_text
            assert assessment.primary.fix.url


@pytest.mark.django_db
def test_less_than_a_minute_reads_due_now_or_late_by_under_a_minute(tenant: Any, world: dict[str, Any]) -> None:
    just_late = by_ref(at_risk(tenant, la(24, 14, 30) + timedelta(seconds=30)))["HELD"]
    assert just_late.short_text == "late by under a minute"
    assert just_late.deadline_text == "Late by under a minute (ship-by Tue 14:30 PST)"

    due = by_ref(at_risk(tenant, la(24, 14, 30) - timedelta(seconds=30)))["HELD"]
    assert due.short_text == "due now"
    assert due.deadline_text == "Ships by Tue 14:30 PST · due now"
    assert "0 min" not in due.ready_text
