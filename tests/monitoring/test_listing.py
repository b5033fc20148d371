"""Changelist rows at a small cost each (monitoring/listing.py): the same HTML as Django's."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.views.main import ChangeList
from django.test import Client
from django.test.client import RequestFactory
from django.urls import resolve, reverse

from monitoring.listing import QuickChangeList
from monitoring.models import Detection
from tests.factories import BrandFactory, DetectionFactory

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
