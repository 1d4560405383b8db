"""The WSGI application (gunicorn: `erp.wsgi:application`), and the collector setting its workers apply once it is
loaded (gunicorn.conf.py's post_worker_init)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"erp.settings.{os.environ.get('DJANGO_ENV', 'local')}")
application = get_wsgi_application()


def freeze_loaded_application() -> None:
    """Load what the first request would (every URL pattern and the views behind them), then move everything loaded
    out of the garbage collector's sight (docs/adr/0031). Those ~100k objects live as long as the process; without
    this every full collection walks them all again and pauses whichever request triggered it for 25-35 ms."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports every view module)
    gc.collect()  # what loading left behind is garbage: collect it now rather than freeze it for ever
    gc.freeze()
