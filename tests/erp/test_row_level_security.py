"""The second tenancy wall: PostgreSQL row-level security (docs/adr/0023-row-level-security.md).

Each test runs its queries as the application role, which is neither superuser, BYPASSRLS nor owner of a table: under
DROPLINE_RLS=1 the whole run connects as it (tests/conftest.py); otherwise the test switches to it for its own
transaction (`SET LOCAL ROLE`), so these tests prove the wall in every PostgreSQL run, not only the RLS one.

The queries here forget the scope on purpose (raw SQL, `Model.unscoped`): what the application wall would have
caught, the database must catch on its own.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from erp.actors import Actor
from erp.db import PlannerStatistics
from erp.models import Membership
from erp.rls import POLICY_NAME, rls_status, role_is_exempt, tenant_tables
from erp.tasks import task
from erp.tenancy import cross_tenant, organization_scope
from inventory.models import Listing
from inventory.push import changed_stock_mark
from inventory.services import stock_receive
from orders.models import Order
from tests.conftest import RLS_ROLE, Tenant
from tests.factories import ListingFactory, OrderFactory, SkuFactory, WarehouseFactory
from tests.tenantdata import populate

pytestmark = pytest.mark.postgres

APPLICATION_ROLE = RLS_ROLE or "dropline_app_test"
ROBOT = Actor.system("test")


@pytest.fixture(scope="session")
def application_role(django_db_setup: None, django_db_blocker: Any) -> str:
    """The application role with its grants on the test database (already there when the run connects as it)."""
    if not RLS_ROLE:
        with django_db_blocker.unblock():
            call_command("rls_setup", role=APPLICATION_ROLE, test_database=True, stdout=io.StringIO())
    return APPLICATION_ROLE


@pytest.fixture
def as_application(application_role: str, db: None) -> None:
    """The rest of the test's transaction runs as the application role, as production does."""
    if role_is_exempt(connection):
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(application_role)}")
    assert not role_is_exempt(connection), "these tests must run as a role that row-level security binds"


@pytest.fixture
def two_tenants(make_tenant: Any, as_application: None) -> tuple[Tenant, Tenant]:
    a, b = make_tenant("Alpha Goods"), make_tenant("Bravo Supply")
    OrderFactory.create_batch(3, organization=a.organization)
    OrderFactory.create_batch(2, organization=b.organization)
    return a, b


def organizations_in(table: str) -> set[str]:
    """The organizations whose rows a query that names no organization returns (raw SQL: no manager, no scope)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT organization_id FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return {str(row[0]) for row in cursor.fetchall()}


@pytest.mark.django_db
def test_every_tenant_table_forces_row_level_security_with_the_policy() -> None:
    status = {s.table: s for s in rls_status(connection)}
    assert set(status) == set(tenant_tables()), "a tenant table is missing from the database"
    incomplete = [s for s in status.values() if not s.complete]
    assert not incomplete, f"tenant tables without forced row-level security and {POLICY_NAME}: {incomplete}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, qual, with_check FROM pg_policies WHERE policyname = %s", [POLICY_NAME])
        policies = cursor.fetchall()
    assert len(policies) == len(tenant_tables())
    for table, using, check in policies:
        assert "dropline.organization_id" in using, table
        assert using == check, f"{table}: {using} / {check}"


@pytest.mark.django_db
def test_the_application_role_is_bound_by_row_level_security_and_owns_no_table(as_application: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db
def test_rls_setup_check_passes_for_the_application_role_and_refuses_an_exempt_one(as_application: None) -> None:
    out = io.StringIO()
    call_command("rls_setup", check=True, stdout=out)
    assert f"forced on all {len(tenant_tables())} tenant tables" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
        cursor.execute("RESET ROLE")  # back to the session's user: the superuser that created the test database
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        exempt_session = cursor.fetchone() == (True,)
        if exempt_session:
            with pytest.raises(CommandError, match="superuser or BYPASSRLS"):
                call_command("rls_setup", check=True, stdout=io.StringIO())
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")


@pytest.mark.django_db
def test_raw_sql_that_forgets_the_scope_sees_only_the_organization_in_scope(two_tenants: Any) -> None:
    a, b = two_tenants
    with organization_scope(a.organization):
        assert organizations_in("orders_order") == {str(a.organization.pk)}
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_order")
            assert cursor.fetchone() == (3,)
    with organization_scope(b.organization):
        assert organizations_in("orders_order") == {str(b.organization.pk)}
    with cross_tenant(reason="the control: both organizations' orders exist"):
        assert organizations_in("orders_order") == {str(a.organization.pk), str(b.organization.pk)}


@pytest.mark.django_db
def test_with_no_organization_in_scope_a_tenant_table_looks_empty(two_tenants: Any) -> None:
    assert organizations_in("orders_order") == set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db
def test_unscoped_inside_a_scope_is_confined_to_it_unless_cross_tenant(two_tenants: Any) -> None:
    """`Model.unscoped` slipped into a view (an organization in scope) shows nothing foreign; the deliberate
    cross-tenant read says so and sees both, and so does `unscoped` outside any scope (a sweeper, a webhook)."""
    a, b = two_tenants
    with organization_scope(a.organization):
        assert {o.organization_id for o in Order.unscoped.all()} == {a.organization.pk}
        assert Order.unscoped.count() == 3
        assert not Order.unscoped.filter(organization=b.organization).exists()
        with cross_tenant(reason="the test's deliberate cross-tenant read"):
            assert Order.unscoped.count() == 5
    assert Order.unscoped.count() == 5
    assert {o.organization_id for o in Order.unscoped.iterator(chunk_size=2)} == {
        a.organization.pk,
        b.organization.pk,
    }


@pytest.mark.django_db
def test_a_page_whose_query_forgets_the_scope_shows_nothing_of_another_organization(
    two_tenants: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The members page with its query rewritten to `Membership.unscoped` (the bug the application wall cannot see
    once someone writes it): behind row-level security, B's page still lists B's members only."""
    a, b = two_tenants
    monkeypatch.setattr(
        "erp.selectors.members_list", lambda: Membership.unscoped.select_related("user").order_by("created_at")
    )
    response = b.client.get(reverse("settings_members"))
    assert response.status_code == 200
    page = response.content.decode()
    assert b.owner.email in page
    assert a.owner.email not in page


@pytest.mark.django_db
def test_every_tenant_table_shows_only_the_organization_in_scope(make_tenant: Any, as_application: None) -> None:
    """One row of every tenant model in each of two organizations: for every tenant table, a query naming no
    organization returns A's rows in A's scope, nothing without a scope, and B's rows only across tenants."""
    a, b = make_tenant("Alpha Goods"), make_tenant("Bravo Supply")
    populate(a), populate(b)
    a_id, b_id = str(a.organization.pk), str(b.organization.pk)
    leaks = {}
    for table in tenant_tables():
        with organization_scope(a.organization):
            in_a = organizations_in(table)
        unscoped = organizations_in(table)
        with cross_tenant(reason="the control: B's rows are there"):
            across = organizations_in(table)
        if in_a != {a_id} or unscoped or b_id not in across:
            leaks[table] = {"in A's scope": in_a, "no scope": unscoped, "across tenants": across}
    assert not leaks, f"row-level security let these through (or the control found no row): {leaks}"


@pytest.mark.django_db
def test_a_row_cannot_be_moved_to_or_written_into_another_organization(two_tenants: Any) -> None:
    a, b = two_tenants
    with organization_scope(a.organization), connection.cursor() as cursor:
        cursor.execute("UPDATE orders_order SET currency = 'EUR' WHERE organization_id = %s", [b.organization.pk])
        assert cursor.rowcount == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            cursor.execute("UPDATE orders_order SET organization_id = %s", [b.organization.pk])
    with cross_tenant(reason="the control: B's orders are untouched"):
        assert set(Order.unscoped.filter(organization=b.organization).values_list("currency", flat=True)) == {"USD"}


@pytest.mark.django_db
def test_a_rolled_back_scope_change_is_set_again(two_tenants: Any) -> None:
    """PostgreSQL undoes a set_config made inside a rolled-back savepoint; the backend must not trust its memory."""
    a, b = two_tenants
    with organization_scope(a.organization):
        assert organizations_in("orders_order") == {str(a.organization.pk)}
    seen_in_b = set()

    def rolled_back_in_b() -> None:
        with transaction.atomic(), organization_scope(b.organization):
            seen_in_b.update(organizations_in("orders_order"))
            raise RuntimeError("roll back the savepoint, and the set_config with it")

    with pytest.raises(RuntimeError):
        rolled_back_in_b()
    assert seen_in_b == {str(b.organization.pk)}
    with organization_scope(b.organization):  # the connection says A again: B must be set anew
        assert organizations_in("orders_order") == {str(b.organization.pk)}


@pytest.mark.django_db
def test_a_failed_statement_in_a_scope_left_before_its_savepoint_rolls_back(two_tenants: Any) -> None:
    """The database error leaves the transaction aborted; the savepoint's rollback must still run (it cannot be
    preceded by the new scope's set_config), and the next query gets the right scope."""
    a, b = two_tenants

    def move_in_a_scope_left_before_the_rollback() -> None:
        # The scope closes (innermost first) before the savepoint rolls back.
        with transaction.atomic(), organization_scope(a.organization), connection.cursor() as cursor:
            cursor.execute("UPDATE orders_order SET organization_id = %s", [b.organization.pk])

    with pytest.raises(DatabaseError, match="row-level security"):
        move_in_a_scope_left_before_the_rollback()
    with organization_scope(b.organization):
        assert organizations_in("orders_order") == {str(b.organization.pk)}


@pytest.mark.django_db
def test_a_scope_left_behind_does_not_leak_into_the_next_query(two_tenants: Any) -> None:
    """A reused connection (CONN_MAX_AGE) keeps its session settings: leaving the scope must close the wall."""
    a, _ = two_tenants
    with organization_scope(a.organization):
        assert organizations_in("orders_order") == {str(a.organization.pk)}
    assert organizations_in("orders_order") == set()


@task(name="tests.rls_probe_every_organization", tenant=False)
def probe_every_organization() -> set[str]:
    return organizations_in("orders_order")


@task(name="tests.rls_probe_one_organization")
def probe_one_organization(*, organization: Any) -> set[str]:
    return organizations_in("orders_order")


@pytest.mark.django_db
def test_celery_tasks_set_the_organization_and_sweepers_cross_tenants(two_tenants: Any) -> None:
    a, b = two_tenants
    assert probe_one_organization.delay(organization_id=str(a.organization.pk)).get() == {str(a.organization.pk)}
    assert probe_every_organization.delay().get() == {str(a.organization.pk), str(b.organization.pk)}


@pytest.mark.django_db
def test_a_row_in_hand_saved_or_refreshed_outside_any_scope_is_in_its_own_organization(two_tenants: Any) -> None:
    """A platform webhook or a sweeper saves or re-reads a row it holds with no scope open: the database serves it as
    its own organization's."""
    a, _ = two_tenants
    order = Order.unscoped.filter(organization=a.organization).first()
    assert order is not None
    order.currency = "GBP"
    order.save(update_fields=["currency"])
    with organization_scope(a.organization):
        assert Order.objects.filter(currency="GBP").count() == 1
    order.currency = "not saved"
    order.refresh_from_db()  # read again in its own organization too
    assert order.currency == "GBP"


@pytest.mark.django_db
def test_the_application_role_refreshes_the_planners_statistics(
    make_tenant: Any, as_application: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL lets only a table's owner ANALYZE it, and skips anyone else's with a mere warning: the application
    role owns no table, so an import's statistics refresh (docs/adr/0030) did nothing where it mattered. It goes
    through the owner's `dropline_analyze` (erp.db.analyze_function_install)."""
    monkeypatch.setattr(PlannerStatistics, "FIRST_AFTER", 1)
    monkeypatch.setattr(PlannerStatistics, "_rows_estimated", lambda self: 0)
    OrderFactory.create_batch(30, organization=make_tenant("Alpha Goods").organization)
    notices_before = len(connection.connection.notices)
    PlannerStatistics(("orders_order", "orders_orderline")).written(30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'orders_order'::regclass")
        (believed,) = cursor.fetchone()
    assert not [notice for notice in connection.connection.notices[notices_before:] if "skipping" in notice]
    assert believed >= 30


@pytest.mark.django_db
def test_the_stock_push_sweep_reads_every_organization_and_marks_each_in_its_own(two_tenants: Any) -> None:
    """Beat's sweep (docs/adr/0040) takes the changed stock rows of every organization (cross-tenant, said so), then
    marks each organization's listings inside that organization's scope, where the policy admits its rows only."""
    listings = []
    for tenant in two_tenants:
        with organization_scope(tenant.organization):
            listing = ListingFactory(organization=tenant.organization, sku=SkuFactory(organization=tenant.organization))
            stock_receive(
                sku=listing.sku, warehouse=WarehouseFactory(organization=tenant.organization), quantity=3, actor=ROBOT
            )
            listings.append(listing)
    assert changed_stock_mark() == 2
    with cross_tenant(reason="test: both organizations' listings"):
        marked = Listing.unscoped.filter(pk__in=[listing.pk for listing in listings], push_requested_at__isnull=False)
        assert marked.count() == 2
