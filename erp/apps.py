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


def _owner_objects_install(using: str, **kwargs: Any) -> None:
    from django.db import connections

    from erp.db import analyze_function_install
    from erp.rls import rls_apply

    rls_apply(connections[using])
    analyze_function_install(connections[using])
