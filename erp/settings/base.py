"""Settings shared by every environment.

Everything that differs between machines comes from the environment (or an optional .env file) through the
single `env` reader below. local.py, test.py and production.py only choose defaults and switch things on.
"""

import tempfile
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# The embedded default's data: SQLite file, Celery filesystem broker, beat schedule, dev secrets, cache, media.
VAR_DIR = Path(env("DROPLINE_VAR_DIR", default=str(BASE_DIR / "var")))

DJANGO_ENV = env("DJANGO_ENV", default="local")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# ---------------------------------------------------------------------------------------------------------------
# Applications. Dependencies run one way: erp → integrations → inventory → orders → shipping.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: the docs work offline
    "django_htmx",
    "csp",  # Content-Security-Policy header and per-request nonces (docs/adr/0013-security-hardening.md)
    "axes",  # failed sign-ins counted in PostgreSQL (docs/adr/0013-security-hardening.md)
    "erp",
    "integrations",
    "inventory",
    "orders",
    "shipping",
    "aftersales",
    "webhooks",
    "sandboxes",
]

MIDDLEWARE = [
    # First: the request id every log line carries, echoed in X-Request-ID; requests counted by view (erp/metrics.py).
    "erp.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Stores page adds the platforms' consent origins to form-action
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads a parameter: NUL in a query or form field is a 400 (docs/adr/0014).
    "erp.middleware.RequestTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Must come after authentication: it resolves the user's current organization and opens the tenant scope.
    "erp.middleware.OrganizationMiddleware",
    # A page that needed Redis while it was down: 503 with what happened, not a 500 (docs/adr/0011).
    "erp.middleware.DependencyOutageMiddleware",
    # Last, as axes asks: turns a refused sign-in into the lockout page (erp.lockout.lockout_response).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "erp.urls"
WSGI_APPLICATION = "erp.wsgi.application"
AUTH_USER_MODEL = "erp.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",  # {{ CSP_NONCE }} for the few inline <script>/<style> blocks
                "erp.context_processors.organization",
                "integrations.context_processors.store_health",
                "aftersales.context_processors.to_decide",
                "webhooks.context_processors.disabled_endpoints",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------------------------
# Database. The embedded default is SQLite under var/ (set in local.py); PostgreSQL through DATABASE_URL.
SQLITE_OPTIONS = {
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions plus a busy timeout make a
    # second writer wait instead of failing with "database is locked".
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def database_from_url(url: str) -> dict:
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    else:
        # Django's backend plus the tenant scope copied onto the connection for row-level security (ADR 0023).
        config["ENGINE"] = "erp.db_backends.postgresql"
        config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        config.setdefault("CONN_HEALTH_CHECKS", True)
        # PostgreSQL's default random_page_cost (4) models spinning disks; on SSD storage it makes the planner scan
        # and hash a whole table (a million orders) instead of fetching a few thousand rows by index.
        page_cost = env.float("DATABASE_RANDOM_PAGE_COST", default=1.1)
        # Parallel query off by default (docs/adr/0031): Dropline's queries answer from an index in milliseconds, and
        # a parallel plan pays its workers' start on every query and takes the cores the other requests need. Its
        # cost model also prefers, for a filtered list with a LIMIT, walking the sort index across a million orders
        # in parallel over fetching the few thousand matches (3.4 s against 57 ms for a rare SKU).
        parallel = env.int("DATABASE_MAX_PARALLEL_WORKERS_PER_GATHER", default=0)
        options = config.setdefault("OPTIONS", {})
        options["options"] = (
            f"{options.get('options', '')} -c random_page_cost={page_cost}"
            f" -c max_parallel_workers_per_gather={parallel}"
        ).strip()
    return config


# The tables' owner, for `migrate` only, when DATABASE_URL is the application role that owns nothing (ADR 0023).
DATABASE_OWNER_URL = env("DATABASE_OWNER_URL", default="")


# ---------------------------------------------------------------------------------------------------------------
# Auth and accounts
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# axes' backend first: a locked account or address is refused before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)
# How long an organization export (a zip of all its data) can be downloaded before beat deletes it.
ORGANIZATION_EXPORT_VALID_DAYS = env.int("ORGANIZATION_EXPORT_VALID_DAYS", default=7)

# Sign-in protection (docs/adr/0013-security-hardening.md). Failures are counted per account (the email typed) and
# per client address, each against its own limit, in a window of AXES_COOLOFF_TIME after the latest failure.
LOGIN_FAILURE_LIMITS = {
    "username": env.int("LOGIN_ACCOUNT_FAILURE_LIMIT", default=40),
    "ip_address": env.int("LOGIN_IP_FAILURE_LIMIT", default=200),
}
AXES_HANDLER = "erp.lockout.LoginAttemptHandler"  # axes' database handler: PostgreSQL, not Redis (ADR 0013)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # the keys of LOGIN_FAILURE_LIMITS, in this order
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMITS["username"]  # the handler scales the address's count to this
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_HOURS", default=0.5)  # hours
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends when it said it would
AXES_RESET_ON_SUCCESS = True  # a successful sign-in clears that account's failures
AXES_VERBOSE = False  # its start-up banner on every manage.py command; lockouts are logged by erp.lockout
AXES_USERNAME_FORM_FIELD = "username"  # Django's AuthenticationForm calls the email field "username"
AXES_USERNAME_CALLABLE = "erp.lockout.username_from"
AXES_CLIENT_IP_CALLABLE = "erp.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "erp.lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # no Django admin in Dropline
# How many proxies in front of Django append to X-Forwarded-For (0: clients connect directly).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_UNLOCK_LINK_MAX_AGE_HOURS = env.int("ACCOUNT_UNLOCK_LINK_MAX_AGE_HOURS", default=24)
# Password-reset requests per hour: per address asked for (silently: the page is the same) and per client address.
PASSWORD_RESET_LIMITS = {
    "email": env.int("PASSWORD_RESET_EMAIL_LIMIT", default=3),
    "ip_address": env.int("PASSWORD_RESET_IP_LIMIT", default=20),
}

# Email: console backend unless EMAIL_URL says otherwise (smtp+tls://user:pass@host:587, ...).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Dropline <no-reply@dropline.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------------------------------------------------------
# Internationalisation. Times are stored in UTC; sellers see them in their organization's time zone.
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------------------------------------------
# Static files, served by WhiteNoise in every environment (no separate static server needed).
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

# Media (label PDFs, slip logos) is shared by web and every worker: a worker stores a label, the web prints it.
# `local`: a folder (MEDIA_ROOT), shared between containers through a volume. `s3`: a private bucket on any
# S3-compatible store (AWS S3, MinIO, ...). Label PDFs hold buyer addresses and are the only copy of something paid
# for: no public ACL, never overwritten, and served only through Django (docs/storage.md, docs/adr/0012-storage.md).


def s3_storage(env: environ.Env) -> dict:
    """The `default` storage for DROPLINE_STORAGE=s3, from the AWS_* variables (also used by the storage tests)."""
    from botocore.config import Config  # only installed where s3 is used (django-storages[s3])

    endpoint = env("AWS_S3_ENDPOINT_URL", default="") or None  # unset: AWS itself
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": endpoint,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            # Unset: boto3's own chain (instance role, ~/.aws, AWS_* in the environment).
            "access_key": env("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env("AWS_LOCATION", default=""),  # a key prefix, to share a bucket between deployments
            "default_acl": None,  # objects stay as private as the bucket: never "public-read"
            "querystring_auth": True,  # were a URL ever made, it is signed and short-lived
            "querystring_expire": 300,
            "file_overwrite": False,  # a second save gets a new name: a stored label is never replaced
            "client_config": Config(
                # MinIO and most self-hosted stores only answer path-style requests; AWS takes either.
                s3={"addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="path" if endpoint else "auto")},
                signature_version="s3v4",
                # An unreachable store fails a print in seconds (503, docs/adr/0012-storage.md), not after minutes.
                connect_timeout=3,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        },
    }


DROPLINE_STORAGE = env("DROPLINE_STORAGE", default="local")
if DROPLINE_STORAGE == "s3":
    STORAGES["default"] = s3_storage(env)
elif DROPLINE_STORAGE != "local":
    raise ImproperlyConfigured(f"DROPLINE_STORAGE={DROPLINE_STORAGE!r}: use 'local' or 's3'")

# ---------------------------------------------------------------------------------------------------------------
# Redis: broker, cache (API throttling), locks and rate-limit buckets. Unset = embedded default (no server).
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # An unreachable Redis must fail a request in seconds, not hang it (docs/adr/0011-dependency-outages.md).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        },
        # Copies of platform answers for pages: misses instead of raising while Redis is unreachable (erp/cache.py).
        "memo": {
            "BACKEND": "erp.cache.MemoRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "memo",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": VAR_DIR / "cache"},
        "memo": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": VAR_DIR / "memo"},
    }

# ---------------------------------------------------------------------------------------------------------------
# Celery (see erp/celery.py for queues, routes and the beat schedule).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")  # a host: no warning
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
FILESYSTEM_BROKER_POLLING_INTERVAL = env.float("CELERY_FILESYSTEM_POLLING_INTERVAL", default=0.05)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT = "erp.broker:FilesystemTransport"  # kombu's, with messages written whole (erp/broker.py)
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The filesystem transport cannot wake a worker: it lists the folder, and when it finds nothing to take
        # (or the worker's prefetch is full) it sleeps this long. kombu's default of 1 s put a second between tasks
        # of 20 ms (a 25-label batch took 30 s). Listing a small folder costs microseconds, so poll often.
        "polling_interval": FILESYSTEM_BROKER_POLLING_INTERVAL,
    }
else:
    # A message whose worker died unacknowledged goes back to the queue after this long. It must exceed the
    # longest task (CELERY_TASK_TIME_LIMIT) so a live task is never handed to a second worker.
    # Workers sweep for such messages every CELERY_UNACKED_RESTORE_INTERVAL seconds (kombu's own default, 10 s x a
    # throttle of 10, would leave a dead worker's task waiting up to 100 s more).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=360),
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 2,  # publishing to an unreachable broker fails fast (erp.tasks.wake)
    }
# Read by Celery's Django fix-up, which otherwise closes every database connection before and after each task.
# Connections are Django's to manage, as in a request (erp/celery.py closes what CONN_MAX_AGE says is obsolete);
# a worker child is replaced long before this many tasks (worker_max_tasks_per_child), so the fix-up never closes.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True

# ---------------------------------------------------------------------------------------------------------------
# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "erp.api.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["erp.api.permissions.HasOrganizationPermission"],
    "DEFAULT_PAGINATION_CLASS": "erp.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "erp.api.filters.UpdatedSinceFilter",  # ?updated_since= on lists of models with an update time
    ],
    "DEFAULT_THROTTLE_CLASSES": ["erp.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env("API_THROTTLE_RATE", default="1200/min")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "erp.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dropline API",
    "DESCRIPTION": (
        "REST API for partner systems (WMS, 3PL, BI). Authenticate with an organization API key: "
        "`Authorization: Api-Key <key>`. Keys are created under Settings → API keys with scopes (read or "
        "read/write per resource family; a supplier's or 3PL's key can be bound to its warehouse). Lists use "
        "cursor pagination (`next`/`previous` links), `updated_since` and `fields`; GETs carry a weak ETag "
        "(If-None-Match → 304). Send `Idempotency-Key` on POSTs you may retry. Every answer carries RateLimit-* "
        'headers. Every error has the same body: `{"error": {"type", "code", "message", "fields"}}`, its `code` '
        "listed per operation. Quick start: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema and its docs page are public, like any API reference; the endpoints they describe are not.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Every operation documents the one error body for the statuses the API shell can answer (erp/api/schema.py).
    # The partner API is documented as JSON: form encodings cannot carry its nested bodies (an order's lines and
    # recipient), so the schema must not offer them; DRF's form parsers stay for the browsable API.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "erp.api.schema.error_responses"],
    # A second `status` enum (webhook deliveries') must not rename the orders' one: both named here.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "orders.models.OrderStatus",
        "WebhookDeliveryStatusEnum": "webhooks.models.DeliveryStatus",
        "WebhookEventTypeEnum": "webhooks.api.serializers.EVENT_CHOICES",
    },
}

# Where platforms reach this deployment (webhook addresses are registered under it).
DROPLINE_PUBLIC_URL = env("DROPLINE_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# ---------------------------------------------------------------------------------------------------------------
# Platform endpoints. In development they point at the sandboxes Dropline ships (`manage.py tiktok_sandbox`);
# in production at the real hosts. Only these URLs differ: the client code is the same.
TIKTOK_APP_KEY = env("TIKTOK_APP_KEY", default="6dropsandbox")
TIKTOK_APP_SECRET = env("TIKTOK_APP_SECRET", default="dropline-sandbox-secret")
TIKTOK_SERVICE_ID = env("TIKTOK_SERVICE_ID", default="7000000000000000001")
TIKTOK_SANDBOX_PORT = env.int("TIKTOK_SANDBOX_PORT", default=8765)
TIKTOK_API_BASE_URL = env("TIKTOK_API_BASE_URL", default=f"http://127.0.0.1:{TIKTOK_SANDBOX_PORT}")
TIKTOK_AUTH_BASE_URL = env("TIKTOK_AUTH_BASE_URL", default=f"http://127.0.0.1:{TIKTOK_SANDBOX_PORT}")
TIKTOK_AUTHORIZE_URL = env("TIKTOK_AUTHORIZE_URL", default=f"http://127.0.0.1:{TIKTOK_SANDBOX_PORT}/open/authorize")
# Shopify: every shop is its own host, so the base URL is a template with {shop} ("dropline-demo.myshopify.com").
# The sandbox takes the shop as a path prefix; production is "https://{shop}".
SHOPIFY_CLIENT_ID = env("SHOPIFY_CLIENT_ID", default="dropline-shopify-sandbox")
SHOPIFY_CLIENT_SECRET = env("SHOPIFY_CLIENT_SECRET", default="dropline-shopify-sandbox-secret")
SHOPIFY_API_VERSION = env("SHOPIFY_API_VERSION", default="2026-10")
SHOPIFY_SANDBOX_PORT = env.int("SHOPIFY_SANDBOX_PORT", default=8766)
SHOPIFY_SHOP_URL = env("SHOPIFY_SHOP_URL", default=f"http://127.0.0.1:{SHOPIFY_SANDBOX_PORT}/{{shop}}")
SHOPIFY_SCOPES = env.list(
    "SHOPIFY_SCOPES",
    default=[
        "read_orders",
        "write_orders",
        "read_all_orders",
        "read_merchant_managed_fulfillment_orders",
        "write_merchant_managed_fulfillment_orders",
        "read_inventory",
        "write_inventory",
        "read_locations",
        "read_products",
    ],
)

# Content-Security-Policy (docs/adr/0013-security-hardening.md). Scripts only from our own static files or an inline
# block carrying this response's nonce: no inline event handlers, no eval (htmx runs with allowEval off, see
# base.html). <style> blocks need the nonce too; style *attributes* are allowed (layout and chart sizes use them,
# and an attribute has no selector, so it cannot read the page the way injected CSS can).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],  # and, on the Stores page, each platform's consent page (integrations.views)
    },
}

# Order import: how often each store is polled, how far back a poll re-reads (the platform may report an update a
# little late), how long one task pages before handing over to the next, and how long a dead worker's lease lasts.
ORDER_SYNC_INTERVAL_SECONDS = env.int("ORDER_SYNC_INTERVAL_SECONDS", default=60)
ORDER_SYNC_OVERLAP_SECONDS = env.int("ORDER_SYNC_OVERLAP_SECONDS", default=300)
ORDER_SYNC_TIME_BUDGET_SECONDS = env.int("ORDER_SYNC_TIME_BUDGET_SECONDS", default=180)
ORDER_SYNC_LEASE_SECONDS = env.int("ORDER_SYNC_LEASE_SECONDS", default=120)
# A first import of a large store is cut into at most this many windows, imported by as many workers at once, each
# window holding at least ORDER_BACKFILL_WINDOW_ORDERS orders (a smaller import is one worker's; docs/adr/0037).
ORDER_BACKFILL_WINDOWS = env.int("ORDER_BACKFILL_WINDOWS", default=4)
ORDER_BACKFILL_WINDOW_ORDERS = env.int("ORDER_BACKFILL_WINDOW_ORDERS", default=5_000)

# Supplier handoffs: how long a signed download link works, and when an unacknowledged handoff alerts the seller.
HANDOFF_LINK_MAX_AGE_HOURS = env.int("HANDOFF_LINK_MAX_AGE_HOURS", default=72)
HANDOFF_ACK_ALERT_HOURS = env.int("HANDOFF_ACK_ALERT_HOURS", default=4)

# Orders at risk: owners and admins are mailed (once per order and threshold) when an order that will miss its
# deadline is this many hours from it (shipping/at_risk.py).
AT_RISK_ALERT_HOURS = env.list("AT_RISK_ALERT_HOURS", cast=int, default=[24, 8, 2])

# Compliance report (shipping/compliance.py): TikTok Shop's account-health thresholds, in percent. The contract notes
# publish none; these are the US figures sellers' guides cite (late dispatch ≤ 4, valid tracking ≥ 95, seller-fault
# cancellations ≤ 2.5).
COMPLIANCE_LATE_DISPATCH_THRESHOLD = env.float("COMPLIANCE_LATE_DISPATCH_THRESHOLD", default=4.0)
COMPLIANCE_VALID_TRACKING_TARGET = env.float("COMPLIANCE_VALID_TRACKING_TARGET", default=95.0)
COMPLIANCE_SELLER_CANCELLATION_THRESHOLD = env.float("COMPLIANCE_SELLER_CANCELLATION_THRESHOLD", default=2.5)

# Stock push: changes are collected for this long before one batched Update Inventory call per product.
STOCK_PUSH_DEBOUNCE_SECONDS = env.int("STOCK_PUSH_DEBOUNCE_SECONDS", default=5)

# Outbound webhooks (docs/webhooks.md): http:// and private, loopback and link-local receivers are refused unless this
# is on (on with DEBUG, for a receiver on localhost; never in production).
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=DEBUG)

# ---------------------------------------------------------------------------------------------------------------
# Logging: one line per event, tagged with the organization in scope, the request id, the task and the store and
# order where known (erp/log.py), so a tenant's or a request's trail can be grepped. LOG_FORMAT=json (production's
# default) writes one JSON object per line for a log pipeline; `text` reads better on a terminal.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="json" if DJANGO_ENV == "production" else "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use 'text' or 'json'")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "organization": {"()": "erp.log.OrganizationLogFilter"},  # and request, task, store, order
        "routine": {"()": "erp.log.RoutineToDebugFilter"},  # beat's schedule, task received/succeeded: DEBUG
        "redact": {"()": "erp.log.SecretRedactingFilter"},  # the second wall: secrets are never passed to a logger
    },
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s org=%(organization)s%(context)s %(message)s"},
        "json": {"()": "erp.log.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "line",
            "filters": ["routine", "organization", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The development server's request lines go through the same handler (and its routine filter).
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "httpx": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------------------------------------------------------
# Operations (docs/operations.md, docs/adr/0022-metrics-and-logs.md).
# /metrics answers a Prometheus scrape carrying `Authorization: Bearer <METRICS_TOKEN>`; unset, it is open only
# with DEBUG on (development) and answers 404 otherwise. For multiprocess metrics (gunicorn workers, Celery's pool)
# set PROMETHEUS_MULTIPROC_DIR in the process environment (prometheus_client reads it at import, not from here).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# A Celery worker serves its pool's metrics on this port (0: not served; scrape each worker container there).
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
# Liveness for Kubernetes exec probes: a worker touches `worker` on every event heartbeat, beat touches `beat` on
# every tick, in this folder (per container); `manage.py background_alive --worker|--beat` reads their age.
LIVENESS_DIR = env.path("LIVENESS_DIR", default=str(Path(tempfile.gettempdir()) / "dropline-liveness"))
# /readyz: how long to wait for PostgreSQL to accept a connection before calling it unreachable.
READYZ_DATABASE_TIMEOUT = env.int("READYZ_DATABASE_TIMEOUT", default=2)
# Error reporting to Sentry (or a compatible service): off unless a DSN is set. No personal data is sent.
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default=DJANGO_ENV)
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
