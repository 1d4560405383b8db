"""Celery: configuration, the tenant task decorator, and at-least-once delivery proven with real workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.conf import settings

from erp.celery import app
from erp.models import Organization
from erp.tasks import task
from erp.tenancy import current_organization


def test_delivery_is_at_least_once_with_named_queues_and_json() -> None:
    conf = app.conf
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert {q.name for q in conf.task_queues} == {"sync", "labels", "documents", "default"}
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert "heartbeat" in conf.beat_schedule
    assert app.amqp.router.route({}, "shipping.labels_purchase")["queue"].name == "labels"
    assert app.amqp.router.route({}, "orders.import_store")["queue"].name == "sync"


def test_default_visibility_timeout_outlasts_the_longest_task() -> None:
    """Otherwise Redis would hand a task that is still running to a second worker."""
    from erp.settings import base

    assert base.env.int("CELERY_VISIBILITY_TIMEOUT", default=360) > app.conf.task_time_limit


seen: list[Any] = []


@task(name="tests.scope_probe")
def scope_probe(*, organization: Organization, note: str) -> None:
    seen.append((organization, current_organization(), note))


@pytest.mark.django_db
def test_tenant_tasks_run_inside_their_organizations_scope(tenant: Any) -> None:
    seen.clear()
    scope_probe.delay(organization_id=str(tenant.organization.pk), note="hello")
    assert seen == [(tenant.organization, tenant.organization, "hello")]


@pytest.mark.django_db
def test_a_task_for_a_deleted_organization_does_nothing() -> None:
    seen.clear()
    scope_probe.delay(organization_id=str(uuid.uuid4()), note="ghost")
    assert seen == []


# ----------------------------------------------------------------------------------------------- real workers
REDIS_DB_URL = os.environ.get("DROPLINE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


class Workers:
    """Starts real `celery worker` processes on Redis, each on a private queue, and kills them on demand."""

    def __init__(self, tmp_path: Path) -> None:
        self.queue = f"chaos-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "erp.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
            "CELERY_BROKER_URL": REDIS_DB_URL,
            "REDIS_URL": REDIS_DB_URL,
            "CELERY_VISIBILITY_TIMEOUT": "4",  # a dead worker's message returns after 4 s instead of 6 min
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        }

    def start(self) -> subprocess.Popen:
        log = (self.tmp_path / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "erp", "worker", "-Q", self.queue, "-c", "1",
             "-I", "tests.erp.worker_tasks", "-n", f"{self.queue}-{len(self.processes)}@%h",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def send(self, name: str, **kwargs: Any) -> None:
        producer = Celery("producer", broker=REDIS_DB_URL)
        producer.conf.broker_transport_options = {"visibility_timeout": 4}
        producer.send_task(name, kwargs=kwargs, queue=self.queue)
        producer.close()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@pytest.mark.redis
@pytest.mark.chaos
def test_a_task_whose_pool_process_is_killed_runs_again(workers: Workers, tmp_path: Path) -> None:
    journal = tmp_path / "journal.txt"
    workers.start()
    workers.send("tests.journal", path=str(journal), hold_seconds=30)
    wait_for(lambda: "start" in lines(journal), 30, "the task to start")
    child_pid = int(journal.read_text().split()[1])
    os.kill(child_pid, signal.SIGKILL)  # the worker survives; its pool child died mid-task
    wait_for(lambda: "done" in lines(journal), 30, "the task to be delivered again and finish")
    entries = journal.read_text().splitlines()
    assert [e.split()[0] for e in entries] == ["start", "start", "done"]


@pytest.mark.redis
@pytest.mark.chaos
def test_a_task_whose_whole_worker_is_killed_is_delivered_to_the_next_worker(workers: Workers, tmp_path: Path) -> None:
    journal = tmp_path / "journal.txt"
    first = workers.start()
    workers.send("tests.journal", path=str(journal), hold_seconds=30)
    wait_for(lambda: "start" in lines(journal), 30, "the task to start")
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker, unacknowledged message and all
    first.wait()
    workers.start()
    wait_for(lambda: "done" in lines(journal), 45, "redelivery to the new worker")
    assert [e.split()[0] for e in journal.read_text().splitlines()] == ["start", "start", "done"]
