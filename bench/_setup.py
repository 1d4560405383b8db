"""Shared by the bench scripts: a private PostgreSQL database and a TikTok sandbox server in its own process."""

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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")
    os.environ["DEBUG"] = "False"  # DEBUG keeps every SQL query in memory: a leak by design, not what production runs
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """`manage.py tiktok_sandbox` on a spare port, in its own process (its own CPU, its own GIL)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "erp.settings.local", "DATABASE_URL": "sqlite:///:memory:"}
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "tiktok_sandbox", "--port", str(self.port)],
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
        raise RuntimeError("the sandbox did not start")

    def control(self, method: str, path: str, **json: object) -> dict:
        response = self.http.request(method, f"/sandbox/{path}", json=json or None)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=10)
