"""The Celery app: named queues, at-least-once delivery, and the beat schedule (periodic work lives here only).

Delivery is at least once (late ack; a task whose worker dies is delivered again), so every task must be safe to run
twice: money and stock effects are guarded by database state, never by "the task runs once". Delayed work (retry a
store in ten minutes, remind a supplier tomorrow) is a row with a due time that a periodic task picks up, never a
long countdown/ETA, which a Redis broker may deliver twice or lose.
"""

import os
import time
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler
from celery.schedules import crontab
from celery.signals import (
    before_task_publish,
    heartbeat_sent,
    task_postrun,
    task_prerun,
    worker_process_shutdown,
    worker_ready,
)
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"erp.settings.{os.environ.get('DJANGO_ENV', 'local')}")

QUEUES = ("sync", "labels", "documents", "default")

app = Celery("dropline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=[Queue(name) for name in QUEUES],
    task_default_queue="default",
    # Routes by task name prefix: platform I/O on `sync`, the money path on `labels`, PDFs on `documents`.
    task_routes={
        "integrations.*": {"queue": "sync"},
        "orders.*": {"queue": "sync"},
        "inventory.push_*": {"queue": "sync"},
        "inventory.platform_fulfilment_*": {"queue": "sync"},
        "shipping.labels_*": {"queue": "labels"},
        "shipping.documents_*": {"queue": "documents"},
        # A decision is a once-only platform write like a label: on the same queue and its worker settings.
        "aftersales.decision_*": {"queue": "labels"},
        "aftersales.seller_cancel": {"queue": "labels"},
        "aftersales.sync_*": {"queue": "sync"},
    },
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,  # progress lives in the database, where the dashboard and the API read it
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # a long task must not sit on messages another worker could run
    task_soft_time_limit=240,
    task_time_limit=300,
    worker_max_tasks_per_child=1000,
    broker_connection_retry_on_startup=True,
    # A broker restart or outage must not end a worker: it reconnects for as long as it takes (Celery's default stops
    # retrying after 100 attempts, about 47 minutes of back-off). What the restart lost, beat resends from the rows.
    broker_connection_retry=True,
    broker_connection_max_retries=None,
    # A task running when the connection drops finishes and records its result (a bought label is recorded).
    # Cancelling it (Celery 6's planned default) would cut a purchase off mid-call, leave it SUBMITTING for
    # reconciliation, and count on a redelivery that a Redis keeping nothing on disk cannot give.
    worker_cancel_long_running_tasks_on_connection_loss=False,
    worker_hijack_root_logger=False,
    timezone="UTC",
    # Beat touches its liveness file on every tick (erp/liveness.py); `celery beat -S ...` would replace it.
    beat_scheduler="erp.celery:LivenessScheduler",
    beat_schedule={
        "heartbeat": {"task": "erp.heartbeat", "schedule": 30.0},
        "invitations-expire": {"task": "erp.invitations_expire", "schedule": crontab(minute=17)},
        "shipping-labels-reconcile-stuck": {"task": "shipping.labels_reconcile_stuck", "schedule": 30.0},
        "shipping-labels-package-changes-stuck": {"task": "shipping.labels_package_changes_stuck", "schedule": 30.0},
        "shipping-labels-resume-lost": {"task": "shipping.labels_resume_lost", "schedule": 60.0},
        "shipping-orders-route-pending": {"task": "shipping.orders_route_pending", "schedule": 60.0},
        "shipping-handoffs-alert-unacknowledged": {"task": "shipping.handoffs_alert_unacknowledged", "schedule": 900.0},
        "shipping-at-risk-check": {"task": "shipping.at_risk_check", "schedule": 300.0},
        "inventory-low-stock-check": {"task": "inventory.low_stock_check", "schedule": 600.0},
        "idempotency-keys-expire": {"task": "erp.idempotency_keys_expire", "schedule": crontab(minute=23)},
        "organization-exports-expire": {"task": "erp.organization_exports_expire", "schedule": crontab(minute=29)},
        "orders-sync-due-stores": {"task": "orders.sync_due_stores", "schedule": 15.0},
        "orders-tracking-refresh": {"task": "orders.tracking_refresh_all", "schedule": 1800.0},
        "orders-seller-shipments-resume": {"task": "orders.seller_shipments_resume", "schedule": 60.0},
        "inventory-push-due-listings": {"task": "inventory.push_due_listings", "schedule": 5.0},
        "inventory-catalog-sync-all": {"task": "inventory.catalog_sync_all", "schedule": crontab(minute=41)},
        "inventory-platform-fulfilment-sync-due-stores": {
            "task": "inventory.platform_fulfilment_sync_due_stores",
            "schedule": 900.0,
        },
        "aftersales-decisions-stuck": {"task": "aftersales.decisions_stuck", "schedule": 30.0},
        "aftersales-sync-all": {"task": "aftersales.sync_all", "schedule": 300.0},
        "integrations-webhooks-process-due": {"task": "integrations.webhooks_process_due", "schedule": 30.0},
        "webhooks-deliveries-sweep": {"task": "webhooks.deliveries_sweep", "schedule": 15.0},
        "integrations-refresh-expiring-tokens": {"task": "integrations.refresh_expiring_tokens", "schedule": 1800.0},
    },
)
app.autodiscover_tasks()


@worker_ready.connect
def _announce_worker(**kwargs: Any) -> None:
    """A worker that has just started counts as a heartbeat, so the dashboard is green from the first minute; beat's
    30-second heartbeat task keeps it fresh after that."""
    from django.conf import settings

    from erp.liveness import liveness_touch
    from erp.services import heartbeat_record

    liveness_touch("worker")  # first: neither needs the database the heartbeat row is written to
    if settings.WORKER_METRICS_PORT:
        from erp.metrics import worker_metrics_serve

        worker_metrics_serve(settings.WORKER_METRICS_PORT)
    heartbeat_record(name="background")


# --------------------------------------------------------------------------------------------- operations
# Liveness, metrics and queue age (docs/operations.md, docs/adr/0022-metrics-and-logs.md).
@heartbeat_sent.connect
def _worker_alive(**kwargs: Any) -> None:
    """Every event heartbeat (2 s) of a worker's consumer: it is alive for `background_alive --worker`."""
    from erp.liveness import liveness_touch

    liveness_touch("worker")


class LivenessScheduler(PersistentScheduler):
    """Celery's default scheduler, touching beat's liveness file on every tick."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        from erp.liveness import liveness_touch

        liveness_touch("beat")
        return super().tick(*args, **kwargs)


@before_task_publish.connect
def _stamp_sent_at(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """The publish time rides in the message, so the queue collector can tell how long the oldest one waited."""
    from erp.metrics import SENT_AT_HEADER

    if headers is not None:
        headers[SENT_AT_HEADER] = time.time()


_task_started: dict[str, float] = {}


@task_prerun.connect
def _task_started_at(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _task_started[task_id] = time.monotonic()


# --------------------------------------------------------------------------------------------- database connections
# A task uses its worker's database connection as a request uses its web worker's: kept for CONN_MAX_AGE, checked
# before reuse (CONN_HEALTH_CHECKS), closed once obsolete or broken (`close_old_connections`, Django's own request
# signals do the same). Celery's Django fix-up instead closes every connection before and after each task
# (celery/celery#4116), so each label purchase paid for a new PostgreSQL backend: with 32 purchases in flight that
# took a third of the machine's CPU (docs/adr/0032). Settings' CELERY_DB_REUSE_MAX keeps the fix-up's hands off.
@task_prerun.connect
@task_postrun.connect
def _database_connections_as_for_a_request(task: Any = None, **kwargs: Any) -> None:
    from django.db import close_old_connections

    # An eager task runs inside its caller (a test's transaction, a view): its connection is the caller's.
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


@task_postrun.connect
def _task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any) -> None:
    from erp.metrics import task_observe

    started = _task_started.pop(task_id, None) if task_id else None
    task_observe(
        task=getattr(task, "name", None) or "other",
        outcome=(state or "unknown").lower(),
        seconds=None if started is None else time.monotonic() - started,
    )


@worker_process_shutdown.connect
def _pool_child_exited(pid: int | None = None, **kwargs: Any) -> None:
    from erp.metrics import process_dead

    process_dead(pid or os.getpid())
