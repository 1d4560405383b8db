"""`make run`: migrate, seed the demo, then run web, worker, beat and the platform sandbox together (and an
S3-compatible server first, when DROPLINE_STORAGE=s3 points at an endpoint on this machine).

A small supervisor: each process in its own session (so a terminal Ctrl-C reaches only us), output prefixed with
its name, and on Ctrl-C (or when any process dies) all of them are stopped: SIGTERM, then SIGKILL after 10 s.
"""

import importlib.util
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from erp.storage import s3_server_command, storage_bucket_ensure, storage_local_s3_endpoint

COLORS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m"]
RESET = "\033[0m"


def worker_command(python: str) -> list[str]:
    """The Celery worker of `make run`; bench/label_batch.py --embedded starts this same one."""
    queues = "sync,labels,documents,default"
    return [python, "-m", "celery", "-A", "erp", "worker", "-Q", queues, "--concurrency", "2", "--loglevel", "INFO"]


def beat_command(python: str) -> list[str]:
    schedule = str(settings.VAR_DIR / "celerybeat-schedule")
    return [python, "-m", "celery", "-A", "erp", "beat", "--loglevel", "INFO", "--schedule", schedule]


class Command(BaseCommand):
    help = "Run Dropline for development: web on :8000, a Celery worker, beat, and the platform sandboxes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-sandbox", action="store_true", help="Point at real platforms instead.")

    def handle(self, *args: Any, port: int, no_sandbox: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        python = sys.executable
        processes = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": worker_command(python),
            "beat": beat_command(python),
        }
        if not no_sandbox and importlib.util.find_spec("sandboxes.tiktok.app") is not None:
            processes["tiktok"] = [python, "manage.py", "tiktok_sandbox", "--port", str(settings.TIKTOK_SANDBOX_PORT)]
        if not no_sandbox and importlib.util.find_spec("sandboxes.shopify.app") is not None:
            # The app's configured subscriptions (shopify.app.toml at Shopify: the privacy topics among them) point
            # at this deployment's webhook address, as the Partner Dashboard would.
            processes["shopify"] = [
                python,
                "manage.py",
                "shopify_sandbox",
                "--port",
                str(settings.SHOPIFY_SANDBOX_PORT),
                "--webhook-url",
                f"{settings.DROPLINE_PUBLIC_URL}/webhooks/shopify/",
            ]
        ready: dict[str, Callable[[], None]] = {}
        endpoint = storage_local_s3_endpoint()
        if endpoint is not None:
            # Started first, and its bucket made, before anything can store a file in it.
            host, s3_port = endpoint
            processes = {"s3": s3_server_command(host=host, port=s3_port), **processes}
            ready["s3"] = self._bucket_ready
        self.stdout.write(
            self.style.SUCCESS(f"Dropline is starting: http://127.0.0.1:{port}  (Ctrl-C stops everything)")
        )
        self._supervise(processes, ready)

    def _bucket_ready(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        deadline = time.monotonic() + 30
        while True:
            try:
                if storage_bucket_ensure():
                    self.stdout.write("Created the media bucket on the local S3 server (kept in memory: dev only).")
                return
            except (BotoCoreError, ClientError) as error:
                if time.monotonic() > deadline:
                    raise CommandError(f"the local S3 server did not come up: {error}") from error
                time.sleep(0.3)

    def _supervise(self, commands: dict[str, list[str]], ready: dict[str, Callable[[], None]]) -> None:
        # The children run in their own sessions, so only we hear a signal: turn SIGTERM/SIGHUP (a closed terminal,
        # `timeout`, a process manager) into the same clean stop as Ctrl-C, or the children would outlive us.
        def stop_on_signal(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop_on_signal)
        signal.signal(signal.SIGHUP, stop_on_signal)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        width = max(map(len, commands))
        running: dict[str, subprocess.Popen] = {}
        selector = selectors.DefaultSelector()
        for index, (name, command) in enumerate(commands.items()):
            process = subprocess.Popen(  # noqa: S603  (our own fixed commands)
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                cwd=settings.BASE_DIR,
            )
            running[name] = process
            selector.register(process.stdout, selectors.EVENT_READ, (name, COLORS[index % len(COLORS)]))
            if name in ready:
                try:
                    ready[name]()
                except BaseException:
                    self._stop(running)
                    raise
        exit_code = 0
        try:
            while True:
                for key, _ in selector.select(timeout=0.5):
                    name, color = key.data
                    line = key.fileobj.readline()
                    if line:
                        sys.stdout.write(f"{color}{name:<{width}}{RESET} | {line.decode(errors='replace')}")
                        sys.stdout.flush()
                dead = [name for name, process in running.items() if process.poll() is not None]
                if dead:
                    self.stderr.write(f"{', '.join(dead)} exited; stopping the others.")
                    exit_code = 1
                    break
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self._stop(running)
        if exit_code:
            raise SystemExit(exit_code)

    @staticmethod
    def _stop(running: dict[str, subprocess.Popen]) -> None:
        for process in running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
