"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _refuse_without_static_files() -> None:
    # With DEBUG off, a missing static files manifest makes every admin page answer 500 with
    # no hint why; refusing to start says it once, at the top of the log.
    from config.health import Problem, check_static_files

    try:
        check_static_files()
    except Problem as problem:
        raise ImproperlyConfigured(str(problem)) from None


_refuse_without_static_files()
