"""nojackal settings, read from the environment (see .env.example for every variable).

Defaults suit a laptop: SQLite and a broker-less Celery transport under
``NOJACKAL_DATA_DIR``. Production sets ``DATABASE_URL`` (PostgreSQL) and
``CELERY_BROKER_URL`` (Redis or RabbitMQ), turns ``DJANGO_DEBUG`` off, and must
give a real ``SECRET_KEY``: without one the app refuses to start.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from outreach import limits

# Lets typed code write ModelAdmin[Model] and QuerySet[Model] at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

# A key that is obviously not secret; accepted only with DEBUG on.
_DEV_SECRET_KEY = "django-insecure-nojackal-development-only"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DJANGO_DEBUG "
        "is off (generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

DATA_DIR = Path(env_str("NOJACKAL_DATA_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    # Our admin site: the stock one plus the second factor (config/admin.py).
    "config.apps.NojackalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    # /health/'s page template (config/health.py).
    "health_check",
    "monitoring",
    "outreach",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The admin header's badge: the user's open work (lazy, once per request).
                "outreach.inbox.badge",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config.setdefault("OPTIONS", {}).update(_SQLITE_OPTIONS)
        return config
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "nojackal.sqlite3",
        "OPTIONS": dict(_SQLITE_OPTIONS),
    }


# The web server, the worker and beat write to one SQLite file at once. WAL lets
# readers go on while one writes; IMMEDIATE takes the write lock when a
# transaction starts, so a read-then-write transaction never fails half way with
# "database is locked" (it waits up to ``timeout`` seconds instead).
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("NOJACKAL_PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Logins ---------------------------------------------------------------------
# django-axes is consulted first: a user or an address with too many recent
# failures is refused before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# 5 failures for one user, or from one address, within 15 minutes lock that user
# (or address) for 15 minutes. Attempts expire, so the count is a sliding window.
AXES_FAILURE_LIMIT = env_int("NOJACKAL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("NOJACKAL_LOGIN_LOCKOUT_MINUTES", 15))
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Second factor (TOTP, django-otp): always asked of a user who has set one up;
# with this on, reviewers (approve permission) and superusers cannot sign in
# without one.
NOJACKAL_REQUIRE_OTP = env_bool("NOJACKAL_REQUIRE_OTP", False)
OTP_TOTP_ISSUER = env_str("NOJACKAL_OTP_ISSUER", "nojackal")
SESSION_COOKIE_AGE = env_int("NOJACKAL_SESSION_SECONDS", 8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True

# --- Content Security Policy (django-csp) ---------------------------------------
# No inline scripts anywhere: our templates load scripts from static files only.
# Inline style attributes stay allowed (the stock admin writes a few).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: the console in development (alerts print where `make run` shows them).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "nojackal@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Production hardening; `manage.py check --deploy` is clean with DEBUG off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A failed health check is in the response (and the 500's log line); django-health-check
        # would also log its traceback at every probe of a monitor.
        "health_check": {"level": "ERROR"},
    },
}

# --- Celery -------------------------------------------------------------------
# A broker that accepts connections but answers nothing must be an error within
# seconds, not a hang: every socket wait is bounded by this, and a publish is
# retried this many times on a fresh connection before the caller hears of it.
BROKER_TIMEOUT_SECONDS = env_int("NOJACKAL_BROKER_TIMEOUT_SECONDS", 3)
BROKER_PUBLISH_RETRIES = env_int("NOJACKAL_BROKER_PUBLISH_RETRIES", 1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90)
# The longest countdown of a task's own retry (retry_backoff_max of every task): a message
# waiting for its retry is held unacknowledged by a worker meanwhile.
TASK_RETRY_MAX_SECONDS = 60
# Redis: a message a killed worker took (acks_late: a poll, a detection batch) comes back after
# this, not after kombu's default hour. Aligned with the task limits: longer than the hard time
# limit (a task still running is never handed to a second worker) and than any retry's
# countdown. What a lost message would have done is re-derived from the database anyway (leases
# on sources and outbox rows); this only bounds the wait for the message itself.
BROKER_VISIBILITY_TIMEOUT_SECONDS = CELERY_TASK_TIME_LIMIT + TASK_RETRY_MAX_SECONDS + 30
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
if not CELERY_BROKER_URL:
    # No broker server on a laptop: messages are files under DATA_DIR, written
    # atomically (see config/broker.py for why the stock transport is not enough).
    from config.broker import broker_settings

    _broker = broker_settings(DATA_DIR / "broker")
    CELERY_BROKER_URL = _broker["broker_url"]
    CELERY_BROKER_TRANSPORT = _broker.get("broker_transport")
    CELERY_BROKER_TRANSPORT_OPTIONS = _broker["broker_transport_options"]
else:
    from config.broker import network_broker_settings

    _broker = network_broker_settings(
        CELERY_BROKER_URL,
        float(BROKER_TIMEOUT_SECONDS),
        BROKER_PUBLISH_RETRIES,
        visibility_timeout=float(BROKER_VISIBILITY_TIMEOUT_SECONDS),
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = _broker["broker_transport_options"]
    CELERY_BROKER_CONNECTION_TIMEOUT = _broker["broker_connection_timeout"]
    CELERY_TASK_PUBLISH_RETRY = _broker["task_publish_retry"]
    CELERY_TASK_PUBLISH_RETRY_POLICY = _broker["task_publish_retry_policy"]
# The broker queue beat, the web and the workers share: another name lets several installs
# (or a test) use one broker without taking each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env_str("NOJACKAL_TASK_QUEUE", "celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # tasks return small counts for logs; nobody waits on them
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Save each tick's last_run_at at once (not every 3 minutes): it is beat's heartbeat in /health/.
CELERY_BEAT_SYNC_EVERY = 1

# Ticks, declared here so every install has them; the team can pause each one
# in the admin (Periodic tasks). ``expires`` drops a tick that waited too long
# rather than running a pile of stale ones after an outage.
POLL_TICK_SECONDS = env_int("NOJACKAL_POLL_TICK_SECONDS", 30)
DISPATCH_TICK_SECONDS = env_int("NOJACKAL_DISPATCH_TICK_SECONDS", 15)
NOTIFICATIONS_TICK_SECONDS = env_int("NOJACKAL_NOTIFICATIONS_TICK_SECONDS", 30)


def _tick(task: str, every: int, expire: int | None = None) -> dict[str, Any]:
    """A beat entry every ``every`` seconds, dropped after ``expire`` (default: 90% of it)."""
    expire_seconds = expire if expire is not None else max(1, int(every * 0.9))
    return {"task": task, "schedule": float(every), "options": {"expire_seconds": expire_seconds}}


CELERY_BEAT_SCHEDULE = {
    "poll-due-sources": _tick("monitoring.tasks.poll_due_sources", POLL_TICK_SECONDS),
    # Normally detection follows each poll at once; this catches anything a lost
    # message or a crash left behind.
    "detect-pending-posts": _tick("monitoring.tasks.detect_posts", 60, expire=50),
    "refresh-incidents": _tick("monitoring.tasks.refresh_incidents", 60, expire=50),
    # The outbox: due replies and follows, spaced per account by the workflow.
    "dispatch-due-actions": _tick("outreach.tasks.dispatch_due_actions", DISPATCH_TICK_SECONDS),
    "read-notifications": _tick(
        "outreach.tasks.read_all_notifications", NOTIFICATIONS_TICK_SECONDS
    ),
    "expire-cases": _tick("outreach.tasks.expire_cases", 300, expire=290),
    "approval-digest": _tick("outreach.tasks.approval_digest", 300, expire=290),
    # Platform limits cached on each account, so reading them never waits on the network.
    "refresh-account-limits": _tick("monitoring.limits.refresh_limits_tick", 3600, expire=3000),
    # Retention: posts and people no open case needs, in bounded batches (outreach/retention.py).
    "purge-expired-data": _tick("outreach.tasks.purge_expired_data", 600, expire=540),
    # Nightly, at 02:30 UTC: a new classifier version when enough new labels arrived
    # (NOJACKAL_RETRAIN_MIN_NEW_LABELS; does nothing while it is 0).
    "retrain-classifier": {
        "task": "monitoring.tasks.retrain_classifier",
        "schedule": crontab(minute="30", hour="2"),
        "options": {"expire_seconds": 3 * 60 * 60},
    },
}
# Days after which posts and people that no open case needs are purged (outreach/retention.py).
NOJACKAL_RETENTION_DAYS = env_int("NOJACKAL_RETENTION_DAYS", 90)
if NOJACKAL_RETENTION_DAYS < 1:
    # 0 would delete posts before detection and triage have seen them.
    raise ImproperlyConfigured("NOJACKAL_RETENTION_DAYS must be at least 1 (days)")

# --- nojackal -----------------------------------------------------------------


def _check_secrets_key(value: str) -> None:
    """Refuse to start with a missing or malformed credentials key, not at first use."""
    from cryptography.fernet import Fernet

    keys = [k.strip() for k in value.split(",") if k.strip()]
    if not keys:
        raise ImproperlyConfigured(
            "NOJACKAL_SECRETS_KEY must be set when DJANGO_DEBUG is off (generate one with: python "
            "-c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"NOJACKAL_SECRETS_KEY: key {position} of {len(keys)} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None


def _secrets_key() -> str:
    """Fernet key(s) for credentials at rest (monitoring/credentials.py), comma-separated to rotate.

    Production must set NOJACKAL_SECRETS_KEY. On a laptop (DEBUG) a key is made
    once and kept beside the SQLite file, so credentials typed into the demo
    survive a restart.
    """
    key = env_str("NOJACKAL_SECRETS_KEY")
    if key or not DEBUG:
        _check_secrets_key(key)
        return key
    from cryptography.fernet import Fernet

    path = DATA_DIR / "secrets.key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
    return path.read_text().strip()


NOJACKAL_SECRETS_KEY = _secrets_key()
# How long a claimed source is held before another tick may claim it again,
# should its poll never report back (worker killed).
# Renewed after every page, so a poll in progress keeps it; a killed poll's source is taken back
# after this (and the next tick). A second poll of a source is harmless (posts are unique).
NOJACKAL_POLL_LEASE_SECONDS = env_int("NOJACKAL_POLL_LEASE_SECONDS", 30)
# The outbox (outreach/dispatch.py): a claim lasts this long and is renewed by a heartbeat every
# third of it while the platform call runs, so a killed worker's row is taken back after one
# lease and the next dispatch tick, and never holds its account's other rows longer.
NOJACKAL_OUTBOX_LEASE_SECONDS = env_int("NOJACKAL_OUTBOX_LEASE_SECONDS", 30)
# Transient failures of one outbox row before it fails for good. A row whose outcome is unknown
# (its post may exist) is never failed by this: only the platform's answer fails it.
NOJACKAL_OUTBOX_MAX_ATTEMPTS = env_int("NOJACKAL_OUTBOX_MAX_ATTEMPTS", 8)
# A source disabled, or failing for longer than this, raises one alert per episode.
NOJACKAL_SOURCE_ALERT_AFTER_SECONDS = env_int("NOJACKAL_SOURCE_ALERT_AFTER_SECONDS", 3600)
# Back-off after transient errors: base * 2**failures, capped, with jitter.
NOJACKAL_BACKOFF_BASE_SECONDS = env_int("NOJACKAL_BACKOFF_BASE_SECONDS", 60)
NOJACKAL_BACKOFF_MAX_SECONDS = env_int("NOJACKAL_BACKOFF_MAX_SECONDS", 6 * 60 * 60)
# How many pages one poll may fetch before it yields to other sources.
NOJACKAL_MAX_PAGES_PER_POLL = env_int("NOJACKAL_MAX_PAGES_PER_POLL", 5)
# The outbound-URL policy (monitoring/platforms/outbound.py): adapters fetch only
# http(s) URLs that resolve to public addresses. Hosts (names, addresses or CIDR
# networks) listed here are exempt, for an instance run on your own network.
NOJACKAL_OUTBOUND_ALLOWED_HOSTS = env_list("NOJACKAL_OUTBOUND_ALLOWED_HOSTS")
NOJACKAL_OUTBOUND_MAX_REDIRECTS = env_int("NOJACKAL_OUTBOUND_MAX_REDIRECTS", 3)
NOJACKAL_OUTBOUND_MAX_BYTES = env_int("NOJACKAL_OUTBOUND_MAX_BYTES", 10 * 1024 * 1024)
NOJACKAL_OUTBOUND_MAX_SECONDS = env_int("NOJACKAL_OUTBOUND_MAX_SECONDS", 60)
# Who hears about spiking incidents and own-brand cases close to their due time.
NOJACKAL_ALERT_EMAILS = env_list("NOJACKAL_ALERT_EMAILS", "team@localhost" if DEBUG else "")
# Apprise URLs for chat tools, comma-separated (e.g. slack://..., msteams://..., json://host/path).
NOJACKAL_ALERT_URLS = env_list("NOJACKAL_ALERT_URLS")
# Reviewers are told (one digest per tick, each case once) about drafts awaiting approval longer.
NOJACKAL_APPROVAL_DIGEST_MINUTES = max(1, env_int("NOJACKAL_APPROVAL_DIGEST_MINUTES", 60))
# Where the team opens the admin, for links in alerts (no trailing slash).
NOJACKAL_SITE_URL = env_str("NOJACKAL_SITE_URL", "http://localhost:8000").rstrip("/")
# Complaints from fewer different people than this stay isolated, not an incident.
NOJACKAL_INCIDENT_MIN_PEOPLE = max(1, env_int("NOJACKAL_INCIDENT_MIN_PEOPLE", 3))
# The nightly retraining tick (monitoring/versions.py): a new classifier version when this many
# labels arrived since the newest version (0: never), activated by itself only when the second
# setting is on and it is better by the figures (else it waits, inactive, for an admin).
NOJACKAL_RETRAIN_MIN_NEW_LABELS = max(0, env_int("NOJACKAL_RETRAIN_MIN_NEW_LABELS", 0))
NOJACKAL_RETRAIN_AUTO_ACTIVATE = env_bool("NOJACKAL_RETRAIN_AUTO_ACTIVATE", False)

# Rules 6 and 7: limits no playbook edit can cross (outreach/limits.py holds the
# hard ones, which the database also checks). These settings may only tighten them:
# a looser value is ignored.
NOJACKAL_MIN_COOLDOWN_DAYS = max(
    env_int("NOJACKAL_MIN_COOLDOWN_DAYS", limits.MIN_COOLDOWN_DAYS), limits.MIN_COOLDOWN_DAYS
)
NOJACKAL_MAX_REPLIES_PER_BRAND_PER_DAY = min(
    env_int(
        "NOJACKAL_MAX_REPLIES_PER_BRAND_PER_DAY",
        limits.CAP_CEILINGS["max_replies_per_brand_per_day"],
    ),
    limits.CAP_CEILINGS["max_replies_per_brand_per_day"],
)
NOJACKAL_MAX_REPLIES_PER_INCIDENT = min(
    env_int("NOJACKAL_MAX_REPLIES_PER_INCIDENT", limits.CAP_CEILINGS["max_replies_per_incident"]),
    limits.CAP_CEILINGS["max_replies_per_incident"],
)
NOJACKAL_MAX_REPLIES_PER_ACCOUNT_PER_HOUR = min(
    env_int(
        "NOJACKAL_MAX_REPLIES_PER_ACCOUNT_PER_HOUR",
        limits.CAP_CEILINGS["max_replies_per_account_per_hour"],
    ),
    limits.CAP_CEILINGS["max_replies_per_account_per_hour"],
)

# What monitoring hands its new detections to (a dotted path, see monitoring/triage.py):
# outreach decides which become cases. Named here so that monitoring never imports outreach.
NOJACKAL_AFTER_DETECTION = "outreach.workflow.triage.triage"
# Where training asks for the recall floor per brand kind that a brand's threshold must meet
# (the playbooks' ``min_recall_percent``; monitoring/versions.py).
NOJACKAL_RECALL_FLOORS = "outreach.workflow.playbooks.recall_floors"

# --- Operations (config/health.py, config/metrics.py, manage.py doctor) -------------------
# /health/ fails when beat's last tick, an enabled source's last successful poll (or three of
# its cadences, if longer) or the oldest due outbox row is older than these.
NOJACKAL_HEALTH_BEAT_MAX_AGE_SECONDS = env_int("NOJACKAL_HEALTH_BEAT_MAX_AGE_SECONDS", 300)
NOJACKAL_HEALTH_POLL_MAX_AGE_SECONDS = env_int("NOJACKAL_HEALTH_POLL_MAX_AGE_SECONDS", 3600)
NOJACKAL_HEALTH_OUTBOX_MAX_DELAY_SECONDS = env_int("NOJACKAL_HEALTH_OUTBOX_MAX_DELAY_SECONDS", 900)
# Prometheus metrics at /metrics/ (off: 404); with a token, scrapers must send it as a bearer.
NOJACKAL_METRICS = env_bool("NOJACKAL_METRICS", False)
NOJACKAL_METRICS_TOKEN = env_str("NOJACKAL_METRICS_TOKEN")
# A worker serves its task timings on this port when set (0: not served).
NOJACKAL_WORKER_METRICS_PORT = env_int("NOJACKAL_WORKER_METRICS_PORT", 0)
NOJACKAL_WORKER_METRICS_ADDR = env_str("NOJACKAL_WORKER_METRICS_ADDR", "127.0.0.1")
