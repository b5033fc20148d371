"""The admin app, pointed at nojackal's own site (config/admin.py)."""

from django.contrib.admin.apps import AdminConfig


class NojackalAdminConfig(AdminConfig):
    """django.contrib.admin with ``NojackalAdminSite`` as the default site."""

    default_site = "config.admin.NojackalAdminSite"
