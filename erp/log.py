"""Logging helpers. Kept apart from erp.tenancy: logging is configured before Django's apps (and models) load.

Every record carries what is known of where it happened (docs/adr/0022-metrics-and-logs.md): the organization in
tenant scope, the request id (RequestIdMiddleware), the Celery task (erp.tasks.task) and the store and order a piece
of work is about (`log_context(store=..., order=...)`). The console prints them as `key=value` in development and
as one JSON object per line with LOG_FORMAT=json (production). Secrets are never passed to a logger; the redacting
filter is the second wall for the one that slips through.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("request_id", "store", "order", "task", "task_id")
_context: ContextVar[dict[str, str]] = ContextVar("dropline_log_context", default={})  # noqa: B039 (never mutated)


def _as_id(value: Any) -> str:
    """A model instance by its primary key, anything else as text."""
    return str(getattr(value, "pk", value))


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Tag every log line inside the block: `with log_context(store=store, order=order): ...`. Fields given as None
    are left as they were; nested blocks add to (and inside them override) the outer ones."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown log context fields: {', '.join(sorted(unknown))}")
    token = _context.set({**_context.get(), **{k: _as_id(v) for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def log_context_get() -> dict[str, str]:
    return dict(_context.get())


class OrganizationLogFilter(logging.Filter):
    """Adds `organization` (the id in scope, or '-'), the context fields ('-' when unknown) and `context` (the known
    ones as `key=value`, for the text format) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            from erp.tenancy import organization_in_scope

            organization = organization_in_scope()
        except Exception:  # before the app registry is ready (startup logging)
            organization = None
        record.organization = organization.pk if organization is not None else "-"
        known = _context.get()
        for field in CONTEXT_FIELDS:
            setattr(record, field, known.get(field, "-"))
        record.context = "".join(f" {field}={known[field]}" for field in CONTEXT_FIELDS if field in known)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json): what a log pipeline (Loki, CloudWatch, ELK) indexes by field."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "organization": _or_none(getattr(record, "organization", "-")),
        }
        for field in CONTEXT_FIELDS:
            line[field] = _or_none(getattr(record, field, "-"))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _or_none(value: Any) -> Any:
    return None if value == "-" else str(value)


# ------------------------------------------------------------------------------------------------ redaction
# Names whose value is a secret wherever they appear as `name=value`, `"name": "value"` or a header `Name: value`.
SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "client_secret",
    "app_secret",
    "secret",
    "password",
    "api_key",
    "x-tts-access-token",
    "x-shopify-access-token",
    "x-shopify-hmac-sha256",
    "x-dropline-signature",
    "hmac",
    "sign",
)
_SECRET_NAME = "|".join(re.escape(name) for name in SECRET_NAMES)
_NAMED_SECRET = re.compile(
    r"""(?P<name>["']?\b(?:""" + _SECRET_NAME + r""")\b["']?\s*[:=]\s*["']?)(?P<value>[^\s"'&,;}]{6,})""",
    re.IGNORECASE,
)
# Credentials recognisable by their shape: an Authorization header's, Shopify's tokens (shpat_, shpca_, shprt_,
# shpua_ ...), the key in a Sentry DSN.
_SHAPED_SECRET = re.compile(
    r"(?<=Bearer )\S+|(?<=Api-Key )\S+|\bshp[a-z]{2}_[0-9a-fA-F]{16,}\b|(?<=://)[0-9a-f]{16,}(?=@)"
)
MASK = "[redacted]"


def redact(text: str, *, known: tuple[str, ...] = ()) -> str:
    for secret in known:
        if secret and len(secret) >= 8:
            text = text.replace(secret, MASK)
    text = _NAMED_SECRET.sub(lambda m: m.group("name") + MASK, text)
    return _SHAPED_SECRET.sub(MASK, text)


class SecretRedactingFilter(logging.Filter):
    """Masks secrets in a record's message before any handler writes it: the configured secrets by value (app
    secrets, keys) and anything that looks like `access_token=...`, a signature header or a Shopify token."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._known: tuple[str, ...] | None = None

    def _known_secrets(self) -> tuple[str, ...]:
        if self._known is None:
            try:
                from django.conf import settings

                names = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "TIKTOK_APP_SECRET", "SHOPIFY_CLIENT_SECRET")
                self._known = tuple(str(getattr(settings, n, "") or "") for n in (*names, "METRICS_TOKEN"))
            except Exception:  # settings not configured yet: patterns only, and ask again next time
                return ()
        return self._known

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as logging does
            return True
        cleaned = redact(message, known=self._known_secrets())
        if cleaned != message:
            record.msg, record.args = cleaned, None
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
