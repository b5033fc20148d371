"""Changelist rows at a small, fixed cost each (issue #15).

A page of a list shows at most ``list_per_page`` rows however long the history is
(its count is ``monitoring.paging``'s), so what grows from a small history to a long
one is how many rows a filtered page shows: a thousand-post history has 6 cases in
its biggest incident where a million-post one fills the page. Django's admin spends
most of a row on two things that need not be per row:

- the action checkbox, rendered through the form widget's template for each row;
- the row's link: reversed for each row, then resolved again for each row to append
  the list's filters (``add_preserved_filters``).

``QuickRows`` (a ModelAdmin mixin) writes the same checkbox with ``format_html``,
and its ``QuickChangeList`` reverses the change URL once per page and appends the
filters itself, so Django finds none left to add per row. The HTML is Django's.
Its pages hold 50 rows, as the queue's do (Django's default is 100): a filtered
page of a long history costs about what a short history's does.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

# Stands for the row's key in the change URL reversed once per page ("~" is never quoted).
_KEY = "~key~"


class QuickChangeList(ChangeList):
    """Each row's link from one reversed URL, with the list's filters already on it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What add_preserved_filters would append to each row's link, after resolving it.
        self.row_filters = self.preserved_filters
        self.preserved_filters = ""

    @cached_property
    def _change_url(self) -> tuple[str, str]:
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(_KEY,),
            current_app=self.model_admin.admin_site.name,
        )
        before, _, after = url.partition(_KEY)
        return before, after

    def url_for_result(self, result: Any) -> str:
        before, after = self._change_url
        url = f"{before}{quote(getattr(result, self.pk_attname))}{after}"
        return f"{url}?{self.row_filters}" if self.row_filters else url


class QuickRows:
    """A ModelAdmin mixin: the checkbox and the row links at a small cost per row, 50 rows
    a page."""

    list_per_page = 50

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return QuickChangeList

    def action_checkbox(self, obj: Any) -> SafeString:
        """Django's checkbox (``ModelAdmin.action_checkbox``) without a template per row."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )
