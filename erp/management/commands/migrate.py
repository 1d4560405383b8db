"""`migrate`, run as the tables' owner when DATABASE_OWNER_URL is set, and across tenants.

The application connects as a role that owns nothing (docs/adr/0023-row-level-security.md), so it cannot create or
alter tables: migrations connect with DATABASE_OWNER_URL's credentials instead. And since the tenant tables' row-level
security is FORCEd, it binds their owner too: a data migration sees every organization's rows only inside
`cross_tenant()`, which this command enters for the whole run.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from erp.tenancy import cross_tenant

OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        owner_url = getattr(settings, "DATABASE_OWNER_URL", "")
        connection = connections[options["database"]]
        if not owner_url or connection.vendor != "postgresql":
            with cross_tenant(reason="migrations change every organization's rows"):
                super().handle(*args, **options)
            return
        from erp.settings.base import database_from_url

        owner = database_from_url(owner_url)  # its credentials only: the database migrated is the one configured
        application = {key: connection.settings_dict.get(key) for key in OWNER_KEYS}
        connection.close()
        connection.settings_dict.update({key: owner.get(key) for key in OWNER_KEYS})
        try:
            with cross_tenant(reason="migrations change every organization's rows"):
                super().handle(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(application)
