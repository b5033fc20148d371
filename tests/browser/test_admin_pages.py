"""Every admin page the team uses opens cleanly in a real browser, as each demo user.

Cleanly: no console error (a Content Security Policy violation is one: script-src is
'self'), no script error, no failed request and no 4xx/5xx answer, for the page and
everything it loads. The pages are found as a user finds them: the links of the admin's
index (each list and each "add" form they may use), then the first object of each list.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model

from monitoring.models import Brand, Detection, Incident, Post
from outreach import workflow
from outreach.models import Case, ResearchNote
from tests.browser.conftest import DEMO_USERS
from tests.factories import DetectionFactory, IncidentFactory, PersonFactory, PostFactory
from tests.outreach.factories import GOOD_REPLY, SUMMARY

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# A first draft that the tone guard blocks (a product pitch and a link), kept beside the
# submitted one so the case page shows its findings.
PITCH = "So sorry! Switch to Northwind today, see https://northwind.example/offer"


def _work_in_progress() -> Case:
    """A complaint in a Telvana incident, researched and drafted, awaiting approval."""
    User = get_user_model()
    analyst = User.objects.get(username="analyst")
    telvana = Brand.objects.get(name="Telvana")
    post = PostFactory(
        author=PersonFactory(handle="maya_k"),
        text="@telvana my broadband has been down since yesterday and nobody answers",
    )
    incident = IncidentFactory(brand=telvana)
    DetectionFactory(post=post, brand=telvana, incident=incident)
    case = workflow.open_case(post.pk, telvana.pk, workflow.kind_for_brand(telvana), actor=analyst)
    workflow.claim(case, actor=analyst)
    workflow.save_research(
        case,
        actor=analyst,
        summary=SUMMARY,
        thread_checked=True,
        scope=ResearchNote.Scope.INCIDENT,
        incident=incident,
    )
    workflow.save_draft(case, actor=analyst, text=GOOD_REPLY)
    workflow.submit_draft(case, actor=analyst)
    return case


def _links(page: Any) -> list[str]:
    """The admin paths the index links to (lists and add forms), in page order."""
    hrefs = page.eval_on_selector_all("#content-main a[href]", "as => as.map(a => a.href)")
    paths = [
        urlparse(h).path + (f"?{urlparse(h).query}" if urlparse(h).query else "") for h in hrefs
    ]
    # A CSV export is a download, not a page (its content has tests of its own).
    return list(
        dict.fromkeys(
            p
            for p in paths
            if p.startswith("/admin/") and p != "/admin/" and "export=" not in urlparse(p).query
        )
    )


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_admin_page_of_a_demo_user_opens_without_an_error(
    username: str, sign_in: Any
) -> None:
    # Given the demo, with a case in progress in an incident
    case = _work_in_progress()
    assert Detection.objects.exists() and Incident.objects.exists() and Post.objects.exists()

    # When the user opens each page the admin's index links to, and the first object of each list
    session = sign_in(username)
    session.shot("index")
    links = _links(session.page)
    assert any("/outreach/case/" in link for link in links), links
    opened = []
    for link in links:
        answer = session.open(link)
        assert answer.status == 200, f"{link}: HTTP {answer.status}"
        opened.append(link)
        first = session.page.query_selector("#result_list tbody tr a[href*='/change/']")
        if first is not None:
            target = urlparse(first.get_attribute("href")).path
            answer = session.open(target)
            assert answer.status == 200, f"{target}: HTTP {answer.status}"
            opened.append(target)
    session.open(f"/admin/outreach/case/{case.pk}/change/")
    session.shot("case-page")

    # Then every one opened cleanly (Session.open checks each), the case page among them
    assert f"/admin/outreach/case/{case.pk}/change/" in opened
    assert len(opened) >= 8, opened
