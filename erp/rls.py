"""PostgreSQL row-level security on every tenant table: the policies, their check, and the application role.

The policy lets a row through when its organization is the one the connection was told is in scope
(`dropline.organization_id`, set by erp.db_backends.postgresql before each statement) or when the code runs
`erp.tenancy.cross_tenant()` (`dropline.cross_tenant` = 'on'); with neither, a tenant table looks empty and accepts
no row. It is FORCEd, so it binds the tables' owner too; only superusers and BYPASSRLS roles are exempt, which is
why the application connects as a role that is neither (`manage.py rls_setup`). See
docs/adr/0023-row-level-security.md.

SQLite has no row-level security: there, only the application-level wall (erp.tenancy) stands.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper

from erp.tenancy import TenantModel

# The version is in the name: when the expression changes, the new policy replaces every older one on migrate.
POLICY_NAME = "dropline_tenant_v1"
POLICY_PREFIX = "dropline_tenant_"
# Each setting is read in a scalar subquery: PostgreSQL evaluates it once per statement (an InitPlan) instead of once
# per row, which a bare current_setting() in a policy costs (bench/rls_cost.py measured +67% on a count of 5,000 rows).
POLICY_EXPRESSION = (
    "organization_id = (SELECT NULLIF(current_setting('dropline.organization_id', true), '')::uuid)"
    " OR (SELECT current_setting('dropline.cross_tenant', true) = 'on')"
)


def tenant_tables() -> list[str]:
    """The table of every concrete TenantModel: each must carry the policy."""
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if issubclass(model, TenantModel) and model._meta.managed and not model._meta.proxy
        }
    )


@dataclass(frozen=True)
class TableSecurity:
    table: str
    enabled: bool
    forced: bool
    has_policy: bool

    @property
    def complete(self) -> bool:
        return self.enabled and self.forced and self.has_policy


def rls_status(connection: BaseDatabaseWrapper) -> list[TableSecurity]:
    """Row-level security of every tenant table as PostgreSQL reports it (a table not created yet is absent)."""
    tables = tenant_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policies p
                           WHERE p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = %s)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname = ANY(%s)
            ORDER BY c.relname
            """,
            [POLICY_NAME, tables],
        )
        return [TableSecurity(*row) for row in cursor.fetchall()]


def rls_apply(connection: BaseDatabaseWrapper) -> list[str]:
    """Enable, force and attach the policy on every tenant table that lacks any of them; returns the tables changed.
    Idempotent and cheap when nothing is missing (one catalog query), so it runs after every `migrate`."""
    if connection.vendor != "postgresql":
        return []
    missing = [status.table for status in rls_status(connection) if not status.complete]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in missing:
            cursor.execute(
                "SELECT policyname FROM pg_policies WHERE schemaname = current_schema() AND tablename = %s "
                "AND policyname LIKE %s",
                [table, POLICY_PREFIX + "%"],
            )
            for (old_policy,) in cursor.fetchall():
                cursor.execute(f"DROP POLICY {quote(old_policy)} ON {quote(table)}")
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {quote(table)} FORCE ROW LEVEL SECURITY")
            cursor.execute(
                f"CREATE POLICY {quote(POLICY_NAME)} ON {quote(table)} "
                f"USING ({POLICY_EXPRESSION}) WITH CHECK ({POLICY_EXPRESSION})"
            )
    return missing


def application_role_setup(
    connection: BaseDatabaseWrapper, *, role: str, password: str | None, truncate: bool = False
) -> None:
    """Create (or correct) the role the application connects as: it may log in and read and write rows, and is
    neither superuser, BYPASSRLS, owner of the tables nor able to create roles or databases. Grants cover the tables
    and sequences there are and, through default privileges, those the connected role (the owner) creates later.
    `truncate` adds TRUNCATE, which ignores row-level security: only for a test database (TransactionTestCase
    empties tables with it), never in production."""
    quote = connection.ops.quote_name
    attributes = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"
    table_privileges = "SELECT, INSERT, UPDATE, DELETE" + (", TRUNCATE" if truncate else "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(f"{verb} ROLE {quote(role)} {attributes}")
        if password:
            # A utility statement takes no parameters: the password is quoted as a literal by PostgreSQL itself.
            cursor.execute("SELECT quote_literal(%s)", [password])
            (literal,) = cursor.fetchone()
            cursor.execute(f"ALTER ROLE {quote(role)} PASSWORD {literal}")
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
        cursor.execute(f"GRANT CONNECT ON DATABASE {quote(database)} TO {quote(role)}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quote(role)}")
        cursor.execute(f"GRANT {table_privileges} ON ALL TABLES IN SCHEMA public TO {quote(role)}")
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quote(role)}")
        cursor.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {table_privileges} ON TABLES TO {quote(role)}")
        cursor.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {quote(role)}"
        )


def role_is_exempt(connection: BaseDatabaseWrapper) -> bool:
    """Whether the connected role escapes row-level security (superuser or BYPASSRLS): then only the application
    wall stands, and `rls_setup --check` says so."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])
