"""Real Celery workers for tests: started on Redis with a private queue, killed on demand."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis
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


def database_env() -> dict[str, str]:
    """What a worker process needs to share this test's PostgreSQL database (and read its encrypted fields)."""
    from django.db import connection

    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
    }


def sandbox_env(base_url: str) -> dict[str, str]:
    """What a worker process needs to share this test's database and reach the TikTok sandbox at `base_url`."""
    return {
        **database_env(),
        "TIKTOK_API_BASE_URL": base_url,
        "TIKTOK_AUTH_BASE_URL": base_url,
    }


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


class RedisServer:
    """A private redis-server on its own port, owned by the test: killed and restarted at will. It keeps nothing on
    disk, like the production broker, so a restart loses every message. The shared Redis other tests use is never
    stopped."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.directory / f"redis-{self.starts}.log").open("w")
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            [*command, "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        client = self.client()
        wait_for(lambda: self._pings(client), 10, "the private redis-server to accept connections")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown, no save
        self.process.wait()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)

    @staticmethod
    def _pings(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False


class S3Server:
    """A real S3-compatible server (moto's server mode, the command `make run` uses) in its own process on its own
    port, owned by the test. Web and workers reach it over HTTP exactly as they would reach MinIO or AWS."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        from erp.storage import s3_server_command

        log = (self.directory / "s3-server.log").open("w")
        self.process = subprocess.Popen(
            s3_server_command(host="127.0.0.1", port=self.port), stdout=log, stderr=subprocess.STDOUT
        )
        wait_for(self._answers, 30, "the S3-compatible server to accept connections")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def storage_env(self, bucket: str) -> dict[str, str]:
        """The environment a worker process needs to use this server's `bucket` (DROPLINE_STORAGE=s3)."""
        return {
            "DROPLINE_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.url,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts any credentials
        }
