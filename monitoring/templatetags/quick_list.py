"""``{% quick_result_list cl %}``: Django's ``{% result_list cl %}`` with the rows of
``QuickChangeList.rows`` (monitoring/listing.py), rendered by the same template."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import (
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.template.base import Parser, Token

from monitoring.listing import QuickChangeList

register = template.Library()


def quick_result_list(cl: Any) -> dict[str, Any]:
    """What ``admin_list.result_list`` gives ``change_list_results.html``."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": cl.rows() if isinstance(cl, QuickChangeList) else list(results(cl)),
    }


@register.tag(name="quick_result_list")
def quick_result_list_tag(parser: Parser, token: Token) -> InclusionAdminNode:
    return InclusionAdminNode(
        parser,
        token,
        func=quick_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
