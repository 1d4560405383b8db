"""What an orchestrator asks (docs/operations.md): /readyz fails, naming each failing check, when PostgreSQL or the
broker is unreachable or a migration is not applied; a worker and beat each prove they are alive by a file that
`manage.py background_alive` reads."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from erp import health
from erp.liveness import liveness_age, liveness_path, liveness_touch

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def _fresh_migration_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "_migrations_applied", False)


def failing(body: dict[str, Any]) -> set[str]:
    return {name for name, check in body["checks"].items() if check["required"] and not check["ok"]}


@pytest.mark.django_db
def test_readyz_is_ready_with_every_migration_applied() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    migrations = response.json()["checks"]["migrations"]
    assert (migrations["ok"], migrations["required"], migrations["detail"]) == (True, True, "all applied")


@pytest.mark.postgres
@pytest.mark.chaos
@pytest.mark.django_db
def test_readyz_answers_503_naming_the_database_when_postgresql_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given PostgreSQL at a port where nothing listens (the probe opens a connection of its own)
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(closed_port()))
    started = time.monotonic()
    response = Client().get("/readyz")
    # Then: 503, in JSON, naming the database, within the short connect timeout
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "unavailable"
    assert "database" in failing(body)
    assert "OperationalError" in body["checks"]["database"]["detail"]
    assert time.monotonic() - started < 10
    assert Client().get("/healthz").status_code == 200  # liveness touches no dependency


@pytest.mark.chaos
@pytest.mark.django_db
def test_readyz_answers_503_naming_the_broker_when_it_is_unreachable(settings: Any) -> None:
    settings.CELERY_BROKER_URL = DEAD_BROKER
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert failing(body) == {"broker"}
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_answers_503_while_a_migration_is_not_applied() -> None:
    # Given the latest erp migration recorded as not applied (the test's transaction puts it back)
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="erp").order_by("-name").first()
    assert latest is not None
    recorder.migration_qs.filter(pk=latest.pk).delete()
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert failing(body) == {"migrations"}
    assert f"erp.{latest.name}" in body["checks"]["migrations"]["detail"]


# ----------------------------------------------------------------------------------------------- liveness
@pytest.fixture
def liveness_dir(settings: Any, tmp_path: Path) -> Path:
    settings.LIVENESS_DIR = tmp_path / "live"
    return settings.LIVENESS_DIR


def alive(role: str, *extra: str) -> int:
    try:
        call_command("background_alive", f"--{role}", *extra)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_background_alive_fails_until_the_process_has_touched_its_file_and_again_once_it_is_stale(
    liveness_dir: Path,
) -> None:
    assert alive("worker") == 1  # never started
    liveness_touch("worker")
    assert alive("worker") == 0
    assert alive("beat") == 1  # the worker's sign of life is not beat's
    stale = time.time() - 300
    os.utime(liveness_path("worker"), (stale, stale))
    assert alive("worker") == 1
    assert alive("worker", "--max-age", "600") == 0


def test_a_worker_is_alive_on_each_event_heartbeat_and_beat_on_each_tick(
    liveness_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery.beat import PersistentScheduler
    from celery.signals import heartbeat_sent

    from erp.celery import LivenessScheduler, app

    heartbeat_sent.send(sender=None)  # what a worker's consumer sends every 2 s
    age = liveness_age("worker")
    assert age is not None
    assert age < 5

    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *args, **kwargs: 4.5)
    scheduler = LivenessScheduler.__new__(LivenessScheduler)  # its schedule file is not what this test is about
    assert scheduler.tick() == 4.5
    beat_age = liveness_age("beat")
    assert beat_age is not None
    assert beat_age < 5
    assert app.conf.beat_scheduler == "erp.celery:LivenessScheduler"
