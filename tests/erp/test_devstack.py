"""`make run`'s supervisor: every process comes up, and a SIGTERM to the supervisor stops all of them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest
from django.conf import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(status.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc to find the supervised processes")
@pytest.mark.parametrize("storage", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_the_stack_starts_and_a_sigterm_stops_every_process(tmp_path: Path, storage: str) -> None:
    web, sandbox, shopify, s3 = free_port(), free_port(), free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")},
        "DJANGO_ENV": "local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        "TIKTOK_SANDBOX_PORT": str(sandbox),
        "SHOPIFY_SANDBOX_PORT": str(shopify),
        "DROPLINE_PUBLIC_URL": f"http://127.0.0.1:{web}",
    }
    if storage == "s3":  # `make run` starts the local S3-compatible server itself and makes the bucket
        env |= {
            "DROPLINE_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": "dropline-dev",
            "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3}",
            "AWS_ACCESS_KEY_ID": "dev",
            "AWS_SECRET_ACCESS_KEY": "dev-secret",
        }
    supervisor = subprocess.Popen(
        [sys.executable, "manage.py", "devstack", "--port", str(web)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        urls = [
            f"http://127.0.0.1:{web}/healthz",
            f"http://127.0.0.1:{sandbox}/sandbox/stats",
            f"http://127.0.0.1:{shopify}/sandbox/stats",
        ]
        deadline = time.monotonic() + 60
        while urls and time.monotonic() < deadline:
            try:
                if httpx.get(urls[0], timeout=1).status_code == 200:
                    urls.pop(0)
            except httpx.HTTPError:
                time.sleep(0.3)
        assert not urls, f"not up within 60 s: {urls}"
        children = children_of(supervisor.pid)
        # web, worker, beat, the TikTok and Shopify sandboxes (, the S3 server)
        assert len(children) == (6 if storage == "s3" else 5)
        if storage == "s3":
            ready = httpx.get(f"http://127.0.0.1:{web}/readyz", timeout=10).json()
            assert ready["checks"]["storage"]["ok"], ready["checks"]["storage"]
            assert ready["checks"]["storage"]["detail"] == "S3Storage"
            bucket = boto3.client(
                "s3",
                endpoint_url=env["AWS_S3_ENDPOINT_URL"],
                region_name="us-east-1",
                aws_access_key_id="dev",
                aws_secret_access_key="dev-secret",
            )
            assert bucket.get_bucket_versioning(Bucket="dropline-dev")["Status"] == "Enabled"
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=30)
    time.sleep(0.5)
    assert not [pid for pid in children if alive(pid)], "processes outlived the supervisor"
