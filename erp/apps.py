from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "Dropline core"

    def ready(self) -> None:
        from erp import checks  # noqa: F401  (registers the system checks)
        from erp.error_reporting import error_reporting_init

        error_reporting_init()  # Sentry, only when SENTRY_DSN is set

        # Once per `migrate` (sent for this app only), as the tables' owner: a tenant table created by any app's
        # migration, now or later, gets its row-level security policy before the command returns
        # (docs/adr/0023-row-level-security.md), and the owner's ANALYZE function is (re)created for the application
        # role (erp.db.analyze_function_install, docs/adr/0030).
        post_migrate.connect(_owner_objects_install, sender=self, dispatch_uid="erp.owner_objects_install")


# Any constant: the key of the advisory lock that `migrate` runs take in turn to install the owner's objects.
OWNER_OBJECTS_LOCK = 0x44524F504C494E45  # "DROPLINE"


def _owner_objects_install(using: str, **kwargs: Any) -> None:
    from django.db import connections, transaction

    from erp.db import analyze_function_install
    from erp.rls import rls_apply

    connection = connections[using]
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            # Two `migrate` runs at once (two containers starting, two workers of a bench) would both CREATE OR
            # REPLACE the function, and PostgreSQL fails one with "tuple concurrently updated". They take turns.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [OWNER_OBJECTS_LOCK])
        rls_apply(connection)
        analyze_function_install(connection)
