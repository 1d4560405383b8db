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


def _routine(record: logging.LogRecord) -> bool:
    """Records that repeat all day without news: beat sending its schedule, a worker receiving and finishing a task,
    the development server answering a platform's webhook (the webhook view logs what it did with it)."""
    from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

    if record.name == "celery.beat":
        return str(record.msg).startswith("Scheduler: Sending due task")
    if record.name in ("celery.worker.strategy", "celery.app.trace"):
        return record.msg in (LOG_RECEIVED, LOG_SUCCESS)
    if record.name == "django.server" and isinstance(record.args, tuple) and len(record.args) >= 2:
        request_line, status = str(record.args[0]), record.args[1]
        return " /webhooks/" in request_line and str(status).startswith(("2", "3"))
    return False


class RoutineToDebugFilter(logging.Filter):
    """The console shows one line per meaningful event (an import, a batch bought, an error): routine records are
    demoted to DEBUG and shown only when the root logger is at DEBUG (LOG_LEVEL=DEBUG / --loglevel DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not _routine(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger().isEnabledFor(logging.DEBUG)
