"""Test settings: the real PostgreSQL and Redis on this machine (see tests/conftest.py)."""

import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-" + "x" * 60)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nojackal")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Production mode refuses to start without a valid credentials key; tests that
# store secrets still take a fresh one each (the ``secrets_key`` fixture).
os.environ.setdefault("NOJACKAL_SECRETS_KEY", "NaUzkIvMwfEaHeBkRiDTvtctqaePjuS7fSICu9b-M5E=")

# Recorded platform answers are served from a local server on 127.0.0.1
# (pytest-httpserver), or replayed by vcrpy for api.twitter.com (a name this
# machine cannot resolve; no connection is made). tests/security/test_ssrf.py
# empties this list again.
os.environ.setdefault("NOJACKAL_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1,localhost,::1,api.twitter.com")

from config.settings import *  # noqa: F403

# Unit tests run tasks in the calling process; tests marked `worker` start a real
# worker against the real broker instead (tests/e2e and tests/*/test_*_worker.py).
# A worker started by a test runs with NOJACKAL_TEST_EAGER=0 so its own .delay()
# calls go through the broker.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("NOJACKAL_TEST_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files are not collected for tests; whitenoise would warn on every request.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]  # noqa: F405
