"""Real Celery workers for tests: started on Redis with a private queue, killed on demand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from celery import Celery
from django.conf import settings

REDIS_DB_URL = os.environ.get("DROPLINE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


class Workers:
    """Starts real `celery worker` processes on Redis, each on a private queue, and kills them on demand.

    By default a worker runs the local settings on a throwaway SQLite file; pass `env` to point it elsewhere (the
    test PostgreSQL database, a sandbox URL...). `broker_url` puts the workers and `send` on another Redis (one the
    test may kill), which also serves as their REDIS_URL; `queues` are consumed besides the private one, for the
    follow-up tasks the workers enqueue by their routes (only on a private broker, where nobody else reads them)."""

    def __init__(
        self,
        tmp_path: Path,
        env: dict[str, str] | None = None,
        *,
        broker_url: str | None = None,
        queues: Sequence[str] = (),
    ) -> None:
        self.queue = f"chaos-{uuid.uuid4().hex[:8]}"
        self.broker_url = broker_url or REDIS_DB_URL
        self.queues = [self.queue, *queues]
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJANGO_SETTINGS_MODULE": "erp.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
            "CELERY_BROKER_URL": self.broker_url,
            "REDIS_URL": self.broker_url,
            "CELERY_VISIBILITY_TIMEOUT": "4",  # a dead worker's message returns after 4 s instead of 6 min
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            **(env or {}),
        }

    def start(self) -> subprocess.Popen:
        log = (self.tmp_path / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "erp",
                "worker",
                "-Q",
                ",".join(self.queues),
                "-c",
                "1",
                "-I",
                "tests.erp.worker_tasks",
                "-n",
                f"{self.queue}-{len(self.processes)}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def send(self, name: str, **kwargs: Any) -> None:
        # Not the current app: shared tasks resolve through the current app, so later tests' `.delay()` would go to
        # this broker (a dead one, once a test has killed it) instead of running eagerly.
        producer = Celery("producer", broker=self.broker_url, set_as_current=False)
        producer.conf.broker_transport_options = {"visibility_timeout": 4}
        producer.send_task(name, kwargs=kwargs, queue=self.queue)
        producer.close()

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.tmp_path.glob("worker-*.log")))


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []
