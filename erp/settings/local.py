"""The embedded default for a newcomer's machine: SQLite and a filesystem Celery broker under var/, no servers.

Set DATABASE_URL / REDIS_URL to run the same code on PostgreSQL and Redis.
"""

import secrets
from collections.abc import Callable

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import STATIC_ROOT, VAR_DIR, database_from_url, env

DEBUG = env.bool("DEBUG", default=True)
VAR_DIR.mkdir(exist_ok=True)
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise expects it even when serving from the app directories


def _generated_secret(name: str, make: Callable[[], str]) -> str:
    """A development secret generated once into var/ and reused, so sessions and encrypted data survive restarts."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default="") or _generated_secret("secret_key", lambda: secrets.token_urlsafe(50))
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="") or _generated_secret(
    "field_encryption_key", lambda: Fernet.generate_key().decode()
)
DATABASES = {"default": database_from_url(env("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dropline.sqlite3'}"))}
