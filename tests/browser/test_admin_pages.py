"""Every admin page the team uses opens cleanly in a real browser, as each demo user, and
the queue and the case page fit the windows they are used in.

Cleanly: no console error (a Content Security Policy violation is one: script-src is
'self'), no script error, no failed request and no 4xx/5xx answer, for the page and
everything it loads. The pages are found as a user finds them: the dashboard (the admin's
home), each list and "add" form of its table of contents, each kind of link of the
dashboard's panels, the queue's quick links, stage bar and one choice of each of its filters
(the same for the detection and incident lists), and the first object of each list.

Fits: the case page in a 1280-pixel window, the queue and the case page on a phone (390
pixels), with nothing wider than the window (no sideways scrolling, no clipped table).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pytest
from django.contrib.auth import get_user_model

from monitoring.models import Brand, Detection, Incident, Post
from outreach import workflow
from outreach.models import Case, ResearchNote
from tests.browser.conftest import DEMO_USERS, Session
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


# The lists whose filters the team uses all day: each filter is tried once (its first choice).
FILTERED_LISTS = (
    "/admin/outreach/case/",
    "/admin/monitoring/detection/",
    "/admin/monitoring/incident/",
)
# The windows a page must fit: a laptop's, and a phone's for a reviewer on the move.
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _path(href: str) -> str:
    url = urlparse(href)
    return url.path + (f"?{url.query}" if url.query else "")


def _hrefs(page: Any, selector: str) -> list[str]:
    """The admin pages the elements ``selector`` link to, as paths, in page order. A CSV
    export is a download, not a page (its content has tests of its own)."""
    hrefs = page.eval_on_selector_all(selector, "as => as.map(a => a.href)")
    return [
        _path(h)
        for h in hrefs
        if urlparse(h).path.startswith("/admin/") and "export=" not in urlparse(h).query
    ]


def _shape(path: str) -> tuple[str, frozenset[str]]:
    """A link's kind: its path with ids blanked, and the names of its parameters. The
    dashboard links each figure to the same list with other dates or stages: one of each
    kind is enough to know the page opens."""
    url = urlparse(path)
    return re.sub(r"/\d+/", "/N/", url.path), frozenset(k for k, _ in parse_qsl(url.query))


def _one_of_each(paths: Iterable[str]) -> list[str]:
    seen: dict[tuple[str, frozenset[str]], str] = {}
    for p in paths:
        seen.setdefault(_shape(p), p)
    return list(seen.values())


def _filter_choices(page: Any) -> list[str]:
    """Per filter of a list's side bar, its first choice after "All"."""
    return [
        _path(href)
        for href in page.eval_on_selector_all(
            "#changelist-filter details",
            """filters => filters.map(f => {
                 const links = Array.from(f.querySelectorAll("li a[href]"));
                 return links.length > 1 ? links[1].href : null;
               }).filter(Boolean)""",
        )
    ]


def _wider_than_the_window(page: Any) -> list[str]:
    """What sticks out past the window's right edge (nothing, when the page fits)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
            + (e.className && typeof e.className === "string"
               ? "." + e.className.trim().split(/\\s+/).join(".") : "");
          const out = [];
          if (document.documentElement.scrollWidth > width) {
            out.push(`the page is ${document.documentElement.scrollWidth} px wide`);
          }
          for (const e of document.querySelectorAll("#container *")) {
            const box = e.getBoundingClientRect();
            if (box.width && box.right > width + 1 && getComputedStyle(e).position !== "fixed") {
              // Inside a scrolled box is fine only if that box is not the table of cases.
              let clipped = false;
              for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
                const s = getComputedStyle(p);
                if ((s.overflowX === "hidden" || s.overflowX === "auto" || s.overflowX === "scroll")
                    && p.getBoundingClientRect().right <= width + 1
                    && !p.querySelector("#result_list")) { clipped = true; break; }
              }
              if (!clipped) out.push(`${name(e)} ends at ${Math.round(box.right)} px`);
            }
          }
          return out.slice(0, 12);
        }"""
    )


def _fits(session: Session, path: str, size: dict[str, int], name: str) -> None:
    session.page.set_viewport_size(size)
    session.open(path)
    session.shot(f"{name}-{size['width']}px")
    wider = _wider_than_the_window(session.page)
    assert not wider, f"{session.username}: {path} at {size['width']} px:\n" + "\n".join(wider)


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_admin_page_of_a_demo_user_opens_without_an_error(
    username: str, sign_in: Any
) -> None:
    # Given the demo, with a case in progress in an incident
    case = _work_in_progress()
    assert Detection.objects.exists() and Incident.objects.exists() and Post.objects.exists()

    # When the user opens the dashboard (their home), each page its links lead to, the
    # queue's and the busiest lists' filters, and the first object of each list
    session = sign_in(username)
    session.shot("dashboard")
    assert session.page.locator("#panel-funnel").is_visible()
    pages = [
        *_hrefs(session.page, "#dashboard-apps a[href], #nav-sidebar a[href]"),
        *_one_of_each(_hrefs(session.page, "#content-main a[href]")),
    ]
    queue = "/admin/outreach/case/"
    session.open(queue)
    pages += _hrefs(session.page, ".nj-quick a[href], #nj-badge a[href]")
    pages += _one_of_each(_hrefs(session.page, "#stage-counts a[href], .nj-closed a[href]"))
    opened: list[str] = []
    objects: dict[tuple[str, frozenset[str]], str] = {}
    todo = list(dict.fromkeys(p for p in pages if p != "/admin/"))
    while todo:
        link = todo.pop(0)
        answer = session.open(link)
        assert answer.status == 200, f"{link}: HTTP {answer.status}"
        opened.append(link)
        if urlparse(link).path in FILTERED_LISTS and not urlparse(link).query:
            todo += [c for c in _filter_choices(session.page) if c not in opened + todo]
        first = session.page.query_selector("#result_list tbody tr a[href*='/change/']")
        if first is not None:
            target = _path(first.get_attribute("href"))
            objects.setdefault(_shape(target), target)
    for target in objects.values():
        answer = session.open(target)
        assert answer.status == 200, f"{target}: HTTP {answer.status}"
        opened.append(target)
    page = f"/admin/outreach/case/{case.pk}/change/"
    session.open(page)
    session.shot("case-page")

    # Then every one opened cleanly (Session.open checks each): the dashboard, the queue with
    # its filters, the case page, incidents and detections among them
    for expected in (
        queue,
        f"{queue}?approval=mine" if username != "analyst" else f"{queue}?assignee=me",
        "/admin/monitoring/incident/",
        "/admin/monitoring/detection/",
    ):
        assert expected in opened, (expected, opened)
    assert any(p.startswith(f"{queue}?") and "due=" in p for p in opened), opened
    assert any("/admin/monitoring/incident/" in p and "/change/" in p for p in opened), opened
    assert any("/admin/monitoring/detection/?" in p for p in opened), opened
    assert len([p for p in opened if p.startswith(f"{queue}?")]) >= 10, opened

    # and the case page fits a laptop's window, the queue and the case page a phone's
    _fits(session, page, LAPTOP, "case-page")
    _fits(session, queue, PHONE, "queue")
    _fits(session, page, PHONE, "case-page")
