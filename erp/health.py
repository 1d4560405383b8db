"""Liveness and readiness: what an orchestrator and an operator need to know, each telling the truth.

- `/healthz` (liveness): this process answers. It touches no dependency: restarting a web process does not fix a
  database outage, so liveness must not fail with one.
- `/readyz` (readiness): each dependency checked with a short timeout, 503 when a required one is down. PostgreSQL
  is required for everything (on a connection of its own, so a dead server fails the probe in
  READYZ_DATABASE_TIMEOUT seconds instead of hanging it); every migration applied (a process started before
  `migrate` ran would serve code the schema does not have yet); Redis (cache and broker) for writes and background
  work; shared storage for printing. Background workers are reported (their heartbeat) but do not make a web
  process unready: their own liveness is erp/liveness.py (docs/operations.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from erp.selectors import background_is_running
from erp.storage import storage_probe


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    required: bool
    detail: str
    milliseconds: float


def _timed(name: str, probe: Callable[[], str], *, required: bool) -> Check:
    started = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as error:  # a readiness probe reports every failure instead of raising it
        detail, ok = f"{type(error).__name__}: {error}"[:300], False
    return Check(name, ok, required, detail, round((time.perf_counter() - started) * 1000, 1))


def _database() -> str:
    """A fresh connection with a short connect timeout: the request's own connection may be a pooled one that was
    fine a minute ago, and libpq's default is to wait as long as the network does."""
    params = connection.get_connection_params()
    if connection.vendor == "postgresql":
        params["connect_timeout"] = settings.READYZ_DATABASE_TIMEOUT
    raw = connection.get_new_connection(params)
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    finally:
        raw.close()
    return connection.vendor


_migrations_applied = False  # once every migration is applied, a process need not read the graph again


def _migrations() -> str:
    global _migrations_applied
    if _migrations_applied:
        return "all applied"
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan[:5])
        raise RuntimeError(f"{len(plan)} migration(s) not applied: {names}{', ...' if len(plan) > 5 else ''}")
    _migrations_applied = True
    return "all applied"


def _cache() -> str:
    cache.set("dropline:readyz", "1", timeout=10)
    if cache.get("dropline:readyz") != "1":
        raise RuntimeError("the cache did not keep a value")
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def _broker() -> str:
    from erp.celery import app

    # The settings' URL, read at each probe (the same as the app's in production; a test can point it elsewhere).
    with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.transport.driver_name


def _storage() -> str:
    return storage_probe()  # the bucket (object storage) or a writable MEDIA_ROOT (a volume)


def _background() -> str:
    if not background_is_running():
        raise RuntimeError("no worker or beat heartbeat in the last 3 minutes")
    return "heartbeat fresh"


def background_problem() -> str | None:
    """What the dashboard says when background work has stopped: None while the heartbeat is fresh; otherwise whether
    the queue itself is unreachable (an outage: nothing is lost, work waits) or the workers are simply not started.
    The broker is probed only when the heartbeat is already stale, so a healthy dashboard pays nothing for it."""
    if background_is_running():
        return None
    broker = _timed("broker", _broker, required=True)
    return "workers-stopped" if broker.ok else "broker-unreachable"


def readiness() -> list[Check]:
    return [
        _timed("database", _database, required=True),
        _timed("migrations", _migrations, required=True),
        _timed("cache", _cache, required=True),
        _timed("broker", _broker, required=True),
        _timed("storage", _storage, required=True),
        _timed("background", _background, required=False),
    ]
