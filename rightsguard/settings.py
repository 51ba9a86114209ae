"""RightsGuard settings: one module, every varying value from the environment.

Embedded default (no variables set): SQLite file, Celery tasks run eagerly in-process.
Full stack: DATABASE_URL=postgres://..., REDIS_URL=redis://...
"""

import base64
import hashlib
import ipaddress
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from rightsguard.storage import evidence_storage, exports_storage

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """The environment, with a sentence naming the variable when a number is not a number (Python's own message,
    "invalid literal for int()", names neither the variable nor the fix)."""

    def int(self, var, default=environ.Env.NOTSET):
        try:
            return super().int(var, default=default)
        except ValueError:
            raise ImproperlyConfigured(
                f"{var} must be a whole number, not {os.environ.get(var)!r} (.env.example lists every setting)."
            ) from None


env = _Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-only-key-never-used-when-debug-is-off"  # noqa: S105

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    # Django's admin with the project's site (rightsguard/admin_site.py).
    "rightsguard.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "cases",
    "oversight",
    "analysis",
    "library",
    "integrations",
    "demo",
]

MIDDLEWARE = [
    # First: forwarded headers from anyone but a configured proxy are removed before anything reads them.
    "rightsguard.proxies.TrustedProxyMiddleware",
    "accounts.middleware.RequestIdMiddleware",
    # Counts every answer, those of the middleware below included (rightsguard/metrics.py).
    "rightsguard.metrics.MetricsMiddleware",
    # Before everything that writes (sessions, authentication): a database error answer must know whether the
    # request's writes may already be saved (rightsguard/errors.py).
    "rightsguard.errors.SavedWritesMiddleware",
    # Early, so that it also marks the answers other middleware gives (a refused second factor, a CSRF failure).
    "cases.api.middleware.NoStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Right after the sessions: pushes the idle expiry forward at most once a minute (SESSION_COOKIE_AGE below).
    "accounts.middleware.IdleExpiryMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.actor: the user's grants, read from the final user when first used (after the API's token check).
    "accounts.middleware.ActorMiddleware",
    # The request's ids for every log line it writes (rightsguard/logs.py).
    "rightsguard.logs.LogContextMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
    # An integration account (another system: accounts/integration.py) never uses the browser: 403 on every page.
    # After django_otp's middleware, which wraps request.user anew: the grants read here are the page's (read once).
    "accounts.integration.IntegrationSessionRefused",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.AbsoluteSessionLimitMiddleware",
    # Last, as django-axes requires: it turns lockouts raised during authentication into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rightsguard.urls"
WSGI_APPLICATION = "rightsguard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cases.context_processors.navigation",
                "oversight.context_processors.navigation",
                "library.context_processors.navigation",
            ],
        },
    },
    # Pages whose rows repeat hundreds of times (the queue) render those parts with Jinja2 from the apps' jinja2/
    # folders: the same escaping, a fraction of the time. Their words are translated in Python (a presenter passes
    # them in), so the templates hold markup only.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": True},
    },
]

# Choice widgets are rendered with Django's own Jinja2 widget templates (the same markup as its template-language
# ones): a page of filters renders hundreds of options, each an include in the template language (rightsguard/
# form_renderer.py).
FORM_RENDERER = "rightsguard.form_renderer.ChoicesInJinja2"

# --- Database -------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'rightsguard.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes every transaction take the write lock up front, the nearest SQLite gets to
    # select_for_update(); the timeout lets concurrent writers queue instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # While the database restarts, requests fail within seconds (503, rightsguard/errors.py) instead of hanging.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DJANGO_DB_CONNECT_TIMEOUT", default=3)
    )
    # A request's queries are short: starting parallel workers for one (about 20 ms on two cores) costs more than
    # it saves, and the planner starts them for a search's bitmap that then stops after a page. The yearly report,
    # which reads a year of cases, asks for them itself (cases/reports/yearly.py).
    DB_POOL = env.str("RIGHTSGUARD_DB_POOL", default="")
    if DB_POOL not in ("", "psycopg", "pgbouncer"):
        raise ImproperlyConfigured(
            f"RIGHTSGUARD_DB_POOL must be empty, 'psycopg' or 'pgbouncer', not {DB_POOL!r} (docs/operations.md)."
        )
    if DB_POOL == "pgbouncer":
        # Behind PgBouncer in transaction mode each transaction may run on another server connection: no cursor may
        # outlive its transaction, and no startup option reaches the server (PgBouncer refuses them), so the
        # parallel-workers setting below is set on the database instead (docs/operations.md, "Connection pooling").
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        DATABASES["default"]["OPTIONS"].setdefault(
            "options", f"-c max_parallel_workers_per_gather={env.int('RIGHTSGUARD_DB_PARALLEL_WORKERS', default=0)}"
        )
    if DB_POOL == "psycopg":
        # Django's own pool (psycopg_pool) in each process: connections are taken per request and given back, so
        # persistent connections are off (Django refuses both at once).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("RIGHTSGUARD_DB_POOL_MIN", default=1),
            "max_size": env.int("RIGHTSGUARD_DB_POOL_MAX", default=4),
            "timeout": env.int("RIGHTSGUARD_DB_POOL_TIMEOUT", default=10),
        }
        # psycopg_pool checks these only when the first request opens the pool: every request would then fail (a 500
        # for the sizes, a 503 for a timeout that gives up at once) while the start itself looked fine.
        _pool = DATABASES["default"]["OPTIONS"]["pool"]
        if not 0 <= _pool["min_size"] <= _pool["max_size"] or _pool["max_size"] < 1 or _pool["timeout"] < 1:
            raise ImproperlyConfigured(
                "RIGHTSGUARD_DB_POOL_MIN must be 0 or more and at most RIGHTSGUARD_DB_POOL_MAX, which must be 1 or "
                "more, and RIGHTSGUARD_DB_POOL_TIMEOUT at least 1 second, not "
                f"{_pool['min_size']}, {_pool['max_size']} and {_pool['timeout']} (docs/operations.md)."
            )

# A read replica of the primary (a streaming standby) for the yearly report and the analysis (cases/reading.py).
# The tests run it as a mirror of the primary's test database.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {})},
        # Behind PgBouncer too (the same RIGHTSGUARD_DB_POOL): the report's and the analysis' iterators would otherwise
        # fetch from a cursor that another server connection holds.
        "DISABLE_SERVER_SIDE_CURSORS": DATABASES["default"].get("DISABLE_SERVER_SIDE_CURSORS", False),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["rightsguard.routers.ReadReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Internationalisation --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language on every page, notification, e-mail and PDF (rightsguard/formats/).
FORMAT_MODULE_PATH = ["rightsguard.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Files -----------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Evidence lives outside the web root (under MEDIA_ROOT/evidence unless RIGHTSGUARD_STORAGE_URL names an object
# store) and is only served through a permission-checked view; report exports are kept here too.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# Never served: no route maps this prefix (evidence is downloaded through a permission-checked view).
MEDIA_URL = "/_no_direct_media_access_/"
RIGHTSGUARD_MAX_UPLOAD_BYTES = env.int("RIGHTSGUARD_MAX_UPLOAD_BYTES", default=25 * 1024 * 1024)
# Total evidence one case may hold; an upload that would pass it is refused while it is received.
RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES = env.int("RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES", default=500 * 1024 * 1024)
# JPEG and PNG evidence is decoded to strip its metadata; larger images are refused before decoding.
RIGHTSGUARD_MAX_IMAGE_PIXELS = env.int("RIGHTSGUARD_MAX_IMAGE_PIXELS", default=60_000_000)
# Dotted path of the malware scanner every evidence upload passes before it is kept (see cases/malware.py), e.g.
# "cases.malware.clamav"; empty: not scanned. While a configured scanner cannot check files, uploads are refused.
RIGHTSGUARD_MALWARE_SCANNER = env.str("RIGHTSGUARD_MALWARE_SCANNER", default="")
RIGHTSGUARD_CLAMD_ADDRESS = env.str("RIGHTSGUARD_CLAMD_ADDRESS", default="unix:///run/clamav/clamd.ctl")
RIGHTSGUARD_CLAMD_TIMEOUT = env.float("RIGHTSGUARD_CLAMD_TIMEOUT", default=30.0)
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
# Where evidence is kept: the local disk under MEDIA_ROOT/evidence (unset), or an S3-compatible object store,
# s3://bucket/prefix?endpoint=https://minio.internal:9000&region=... (rightsguard/storage.py); its keys come from
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never from the URL. Files prepared for download (report exports, queue
# workbooks) are kept beside it: MEDIA_ROOT/exports, or PREFIX/exports/ in the same bucket.
RIGHTSGUARD_STORAGE_URL = env.str("RIGHTSGUARD_STORAGE_URL", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "evidence": evidence_storage(RIGHTSGUARD_STORAGE_URL),
    "exports": exports_storage(RIGHTSGUARD_STORAGE_URL),
    # Hashed, compressed, served by the app itself (no CDN, no separate static server). Development serves
    # the source files directly.
    "staticfiles": {
        "BACKEND": env.str(
            "DJANGO_STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- E-mail ----------------------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# For the file back end (filemail://): an absolute directory (a URL's path loses its leading slash).
if env.str("EMAIL_FILE_PATH", default=""):
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="rightsguard@localhost")
# A mail server that does not answer fails the attempt after this many seconds instead of holding the worker.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=30.0)
# A notification e-mail that fails is retried after RIGHTSGUARD_EMAIL_RETRY_SECONDS, doubling after each failure,
# up to RIGHTSGUARD_EMAIL_MAX_ATTEMPTS attempts (defaults: 8 attempts over about 21 hours), then marked failed.
RIGHTSGUARD_EMAIL_MAX_ATTEMPTS = env.int("RIGHTSGUARD_EMAIL_MAX_ATTEMPTS", default=8)
RIGHTSGUARD_EMAIL_RETRY_SECONDS = env.float("RIGHTSGUARD_EMAIL_RETRY_SECONDS", default=600)

# --- Celery ----------------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
# "auth": what an API token check read (accounts/tokens.py), shared by every web process so that a revocation reaches
# them all at once: Redis, when there is one; without it nothing is kept (a cache of one process could not be told of a
# revocation made in another).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "auth": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "rg-auth",
        # A Redis that does not answer costs a request at most this long; the database answers instead.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    if REDIS_URL.startswith(("redis://", "rediss://", "unix://"))
    else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
CELERY_RESULT_BACKEND = None
# Without a broker the embedded default runs tasks in-process, right after the transaction commits.
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not (REDIS_URL or env.str("CELERY_BROKER_URL", ""))
)
CELERY_TASK_EAGER_PROPAGATES = True
# At-least-once delivery: a task is acknowledged after it ran, and re-queued if its worker dies mid-run. Every
# task is idempotent by its business key (the case, the notification's e-mailed time), so a rerun is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A lost broker connection lets the running tasks finish. Cancelling them (the Celery 6 default) kills each one
# wherever it is: a notification job killed between sending its e-mail and committing that it did is run again
# and sends it twice (tests/faults/test_faults.py saw this when Redis was killed). A task left to finish while
# Redis redelivers it does no harm: tasks are idempotent and lock what they change (a second run skips the
# locked notification, the flag scan holds an advisory lock), and a second run finds the work done.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Warm shutdown (SIGTERM) lets running tasks finish for this long before they are cancelled and requeued.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=30.0)
# Worker liveness (rightsguard/heartbeat.py): a connected worker touches this file and sets a Redis key this often;
# four missed beats make it stale (`manage.py worker_alive`, the "worker" detail of /readyz).
RIGHTSGUARD_WORKER_HEARTBEAT_FILE = env.str(
    "RIGHTSGUARD_WORKER_HEARTBEAT_FILE", default=os.path.join(tempfile.gettempdir(), "rightsguard-worker.heartbeat")
)
RIGHTSGUARD_WORKER_HEARTBEAT_SECONDS = env.float("RIGHTSGUARD_WORKER_HEARTBEAT_SECONDS", default=15.0)
# Must exceed the longest task's run time (the flag scan's hard limit is 50 minutes), or Redis hands an
# unacknowledged task to a second worker. Kombu reads it from the broker options; the result backend's options
# say the same so the two never disagree.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # A web process publishing to a Redis that is down gives up within seconds; the outbox relay publishes later.
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2.0),
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=5.0),
    # How often a worker looks for unacknowledged tasks whose visibility timeout expired; kombu's defaults
    # (a sweep about every 100 s) unless set, e.g. by the integration tests.
    **{
        option: env.int(f"CELERY_{option.upper()}")
        for option in ("unacked_restore_interval", "unacked_restore_throttle")
        if env.str(f"CELERY_{option.upper()}", default="")
    },
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Task modules outside an app's tasks.py (which autodiscovery finds by itself).
CELERY_IMPORTS = ["cases.reports.tasks"]
# Run one beat (README, docker-compose.yml). The scan also takes a database advisory lock, so an overlapping run
# does nothing rather than the same work again.
RIGHTSGUARD_FLAG_SCAN_SECONDS = env.float("RIGHTSGUARD_FLAG_SCAN_SECONDS", default=15 * 60)
RIGHTSGUARD_OUTBOX_RELAY_SECONDS = env.float("RIGHTSGUARD_OUTBOX_RELAY_SECONDS", default=60)
# The relay leaves a message this long to its own on-commit publish before publishing it itself.
RIGHTSGUARD_OUTBOX_RELAY_AFTER_SECONDS = env.float("RIGHTSGUARD_OUTBOX_RELAY_AFTER_SECONDS", default=60)
# A job published this long ago whose task never finished is published again (tasks are idempotent).
RIGHTSGUARD_OUTBOX_REDELIVER_SECONDS = env.float("RIGHTSGUARD_OUTBOX_REDELIVER_SECONDS", default=900)
# How often beat sweeps evidence storage, and how old a received file never recorded, or an evidence file without an
# attachment row, must be before the sweep removes it (cases/evidence.py).
RIGHTSGUARD_EVIDENCE_SWEEP_SECONDS = env.float("RIGHTSGUARD_EVIDENCE_SWEEP_SECONDS", default=15 * 60)
RIGHTSGUARD_EVIDENCE_STALE_SECONDS = env.float("RIGHTSGUARD_EVIDENCE_STALE_SECONDS", default=60 * 60)
# Days a prepared file (a report export, a queue workbook) can be downloaded after it was finished; then it expires and
# its file is removed (cases/reports/files.py, beat every hour). It can be asked for again.
RIGHTSGUARD_EXPORT_KEEP_DAYS = env.float("RIGHTSGUARD_EXPORT_KEEP_DAYS", default=7)
# Days the access log is kept on PostgreSQL (cases/partitions.py): a month's partition is dropped once all of it is
# older than this. Never less than a year: the access log is the record of who read which case.
RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS = env.int("RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS", default=365)
if RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS < 365:
    raise ImproperlyConfigured(
        f"RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS is {RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS}: the access log must be kept at least "
        "365 days."
    )
# The site's address as users reach it (scheme, host, any path prefix; no trailing slash): links in e-mails.
# How long after a merge of duplicate cases an administrator may still undo it (cases/services/duplicates.py); after
# that the merge stands (docs/operations.md).
RIGHTSGUARD_UNMERGE_DAYS = env.int("RIGHTSGUARD_UNMERGE_DAYS", default=365)
RIGHTSGUARD_SITE_URL = env.str("RIGHTSGUARD_SITE_URL", default="http://localhost:8000").rstrip("/")
# The local hour (TIME_ZONE) the daily notification digest goes out to users who chose it.
RIGHTSGUARD_DAILY_DIGEST_HOUR = env.int("RIGHTSGUARD_DAILY_DIGEST_HOUR", default=7)
# The local hour (TIME_ZONE) the daily early-warning job runs (analysis/tasks.py), before the office's day begins.
RIGHTSGUARD_EARLY_WARNING_HOUR = env.int("RIGHTSGUARD_EARLY_WARNING_HOUR", default=1)
# Each entry passes its period: the task claims the period in the database first, so a second beat (started by
# mistake, or an old one during a deployment) cannot run a job twice in one period.
# Retention: the local hour of the daily job, and how many cases it seals (and anonymises) at most per run.
RIGHTSGUARD_RETENTION_HOUR = env.int("RIGHTSGUARD_RETENTION_HOUR", default=2)
RIGHTSGUARD_RETENTION_BATCH = env.int("RIGHTSGUARD_RETENTION_BATCH", default=500)

CELERY_BEAT_SCHEDULE = {
    # Raise and resolve flags (stalled, idle, overdue referral, downgraded, review prompt); digests (DESIGN §5).
    "flag-cases": {
        "task": "cases.flag_cases",
        "schedule": RIGHTSGUARD_FLAG_SCAN_SECONDS,
        "kwargs": {"period": RIGHTSGUARD_FLAG_SCAN_SECONDS},
        # A tick that waits longer than one interval is superseded by the next one.
        "options": {"expires": RIGHTSGUARD_FLAG_SCAN_SECONDS},
    },
    # Sweeper: e-mails flag notifications a crashed run committed but never mailed (a no-op otherwise).
    "send-flag-digests": {"task": "cases.send_flag_digests", "schedule": 30 * 60.0, "kwargs": {"period": 30 * 60.0}},
    # Once a day: each user who chose the daily digest for some kinds gets one mail of those not yet e-mailed. The
    # claim's period is a day, so a second beat sends nothing more; one that failed is retried the next day.
    "send-daily-digests": {
        "task": "cases.send_daily_digests",
        "schedule": crontab(hour=RIGHTSGUARD_DAILY_DIGEST_HOUR, minute=0),
        "kwargs": {"period": 24 * 3600.0},
    },
    # Notification e-mails whose last attempt failed, once their backoff is over, and any a delivery left unsent.
    "retry-notification-emails": {
        "task": "cases.retry_notification_emails",
        "schedule": 60.0,
        "kwargs": {"period": 60.0},
        "options": {"expires": 60.0},
    },
    # Transactional outbox relay: publishes jobs whose on-commit publish failed (broker down, process killed).
    "relay-outbox": {
        "task": "cases.relay_outbox",
        "schedule": RIGHTSGUARD_OUTBOX_RELAY_SECONDS,
        "kwargs": {"period": RIGHTSGUARD_OUTBOX_RELAY_SECONDS},
        "options": {"expires": RIGHTSGUARD_OUTBOX_RELAY_SECONDS},
    },
    # Oversight campaigns: reviewers reminded of cases still to review near a deadline, overdue rectifications flagged
    # (each person once per thing: oversight/reminders.py).
    "send-campaign-reminders": {
        "task": "oversight.send_campaign_reminders",
        "schedule": 3600.0,
        "kwargs": {"period": 3600.0},
        "options": {"expires": 3600.0},
    },
    # Early warnings (analysis/warnings.py): rises against each unit's own baseline, repeat attackers and victims. Once
    # a day, after midnight local time, so a new month's window is evaluated on its first day; the claim's period is a
    # day, so a second beat raises nothing more (and each warning's key is unique anyway).
    "early-warning": {
        "task": "analysis.early_warning",
        "schedule": crontab(hour=RIGHTSGUARD_EARLY_WARNING_HOUR, minute=30),
        "kwargs": {"period": 24 * 3600.0},
    },
    # Evidence files a killed upload left: received and never recorded, or renamed but never committed.
    "sweep-evidence": {
        "task": "cases.sweep_evidence",
        "schedule": RIGHTSGUARD_EVIDENCE_SWEEP_SECONDS,
        "kwargs": {"period": RIGHTSGUARD_EVIDENCE_SWEEP_SECONDS},
        "options": {"expires": RIGHTSGUARD_EVIDENCE_SWEEP_SECONDS},
    },
    # Guidance tips published ahead of their first day are pushed to their officers on it (library/notices.py).
    "start-due-tip-pushes": {
        "task": "library.start_due_pushes",
        "schedule": 3600.0,
        "kwargs": {"period": 3600.0},
        "options": {"expires": 3600.0},
    },
    # The timeline's and the access log's monthly partitions three months ahead, rows that landed in DEFAULT moved, the
    # access log's months past RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS dropped (cases/partitions.py; PostgreSQL only). Once a
    # day in the small hours; a missed day changes nothing, as the partitions are months ahead.
    "maintain-partitions": {
        "task": "cases.maintain_partitions",
        "schedule": crontab(hour=3, minute=10),
        "kwargs": {"period": 24 * 3600.0},
    },
    # Retention (cases/services/retention.py): closed cases past their periods sealed, then anonymised. Once a day in
    # the small hours; the claim's period is a day, so a second beat does nothing more.
    "apply-retention": {
        "task": "cases.apply_retention",
        "schedule": crontab(hour=RIGHTSGUARD_RETENTION_HOUR, minute=40),
        "kwargs": {"period": 24 * 3600.0},
    },
    # Prepared files past RIGHTSGUARD_EXPORT_KEEP_DAYS expire, and what killed export jobs left goes.
    "sweep-exports": {
        "task": "cases.reports.sweep_exports",
        "schedule": 3600.0,
        "kwargs": {"period": 3600.0},
        "options": {"expires": 3600.0},
    },
}
# --- Webhooks out (integrations/services/webhooks.py, integrations/outbound.py) ---------------------------------
# The hosts webhook subscriptions may send to, comma-separated: host names (hooks.procuratorate.example), "*.domain"
# for its subdomains, IP addresses or CIDR ranges. Empty (the default): none. A host that resolves to a loopback,
# private, link-local or otherwise non-public address is refused unless an entry names that address (or a range
# holding it) explicitly, e.g. 10.20.0.0/16 for intranet receivers.
RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = env.list("RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS", default=[])
# Checked here as integrations/outbound.py reads it: a mistyped entry (a URL, a range /33) would otherwise fail every
# delivery at run time.
for _entry in RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS:
    _host = _entry.strip().lower().strip("[]")
    if _host.startswith("*.") or not ("/" in _host or ":" in _host):
        continue
    try:
        ipaddress.ip_network(_host, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS holds {_entry!r}: neither a host name nor an address or range."
        ) from None
# The whole exchange with a receiver (connect, send, answer) must end within this many seconds; at most this many
# bytes of its answer are read.
RIGHTSGUARD_WEBHOOK_TIMEOUT_SECONDS = env.float("RIGHTSGUARD_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
RIGHTSGUARD_WEBHOOK_MAX_RESPONSE_BYTES = env.int("RIGHTSGUARD_WEBHOOK_MAX_RESPONSE_BYTES", default=64 * 1024)
# The certificate authorities https receivers' certificates are checked against (a PEM file): the intranet's own CA.
# Empty: the system's.
RIGHTSGUARD_WEBHOOK_CA_FILE = env.str("RIGHTSGUARD_WEBHOOK_CA_FILE", default="")
if RIGHTSGUARD_WEBHOOK_CA_FILE and not Path(RIGHTSGUARD_WEBHOOK_CA_FILE).is_file():
    raise ImproperlyConfigured(f"RIGHTSGUARD_WEBHOOK_CA_FILE is {RIGHTSGUARD_WEBHOOK_CA_FILE}, which is not a file.")
# A failed delivery is retried after RIGHTSGUARD_WEBHOOK_RETRY_SECONDS, doubled after each failure, up to
# RIGHTSGUARD_WEBHOOK_MAX_ATTEMPTS attempts (defaults: 8 attempts over about 4 hours); a subscription is disabled after
# RIGHTSGUARD_WEBHOOK_DISABLE_AFTER failed attempts in a row, and its owner told.
RIGHTSGUARD_WEBHOOK_RETRY_SECONDS = env.float("RIGHTSGUARD_WEBHOOK_RETRY_SECONDS", default=120.0)
RIGHTSGUARD_WEBHOOK_MAX_ATTEMPTS = env.int("RIGHTSGUARD_WEBHOOK_MAX_ATTEMPTS", default=8)
RIGHTSGUARD_WEBHOOK_DISABLE_AFTER = env.int("RIGHTSGUARD_WEBHOOK_DISABLE_AFTER", default=20)
for _name in ("RIGHTSGUARD_WEBHOOK_MAX_ATTEMPTS", "RIGHTSGUARD_WEBHOOK_DISABLE_AFTER"):
    if vars()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
CELERY_BEAT_SCHEDULE["retry-webhooks"] = {
    "task": "integrations.retry_webhooks",
    "schedule": 60.0,
    "kwargs": {"period": 60.0},
    "options": {"expires": 60.0},
}

# Hours an Idempotency-Key's first answer is kept for replay.
RIGHTSGUARD_IDEMPOTENCY_HOURS = env.int("RIGHTSGUARD_IDEMPOTENCY_HOURS", default=24)
# Days without activity after which an open case is flagged idle.
RIGHTSGUARD_IDLE_DAYS = env.int("RIGHTSGUARD_IDLE_DAYS", default=14)

# --- REST framework --------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "cases.api.authentication.ApiTokenAuthentication",
    ],
    # An authenticated person: an integration account's token is refused (403) except by the endpoints made for it,
    # which name their own permission (accounts/integration.py).
    "DEFAULT_PERMISSION_CLASSES": ["accounts.integration.PeopleOnly"],
    # JSON only (uploads declare their own): one body format to document, validate and replay; UTF-8 and nested
    # a bounded number of levels deep (cases/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["cases.api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rightsguard.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RightsGuard API",
    "DESCRIPTION": "Police-rights protection cases: filing, workflow actions, handling records, flags and reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for a choice set several fields share (each kind of notification's delivery).
    "ENUM_NAME_OVERRIDES": {"NotificationDeliveryEnum": "cases.choices.NotificationDelivery"},
}

# --- Security --------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("RIGHTSGUARD_SESSION_IDLE_SECONDS", default=30 * 60)
# Idle timeout: a request pushes the expiry forward, at most once a minute (accounts.middleware.IdleExpiryMiddleware)
# rather than by writing the session on every request.
SESSION_SAVE_EVERY_REQUEST = False
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload lists are for public names; this system runs on intranet host names that cannot be listed.
    "security.W021",
]
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
# Believed only from RIGHTSGUARD_TRUSTED_PROXIES: rightsguard/proxies.py removes the forwarded headers (and
# X-Forwarded-For) from every other peer before any other middleware runs.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Reverse proxies in front of the application, comma-separated addresses or CIDR ranges (empty: none).
RIGHTSGUARD_TRUSTED_PROXIES = env.list("RIGHTSGUARD_TRUSTED_PROXIES", default=[])
for _proxy in RIGHTSGUARD_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"RIGHTSGUARD_TRUSTED_PROXIES holds {_proxy!r}, which is not an IP address or CIDR range."
        ) from None
# /readyz names the failing dependency only to loopback callers and to callers sending this token as
# "Authorization: Bearer <token>" (empty: loopback only).
RIGHTSGUARD_MONITORING_TOKEN = env.str("RIGHTSGUARD_MONITORING_TOKEN", default="")

RIGHTSGUARD_MFA_REQUIRED = env.bool("RIGHTSGUARD_MFA_REQUIRED", default=True)

# --- Single sign-on (accounts/sso.py, accounts/oidc.py, accounts/directory.py; README "Single sign-on") ---------------
# Both are optional and sit beside RightsGuard's own accounts. A directory's user is matched to an account by the
# police number (User.badge_number), never by a name or an e-mail address; roles and units stay RightsGuard's
# memberships, which a directory group grants only through an administrator's DirectoryGroupMapping and only for the
# roles listed here (an administrator's role only when "admin" is listed).
RIGHTSGUARD_SSO_GRANTABLE_ROLES = env.list("RIGHTSGUARD_SSO_GRANTABLE_ROLES", default=["officer", "supervisor"])
# OpenID Connect (authorization code flow with PKCE, state and nonce): on when the issuer is set.
RIGHTSGUARD_OIDC_ISSUER = env.str("RIGHTSGUARD_OIDC_ISSUER", default="").rstrip("/")
RIGHTSGUARD_OIDC_CLIENT_ID = env.str("RIGHTSGUARD_OIDC_CLIENT_ID", default="")
RIGHTSGUARD_OIDC_CLIENT_SECRET = env.str("RIGHTSGUARD_OIDC_CLIENT_SECRET", default="")
# The one address the provider sends the browser back to, registered with the provider: https://<host>/accounts/oidc/callback/
RIGHTSGUARD_OIDC_REDIRECT_URI = env.str("RIGHTSGUARD_OIDC_REDIRECT_URI", default="")
RIGHTSGUARD_OIDC_PROVIDER_NAME = env.str("RIGHTSGUARD_OIDC_PROVIDER_NAME", default="SSO")
RIGHTSGUARD_OIDC_SCOPES = env.str("RIGHTSGUARD_OIDC_SCOPES", default="openid profile email")
# The ID token claims holding the police number and the user's groups.
RIGHTSGUARD_OIDC_ID_CLAIM = env.str("RIGHTSGUARD_OIDC_ID_CLAIM", default="police_number")
RIGHTSGUARD_OIDC_GROUPS_CLAIM = env.str("RIGHTSGUARD_OIDC_GROUPS_CLAIM", default="groups")
# A verified ID token whose "amr" holds one of these (RFC 8176), or whose "acr" is one of the second list, passes
# RightsGuard's second factor for that session; any other log-in through the provider still needs RightsGuard's own.
RIGHTSGUARD_OIDC_MFA_AMR = env.list("RIGHTSGUARD_OIDC_MFA_AMR", default=["mfa", "otp", "hwk", "sc"])
RIGHTSGUARD_OIDC_MFA_ACR = env.list("RIGHTSGUARD_OIDC_MFA_ACR", default=[])
# Only asymmetric signatures, checked against the provider's published keys (never "none", never a shared secret).
RIGHTSGUARD_OIDC_SIGNING_ALGORITHMS = env.list(
    "RIGHTSGUARD_OIDC_SIGNING_ALGORITHMS", default=["RS256", "PS256", "ES256"]
)
# A CA bundle for the provider's TLS certificate (empty: the system's), and seconds before a call to it fails.
RIGHTSGUARD_OIDC_CA_FILE = env.str("RIGHTSGUARD_OIDC_CA_FILE", default="")
RIGHTSGUARD_OIDC_TIMEOUT = env.int("RIGHTSGUARD_OIDC_TIMEOUT", default=10)
# LDAP (through the ordinary log-in form, after RightsGuard's own accounts): on when the URI is set.
RIGHTSGUARD_LDAP_URI = env.str("RIGHTSGUARD_LDAP_URI", default="")
RIGHTSGUARD_LDAP_BIND_DN = env.str("RIGHTSGUARD_LDAP_BIND_DN", default="")
RIGHTSGUARD_LDAP_BIND_PASSWORD = env.str("RIGHTSGUARD_LDAP_BIND_PASSWORD", default="")
RIGHTSGUARD_LDAP_USER_BASE = env.str("RIGHTSGUARD_LDAP_USER_BASE", default="")
# The typed user name is escaped before it goes into the filter. Add a condition to refuse disabled entries, e.g.
# Active Directory's "(&(sAMAccountName=%(user)s)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))".
RIGHTSGUARD_LDAP_USER_FILTER = env.str("RIGHTSGUARD_LDAP_USER_FILTER", default="(uid=%(user)s)")
RIGHTSGUARD_LDAP_ID_ATTRIBUTE = env.str("RIGHTSGUARD_LDAP_ID_ATTRIBUTE", default="employeeNumber")
RIGHTSGUARD_LDAP_NAME_ATTRIBUTE = env.str("RIGHTSGUARD_LDAP_NAME_ATTRIBUTE", default="cn")
RIGHTSGUARD_LDAP_EMAIL_ATTRIBUTE = env.str("RIGHTSGUARD_LDAP_EMAIL_ATTRIBUTE", default="mail")
# Groups (groupOfNames / member) below this base; empty: no groups are read, and no mapping applies.
RIGHTSGUARD_LDAP_GROUP_BASE = env.str("RIGHTSGUARD_LDAP_GROUP_BASE", default="")
RIGHTSGUARD_LDAP_GROUP_FILTER = env.str("RIGHTSGUARD_LDAP_GROUP_FILTER", default="(objectClass=groupOfNames)")
# Optional: only members of this group may log in; members of the second never may (group DNs).
RIGHTSGUARD_LDAP_REQUIRE_GROUP = env.str("RIGHTSGUARD_LDAP_REQUIRE_GROUP", default="")
RIGHTSGUARD_LDAP_DENY_GROUP = env.str("RIGHTSGUARD_LDAP_DENY_GROUP", default="")
# TLS: an ldaps:// URI, or StartTLS on an ldap:// one; the CA file that signed the directory's certificate.
RIGHTSGUARD_LDAP_START_TLS = env.bool("RIGHTSGUARD_LDAP_START_TLS", default=False)
RIGHTSGUARD_LDAP_CA_FILE = env.str("RIGHTSGUARD_LDAP_CA_FILE", default="")
RIGHTSGUARD_LDAP_TIMEOUT = env.int("RIGHTSGUARD_LDAP_TIMEOUT", default=10)
if RIGHTSGUARD_OIDC_ISSUER and not (
    RIGHTSGUARD_OIDC_CLIENT_ID and RIGHTSGUARD_OIDC_CLIENT_SECRET and RIGHTSGUARD_OIDC_REDIRECT_URI
):
    raise ImproperlyConfigured(
        "RIGHTSGUARD_OIDC_ISSUER needs RIGHTSGUARD_OIDC_CLIENT_ID, RIGHTSGUARD_OIDC_CLIENT_SECRET and "
        "RIGHTSGUARD_OIDC_REDIRECT_URI."
    )
if RIGHTSGUARD_OIDC_ISSUER and not RIGHTSGUARD_OIDC_ISSUER.startswith(
    ("https://", "http://127.0.0.1:", "http://localhost:", "http://[::1]:")
):
    # Plain HTTP only to a provider on this host (the tests' provider runs on loopback).
    raise ImproperlyConfigured("RIGHTSGUARD_OIDC_ISSUER must be an https:// address.")
if RIGHTSGUARD_LDAP_URI:
    if not RIGHTSGUARD_LDAP_USER_BASE:
        raise ImproperlyConfigured("RIGHTSGUARD_LDAP_URI needs RIGHTSGUARD_LDAP_USER_BASE.")
    AUTHENTICATION_BACKENDS.append("accounts.directory.DirectoryBackend")
OTP_TOTP_ISSUER = "RightsGuard"
# The admin site never shows an authenticator's secret, its QR code or recovery codes, not even to superusers: whoever
# read them could pass the account's second factor. A lost authenticator is reset, never copied.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A session ends this long after login however active it is (the idle limit is SESSION_COOKIE_AGE).
RIGHTSGUARD_SESSION_ABSOLUTE_SECONDS = env.int("RIGHTSGUARD_SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
# Revealing masked data and exporting reports need the password (and code) re-entered within this many seconds.
RIGHTSGUARD_REAUTH_SECONDS = env.int("RIGHTSGUARD_REAUTH_SECONDS", default=300)
# API tokens (accounts/tokens.py) end this many days after their last use, and this many days after they were issued.
RIGHTSGUARD_TOKEN_IDLE_DAYS = env.int("RIGHTSGUARD_TOKEN_IDLE_DAYS", default=7)
RIGHTSGUARD_TOKEN_MAX_DAYS = env.int("RIGHTSGUARD_TOKEN_MAX_DAYS", default=30)
# How long a checked API token (its user and grants) is kept in the "auth" cache; every revocation ends it at once.
# 0: read from the database on every request.
RIGHTSGUARD_TOKEN_CACHE_SECONDS = env.int("RIGHTSGUARD_TOKEN_CACHE_SECONDS", default=60)
if not 1 <= RIGHTSGUARD_TOKEN_IDLE_DAYS <= RIGHTSGUARD_TOKEN_MAX_DAYS:
    raise ImproperlyConfigured("RIGHTSGUARD_TOKEN_IDLE_DAYS must be at least 1 and at most RIGHTSGUARD_TOKEN_MAX_DAYS.")
# Fernet keys encrypting suspects' ID numbers at rest (cases/fields.py), comma-separated: the first encrypts, all
# decrypt. DEBUG and the test suite (which runs with DEBUG off) fall back to a key derived from SECRET_KEY; the test
# suite hands that key on to the processes it starts (restore drill, Celery worker).
RIGHTSGUARD_FIELD_KEYS = env.list("RIGHTSGUARD_FIELD_KEY", default=[])
if not RIGHTSGUARD_FIELD_KEYS:
    if not DEBUG and "pytest" not in sys.modules:
        raise ImproperlyConfigured("RIGHTSGUARD_FIELD_KEY must be set when DJANGO_DEBUG is off.")
    derived = hashlib.sha256(b"rightsguard field encryption:" + SECRET_KEY.encode()).digest()
    RIGHTSGUARD_FIELD_KEYS = [base64.urlsafe_b64encode(derived).decode()]
    if not DEBUG:
        os.environ.setdefault("RIGHTSGUARD_FIELD_KEY", RIGHTSGUARD_FIELD_KEYS[0])
for _key in RIGHTSGUARD_FIELD_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "RIGHTSGUARD_FIELD_KEY holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None

# The keyed blind index of suspects' ID numbers (cases/fields.py ``blind_index``): an ID number is searched by exact
# match on an HMAC of it, never by decrypting. A key of its own (any text of at least 32 characters); when unset, one
# is derived (HKDF-SHA256) from the first RIGHTSGUARD_FIELD_KEY, never that key itself. Changing it (or rotating the
# first field key while it is unset) needs ``manage.py rebuild_blind_index``.
RIGHTSGUARD_BLIND_INDEX_KEY = env.str("RIGHTSGUARD_BLIND_INDEX_KEY", default="")
if RIGHTSGUARD_BLIND_INDEX_KEY and len(RIGHTSGUARD_BLIND_INDEX_KEY) < 32:
    raise ImproperlyConfigured("RIGHTSGUARD_BLIND_INDEX_KEY must be at least 32 characters long.")

# Content-Security-Policy: everything from this server, no inline script or style, never framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws its form and menu icons as data: SVG images.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

# Log-in throttling (accounts/throttle.py), for every password check: 5 failures lock a (username, address) pair
# and 10 failures lock an address, for the cool-off period; success clears its own pair's count. A username failing
# from 5 addresses is reported, not locked, so a stranger cannot lock an officer out.
AXES_HANDLER = "accounts.throttle.LoginThrottleHandler"
# IPv6 clients are counted by their /64 (accounts/network.py), so rotating through one's own addresses does not help.
AXES_CLIENT_IP_CALLABLE = "accounts.network.throttle_address"
AXES_FAILURE_LIMIT = env.int("RIGHTSGUARD_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("RIGHTSGUARD_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
RIGHTSGUARD_LOCKOUT_ADDRESS_FAILURES = env.int("RIGHTSGUARD_LOCKOUT_ADDRESS_FAILURES", default=10)
RIGHTSGUARD_LOCKOUT_ALERT_ADDRESSES = env.int("RIGHTSGUARD_LOCKOUT_ALERT_ADDRESSES", default=5)
# Who receives security alerts by e-mail (comma-separated addresses).
ADMINS = [("", address) for address in env.list("DJANGO_ADMINS", default=[])]
EMAIL_SUBJECT_PREFIX = "[RightsGuard] "

# "text" (the default: lines for a person at a terminal) or "json": one JSON object per line with the request id,
# user id and case id (rightsguard/logs.py), for a log collector. Celery's worker then logs through the same handler.
RIGHTSGUARD_LOG_FORMAT = env.str("RIGHTSGUARD_LOG_FORMAT", default="text")
if RIGHTSGUARD_LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"RIGHTSGUARD_LOG_FORMAT is {RIGHTSGUARD_LOG_FORMAT!r}: use text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "rightsguard.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if RIGHTSGUARD_LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # Django's own configuration e-mails every server error to ADMINS with the request's query string, form fields
    # and headers: the narrative or names being typed, a search's text, a password field. The error is in the log
    # above (its request id, its traceback); ADMINS receive the security alerts only (accounts/throttle.py).
    "loggers": {"django": {"handlers": [], "level": "INFO"}},
}
# With JSON logs the worker keeps the root logger as configured above instead of putting its own format on it.
CELERY_WORKER_HIJACK_ROOT_LOGGER = RIGHTSGUARD_LOG_FORMAT == "text"
# Prometheus metrics at /metrics for the monitoring's callers (rightsguard/metrics.py; the same callers /readyz tells
# its details to). Off: /metrics is a 404 for everyone.
RIGHTSGUARD_METRICS = env.bool("RIGHTSGUARD_METRICS", default=True)
