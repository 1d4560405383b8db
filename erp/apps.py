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

        # Once per `migrate` (sent for this app only): a tenant table created by any app's migration, now or later,
        # gets its row-level security policy before the command returns (docs/adr/0023-row-level-security.md).
        post_migrate.connect(_tenant_tables_secure, sender=self, dispatch_uid="erp.rls_apply")


def _tenant_tables_secure(using: str, **kwargs: Any) -> None:
    from django.db import connections

    from erp.db import analyze_function_install
    from erp.rls import rls_apply

    rls_apply(connections[using])
    analyze_function_install(connections[using])  # the application role's statistics refresh (erp.db)
