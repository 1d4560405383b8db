"""Prometheus metrics (erp/metrics.py, docs/adr/0022-metrics-and-logs.md): /metrics behind its bearer token, the
figures each wired place records, the queue collector on a real Redis, a real worker's metrics port, and the
acceptance check: after a label batch against the TikTok sandbox, /metrics shows the purchases and platform calls."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from erp import metrics
from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from shipping.labels.batches import label_batch_create
from shipping.models import LabelPurchase, PurchaseState
from tests.shipping.test_labels import shippable
from tests.workers import REDIS_DB_URL, Workers, wait_for

TOKEN = "scrape-token-for-tests-0123456789"
ROOT = Path(settings.BASE_DIR)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples(text).items() if n == name and wanted <= ls)


def scrape(client: Client | None = None) -> str:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return response.content.decode()


@pytest.fixture
def token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


# ------------------------------------------------------------------------------------------- the endpoint
@pytest.mark.django_db
def test_metrics_need_the_bearer_token(token: str) -> None:
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {token}").status_code == 401
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "dropline_http_requests_total" in response.content.decode()


@pytest.mark.django_db
def test_without_a_token_metrics_are_open_in_debug_only(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False
    assert Client().get("/metrics").status_code == 404
    settings.DEBUG = True
    assert Client().get("/metrics").status_code == 200


@pytest.mark.django_db
def test_requests_are_counted_by_view_name_and_status(token: str) -> None:
    before = scrape()
    Client().get("/healthz")
    Client().get("/healthz")
    Client().get("/no-such-page-at-all/")
    after = scrape()
    assert value(after, "dropline_http_requests_total", view="healthz", status="200") - value(
        before, "dropline_http_requests_total", view="healthz", status="200"
    ) == pytest.approx(2)
    name = "dropline_http_requests_total"
    assert value(after, name, view="unmatched", status="404") > value(before, name, view="unmatched", status="404")
    assert value(after, "dropline_http_request_duration_seconds_count", view="healthz") >= 2
    # The URL itself never becomes a label: a scanner cannot grow the series.
    assert "no-such-page" not in after


# ------------------------------------------------------------------------------------------- recording
def test_each_named_function_records_its_metric() -> None:
    def registry_text() -> str:
        return metrics.exposition(queues=False).decode()

    before = registry_text()
    metrics.webhook_delivery_observe(outcome="delivered", seconds=0.2)
    metrics.webhook_delivery_observe(outcome="http_5xx", seconds=1.5)
    metrics.webhook_in_observe(platform="shopify", outcome="duplicate")
    metrics.limiter_wait_observe(platform="tiktok", seconds=0.3)
    metrics.label_purchase_observe(outcome="not-an-outcome")
    metrics.platform_call_observe(platform="tiktok", api="Search Orders", outcome="a code with spaces", seconds=0.1)
    after = registry_text()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("dropline_webhook_deliveries_total", outcome="delivered") == 1
    assert delta("dropline_webhook_deliveries_total", outcome="http_5xx") == 1
    assert delta("dropline_webhook_delivery_duration_seconds_sum") == pytest.approx(1.7)
    assert delta("dropline_webhooks_received_total", platform="shopify", outcome="duplicate") == 1
    assert delta("dropline_ratelimit_wait_seconds_count", platform="tiktok") == 1
    # Values outside a closed set fold into "other" instead of making new series.
    assert delta("dropline_label_purchases_total", outcome="other") == 1
    assert delta("dropline_platform_calls_total", platform="tiktok", api="Search Orders", outcome="other") == 1


def test_every_metric_this_module_exports_is_in_its_name_list() -> None:
    exported = {family.name for family in text_string_to_metric_families(metrics.exposition(queues=False).decode())}
    ours = {name for name in exported if name.startswith("dropline_")}
    # prometheus_client names a counter's family without `_total`.
    assert {n.removesuffix("_total") for n in metrics.METRIC_NAMES} >= ours


@pytest.mark.django_db
def test_platform_webhooks_are_counted_by_outcome_and_an_unknown_platform_is_not_a_new_label(token: str) -> None:
    before = scrape()
    Client().post("/webhooks/tiktok/", b"{}", content_type="application/json")  # unsigned: refused
    Client().post("/webhooks/no-such-platform-xyz/", b"{}", content_type="application/json")
    after = scrape()
    name = "dropline_webhooks_received_total"
    assert value(after, name, platform="tiktok", outcome="rejected") - value(
        before, name, platform="tiktok", outcome="rejected"
    ) == pytest.approx(1)
    assert value(after, name, platform="other", outcome="rejected") - value(
        before, name, platform="other", outcome="rejected"
    ) == pytest.approx(1)
    assert "no-such-platform-xyz" not in after


def test_a_celery_task_is_timed_and_counted_by_name_and_outcome() -> None:
    from erp.tasks import heartbeat

    before = metrics.exposition(queues=False).decode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("erp.services.heartbeat_record", lambda **kwargs: None)
        heartbeat.apply()
    after = metrics.exposition(queues=False).decode()
    name = "dropline_celery_tasks_total"
    assert value(after, name, task="erp.heartbeat", outcome="success") - value(
        before, name, task="erp.heartbeat", outcome="success"
    ) == pytest.approx(1)
    assert value(after, "dropline_celery_task_duration_seconds_count", task="erp.heartbeat") >= 1


# ------------------------------------------------------------------------------------------- queues
@pytest.mark.redis
def test_queue_depth_and_the_age_of_the_oldest_message_come_from_the_broker() -> None:
    import redis as redis_lib
    from celery import Celery
    from kombu import Queue

    from erp.celery import app as dropline_app

    queue = f"ops-metrics-{uuid.uuid4().hex[:8]}"
    producer = Celery("producer", broker=REDIS_DB_URL, set_as_current=False)
    try:
        # Published the way Dropline publishes: the before_task_publish hook stamps the sent time.
        with producer.connection_for_write() as conn:
            Queue(queue).bind(conn).declare()
            for _ in range(3):
                producer.send_task("tests.nothing", queue=queue, connection=conn)
        collector = metrics.QueueCollector(broker_url=REDIS_DB_URL, queues=[queue], clock=lambda: time.time() + 100)
        families = {family.name: family for family in collector.collect()}
        assert families[metrics.QUEUE_DEPTH_NAME].samples[0].value == 3
        age = families[metrics.QUEUE_AGE_NAME].samples[0].value
        assert 100 <= age < 130
    finally:
        redis_lib.Redis.from_url(REDIS_DB_URL).delete(queue)
        producer.close()
    assert dropline_app.conf.task_serializer == "json"  # the collector reads JSON messages


def test_the_queue_collector_is_silent_without_redis_and_on_a_dead_broker() -> None:
    assert list(metrics.QueueCollector(broker_url="memory://", queues=["default"]).collect()) == []
    assert list(metrics.QueueCollector(broker_url="redis://127.0.0.1:1/0", queues=["default"]).collect()) == []


# ------------------------------------------------------------------------------------------- a real worker
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.redis
@pytest.mark.django_db
def test_a_real_worker_is_alive_by_its_file_and_serves_its_pools_metrics(tmp_path: Path, settings: Any) -> None:
    port = free_port()
    live = tmp_path / "live"
    workers = Workers(
        tmp_path,
        env={
            "LIVENESS_DIR": str(live),
            "WORKER_METRICS_PORT": str(port),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        },
    )
    workers.start()
    try:
        wait_for(lambda: (live / "worker").exists(), 60, "the worker's liveness file")
        settings.LIVENESS_DIR = live
        from django.core.management import call_command

        call_command("background_alive", "--worker")  # exits 0: no SystemExit
        workers.send("tests.journal", path=str(tmp_path / "journal"), hold_seconds=0)
        wait_for(lambda: (tmp_path / "journal").exists(), 60, "the task to run")

        def counted() -> bool:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx.HTTPError:
                return False
            return value(text, "dropline_celery_tasks_total", task="tests.journal", outcome="success") == 1

        wait_for(counted, 30, "the pool child's task count on the worker's metrics port")
    finally:
        workers.stop_all()


# ------------------------------------------------------------------------------------------- acceptance
@pytest.mark.django_db
def test_after_a_label_batch_metrics_show_the_purchases_and_the_platform_calls(
    connected_store: Store, tiktok: Any, token: str, django_capture_on_commit_callbacks: Any
) -> None:
    before = scrape()
    orders = shippable(connected_store, 3)
    with organization_scope(connected_store.organization), django_capture_on_commit_callbacks(execute=True):
        batch = label_batch_create(actor=Actor.system(), orders=orders)
    assert set(LabelPurchase.unscoped.filter(batch=batch).values_list("state", flat=True)) == {PurchaseState.PURCHASED}
    after = scrape()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("dropline_label_purchases_total", outcome="bought") == 3
    assert delta("dropline_platform_calls_total", platform="tiktok", api="Create Packages", outcome="ok") == 3
    assert delta("dropline_platform_call_duration_seconds_count", platform="tiktok", api="Create Packages") == 3
    assert delta("dropline_platform_calls_total", platform="tiktok") >= 3 * 2  # a quote and a purchase per order


# ------------------------------------------------------------------------------------------- the dashboard
def test_the_grafana_dashboard_is_valid_json_and_queries_only_metrics_that_exist() -> None:
    dashboard = json.loads((ROOT / "docs" / "grafana" / "dropline.json").read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", []) if "expr" in target
    ]
    assert len(expressions) >= 8
    queried = {name for expr in expressions for name in re.findall(r"\b(dropline_[a-z_]+)", expr)}
    suffixes = ("_bucket", "_count", "_sum")
    families = {next((n.removesuffix(s) for s in suffixes if n.endswith(s)), n) for n in queried}
    unknown = sorted(families - metrics.METRIC_NAMES)
    assert not unknown, f"the dashboard queries metrics erp/metrics.py does not export: {unknown}"
    assert families >= {
        "dropline_label_purchases_total",
        "dropline_platform_calls_total",
        metrics.QUEUE_DEPTH_NAME,
        metrics.QUEUE_AGE_NAME,
    }
