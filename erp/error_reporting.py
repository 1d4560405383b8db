"""Optional error reporting to Sentry (or any service speaking its protocol): off unless SENTRY_DSN is set.

Started once per process from ErpConfig.ready (web, every Celery worker, beat). No personal data: no IP addresses,
cookies, request bodies or user details (`send_default_pii=False`), and each event's message passes the same
secret redaction as the logs. Events carry the request id and the organization as tags, so an error in Sentry
leads to its log lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from sentry_sdk.types import Event


def error_reporting_init() -> bool:
    """Start the SDK when a DSN is configured; returns whether it started."""
    if not settings.SENTRY_DSN:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT,
        send_default_pii=False,
        max_request_body_size="never",  # bodies carry buyers' addresses and platform payloads
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        # Unhandled exceptions in views and tasks, and log records at ERROR (the logging integration's default).
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_before_send,
    )
    return True


def _before_send(event: Event, hint: dict[str, Any]) -> Event:
    """Tag the event with what the logs know (request id, organization, task, store, order) and redact it."""
    from erp.log import log_context_get, redact

    tags: dict[str, Any] = dict(event.get("tags") or {})
    tags.update(log_context_get())
    try:
        from erp.tenancy import organization_in_scope

        organization = organization_in_scope()
    except Exception:  # before the app registry is ready
        organization = None
    if organization is not None:
        tags["organization"] = str(organization.pk)
    event["tags"] = tags
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = redact(logentry[key])
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = redact(exception["value"])
    return event
