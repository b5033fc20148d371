"""Template filters for what came from a platform (see ``monitoring.display``)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from monitoring.display import platform_link as _platform_link

register = template.Library()


@register.filter
def platform_link(url: str | None, label: str | None = None) -> SafeString:
    """``{{ url|platform_link:"label" }}``: a link only for an http(s) URL, else the URL as text."""
    return _platform_link(url, label)
