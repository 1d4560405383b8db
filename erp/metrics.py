"""Dropline's Prometheus metrics: every metric is declared here and recorded through the named functions below.

Code elsewhere never touches prometheus_client; it calls `platform_call_observe(...)`, `label_purchase_observe(...)`
and so on, so the names, the labels and their cardinality limits live in one place (docs/adr/0022-metrics-and-logs.md).
Labels take values from closed sets (view names, task names, platform names, queue names, outcome codes); anything
free-form (an id, a URL, an error message) never becomes a label.

Processes: gunicorn's workers and Celery's prefork children each hold their own counters. With
PROMETHEUS_MULTIPROC_DIR set (production) prometheus_client writes them to files there and `/metrics` (or the
worker's WORKER_METRICS_PORT) adds them up; without it (development, tests) the counters live in this process.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# prometheus_client picks its storage at import: files in PROMETHEUS_MULTIPROC_DIR when set. The folder must exist
# by then (gunicorn.conf.py also empties it when the web server starts; a worker container starts with a fresh one).
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
# A `_created` series beside every counter and histogram doubles the series for a timestamp nobody graphs (and
# multiprocess mode cannot export it): off, so a single process and a fleet expose the same names.
disable_created_metrics()

# Buckets in seconds. HTTP and platform calls: from a cache hit to the 30 s read timeout. Tasks: up to the 300 s
# hard time limit (CELERY_TASK_TIME_LIMIT). Waits: the rate limiter's queue is bounded by its max wait.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# The header a published task carries with its publish time, read back by the queue-age collector.
SENT_AT_HEADER = "dropline_sent_at"
UNKNOWN = "other"  # any label value outside its closed set is folded into this one

HTTP_REQUESTS = Counter(
    "dropline_http_requests_total",
    "HTTP requests answered, by Django view (URL name) and status code.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "dropline_http_request_duration_seconds",
    "Time to answer an HTTP request, by Django view (URL name).",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)
TASKS = Counter(
    "dropline_celery_tasks_total",
    "Celery tasks finished, by task name and outcome (success, failure, retry).",
    ["task", "outcome"],
)
TASK_DURATION = Histogram(
    "dropline_celery_task_duration_seconds",
    "Time a Celery task ran (prerun to postrun), by task name.",
    ["task"],
    buckets=TASK_BUCKETS,
)
PLATFORM_CALLS = Counter(
    "dropline_platform_calls_total",
    "HTTP attempts to a sales platform, by platform, API and outcome code (ok, the platform's error code, transport).",
    ["platform", "api", "outcome"],
)
PLATFORM_LATENCY = Histogram(
    "dropline_platform_call_duration_seconds",
    "Time of one HTTP attempt to a sales platform (send and read), by platform and API.",
    ["platform", "api"],
    buckets=LATENCY_BUCKETS,
)
LIMITER_WAITS = Histogram(
    "dropline_ratelimit_wait_seconds",
    "Time a platform call waited for Dropline's own rate limiter or the platform's cost budget, by platform.",
    ["platform"],
    buckets=WAIT_BUCKETS,
)
LABEL_PURCHASES = Counter(
    "dropline_label_purchases_total",
    "Label purchase attempts, by outcome (bought, adopted, failed, unknown, held, busy, done).",
    ["outcome"],
)
WEBHOOKS_IN = Counter(
    "dropline_webhooks_received_total",
    "Platform notifications received, by platform and outcome (recorded, duplicate, unknown_shop, invalid, rejected).",
    ["platform", "outcome"],
)
WEBHOOKS_OUT = Counter(
    "dropline_webhook_deliveries_total",
    "Outbound webhook delivery attempts to partners' endpoints, by outcome (delivered, failed, timeout, ...).",
    ["outcome"],
)
WEBHOOKS_OUT_LATENCY = Histogram(
    "dropline_webhook_delivery_duration_seconds",
    "Time of one outbound webhook delivery attempt.",
    [],
    buckets=LATENCY_BUCKETS,
)

# Every metric name this module exports (families, without the _total/_bucket suffixes), for the dashboard test.
QUEUE_DEPTH_NAME = "dropline_queue_messages"
QUEUE_AGE_NAME = "dropline_queue_oldest_message_age_seconds"
METRIC_NAMES: frozenset[str] = frozenset(
    {
        "dropline_http_requests_total",
        "dropline_http_request_duration_seconds",
        "dropline_celery_tasks_total",
        "dropline_celery_task_duration_seconds",
        "dropline_platform_calls_total",
        "dropline_platform_call_duration_seconds",
        "dropline_ratelimit_wait_seconds",
        "dropline_label_purchases_total",
        "dropline_webhooks_received_total",
        "dropline_webhook_deliveries_total",
        "dropline_webhook_delivery_duration_seconds",
        QUEUE_DEPTH_NAME,
        QUEUE_AGE_NAME,
    }
)

# Closed sets. Outcome codes from a platform are its documented error codes (a few dozen at most); the cap below
# is the guard against a platform that starts answering with something unbounded.
LABEL_OUTCOMES = frozenset({"bought", "adopted", "failed", "unknown", "held", "busy", "done"})
WEBHOOK_IN_OUTCOMES = frozenset({"recorded", "duplicate", "unknown_shop", "invalid", "rejected"})
MAX_OUTCOME_LENGTH = 40


def _closed(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else UNKNOWN


def _code(value: object) -> str:
    """A platform outcome code as a label: short, printable, no spaces; anything else is `other`."""
    text = str(value)
    if not text or len(text) > MAX_OUTCOME_LENGTH or not text.replace("_", "").replace("-", "").isalnum():
        return UNKNOWN
    return text


# ----------------------------------------------------------------------------------------------- recording
def http_request_observe(*, view: str, method: str, status: int, seconds: float) -> None:
    method = method if method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} else UNKNOWN
    HTTP_REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    HTTP_LATENCY.labels(view=view, method=method).observe(seconds)


def task_observe(*, task: str, outcome: str, seconds: float | None) -> None:
    TASKS.labels(task=task, outcome=outcome).inc()
    if seconds is not None:
        TASK_DURATION.labels(task=task).observe(seconds)


def platform_call_observe(*, platform: str, api: str, outcome: object, seconds: float) -> None:
    """One HTTP attempt to a platform: `api` is the adapter's name for the operation (a closed set per platform),
    `outcome` "ok" or the platform's error code ("transport" when no answer came)."""
    PLATFORM_CALLS.labels(platform=platform, api=api, outcome=_code(outcome)).inc()
    PLATFORM_LATENCY.labels(platform=platform, api=api).observe(seconds)


def limiter_wait_observe(*, platform: str, seconds: float) -> None:
    """A platform call waited `seconds` before it could be sent (Dropline's limiter or the platform's budget)."""
    LIMITER_WAITS.labels(platform=platform).observe(seconds)


def label_purchase_observe(*, outcome: str) -> None:
    LABEL_PURCHASES.labels(outcome=_closed(outcome, LABEL_OUTCOMES)).inc()


def webhook_in_observe(*, platform: str, outcome: str) -> None:
    """`platform` must be a registered platform or "other": the URL segment is the caller's to check."""
    WEBHOOKS_IN.labels(platform=platform, outcome=_closed(outcome, WEBHOOK_IN_OUTCOMES)).inc()


def webhook_delivery_observe(*, outcome: str, seconds: float) -> None:
    """One outbound webhook delivery attempt: "delivered" for a 2xx, else the failure's kind ("http_5xx",
    "http_4xx", "timeout", "connection"): a class, never the raw status, to keep the label set small."""
    WEBHOOKS_OUT.labels(outcome=_code(outcome)).inc()
    WEBHOOKS_OUT_LATENCY.observe(seconds)


@dataclass
class _Call:
    outcome: object = "transport"


@contextmanager
def platform_call_timer(*, platform: str, api: str) -> Iterator[_Call]:
    """Times the block as one platform call. The block sets `.outcome`; if it raises, the outcome is the
    exception's `code` when it has one (a PlatformError), else stays "transport" (no answer came)."""
    call = _Call()
    started = time.monotonic()
    try:
        yield call
    except Exception as error:
        code = getattr(error, "code", None)
        if code is not None:
            call.outcome = code
        raise
    finally:
        platform_call_observe(platform=platform, api=api, outcome=call.outcome, seconds=time.monotonic() - started)


# ----------------------------------------------------------------------------------------------- queues
class QueueCollector(Collector):
    """Depth and age of each Celery queue, read from the Redis broker at scrape time (nothing is stored).

    Depth: LLEN of the queue's list (and of kombu's priority sub-lists). Age: kombu pushes on the left and workers
    pop from the right, so the oldest waiting message is at index -1; its `dropline_sent_at` header (set by the
    before_task_publish hook in erp/celery.py) is its publish time. A message published without it (by another
    producer) gives no age. Brokers other than Redis (the embedded filesystem one, memory in tests): no samples."""

    PRIORITY_SEPARATOR = "\x06\x16"
    PRIORITY_STEPS = (0, 3, 6, 9)  # kombu's Redis default

    def __init__(self, *, broker_url: str, queues: Iterable[str], clock: Any = time.time) -> None:
        self.broker_url = broker_url
        self.queues = tuple(queues)
        self._clock = clock

    def _keys(self, queue: str) -> list[str]:
        return [queue if step == 0 else f"{queue}{self.PRIORITY_SEPARATOR}{step}" for step in self.PRIORITY_STEPS]

    def collect(self) -> Iterator[Metric]:
        if not self.broker_url.startswith(("redis://", "rediss://")):
            return
        depth = GaugeMetricFamily(QUEUE_DEPTH_NAME, "Messages waiting in each Celery queue.", labels=["queue"])
        age = GaugeMetricFamily(
            QUEUE_AGE_NAME, "Seconds since the oldest waiting message of each queue was published.", labels=["queue"]
        )
        import redis

        try:
            client = redis.Redis.from_url(self.broker_url, socket_connect_timeout=1, socket_timeout=1)
            now = self._clock()
            for queue in self.queues:
                keys = self._keys(queue)
                depth.add_metric([queue], float(sum(int(client.llen(key)) for key in keys)))
                oldest = [self._sent_at(client.lindex(key, -1)) for key in keys]
                known = [sent for sent in oldest if sent is not None]
                age.add_metric([queue], max(0.0, now - min(known)) if known else 0.0)
        except redis.RedisError as error:  # a scrape during a broker outage shows no queue figures, not a 500
            log.warning("queue metrics: broker unreachable (%s)", error)
            return
        yield depth
        yield age

    @staticmethod
    def _sent_at(raw: bytes | str | None) -> float | None:
        if raw is None:
            return None
        try:
            headers = json.loads(raw).get("headers") or {}
            return float(headers[SENT_AT_HEADER])
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


# ----------------------------------------------------------------------------------------------- exposition
def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def registry_for_scrape(*, queues: bool = True) -> CollectorRegistry:
    """The registry a scrape reads: every process's files in multiprocess mode, else this process's metrics; plus
    the queue collector (the web's /metrics has it; a worker's port does not, so queues are not counted twice)."""
    from prometheus_client import REGISTRY

    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default(REGISTRY))
    if queues:
        from django.conf import settings

        from erp.celery import QUEUES

        registry.register(QueueCollector(broker_url=settings.CELERY_BROKER_URL, queues=QUEUES))
    return registry


class _Default(Collector):
    """This process's own metrics inside a scrape registry of its own (the queue collector must not join the
    process-wide default registry, or every scrape of it would reach Redis)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


def exposition(*, queues: bool = True) -> bytes:
    return generate_latest(registry_for_scrape(queues=queues))


def process_dead(pid: int) -> None:
    """A gunicorn worker or Celery child exited: its live gauges stop counting (multiprocess mode only)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def worker_metrics_serve(port: int) -> None:
    """Serve this worker's metrics (all its pool's children, in multiprocess mode) on `port` for Prometheus."""
    from prometheus_client import start_http_server

    start_http_server(port, registry=registry_for_scrape(queues=False))
    log.info("worker metrics on port %d", port)
