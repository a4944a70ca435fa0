"""Django settings, read from the environment (every variable is listed in .env.example).

Defaults are safe for a developer's machine: SQLite and kombu's filesystem broker under var/.
A production deployment sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS and CREDENTIALS_KEY at least.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu.transport import resolve_transport
from kombu.utils.url import parse_url

from dashboard.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    refuse_placeholder,
    validate_fernet_keys,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def _path_from_env(name: str, default: Path) -> Path:
    """A path setting; relative values are taken from the project folder, not the cwd."""
    raw = env_str(name).strip()
    return default if not raw else (BASE_DIR / raw if not Path(raw).is_absolute() else Path(raw))


VAR_DIR = _path_from_env("VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)

# --- Secrets -------------------------------------------------------------------------------------

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY (50+ random characters), "
            "or DEBUG=true for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production-0123456789"
if not DEBUG:
    # Development may run on the examples; production must not start with a published secret.
    refuse_placeholder("SECRET_KEY", SECRET_KEY)

_credentials_key = env_str("CREDENTIALS_KEY")
if _credentials_key:
    CREDENTIALS_KEYS = validate_fernet_keys("CREDENTIALS_KEY", _credentials_key)
    if not DEBUG:
        refuse_placeholder("CREDENTIALS_KEY", CREDENTIALS_KEYS)
elif DEBUG:
    # Development only: derive a stable key from SECRET_KEY so stored AWS secrets survive restarts.
    CREDENTIALS_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(b"credentials:" + SECRET_KEY.encode()).digest()
        ).decode()
    ]
else:
    raise ImproperlyConfigured(
        "CREDENTIALS_KEY is required when DEBUG is off: it encrypts stored AWS secrets. "
        'Make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names)."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Applications --------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "dashboard.apps.DashboardConfig",
    "hits.apps.HitsConfig",
    "workers.apps.WorkersConfig",
    "qualifications.apps.QualificationsConfig",
    "people.apps.PeopleConfig",
    "publishing.apps.PublishingConfig",
    "mirror.apps.MirrorConfig",
    "console.apps.ConsoleConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

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
                "dashboard.context_processors.accounts",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------------


def _database_from_env() -> dict[str, Any]:
    url = env_str("DATABASE_URL").strip()
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # SQLite serialises writers; a generous timeout lets the worker and web share the file.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    try:
        config = dj_database_url.parse(
            url,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    except Exception as exc:  # dj-database-url raises several types for malformed URLs
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL names no database (expected e.g. postgres://user:pass@host:5432/dbname)."
        )
    return dict(config)


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ----------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "login"

# Failed logins are throttled by django-axes, on our login page and the admin's alike: after
# LOGIN_FAILURE_LIMIT failures for one username (from anywhere), or from one address (whatever the
# usernames), logging in is refused for LOGIN_LOCKOUT_MINUTES, even with the right password. A
# superuser lifts a lock in /admin/ (Axes > Access attempts) or with `manage.py axes_reset_username`.
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out login is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("LOGIN_LOCKOUT_MINUTES", 15.0, minimum=1.0))
# Two separate counters: per username, and per client address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# No banner in the log at every start of every process (web, worker, each manage.py command).
AXES_VERBOSE = False
# Our page (429), saying for how long and who can lift the lock.
AXES_LOCKOUT_CALLABLE = "dashboard.views.login_locked_out"
# The client's address (dashboard.http.client_address): REMOTE_ADDR, or behind the reverse proxy
# that sets X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER below) the address it appends to
# X-Forwarded-For. Trusting that header without such a proxy would let a client pick a new address
# for every guess.
_BEHIND_PROXY = env_bool("SECURE_PROXY_SSL_HEADER", False)
CLIENT_ADDRESS_FROM_X_FORWARDED_FOR = _BEHIND_PROXY
AXES_CLIENT_IP_CALLABLE = "dashboard.http.client_address"

# --- Internationalisation ------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = _path_from_env("STATIC_ROOT", BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ------------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Health probes from the container runtime speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Error pages and reports hide variables and POST fields marked sensitive (the AWS secret) even
# with DEBUG on, where Django's own filter would show them.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.error_reports.SensitiveAlwaysHiddenFilter"
if _BEHIND_PROXY:
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Celery --------------------------------------------------------------------------------------


def _broker_from_env() -> tuple[str, dict]:
    url = env_str("CELERY_BROKER_URL").strip()
    if not url:
        # kombu's filesystem transport: a real broker for one machine, shared by web and worker.
        queue_dir = VAR_DIR / "broker" / "queue"
        processed_dir = VAR_DIR / "broker" / "processed"
        queue_dir.mkdir(parents=True, exist_ok=True)
        processed_dir.mkdir(parents=True, exist_ok=True)
        control_dir = VAR_DIR / "broker" / "control"
        control_dir.mkdir(parents=True, exist_ok=True)
        return "filesystem://", {
            "control_folder": str(control_dir),
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(processed_dir),
            "store_processed": False,
            # kombu polls the folder; its default of 1 s would cap a worker at about one task a second.
            "polling_interval": 0.1,
        }
    if "://" not in url:
        raise ImproperlyConfigured(
            f"CELERY_BROKER_URL is malformed (expected e.g. redis://127.0.0.1:6379/0); got {url!r}."
        )
    try:
        parsed = parse_url(url)
        resolve_transport(parsed["transport"])
    except (KeyError, ValueError, ImportError) as exc:
        raise ImproperlyConfigured(
            f"CELERY_BROKER_URL is malformed or names an unknown transport: {exc}"
        ) from None
    if parsed["transport"] in {"redis", "rediss", "amqp", "pyamqp"} and not parsed["hostname"]:
        raise ImproperlyConfigured(f"CELERY_BROKER_URL names no host; got {url!r}.")
    return url, {"visibility_timeout": 3600} if parsed["transport"] in {"redis", "rediss"} else {}


CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = _broker_from_env()
CELERY_BROKER_IS_REDIS = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
# The embedded broker is kombu's filesystem transport with atomic writes (see dashboard/broker.py).
CELERY_BROKER_TRANSPORT = (
    "dashboard.broker:FilesystemTransport" if CELERY_BROKER_URL == "filesystem://" else None
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Job state lives in our database (dashboard.Job), so no result backend is needed.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task lost with its worker is delivered again; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "dashboard")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The filesystem transport has no fanout exchange, so broadcast remote control cannot work there.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = CELERY_BROKER_URL != "filesystem://"
JOB_JANITOR_INTERVAL_SECONDS = env_float("JOB_JANITOR_INTERVAL_SECONDS", 60.0, minimum=1.0)

# --- MTurk ---------------------------------------------------------------------------------------

# Calls per second per requester account, shared by all workers (Redis) or per process (otherwise).
MTURK_RATE_LIMIT_PER_SECOND = env_float("MTURK_RATE_LIMIT_PER_SECOND", 5.0, minimum=0.1)
MTURK_RATE_LIMIT_BURST = env_int("MTURK_RATE_LIMIT_BURST", 10, minimum=1)
MTURK_MAX_ATTEMPTS = env_int("MTURK_MAX_ATTEMPTS", 5, minimum=1)
# Beat cadence per active account, in seconds.
SYNC_REVIEWABLE_INTERVAL_SECONDS = env_float("SYNC_REVIEWABLE_INTERVAL_SECONDS", 60.0, minimum=1.0)
SYNC_FULL_INTERVAL_SECONDS = env_float("SYNC_FULL_INTERVAL_SECONDS", 3600.0, minimum=10.0)
# ListHITs, then the assignments of only the HITs whose counters moved: new submissions on HITs
# still open reach the mirror within minutes even without notifications.
SYNC_ACTIVE_INTERVAL_SECONDS = env_float("SYNC_ACTIVE_INTERVAL_SECONDS", 120.0, minimum=10.0)
SYNC_BALANCE_INTERVAL_SECONDS = env_float("SYNC_BALANCE_INTERVAL_SECONDS", 900.0, minimum=10.0)
SYNC_QUALIFICATIONS_INTERVAL_SECONDS = env_float(
    "SYNC_QUALIFICATIONS_INTERVAL_SECONDS", 3600.0, minimum=10.0
)
SYNC_BLOCKS_INTERVAL_SECONDS = env_float("SYNC_BLOCKS_INTERVAL_SECONDS", 3600.0, minimum=10.0)
SYNC_BONUSES_INTERVAL_SECONDS = env_float("SYNC_BONUSES_INTERVAL_SECONDS", 3600.0, minimum=10.0)
NOTIFICATIONS_POLL_INTERVAL_SECONDS = env_float(
    "NOTIFICATIONS_POLL_INTERVAL_SECONDS", 10.0, minimum=1.0
)
# Events recorded within this window are applied by one task when it closes (each HIT they name
# re-read once); 0 queues a task per event.
NOTIFICATIONS_APPLY_DELAY_SECONDS = env_float("NOTIFICATIONS_APPLY_DELAY_SECONDS", 1.0, minimum=0.0)
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-jobs": {
        "task": "dashboard.requeue_stale_jobs",
        "schedule": JOB_JANITOR_INTERVAL_SECONDS,
    },
    "requeue-stale-intents": {
        "task": "dashboard.requeue_stale_intents",
        "schedule": JOB_JANITOR_INTERVAL_SECONDS,
    },
    "publishing-advance-micro-batches": {
        "task": "publishing.advance_micro_batches",
        "schedule": JOB_JANITOR_INTERVAL_SECONDS,
    },
    "consume-notifications": {
        "task": "mirror.consume_all_notifications",
        "schedule": NOTIFICATIONS_POLL_INTERVAL_SECONDS,
    },
    **{
        f"sync-{kind}": {
            "task": "mirror.sync_all_accounts",
            "schedule": interval,
            "kwargs": {"kind": kind},
        }
        for kind, interval in [
            ("reviewable", SYNC_REVIEWABLE_INTERVAL_SECONDS),
            ("full", SYNC_FULL_INTERVAL_SECONDS),
            ("active", SYNC_ACTIVE_INTERVAL_SECONDS),
            ("balance", SYNC_BALANCE_INTERVAL_SECONDS),
            ("qualifications", SYNC_QUALIFICATIONS_INTERVAL_SECONDS),
            ("blocks", SYNC_BLOCKS_INTERVAL_SECONDS),
            ("bonuses", SYNC_BONUSES_INTERVAL_SECONDS),
        ]
    },
}

# The demo (seed_demo): where its emulator account points, and where the emulator reaches our webhook.
DEMO_EMULATOR_URL = env_str("DEMO_EMULATOR_URL", "http://127.0.0.1:8765/")
DEMO_WEBHOOK_BASE_URL = env_str("DEMO_WEBHOOK_BASE_URL", "http://127.0.0.1:8000")

# The SNS webhook refuses messages signed longer ago than this (SNS stops retrying within an hour;
# an older message is a replay).
SNS_MAX_MESSAGE_AGE_SECONDS = env_int("SNS_MAX_MESSAGE_AGE_SECONDS", 3600, minimum=60)

# /healthz shows its details (database, broker, last syncs) to staff users and to callers sending
# "Authorization: Bearer <this token>"; empty means staff only. Anonymous callers get the status.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN", "").strip()
if HEALTHZ_TOKEN and len(HEALTHZ_TOKEN) < 20:
    raise ImproperlyConfigured(
        "HEALTHZ_TOKEN must be at least 20 characters (or empty for staff-only details)."
    )

# Concurrent ListAssignmentsForHIT calls within one sync page (still paced by the rate limiter).
SYNC_FETCH_THREADS = env_int("SYNC_FETCH_THREADS", 4, minimum=1)

# Worker processes that make a full or active sync's ListAssignmentsForHIT calls instead of those
# threads (0: none). Only where calls are nearly free (the emulator, or an account allowed hundreds
# of calls per second) is the client's CPU the bound; needs the Redis rate limiter (the broker).
SYNC_FETCH_PROCESSES = env_int("SYNC_FETCH_PROCESSES", 0, minimum=0)

# How long one sync may hold an account's lock before another may take over (a crashed worker).
SYNC_LOCK_SECONDS = env_int("SYNC_LOCK_SECONDS", 1800, minimum=10)

# A job whose worker has not reported progress for this long is presumed dead and handed out again.
JOB_STALE_AFTER_SECONDS = env_int("JOB_STALE_AFTER_SECONDS", 300, minimum=10)

# --- Logging -------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        # botocore logs request bodies and headers at DEBUG; never let that near a log file.
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
