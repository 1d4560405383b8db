"""`manage.py rls_setup`: the application role and row-level security on every tenant table. Idempotent.

Run it as the tables' owner (or a superuser) after `migrate`, e.g. with DATABASE_URL=$DATABASE_OWNER_URL; creating
the role needs CREATEROLE. Then point the application's DATABASE_URL at the role. `--check` changes nothing and
exits non-zero when a tenant table lacks its policy or the connected role escapes row-level security.
See docs/adr/0023-row-level-security.md.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from erp.rls import application_role_setup, rls_apply, rls_status, role_is_exempt, tenant_tables


class Command(BaseCommand):
    help = "Create the application role (not owner, not BYPASSRLS) and force row-level security on tenant tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default="dropline_app", help="the role the application connects as")
        parser.add_argument(
            "--password-env",
            default="DATABASE_APP_PASSWORD",
            help="environment variable holding the role's password (unset: the password is left as it is)",
        )
        parser.add_argument("--check", action="store_true", help="report only; non-zero exit when incomplete")
        parser.add_argument(
            "--test-database", action="store_true", help="also grant TRUNCATE (which ignores RLS): tests only"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("row-level security needs PostgreSQL; on SQLite only the application wall stands")
        if options["check"]:
            self._check()
            return
        with transaction.atomic():
            application_role_setup(
                connection,
                role=options["role"],
                password=os.environ.get(options["password_env"]) or None,
                truncate=options["test_database"],
            )
            changed = rls_apply(connection)
        self.stdout.write(f"role {options['role']}: LOGIN NOSUPERUSER NOBYPASSRLS, granted rows, owns nothing")
        self.stdout.write(f"row-level security forced on {len(tenant_tables())} tenant tables ({len(changed)} changed)")

    def _check(self) -> None:
        present = {status.table: status for status in rls_status(connection)}
        problems = [f"{table}: table missing" for table in tenant_tables() if table not in present]
        problems += [
            f"{s.table}: enabled={s.enabled} forced={s.forced} policy={s.has_policy}"
            for s in present.values()
            if not s.complete
        ]
        if role_is_exempt(connection):
            problems.append("the connected role is a superuser or BYPASSRLS: row-level security does not bind it")
        if problems:
            raise CommandError("row-level security incomplete:\n  " + "\n  ".join(problems))
        self.stdout.write(f"row-level security forced on all {len(present)} tenant tables; the role is bound by it")
