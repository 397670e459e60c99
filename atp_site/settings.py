"""Settings, all from the environment with safe defaults for one machine.

DATABASE_URL   default sqlite:///<repo>/var/db.sqlite3 ; postgres://... for PostgreSQL
REDIS_URL      default redis://127.0.0.1:6379/0 ; Celery broker and Channels layer
SECRET_KEY     default: a key generated once into var/secret_key
ATP_LOG        log levels: info,atp_core.transport=debug (default info; docs/logging.md)
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url

from atp_core.logconfig import logging_dict

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ATP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in ("1", "true", "yes", "on")


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# --- HTTPS behind a TLS-terminating proxy (docs/deployment.md "Behind nginx") -----------------
# ATP_HTTPS=1 turns on what `manage.py check --deploy` asks for: secure cookies, HSTS, redirect
# to https, and trust in the proxy's X-Forwarded-Proto (the proxy must set it, never pass it
# through from the client). Each has its own override.
ATP_HTTPS = _env_bool("ATP_HTTPS", False)
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", ATP_HTTPS)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", ATP_HTTPS)
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", ATP_HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the proxy's and the tests' health probe over http
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if ATP_HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", ATP_HTTPS)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", ATP_HTTPS)
if _env_bool("ATP_BEHIND_PROXY", ATP_HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "django_celery_beat",
    "hosts",
    "scenarios",
    "runs",
    "schedules",
    "accounts",
    "triage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "atp_site.uploads.RequestSizeLimitMiddleware",
    "atp_site.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # every view needs a login unless marked login_not_required (login, health, favicon);
    # DRF views are exempt and answer 401/403 themselves (never a redirect)
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "atp_site.urls"
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
                "atp_site.context_processors.status_words",
            ],
        },
    },
]
ASGI_APPLICATION = "atp_site.asgi.application"
WSGI_APPLICATION = None

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server, worker and tests share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL;"
# ATP_TEST_DB_SUFFIX lets several test sessions run side by side on one machine.
_TEST_DB_SUFFIX = os.environ.get("ATP_TEST_DB_SUFFIX", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db{_TEST_DB_SUFFIX}.sqlite3")}
elif _TEST_DB_SUFFIX:
    DATABASES["default"]["TEST"] = {"NAME": f"test_atp{_TEST_DB_SUFFIX}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brute-force throttle (accounts.throttle): failed logins allowed per address and per username
# within the window (seconds); past that, logins are refused until the window moves on.
AUTHENTICATION_BACKENDS = ["accounts.throttle.ThrottledModelBackend"]
ATP_LOGIN_WINDOW = float(os.environ.get("ATP_LOGIN_WINDOW", "900"))
ATP_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("ATP_LOGIN_FAILURES_PER_ADDRESS", "20"))
ATP_LOGIN_FAILURES_PER_USERNAME = int(os.environ.get("ATP_LOGIN_FAILURES_PER_USERNAME", "5"))

# Scenario text from the web is validated in a child process under this CPU budget (seconds)
# and wall-clock bound, so no text can freeze the server (atp_core.orchestrator.budget).
ATP_VALIDATE_CPU_SECONDS = int(os.environ.get("ATP_VALIDATE_CPU_SECONDS", "3"))
ATP_VALIDATE_WALL_SECONDS = float(os.environ.get("ATP_VALIDATE_WALL_SECONDS", "15"))
# Worker environment variables scenarios may read as ${env.NAME} (comma-separated names; none
# by default). Secrets go into named scenario secrets (${secret.NAME}, admin page /secrets/).
ATP_SCENARIO_ENV_ALLOW = [
    n.strip() for n in os.environ.get("ATP_SCENARIO_ENV_ALLOW", "").split(",") if n.strip()
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# ISO dates, 24-hour times wherever a date is shown (atp_site/formats/en/formats.py)
FORMAT_MODULE_PATH = ["atp_site.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Sizes of what a request may bring (atp_site/uploads.py; docs/web.md "Sizes"): the whole body
# (Content-Length, checked before it is read; also the bound of form fields held in memory), one
# uploaded file (read in chunks, refused once past it) and the pixels of an image.
ATP_REQUEST_MAX_BYTES = int(os.environ.get("ATP_REQUEST_MAX_BYTES", str(16 * 1024 * 1024)))
ATP_UPLOAD_MAX_BYTES = int(os.environ.get("ATP_UPLOAD_MAX_BYTES", str(8 * 1024 * 1024)))
ATP_IMAGE_MAX_PIXELS = int(os.environ.get("ATP_IMAGE_MAX_PIXELS", str(16_000_000)))
DATA_UPLOAD_MAX_MEMORY_SIZE = ATP_REQUEST_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("FILE_UPLOAD_MAX_MEMORY_SIZE", str(2621440)))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("ATP_MEDIA_ROOT", VAR_DIR / "media"))

# Tests use their own Redis database so a running demo is never disturbed.
_UNDER_PYTEST = "pytest" in sys.modules
REDIS_URL = os.environ.get(
    "REDIS_URL", "redis://127.0.0.1:6379/14" if _UNDER_PYTEST else "redis://127.0.0.1:6379/0"
)
# The channel layer is Redis pub/sub (docs/live-view.md, "Broadcast"): a group_send is one
# PUBLISH; each daphne process subscribes once per group and hands the message to its own
# consumers of that group. The core layer (channels_redis.core.RedisChannelLayer) pushed one
# copy per consumer into Redis and each process read them back one BZPOPMIN round trip at a
# time: at 200 events/s to 50 viewers that receive path was the backlog of P3 (bench/README.md).
# Pub/sub keeps nothing for a subscriber that is reconnecting: the consumers fill gaps and
# catch up from the database by seq (runs/consumers.py, ATP_LIVE_CATCHUP_SECONDS).
# Read timeout: redis-py 8 gives every connection a 5 s socket timeout by default, which broke
# the core layer's blocking reader (its 5 s BZPOPMIN timed out exactly when the pop did: every
# websocket dropped each 5-6 s). The pub/sub reader polls with its own 0.1 s read timeout, so
# the socket timeout only bounds command replies (PUBLISH, SUBSCRIBE on reconnect); it stays
# well above any blocking read the layer might do. Sends from synchronous code are bounded by
# ATP_BROADCAST_TIMEOUT on top of it (atp_site/channel_send.py).
CHANNEL_LAYER_SOCKET_TIMEOUT = float(os.environ.get("ATP_CHANNEL_LAYER_SOCKET_TIMEOUT", "30"))
# atp_site/channel_layer.py: that layer with each consumer's queue bounded (a consumer that
# falls behind is told to catch up from the database), a Redis outage logged as two lines, and
# a resync notice to every consumer when the subscription is back.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "atp_site.channel_layer.ChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT}],
            "capacity": int(os.environ.get("ATP_CHANNEL_CAPACITY", "1000")),
        },
    }
}
# A live viewer that got no event for this long reads what was stored after its last seq
# (a broadcast lost while Redis restarted or the breaker was open).
ATP_LIVE_CATCHUP_SECONDS = float(os.environ.get("ATP_LIVE_CATCHUP_SECONDS", "3"))

# --- Celery: long runs on workers near the hypervisors (docs/deployment.md) -------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("ATP_DEFAULT_QUEUE", "atp")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A run's scenario timeout defaults to 1 h; the task's soft limit is that timeout plus a margin
# (teardown, reports), the hard limit a grace after it (atp_site.celery.run_task_options).
ATP_RUN_DEFAULT_TIMEOUT = float(os.environ.get("ATP_RUN_DEFAULT_TIMEOUT", "3600"))
ATP_RUN_TIME_LIMIT_MARGIN = float(os.environ.get("ATP_RUN_TIME_LIMIT_MARGIN", "300"))
ATP_RUN_HARD_LIMIT_GRACE = float(os.environ.get("ATP_RUN_HARD_LIMIT_GRACE", "120"))
# Targets of one run (of one part, on a run over several hosts) that run at once (engine: 4).
ATP_RUN_MAX_PARALLEL = int(os.environ.get("ATP_RUN_MAX_PARALLEL", "4"))
# The longest run accepted (scenario timeouts above it are clamped to it by the time limits).
ATP_RUN_MAX_SECONDS = float(os.environ.get("ATP_RUN_MAX_SECONDS", str(6 * 3600)))
# Redis/SQS redeliver an unacknowledged message after the visibility timeout: it must be above
# the longest run (hard limit included) or a second worker would start the same run.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(
        ATP_RUN_MAX_SECONDS + ATP_RUN_TIME_LIMIT_MARGIN + ATP_RUN_HARD_LIMIT_GRACE + 1800
    ),
    # the worker's BRPOP waits up to 1 s (kombu's polling interval); its read timeout must be
    # above that, never redis-py 8's 5 s default applied to a longer blocking read
    "socket_timeout": 30,
    "socket_connect_timeout": 10,
    "socket_keepalive": True,
    "retry_on_timeout": True,
    "health_check_interval": 25,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a broker restart never ends a worker
# A broker blip must not cancel runs in progress: their state lives in the database.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_REJECT_ON_WORKER_LOST = False  # the reaper re-queues; no blind redelivery
# No prefetch reduction after a reconnect: Celery would then restore the prefetch count with a
# synchronous basic.qos from the pool thread that acknowledges a task, while the main thread
# reads the same py-amqp connection (not thread-safe): in ~1 of 6 RabbitMQ restarts the
# worker's acknowledgements got lost, the node kept its 2 messages unacknowledged and the
# worker, its prefetch full, took no more runs. See docs/deployment.md (broker failures).
CELERY_WORKER_ENABLE_PREFETCH_COUNT_REDUCTION = False
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_IMPORTS = ["runs.reaper", "runs.notify"]
# Heartbeats of running runs and the reaper that watches them (runs/reaper.py).
ATP_HEARTBEAT_INTERVAL = float(os.environ.get("ATP_HEARTBEAT_INTERVAL", "5"))
ATP_HEARTBEAT_WINDOW = float(os.environ.get("ATP_HEARTBEAT_WINDOW", "30"))
ATP_REAPER_INTERVAL = float(os.environ.get("ATP_REAPER_INTERVAL", "15"))
# Broadcasts to websocket viewers (atp_site/channel_send.py): each send is bounded; after a
# failure they are skipped for the breaker period (viewers catch up from the database).
ATP_BROADCAST_TIMEOUT = float(os.environ.get("ATP_BROADCAST_TIMEOUT", "2"))
ATP_BROADCAST_BREAKER_SECONDS = float(os.environ.get("ATP_BROADCAST_BREAKER_SECONDS", "30"))
# Seconds a run may ignore its cancel flag before its task is terminated.
# developer mode: the longest a target may stay paused (in all), then it continues as failed
ATP_PAUSE_MAX = float(os.environ.get("ATP_PAUSE_MAX", "1800"))
ATP_CANCEL_GRACE = float(os.environ.get("ATP_CANCEL_GRACE", "30"))
# A queued run whose task message is in no queue (lost) is re-sent after this many seconds.
ATP_QUEUED_LOST_AFTER = float(os.environ.get("ATP_QUEUED_LOST_AFTER", "120"))
# A queued part of a run on several hosts whose host queue (host.<name>) no worker consumed for
# this many seconds ends its targets with error (runs/reaper.py: no worker on that host).
ATP_PART_WORKER_DEADLINE = float(os.environ.get("ATP_PART_WORKER_DEADLINE", "600"))
# A run that finds no free slot on its host is re-queued after this many seconds.
ATP_SLOT_RETRY_COUNTDOWN = float(os.environ.get("ATP_SLOT_RETRY_COUNTDOWN", "10"))
CELERY_BEAT_SCHEDULE = {
    "runs-reaper": {"task": "runs.reap", "schedule": ATP_REAPER_INTERVAL},
    # Inventory: health, VM list and thumbnails of every enabled host.
    "hosts-sync": {
        "task": "hosts.sync_all_hosts",
        "schedule": float(os.environ.get("ATP_INVENTORY_SYNC_INTERVAL", "60")),
    },
}

# --- Notifications on run finish (runs/notify.py; per-scenario hooks in schedules/) ---------
ATP_SITE_URL = os.environ.get("ATP_SITE_URL", "http://localhost:8000").rstrip("/")
ATP_WEBHOOK_URLS = [u for u in os.environ.get("ATP_WEBHOOK_URLS", "").split(",") if u]
ATP_WEBHOOK_TIMEOUT = float(os.environ.get("ATP_WEBHOOK_TIMEOUT", "10"))
ATP_WEBHOOK_RETRIES = int(os.environ.get("ATP_WEBHOOK_RETRIES", "3"))
# the pause before a webhook's next attempt: jittered, doubling from this, at most the max (s)
ATP_WEBHOOK_BACKOFF = int(os.environ.get("ATP_WEBHOOK_BACKOFF", "2"))
ATP_WEBHOOK_BACKOFF_MAX = int(os.environ.get("ATP_WEBHOOK_BACKOFF_MAX", "600"))
# Webhooks reach public addresses only; these networks (CIDRs, comma separated) are allowed even
# though they are loopback/private/link-local (e.g. "10.20.0.0/16" for an in-house chat server).
ATP_WEBHOOK_ALLOW_NETWORKS = [
    n.strip() for n in os.environ.get("ATP_WEBHOOK_ALLOW_NETWORKS", "").split(",") if n.strip()
]
ATP_NOTIFY_EMAILS = [a for a in os.environ.get("ATP_NOTIFY_EMAILS", "").split(",") if a]
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "atp@localhost")

REST_FRAMEWORK = {
    # Token first: without credentials the API answers 401 with "WWW-Authenticate: Token"
    # (DRF takes that header from the first class; session auth has none and would give 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "atp_site.permissions.ViewerReadOperatorWrite",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "atp_site.api_fields.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # InvalidInput from a service (what, where, what is allowed) is a 400: atp_site/api_errors.py
    "EXCEPTION_HANDLER": "atp_site.api_errors.api_exception_handler",
}
# API tokens expire this many seconds after they were issued (0 = never; accounts/tokens.py).
ATP_API_TOKEN_TTL = float(os.environ.get("ATP_API_TOKEN_TTL", str(90 * 24 * 3600)))
# Log lines of one step the live view and report pages render (the last ones; the JSON report
# has all of them).
ATP_REPORT_STEP_LOG_LINES = int(os.environ.get("ATP_REPORT_STEP_LOG_LINES", "200"))
# record a WebM of each SPICE target of a run (docs/experience.md); 0 turns it off
ATP_VIDEO = os.environ.get("ATP_VIDEO", "1") not in ("0", "false", "no")
# Rows of one /vms/ page (the page is paginated; the API list by ?limit=/&offset=).
ATP_VMS_PAGE_SIZE = int(os.environ.get("ATP_VMS_PAGE_SIZE", "100"))
# The most rows one API page returns (?limit= above it is cut to it); docs/web.md.
ATP_API_MAX_LIMIT = int(os.environ.get("ATP_API_MAX_LIMIT", "500"))
SPECTACULAR_SETTINGS = {"TITLE": "OCloudView ATP API", "VERSION": "1"}

# Local libvirt host the demo and the dashboard's default inventory use.
ATP_LOCAL_LIBVIRT_URI = os.environ.get("ATP_LIBVIRT_URI", "qemu:///system")
# Every libvirt connect is bounded (hosts/connections.py); a host whose connect failed is
# remembered as down for ATP_HOST_DOWN_SECONDS instead of being re-dialled by every request.
ATP_LIBVIRT_CONNECT_TIMEOUT = float(os.environ.get("ATP_LIBVIRT_CONNECT_TIMEOUT", "5"))
ATP_HOST_DOWN_SECONDS = float(os.environ.get("ATP_HOST_DOWN_SECONDS", "30"))
# the VM console (noVNC): how long the proxy waits for QEMU's VNC port to accept
ATP_CONSOLE_CONNECT_TIMEOUT = float(os.environ.get("ATP_CONSOLE_CONNECT_TIMEOUT", "10"))
# the reference editor's live score (docs/developer-mode.md): the most a VM screenshot may take
ATP_SCORE_CAPTURE_TIMEOUT = float(os.environ.get("ATP_SCORE_CAPTURE_TIMEOUT", "15"))

# ATP_LOG: a root level and levels per logger (atp_core/logconfig.py, docs/logging.md)
LOGGING = logging_dict(default="INFO")
LOGGING["loggers"].setdefault("django.db.backends", {"level": "WARNING"})

# Static files are served by WhiteNoise straight from the app/static folders (no collectstatic).
WHITENOISE_USE_FINDERS = True
