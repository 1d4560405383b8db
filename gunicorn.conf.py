"""gunicorn's settings file, read from the working directory by every `gunicorn` run (Dockerfile, docker-compose).

What multiprocess Prometheus metrics need (docs/operations.md): gunicorn's workers are separate processes, so
with PROMETHEUS_MULTIPROC_DIR set each writes its figures to files there and /metrics adds them up. The folder is
emptied when the server starts (figures of an earlier run must not count again) and a worker that exits is marked
dead (its live gauges stop counting; its counters stay in the totals, as counters must). The command line still
chooses bind, workers, threads and timeouts.

And one setting of the garbage collector (docs/adr/0031): once a worker has loaded the application, everything
loaded so far (modules, models, URL patterns, serializers: ~100k objects that live as long as the process) is moved
out of the collector's sight with `gc.freeze()`. A full collection then walks only what requests made, instead of
pausing a request for 25-35 ms to walk the whole application again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def on_starting(server: Any) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    from erp.wsgi import freeze_loaded_application

    freeze_loaded_application()
