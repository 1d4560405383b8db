"""Logging helpers. Kept apart from erp.tenancy: logging is configured before Django's apps (and models) load."""

import logging


class OrganizationLogFilter(logging.Filter):
    """Adds `organization` (the id in scope, or '-') to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            from erp.tenancy import organization_in_scope

            organization = organization_in_scope()
        except Exception:  # before the app registry is ready (startup logging)
            organization = None
        record.organization = organization.pk if organization is not None else "-"
        return True
