"""Real Celery workers for tests: started on Redis with a private queue, killed on demand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from celery import Celery
from django.conf import settings

REDIS_DB_URL = os.environ.get("DROPLINE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


class Workers:
    """Starts real `celery worker` processes on Redis, each on a private queue, and kills them on demand.

    By default a worker runs the local settings on a throwaway SQLite file; pass `env` to point it elsewhere (the
    test PostgreSQL database, a sandbox URL...)."""

    def __init__(self, tmp_path: Path, env: dict[str, str] | None = None) -> None:
        self.queue = f"chaos-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJANGO_SETTINGS_MODULE": "erp.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
            "CELERY_BROKER_URL": REDIS_DB_URL,
            "REDIS_URL": REDIS_DB_URL,
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
                self.queue,
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
        producer = Celery("producer", broker=REDIS_DB_URL)
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
