"""The project's task decorator, and the core's own tasks.

`@task(...)` is the only way Dropline declares a Celery task. For a tenant task (the default) the caller passes
`organization_id`; the decorator loads the organization, opens its tenant scope for the task's body and tags the
log lines (with the task's name and id, and its `store_id` / `order_id` argument when it has one: erp/log.py).
Tasks are thin: load by id, call a service. Enqueue after commit with `.delay_on_commit(...)`.

A task declared `tenant=False` serves every organization (beat's sweepers): its body runs in `cross_tenant()`, the
deliberate bypass of the database wall (docs/adr/0023-row-level-security.md), and handles each organization's rows
in that organization's scope, which narrows it again.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from erp.log import log_context
from erp.tenancy import cross_tenant, organization_scope

if TYPE_CHECKING:
    from erp.models import Organization

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def _task_log_context(name: str, kwargs: dict[str, Any]) -> Any:
    """Log lines of a task carry its name and id, and the store and order it is about when its arguments say."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    return log_context(
        task=name,
        task_id=getattr(request, "id", None),
        store=kwargs.get("store_id"),
        order=kwargs.get("order_id"),
    )


def task(*, name: str, tenant: bool = True, **celery_options: Any) -> Callable[[F], Any]:
    def decorate(func: F) -> Any:
        if not tenant:

            @functools.wraps(func)
            def run_across_tenants(*args: Any, **kwargs: Any) -> Any:
                with _task_log_context(name, kwargs), cross_tenant(reason=f"task {name} serves every organization"):
                    return func(*args, **kwargs)

            return shared_task(name=name, **celery_options)(run_across_tenants)

        @functools.wraps(func)
        def run_in_scope(*args: Any, organization_id: str, **kwargs: Any) -> Any:
            from erp.models import Organization

            with _task_log_context(name, kwargs):
                organization = Organization.objects.filter(pk=organization_id).first()
                if organization is None:  # deleted since the task was queued: nothing left to do
                    logger.info("task %s skipped: organization %s no longer exists", name, organization_id)
                    return None
                with organization_scope(organization):
                    return func(*args, organization=organization, **kwargs)

        return shared_task(name=name, **celery_options)(run_in_scope)

    return decorate


# What an unreachable Redis raises: kombu wraps connection errors in OperationalError when publishing; the cache
# and the rate limiter raise redis' own errors. (Not OSError: a missing file is not an outage.)
BROKER_ERRORS: tuple[type[Exception], ...] = (KombuOperationalError, RedisError)


def wake(task_: Any, **kwargs: Any) -> bool:
    """Enqueue a task whose work is already a committed row that a sweep would find anyway: the message only makes
    it happen sooner. With the broker down the message is skipped (logged), never the work, and the caller's
    request still succeeds. Call it after commit (`transaction.on_commit(lambda: wake(...))`)."""
    try:
        task_.apply_async(kwargs=kwargs, retry=False)
    except (*BROKER_ERRORS, OSError) as error:
        logger.warning("broker unreachable: %s not woken (%s); beat's sweep will take it", task_.name, error)
        return False
    return True


def wake_on_commit(task_: Any, **kwargs: Any) -> None:
    """`wake` once the current transaction commits: for work recorded in that transaction and swept by beat."""
    transaction.on_commit(functools.partial(wake, task_, **kwargs))


@task(name="erp.heartbeat", tenant=False)
def heartbeat() -> None:
    """Beat schedules this every 30 s and a worker runs it: a fresh heartbeat proves both are alive."""
    from erp.services import heartbeat_record

    heartbeat_record(name="background")


@task(name="erp.invitations_expire", tenant=False)
def invitations_expire() -> int:
    """Expired invitations are closed by their expiry time already; this tidies the ones past it for a month."""
    from erp.models import Invitation

    cutoff = timezone.now() - timedelta(days=30)
    deleted, _ = Invitation.unscoped.filter(accepted_at__isnull=True, expires_at__lt=cutoff).delete()
    return deleted


@task(name="erp.email_send", tenant=False, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_send(*, to: list[str], subject: str, body: str) -> None:
    """Mail leaves through a worker, so a slow SMTP server never holds up a page. At least once: a redelivered
    task may send a duplicate, which beats losing an invitation."""
    from django.core.mail import send_mail

    send_mail(subject=subject, message=body, from_email=None, recipient_list=to)


@task(name="erp.idempotency_keys_expire", tenant=False)
def idempotency_keys_expire() -> int:
    """A partner retries within minutes; keys older than a day are only clutter."""
    from erp.models import IdempotencyKey

    deleted, _ = IdempotencyKey.unscoped.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
    return deleted


# An export of a large organization takes minutes: its own time limits instead of the project's 4/5 minutes.
@task(name="erp.organization_export_build", soft_time_limit=3300, time_limit=3600)
def organization_export_build(*, organization: Organization, export_id: str) -> str:
    from erp.exports import organization_export_build as build

    return build(organization=organization, export_id=export_id)


@task(name="erp.organization_exports_expire", tenant=False)
def organization_exports_expire() -> int:
    from erp.exports import organization_exports_expire as expire

    return expire()


class SandboxUnavailable(Exception):
    """The sandbox's process is not answering yet (the quick start starts it beside the worker): try again soon."""


@task(
    name="erp.demo_seed",
    tenant=False,
    autoretry_for=(SandboxUnavailable,),
    retry_backoff=1,
    retry_backoff_max=5,
    retry_jitter=False,
    max_retries=60,
)
def demo_seed() -> list[str]:
    """The quick start's demo organizations made a working shop against the sandbox (erp.demo). Queued by
    `seed_demo` at startup; retried while the sandbox's process is still starting. Run twice, it adds nothing."""
    from erp.demo import demo_populate_all

    results = demo_populate_all()
    for result in results:
        if result.steps:
            logger.info("demo %s: %s", result.organization, ", ".join(result.steps))
    return [result.organization for result in results]
