"""Celery: configuration, the tenant task decorator, and at-least-once delivery proven with real workers."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from erp.celery import app
from erp.models import Organization
from erp.tasks import task
from erp.tenancy import current_organization
from tests.workers import Workers, database_env, lines, wait_for


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


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


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
    workers.kill(first)  # the whole worker, unacknowledged message and all
    workers.start()
    wait_for(lambda: "done" in lines(journal), 45, "redelivery to the new worker")
    assert [e.split()[0] for e in journal.read_text().splitlines()] == ["start", "start", "done"]


def _backends_of_tasks(tmp_path: Path, *, conn_max_age: str, between: Any = None, tasks: int = 3) -> list[str]:
    """The PostgreSQL backend each of `tasks` tasks, run one after another by one real worker, talked to;
    `between(backend)` runs after each task but the last."""
    journal = tmp_path / "backends"
    pool = Workers(tmp_path, env={**database_env(), "DATABASE_CONN_MAX_AGE": conn_max_age})
    try:
        pool.start()
        for n in range(tasks):
            pool.send("tests.database_backend", path=str(journal))
            wait_for(lambda n=n: len(lines(journal)) > n, 120, f"task {n + 1} to run")
            if between is not None and n < tasks - 1:
                between(lines(journal)[-1])
    finally:
        pool.stop_all()
    return lines(journal)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_tasks_keep_their_database_connection_as_requests_do(tmp_path: Path) -> None:
    """CONN_MAX_AGE holds for tasks (Celery's Django fix-up would open a new connection for each one)."""
    assert len(set(_backends_of_tasks(tmp_path, conn_max_age="60"))) == 1


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_task_after_its_connection_was_cut_gets_a_new_one(tmp_path: Path) -> None:
    """The server ended the connection between two tasks (a restart, an idle timeout): the next task still runs,
    on a new connection, because the health check runs before a kept connection is reused."""
    from django.db import connection

    def cut(backend: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [int(backend)])

    backends = _backends_of_tasks(tmp_path, conn_max_age="60", between=cut)
    assert len(backends) == 3
    assert len(set(backends)) == 3


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_conn_max_age_0_gives_each_task_its_own_connection(tmp_path: Path) -> None:
    assert len(set(_backends_of_tasks(tmp_path, conn_max_age="0"))) == 3
