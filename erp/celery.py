"""The Celery app: named queues, at-least-once delivery, and the beat schedule (periodic work lives here only).

Delivery is at least once (late ack; a task whose worker dies is delivered again), so every task must be safe to run
twice: money and stock effects are guarded by database state, never by "the task runs once". Delayed work (retry a
store in ten minutes, remind a supplier tomorrow) is a row with a due time that a periodic task picks up, never a
long countdown/ETA, which a Redis broker may deliver twice or lose.
"""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready
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
    from erp.services import heartbeat_record

    heartbeat_record(name="background")
