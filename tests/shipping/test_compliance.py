"""The compliance view: its figures equal an independent count over the platform's own data, each figure's link
lists exactly the orders it counts, and the policy's dates are data (published defaults, per-store overrides)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from django.utils import timezone

from erp.roles import Role
from erp.tenancy import organization_scope
from integrations.logistics_policy import PUBLISHED_POLICIES, Phase, store_logistics_policy
from integrations.models import AuthorizationStatus, Store, StoreStatus, TikTokShopSettings
from inventory.models import WarehouseKind
from orders import services
from orders.filters import OrderFilter
from orders.models import Order, OrderStatus
from shipping import compliance
from tests.factories import OrderFactory, SellerAuthorizationFactory, StoreFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

MONTH_SELLER = "Dropline Month US"
CUT_OFF_DAYS_AGO = 12  # the store's own cut-off, inside the month: seller shipping before it is accepted, after not


# --------------------------------------------------------------------------------------------- the sandbox month
@dataclass
class Month:
    store: Store
    shop_id: str
    cut_off: date
    zone: ZoneInfo


@pytest.fixture
def month(tenant: Any, tiktok: Any) -> Month:
    """A realistic month in the sandbox, imported through the real sync; the store's cut-off set inside it."""
    seeded = tiktok.control("POST", "scenarios/month", name=MONTH_SELLER, orders=320, seed=11)
    tiktok.connect(tenant.client, seller_name=MONTH_SELLER)
    store = Store.unscoped.select_related("authorization").get(external_id=seeded["shop_id"])
    zone = ZoneInfo(tenant.organization.time_zone)
    cut_off = datetime.now(tz=zone).date() - timedelta(days=CUT_OFF_DAYS_AGO)
    TikTokShopSettings.unscoped.filter(store=store).update(
        logistics_transition_from=cut_off - timedelta(days=40), official_logistics_from=cut_off
    )
    store.refresh_from_db()
    with organization_scope(store.organization):
        result = services.store_sync(store=store)
    assert result.finished
    return Month(store=store, shop_id=seeded["shop_id"], cut_off=cut_off, zone=zone)


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def independent_count(tiktok: Any, month: Month, now: datetime) -> dict[str, Any]:
    """The report's figures, counted straight from the sandbox's own orders (not from Dropline's tables)."""
    world = tiktok.sandbox.world
    with world.lock:
        world.tick(tiktok.sandbox.clock.now())
        orders = [o for o in world.orders.values() if o.shop_id == month.shop_id]
        tracking = {o.id: any(world.packages[p].tracking_number for p in o.package_ids) for o in orders}
    zone = month.zone
    first = now.astimezone(zone).date() - timedelta(days=29)
    start = datetime.combine(first, time.min, tzinfo=zone)
    cut_off = datetime.combine(month.cut_off, time.min, tzinfo=ZoneInfo("America/Los_Angeles"))
    days: Counter[tuple[date, str]] = Counter()
    late = due = valid = shipped = placed = seller_cancelled = 0
    for o in orders:
        fbt = o.fulfillment_type == "FULFILLMENT_BY_TIKTOK"
        if o.rts_time and start <= _at(o.rts_time) <= now:
            shipped += 1
            if fbt:
                kind = "fbt"
            elif o.shipping_type == "TIKTOK":
                kind = "tiktok_shipping"
            else:
                kind = "seller_violation" if _at(o.rts_time) >= cut_off else "seller_accepted"
            days[(_at(o.rts_time).astimezone(zone).date(), kind)] += 1
            valid += fbt or o.shipping_type == "TIKTOK" or tracking[o.id]
        cancelled_unshipped = o.status == "CANCELLED" and not o.rts_time
        if o.rts_sla_time and start <= _at(o.rts_sla_time) < now and not fbt and not cancelled_unshipped:
            due += 1
            late += not o.rts_time or o.rts_time > o.rts_sla_time
        if start <= _at(o.create_time) <= now and o.status != "UNPAID":
            placed += 1
            seller_cancelled += o.status == "CANCELLED" and o.cancellation_initiator == "SELLER"
    statuses = Counter(o.status for o in orders)
    return {
        "days": days,
        "late": (late, due),
        "valid": (valid, shipped),
        "cancelled": (seller_cancelled, placed),
        "statuses": statuses,
        "on_hold": statuses["ON_HOLD"] + sum(o.is_buyer_request_cancel for o in orders),
    }


def report_days(report: compliance.ComplianceReport) -> Counter[tuple[date, str]]:
    days: Counter[tuple[date, str]] = Counter()
    for day in report.days:
        for kind in ("tiktok_shipping", "cbt", "fbt", "seller_accepted", "seller_violation"):
            if getattr(day, kind):
                days[(day.day, kind)] = getattr(day, kind)
    return days


def test_the_months_figures_equal_an_independent_count_of_the_platforms_orders(month: Month, tiktok: Any) -> None:
    now = timezone.now()
    expected = independent_count(tiktok, month, now)
    with organization_scope(month.store.organization):
        report = compliance.compliance_report(now=now)
        store_report = compliance.compliance_report(store=month.store, now=now)

    # The month is realistic: every case the report must tell apart is in it.
    kinds = Counter(kind for (_, kind), n in expected["days"].items() for _ in range(n))
    assert kinds["tiktok_shipping"] > 100
    assert kinds["fbt"] > 5
    assert kinds["seller_accepted"] > 5
    assert kinds["seller_violation"] > 5
    assert expected["late"][0] > 3
    assert expected["cancelled"][0] > 0
    assert expected["valid"][0] < expected["valid"][1]  # some seller-shipped orders never uploaded tracking
    assert expected["on_hold"] > 0
    assert expected["statuses"]["AWAITING_SHIPMENT"] > 0

    for r in (report, store_report):
        assert report_days(r) == expected["days"]
        assert (r.late_dispatch.count, r.late_dispatch.of) == expected["late"]
        assert (r.valid_tracking.count, r.valid_tracking.of) == expected["valid"]
        assert (r.seller_cancellation.count, r.seller_cancellation.of) == expected["cancelled"]
        assert r.violations == kinds["seller_violation"]
        assert r.shipped == sum(kinds.values())
    assert len(report.days) == 30
    assert [row.store for row in report.stores] == [month.store]
    assert report.stores[0].violations == kinds["seller_violation"]
    assert report.stores[0].phase == Phase.REQUIRED


def test_each_figure_links_to_exactly_the_orders_it_counts(month: Month) -> None:
    now = timezone.now()
    with organization_scope(month.store.organization):
        report = compliance.compliance_report(now=now)

        def listed(query: str) -> int:
            filterset = OrderFilter(QueryDict(query), queryset=Order.objects.all())
            assert filterset.is_valid(), filterset.errors
            return filterset.qs.count()

        for rate in (report.late_dispatch, report.valid_tracking, report.seller_cancellation):
            assert listed(rate.query) == rate.count, rate.label
        assert listed(report.late_dispatch.rest_query) == report.late_dispatch.rest
        assert listed(report.valid_tracking.rest_query) == report.valid_tracking.rest
        assert listed(report.queries["violations"]) == report.violations
        assert listed(report.queries["official"]) == report.official
        assert listed(report.queries["seller"]) == report.seller
        assert listed(report.stores[0].violations_query) == report.stores[0].violations


def test_the_page_shows_the_figures_and_links_them(month: Month, tenant: Any) -> None:
    viewer = tenant.client_as(Role.VIEWER)
    response = viewer.get("/shipping/compliance/")
    assert response.status_code == 200
    report = response.context["report"]
    body = response.content.decode()
    assert f"{report.violations} orders seller-shipped after the cut-off" in body
    assert f"/orders/?{report.late_dispatch.query}".replace("&", "&amp;") in body
    assert f"{report.late_dispatch.count} of {report.late_dispatch.of} orders" in body
    assert 'data-testid="logistics-chart"' in body
    one = viewer.get(f"/shipping/compliance/?store={month.store.pk}")
    assert one.status_code == 200
    assert one.context["report"].violations == report.violations
    assert "Cut-off" in one.content.decode()  # the store's cut-off is marked on its chart
    orders = viewer.get(f"/orders/?{report.queries['violations']}")
    assert orders.status_code == 200
    assert len(orders.context["page"].orders) == min(report.violations, 50)


def test_a_store_of_another_organization_is_simply_not_found(month: Month, make_tenant: Any) -> None:
    other = make_tenant("Bravo Supply")
    assert other.client.get(f"/shipping/compliance/?store={month.store.pk}").status_code == 404
    assert other.client.get("/shipping/compliance/?store=not-a-uuid").status_code == 404


# ------------------------------------------------------------------------------------------ the policy is data
def test_published_policy_decides_each_stores_dates(tenant: Any) -> None:
    org = tenant.organization
    existing = StoreFactory(organization=org, region="US", seller_type="LOCAL")
    newcomer = StoreFactory(
        organization=org, region="US", seller_type="LOCAL", tiktok_settings__joined_platform_on=date(2026, 2, 10)
    )
    cross_border = StoreFactory(organization=org, region="US", seller_type="CROSS_BORDER")
    uk = StoreFactory(organization=org, region="GB", seller_type="LOCAL")
    moved = StoreFactory(organization=org, region="US", tiktok_settings__official_logistics_from=date(2026, 6, 1))

    us = next(p for p in PUBLISHED_POLICIES if p.region == "US" and p.seller_type == "LOCAL")
    policy = store_logistics_policy(existing)
    assert (policy.transition_from, policy.required_from) == (us.transition_from, us.required_from)
    assert (us.transition_from, us.required_from, us.new_sellers_from) == (
        date(2026, 2, 25),
        date(2026, 4, 1),
        date(2026, 2, 3),
    )
    pacific = ZoneInfo("America/Los_Angeles")
    assert policy.phase(datetime(2026, 2, 24, 23, 59, tzinfo=pacific)) == Phase.BEFORE
    assert policy.phase(datetime(2026, 3, 31, 23, 59, tzinfo=pacific)) == Phase.TRANSITION
    assert policy.phase(datetime(2026, 4, 1, 0, 0, tzinfo=pacific)) == Phase.REQUIRED
    assert store_logistics_policy(newcomer).required_from == date(2026, 2, 10)
    assert store_logistics_policy(newcomer).transition_from is None
    assert store_logistics_policy(cross_border).phase(datetime(2025, 1, 1, tzinfo=UTC)) == Phase.REQUIRED
    assert store_logistics_policy(uk).phase(datetime(2027, 1, 1, tzinfo=UTC)) == Phase.NOT_REQUIRED
    assert store_logistics_policy(moved).required_from == date(2026, 6, 1)


def test_violations_follow_each_stores_cut_off(tenant: Any) -> None:
    org = tenant.organization
    pacific = ZoneInfo("America/Los_Angeles")
    now = timezone.now()
    early = StoreFactory(
        organization=org, tiktok_settings__official_logistics_from=(now - timedelta(days=10)).astimezone(pacific).date()
    )
    later = StoreFactory(
        organization=org, tiktok_settings__official_logistics_from=(now + timedelta(days=5)).astimezone(pacific).date()
    )
    for store in (early, later):
        for days_ago in (15, 2):
            shipped = now - timedelta(days=days_ago)
            OrderFactory(
                organization=org,
                store=store,
                label_source="seller",
                status=OrderStatus.IN_TRANSIT,
                shipped_at=shipped,
                ship_by=shipped + timedelta(hours=3),
                tracking_number="9400111",
            )
    with organization_scope(org):
        report = compliance.compliance_report(now=now)
    by_store = {row.store: row for row in report.stores}
    assert (by_store[early].seller, by_store[early].violations, by_store[early].phase) == (2, 1, Phase.REQUIRED)
    assert (by_store[later].seller, by_store[later].violations, by_store[later].phase) == (2, 0, Phase.TRANSITION)
    assert report.violations == 1


def test_cbt_and_fbt_count_as_official_and_apart(tenant: Any) -> None:
    org = tenant.organization
    store = StoreFactory(organization=org)
    cbt_dock = WarehouseFactory(organization=org, collections_by_tiktok=True)
    own = WarehouseFactory(organization=org, kind=WarehouseKind.OWN)
    shipped = timezone.now() - timedelta(hours=5)
    common = {"organization": org, "store": store, "status": OrderStatus.AWAITING_COLLECTION, "shipped_at": shipped}
    OrderFactory(**common, warehouse=cbt_dock)
    OrderFactory(**common, warehouse=own)
    OrderFactory(**common, warehouse=None)
    OrderFactory(**common, fulfilled_by="platform", warehouse=cbt_dock)
    OrderFactory(**common, label_source="seller", tracking_number="")
    with organization_scope(org):
        report = compliance.compliance_report()
    # The day they shipped, in the organization's time zone (five hours ago may be yesterday there).
    shipped_day = timezone.localtime(shipped, ZoneInfo(org.time_zone)).date()
    today = next(day for day in report.days if day.day == shipped_day)
    assert (today.tiktok_shipping, today.cbt, today.fbt, today.seller) == (2, 1, 1, 1)
    assert (report.valid_tracking.count, report.valid_tracking.of) == (4, 5)
    assert report.official_share == 80


def test_authorizations_ending_within_30_days_are_listed(tenant: Any) -> None:
    org = tenant.organization
    soon = StoreFactory(
        organization=org,
        name="Soon",
        authorization=SellerAuthorizationFactory(
            organization=org, refresh_token_expires_at=timezone.now() + timedelta(days=12)
        ),
    )
    StoreFactory(organization=org, name="Fine")  # a year left
    failed = StoreFactory(
        organization=org,
        name="Failed",
        authorization=SellerAuthorizationFactory(organization=org, status=AuthorizationStatus.FAILED),
    )
    StoreFactory(
        organization=org,
        name="Gone",
        status=StoreStatus.DISCONNECTED,
        authorization=SellerAuthorizationFactory(
            organization=org, refresh_token_expires_at=timezone.now() + timedelta(days=2)
        ),
    )
    with organization_scope(org):
        warnings = compliance.compliance_report().authorizations
    assert [w.store for w in warnings] == [failed, soon]


def test_store_settings_edit_the_dates_and_audit_them(tenant: Any) -> None:
    store = StoreFactory(organization=tenant.organization)
    form = tenant.client.get(f"/stores/{store.pk}/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and value is not False}
    data.update({"backfill_days": 30, "joined_platform_on": "2026-02-10", "official_logistics_from": "2026-05-01"})
    response = tenant.client.post(f"/stores/{store.pk}/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    store.refresh_from_db()
    dates = store.tiktok_settings
    assert (dates.joined_platform_on, dates.official_logistics_from) == (date(2026, 2, 10), date(2026, 5, 1))
    assert store_logistics_policy(store).basis == "Dates set on this store"
    from erp.models import AuditEntry

    entry = AuditEntry.unscoped.filter(organization=tenant.organization, action="store.policy_changed").get()
    assert entry.changes["official_logistics_from"] == "2026-05-01"
    refused = tenant.client.post(
        f"/stores/{store.pk}/",
        {**data, "logistics_transition_from": "2026-06-01", "official_logistics_from": "2026-05-01"},
    )
    assert refused.status_code == 200
    assert "logistics_transition_from" in refused.context["form"].errors


def test_the_page_costs_the_same_queries_for_one_store_or_many(tenant: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    org = tenant.organization

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert tenant.client.get("/shipping/compliance/").status_code == 200
        return len(queries)

    def a_store_with_orders() -> None:
        store = StoreFactory(organization=org)
        shipped = timezone.now() - timedelta(days=1)
        OrderFactory(organization=org, store=store, shipped_at=shipped, status=OrderStatus.IN_TRANSIT)
        OrderFactory(organization=org, store=store, label_source="seller", shipped_at=shipped, tracking_number="")

    a_store_with_orders()
    one = page_queries()
    for _ in range(4):
        a_store_with_orders()
    assert page_queries() == one


def test_the_violation_list_is_empty_not_broken_where_no_store_has_a_cut_off(tenant: Any) -> None:
    uk = StoreFactory(organization=tenant.organization, region="GB")
    OrderFactory(organization=tenant.organization, store=uk, label_source="seller", shipped_at=timezone.now())
    response = tenant.client.get("/orders/", {"status": "all", "logistics": "seller_violation"})
    assert response.status_code == 200
    assert response.context["page"].orders == []
    assert response.context["tabs"][-1]["count"] == "0"
    with organization_scope(tenant.organization):
        assert compliance.compliance_report().violations == 0


def test_an_order_marked_shipped_through_dropline_counts_as_allowed_seller_shipping_before_the_cut_off(
    tenant: Any, tiktok: Any, connected_store: Store, django_capture_on_commit_callbacks: Any
) -> None:
    """Marked shipped on TikTok with the seller's own tracking (orders.seller_shipping) before the store's cut-off:
    allowed seller shipping, and still allowed once the cut-off has passed; the same order shipped after the cut-off
    is a violation."""
    from erp.actors import Actor
    from orders.seller_shipping import seller_shipment_request

    store = connected_store
    pacific = ZoneInfo("America/Los_Angeles")
    now = timezone.now()
    cut_off = (now + timedelta(days=3)).astimezone(pacific).date()
    TikTokShopSettings.unscoped.filter(store=store).update(official_logistics_from=cut_off)
    store.refresh_from_db()
    order = (
        Order.unscoped.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="seller")
        .filter(buyer_requested_cancel=False)
        .exclude(fulfilled_by="platform")
        .order_by("external_id")
        .first()
    )

    def row(at: datetime) -> compliance.StoreCompliance:
        with organization_scope(tenant.organization):
            return compliance.compliance_report(store=store, now=at).stores[0]

    before = row(now)
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        seller_shipment_request(
            order=order, carrier="UPS", tracking_number="1Z999AA10123456795", actor=Actor.system("test")
        )
    order.refresh_from_db()
    assert order.shipped_at is not None
    after = row(timezone.now())
    assert (after.seller, after.violations) == (before.seller + 1, before.violations)
    assert after.phase == Phase.TRANSITION
    # Five days on, the cut-off has passed: shipped before it, the order is still allowed seller shipping.
    later = row(timezone.now() + timedelta(days=5))
    assert later.phase == Phase.REQUIRED
    assert later.violations == before.violations
    assert listed_as(tenant, order, "seller_violation") is False
    assert listed_as(tenant, order, "seller") is True
    # Had the store's cut-off been yesterday, the same shipment would be a violation, and listed as one.
    yesterday = (now - timedelta(days=1)).astimezone(pacific).date()
    TikTokShopSettings.unscoped.filter(store=store).update(official_logistics_from=yesterday)
    assert listed_as(tenant, order, "seller_violation") is True


def listed_as(tenant: Any, order: Order, logistics: str) -> bool:
    """Whether the order list's `logistics` filter (the compliance figures' own condition) lists the order."""
    with organization_scope(tenant.organization):
        filterset = OrderFilter(QueryDict(f"logistics={logistics}&status=all"), queryset=Order.objects.all())
        return filterset.qs.filter(pk=order.pk).exists()
