"""Liveness of the background processes, for a Kubernetes exec probe (or compose's healthcheck).

A web process answers /healthz; a worker and beat answer nothing, so each proves it is alive by touching a file:
- a worker on every event heartbeat its consumer sends (Celery's `heartbeat_sent`, every 2 s while the consumer's
  event loop runs; a wedged loop stops it) and when it becomes ready;
- beat on every tick of its scheduler (at most a few seconds apart with Dropline's schedule).
`manage.py background_alive --worker|--beat [--max-age N]` exits 0 while the file is fresh, 1 otherwise.

This is per process, where erp.services.heartbeat_record (the `Heartbeat` row beat's 30 s task refreshes) is per
deployment: that row tells the dashboard that *some* worker and beat run; the file tells the orchestrator that
*this* container's does. The folder is LIVENESS_DIR (a container's own /tmp by default): one worker or beat per
container, as docs/operations.md deploys them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from django.conf import settings

Role = Literal["worker", "beat"]
ROLES: tuple[Role, ...] = ("worker", "beat")


def liveness_path(role: Role) -> Path:
    return Path(settings.LIVENESS_DIR) / role


def liveness_touch(role: Role) -> None:
    path = liveness_path(role)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def liveness_age(role: Role, *, now: float | None = None) -> float | None:
    """Seconds since the role last touched its file; None when it never did (not started, or another container)."""
    try:
        touched = liveness_path(role).stat().st_mtime
    except FileNotFoundError:
        return None
    return max(0.0, (time.time() if now is None else now) - touched)
