# The Celery app is imported here so that `shared_task`/`@task` bind to it whenever Django starts.
from erp.celery import app as celery_app

__all__ = ["celery_app"]
