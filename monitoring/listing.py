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

The rest of a row's cost is Django's ``items_for_result``, which works out again for
every cell what is the same for the whole column: which field the column shows, its
classes, whether it links, a choice field's labels (a dict built per cell), a
boolean's icon (``static()`` per cell), the link's filters (parsed and re-encoded per
row); the template then renders each cell on its own. ``QuickChangeList.rows``
works those out once per column (``_Column``) and hands the template each row as one
piece of HTML, the same HTML (``admin/quick_change_list.html`` and the
``quick_result_list`` tag, which ``QuickRows`` pages use). A popup or an editable
list takes Django's way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _boolean_icon,
    _coerce_field_name,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
    quote,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models.options import Options
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe
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

    def rows(self) -> list[Any]:
        """The page's rows as Django's ``results`` gives them to the template, each row's
        cells as one piece of HTML (``items_for_result``'s, worked out per column)."""
        if getattr(self, "formset", None) or self.is_popup:  # set by changelist_view
            return list(results(self))
        columns = []
        first = True
        for index, name in enumerate(self.list_display):
            links = self.list_display_links is not None and (
                (first and not self.list_display_links) or name in self.list_display_links
            )
            # items_for_result: the first linked column is a <th>, the others <td>.
            tag = ("th" if first else "td") if links else None
            first = first and not links
            columns.append(_Column(self, index, name, tag))
        return [
            ResultList(None, [mark_safe("".join(column.cell(row) for column in columns))])  # noqa: S308 (cells escaped as format_html would)
            for row in self.result_list
        ]

    @cached_property
    def row_link(self) -> tuple[str, str] | None:
        """A row's link as ``items_for_result`` writes it, split where the row's key goes:
        ``add_preserved_filters`` re-encodes the same filters for every row, once here."""
        try:
            url = self.url_for_result(_Key())
        except NoReverseMatch:
            return None
        url = add_preserved_filters(
            {"preserved_filters": self.preserved_filters, "opts": self.opts}, url
        )
        before, _, after = url.partition(_KEY)
        return before, after


class _Key:
    """Stands for a row in ``url_for_result``: its key is ``_KEY``."""

    def __getattr__(self, name: str) -> str:
        return _KEY


class _Column:
    """One column of a changelist: what ``items_for_result`` works out for each of its
    cells that is the same for all of them, worked out once."""

    def __init__(self, changelist: QuickChangeList, index: int, name: Any, tag: str | None):
        self.changelist = changelist
        self.name = name
        self.tag = tag  # "th" or "td" when the cell links to the row's page
        self.empty = changelist.model_admin.get_empty_value_display()
        self.classes = f"field-{_coerce_field_name(name, index)}"
        self.field = _model_field(changelist.lookup_opts, name)
        self.attr: Callable[[Any], Any] | None = None
        if self.field is None:
            model_admin = changelist.model_admin
            if callable(name):
                self.attr = name
            elif hasattr(model_admin, name) and name != "__str__":
                self.attr = getattr(model_admin, name)
        self.display = self._display()

    def _display(self) -> Callable[[Any], Any]:
        """value -> what the cell shows, for a model field that is not auto-created."""
        field = self.field
        if field is None or field.auto_created:
            return lambda value: value
        if isinstance(field.remote_field, models.ManyToOneRel):
            return lambda value: self.empty if value is None else value
        if getattr(field, "flatchoices", None):
            try:
                labels = dict(field.flatchoices)
            except TypeError:  # list-like choices: Django's own way, per cell
                pass
            else:
                return lambda value: labels.get(value, self.empty)
        elif isinstance(field, models.BooleanField):
            icons = {value: _boolean_icon(value) for value in (True, False, None)}
            return lambda value: (
                icons[value] if value is None or type(value) is bool else _boolean_icon(value)
            )
        avoid_link = self.tag is not None
        return lambda value: display_for_field(value, field, self.empty, avoid_link=avoid_link)

    def cell(self, row: Any) -> str:
        """The cell's HTML, as ``items_for_result`` writes it."""
        classes = self.classes
        field, attr = self.field, self.attr
        try:
            if field is not None:
                value = getattr(row, self.name)
            elif attr is not None:
                value = attr(row)
            else:  # an attribute of the row: Django's lookup, per cell
                _, attr, value = lookup_field(self.name, row, self.changelist.model_admin)
        except ObjectDoesNotExist:
            shown = self.empty
        else:
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if field is not None and not field.auto_created:
                shown = self.display(value)
                if isinstance(field, (models.DateField, models.TimeField, models.ForeignKey)):
                    classes += " nowrap"
            else:
                if self.name == "action_checkbox":
                    classes = "action-checkbox"
                boolean = getattr(attr, "boolean", False)
                if isinstance(attr, property) and hasattr(attr, "fget"):
                    boolean = getattr(attr.fget, "boolean", False)
                empty = getattr(attr, "empty_value_display", self.empty)
                shown = display_for_value(value, empty, boolean)
                if isinstance(value, (dt.date, dt.time)):
                    classes += " nowrap"
        html = conditional_escape(shown)
        if self.tag is None:
            return f'<td class="{classes}">{html}</td>'
        link = self.changelist.row_link
        if link is not None:
            before, after = link
            key = quote(getattr(row, self.changelist.pk_attname))
            html = f'<a href="{escape(f"{before}{key}{after}")}">{html}</a>'
        return f'<{self.tag} class="{classes}">{html}</{self.tag}>'


def _model_field(opts: Options, name: Any) -> Any:
    """The model field ``lookup_field`` finds for a column, or None (a method, a callable,
    a property)."""
    if callable(name):
        return None
    try:
        return _get_non_gfk_field(opts, name)
    except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
        return None


class QuickRows:
    """A ModelAdmin mixin: the checkbox, the row links and the cells at a small cost per
    row, 50 rows a page. A page template of its own extends ``admin/quick_change_list.html``."""

    list_per_page = 50
    # Django's changelist with the rows of QuickChangeList.rows (templatetags/quick_list.py).
    change_list_template = "admin/quick_change_list.html"

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
