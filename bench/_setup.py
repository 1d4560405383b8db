"""Shared by the bench scripts: a private PostgreSQL database (or the embedded stack of `make run`), a TikTok or Shopify
sandbox server in its own process, and a Celery worker process as `make run` starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def use_fresh_database(name: str) -> None:
    """Drop and create `name`, point Django at it, set Django up and migrate."""
    import psycopg2

    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    _django_setup()


def use_embedded_stack(var_dir: Path) -> None:
    """Point Django at `make run`'s embedded default under `var_dir` (a fresh SQLite file in WAL mode, kombu's
    filesystem broker, no Redis), set Django up and migrate. Worker processes started afterwards inherit it."""
    os.environ["DROPLINE_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'dropline.sqlite3'}"
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "erp.settings.local"
    _django_setup()


def _django_setup(*, migrate: bool = True) -> None:
    """Django for a bench process; `migrate=False` in a worker process of a database its parent migrated (a Celery
    worker does not migrate either)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")
    os.environ["DEBUG"] = "False"  # DEBUG keeps every SQL query in memory: a leak by design, not what production runs
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    if migrate:
        call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """`manage.py tiktok_sandbox` on a spare port, in its own process (its own CPU, its own GIL). `options` are passed
    on to the command (subclasses run another sandbox's command)."""

    command = "tiktok_sandbox"

    def __init__(self, *options: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "erp.settings.local", "DATABASE_URL": "sqlite:///:memory:"}
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", self.command, "--port", str(self.port), *options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=self.base_url, timeout=120)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.http.get("/sandbox/stats")
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()  # not left running behind the error
        raise RuntimeError("the sandbox did not start")

    def control(self, method: str, path: str, **json: object) -> dict:
        response = self.http.request(method, f"/sandbox/{path}", json=json or None)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=10)


class ShopifySandboxProcess(SandboxProcess):
    """`manage.py shopify_sandbox` on a spare port, in its own process. It serves every shop on that port with the
    shop as a path prefix, so Dropline's SHOPIFY_SHOP_URL is `shop_url` (`{base_url}/{shop}`). Options as the
    command's (`--webhook-url`, `--seed`...)."""

    command = "shopify_sandbox"

    @property
    def shop_url(self) -> str:
        return f"{self.base_url}/{{shop}}"


class WorkerProcess:
    """The Celery worker exactly as `make run` starts it (`devstack.worker_command`), with the environment of this
    process (so the same database and broker); its output goes to `log_path`."""

    def __init__(self, log_path: Path) -> None:
        from erp.management.commands.devstack import worker_command
        from erp.models import Heartbeat

        Heartbeat.objects.filter(name="background").delete()
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            worker_command(sys.executable), cwd=ROOT, env=dict(os.environ), stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while not Heartbeat.objects.filter(name="background").exists():  # recorded when the worker is ready
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the worker did not start; see {log_path}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
