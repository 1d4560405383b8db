"""Settings for the test suite.

The suite runs against real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, else the 127.0.0.1 defaults). If they
cannot be reached and DROPLINE_TEST_STRICT is not set, it falls back to the embedded default and tests/conftest.py
reports loudly which PostgreSQL- or Redis-only tests were skipped. CI sets DROPLINE_TEST_STRICT=1: no fallback.
"""

import os
import socket
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import VAR_DIR, database_from_url, env

STRICT = env.bool("DROPLINE_TEST_STRICT", default=False)


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


_database_url = env("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/dropline")
_redis_url = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
TEST_BACKENDS = {
    "postgres": _database_url.startswith("postgres") and _reachable(_database_url, 5432),
    "redis": _reachable(_redis_url, 6379),
}
if STRICT and not all(TEST_BACKENDS.values()):
    missing = ", ".join(
        f"{name} ({url})"
        for name, url in (("postgres", _database_url), ("redis", _redis_url))
        if not TEST_BACKENDS[name]
    )
    raise ImproperlyConfigured(f"DROPLINE_TEST_STRICT=1 but these services are unreachable: {missing}")

VAR_DIR.mkdir(exist_ok=True)
if TEST_BACKENDS["postgres"]:
    DATABASES = {"default": database_from_url(_database_url)}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES = {"default": database_from_url(f"sqlite:///{VAR_DIR / 'test.sqlite3'}")}
    # A file, not Django's default shared-cache memory database: there, the order import's page threads, reading on
    # their own connections while the test's connection writes, fail with "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-run.sqlite3")}

REDIS_URL = _redis_url if TEST_BACKENDS["redis"] else ""
os.environ.setdefault("DROPLINE_TEST_REDIS_URL", REDIS_URL)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "memo": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "memo"},
}

SECRET_KEY = "test-secret-key-not-for-production-" + "x" * 20
FIELD_ENCRYPTION_KEY = "3q2O4D3oE_g5-3dvEDFLpwqYAi2zqE8g8cnWx7AHQdA="  # a fixed Fernet key for tests only
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never outside tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True  # test receivers listen on 127.0.0.1; the SSRF tests turn it off
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(exist_ok=True)
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "100000/min"}}  # noqa: F405
