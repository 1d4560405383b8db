"""Tasks loaded only by the real workers that tests/erp/test_celery.py starts (`celery worker -I ...`)."""

import os
import time
from pathlib import Path

from erp.tasks import task


@task(name="tests.journal", tenant=False)
def journal(path: str, hold_seconds: float) -> None:
    """Writes `start <pid>`, holds (first run only), then `done <pid>`: the journal shows every delivery."""
    journal_file = Path(path)
    first_run = not journal_file.exists()
    with journal_file.open("a") as handle:
        handle.write(f"start {os.getpid()}\n")
    if first_run:
        time.sleep(hold_seconds)
    with journal_file.open("a") as handle:
        handle.write(f"done {os.getpid()}\n")


@task(name="tests.database_backend", tenant=False)
def database_backend(path: str) -> None:
    """Appends the PostgreSQL backend (server process id) this task's database connection talks to."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    with Path(path).open("a") as handle:
        handle.write(f"{backend}\n")
