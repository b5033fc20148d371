"""Changelist rows at a small cost each (monitoring/listing.py): the same HTML as Django's."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.views.main import ChangeList
from django.test import Client
from django.test.client import RequestFactory
from django.urls import resolve, reverse

from monitoring.listing import QuickChangeList
from monitoring.models import Detection, Incident, Person, Post
from outreach.models import Case
from tests.factories import (
    BrandFactory,
    DetectionFactory,
    IncidentFactory,
    PersonFactory,
    PostFactory,
)
from tests.outreach.factories import CaseFactory

pytestmark = pytest.mark.django_db


def changelist(cls: type[ChangeList], request: Any) -> ChangeList:
    model_admin = admin.site.get_model_admin(Detection)
    return cls(
        request,
        Detection,
        model_admin.get_list_display(request),
        model_admin.get_list_display_links(request, model_admin.get_list_display(request)),
        model_admin.get_list_filter(request),
        model_admin.date_hierarchy,
        model_admin.get_search_fields(request),
        model_admin.get_list_select_related(request),
        model_admin.list_per_page,
        model_admin.list_max_show_all,
        model_admin.list_editable,
        model_admin,
        model_admin.sortable_by,
        model_admin.search_help_text,
    )


def test_the_quick_checkbox_is_djangos() -> None:
    detection = DetectionFactory()
    model_admin = admin.site.get_model_admin(Detection)
    assert model_admin.action_checkbox(detection) == admin.ModelAdmin.action_checkbox(
        model_admin, detection
    )


@pytest.mark.parametrize("query", [{}, {"triage__exact": "opened", "q": "a b&c"}])
def test_a_rows_link_carries_the_lists_filters_as_djangos_does(
    admin_user: Any, query: dict[str, str]
) -> None:
    detection = DetectionFactory()
    request = RequestFactory().get(reverse("admin:monitoring_detection_changelist"), query)
    request.user = admin_user
    request.resolver_match = resolve(request.path)
    plain = changelist(ChangeList, request)
    quick = changelist(QuickChangeList, request)
    # What items_for_result links each row to, with Django's list and with the quick one.
    django_url = add_preserved_filters(
        {"preserved_filters": plain.preserved_filters, "opts": plain.opts},
        plain.url_for_result(detection),
    )
    quick_url = add_preserved_filters(
        {"preserved_filters": quick.preserved_filters, "opts": quick.opts},
        quick.url_for_result(detection),
    )
    assert quick_url == django_url
    assert ("_changelist_filters" in quick_url) == bool(query)


def test_the_detection_list_links_each_row_to_its_page_with_the_filters(admin_user: Any) -> None:
    detection = DetectionFactory(brand=BrandFactory())
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:monitoring_detection_changelist")
    page = client.get(url, {"brand__id__exact": detection.brand_id}).content.decode()
    change = reverse("admin:monitoring_detection_change", args=[detection.pk])
    assert f'href="{change}?_changelist_filters=brand__id__exact%3D{detection.brand_id}"' in page
    assert f'name="_selected_action" value="{detection.pk}" class="action-select"' in page


def test_a_history_list_shows_fifty_rows_a_page(admin_user: Any) -> None:
    brand = BrandFactory()
    DetectionFactory.create_batch(51, brand=brand)
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:monitoring_detection_changelist")
    assert len(client.get(url).context["cl"].result_list) == 50
    assert len(client.get(url, {"p": 2}).context["cl"].result_list) == 1


def quick_page(model: type[Any], admin_user: Any, query: dict[str, str]) -> QuickChangeList:
    """The changelist of ``model``'s admin page as ``changelist_view`` builds it."""
    model_admin = admin.site.get_model_admin(model)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    request = RequestFactory().get(url, query)
    request.user = admin_user
    changelist = model_admin.get_changelist_instance(request)
    changelist.formset = None  # what changelist_view sets for a list that edits nothing
    assert isinstance(changelist, QuickChangeList)
    return changelist


@pytest.mark.parametrize(
    ("model", "query"),
    [
        (Detection, {}),
        (Detection, {"triage__exact": "opened", "q": "connection"}),
        (Incident, {}),
        (Incident, {"spike__exact": "1"}),
        (Post, {"q": "down"}),
        (Person, {}),
        (Case, {"queue": "all"}),
    ],
)
def test_quick_rows_are_djangos_rows(
    admin_user: Any, model: type[Any], query: dict[str, str]
) -> None:
    # Given rows with every kind of cell: choices, booleans true and false, an empty
    # foreign key, dates, numbers, hostile text and names
    brand = BrandFactory(name="<b>Telvana</b>")
    hostile = PostFactory(text='down <script>alert("x")</script> \u202e again')
    DetectionFactory(post=hostile, brand=brand, correction=Detection.Correction.COMPLAINT)
    DetectionFactory(brand=None, complaint=False, triage=Detection.Triage.OPENED)
    IncidentFactory(brand=brand, spike=True, volume=1200, peak_per_hour=80)
    IncidentFactory(brand=brand, spike=False)
    PersonFactory(handle="<i>x</i>", display_name="")
    CaseFactory()
    changelist = quick_page(model, admin_user, query)
    # When the quick rows are written, then they are the cells Django writes, row by row
    django_rows = [
        "".join(items_for_result(changelist, row, None)) for row in changelist.result_list
    ]
    assert django_rows, "the page shows rows"
    assert ["".join(row) for row in changelist.rows()] == django_rows


def test_a_popup_list_takes_djangos_rows(admin_user: Any) -> None:
    DetectionFactory()
    changelist = quick_page(Detection, admin_user, {"_popup": "1", "_to_field": "id"})
    rows = changelist.rows()
    assert [list(row) for row in rows] == [
        list(items_for_result(changelist, row, None)) for row in changelist.result_list
    ]
    assert all(len(row) > 1 for row in rows), "one item per cell, as Django's"
