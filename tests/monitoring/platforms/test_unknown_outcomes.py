"""One classification for every adapter: which failures of a write leave its outcome unknown.

The sandbox adapter speaks plain HTTP through ``HttpPlatform._request``, so these
tests pin the shared mapping in http.py; each library adapter's own test file
checks that it maps its library's exceptions to the same classes.
"""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from monitoring.platforms import http
from monitoring.platforms.base import (
    PermanentError,
    SearchQuery,
    TransientError,
    UnknownOutcome,
)
from monitoring.platforms.sandbox import SandboxPlatform
from tests.monitoring.platforms import faults

REPLY = {"id": "901", "url": "https://sandbox.nojackal.invalid/@northwind_care/901"}


def sandbox(url: str) -> SandboxPlatform:
    return SandboxPlatform(options={"base_url": url, "timeout": faults.TIMEOUT})


def reply(platform: SandboxPlatform) -> None:
    platform.reply(in_reply_to="17", text="That sounds rough.", idempotency_key="k-1")


@pytest.mark.parametrize("fault", faults.AFTER_POSTING)
def test_a_reply_that_may_have_been_posted_is_an_unknown_outcome(
    httpserver: HTTPServer, fault: str
) -> None:
    handler = faults.answer(fault, REPLY, status=201)
    httpserver.expect_request("/posts/17/replies/", method="POST").respond_with_handler(handler)
    with pytest.raises(UnknownOutcome):
        reply(sandbox(httpserver.url_for("").rstrip("/")))
    handler.settle()


@pytest.mark.parametrize("mode", ["reset", "cut_on_the_wire"])
def test_a_reply_whose_connection_broke_after_sending_is_an_unknown_outcome(mode: str) -> None:
    with faults.raw_server(mode) as (url, received), pytest.raises(UnknownOutcome):
        reply(sandbox(url))
    # the request did reach the platform: that is why the outcome is unknown
    assert received and received[0].startswith(b"POST /posts/17/replies/")


def test_a_refused_connection_is_transient_but_not_unknown() -> None:
    # Nothing was sent: a plain retry is safe, no need to ask the platform.
    with pytest.raises(TransientError) as caught:
        reply(sandbox(faults.closed_port()))
    assert not isinstance(caught.value, UnknownOutcome)


def test_a_refusal_the_platform_gave_before_acting_fails_the_reply(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/posts/17/replies/", method="POST").respond_with_json(
        {"error": "reply is over 500 characters"}, status=422
    )
    with pytest.raises(PermanentError, match="500 characters") as caught:
        reply(sandbox(httpserver.url_for("").rstrip("/")))
    assert not isinstance(caught.value, TransientError)


def test_a_rate_limit_on_a_reply_is_transient_not_unknown(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/posts/17/replies/", method="POST").respond_with_json(
        {"error": "slow down"}, status=429, headers={"Retry-After": "30"}
    )
    with pytest.raises(TransientError) as caught:
        reply(sandbox(httpserver.url_for("").rstrip("/")))
    assert not isinstance(caught.value, UnknownOutcome)
    assert caught.value.retry_after == 30


@pytest.mark.parametrize("fault", ["cut_short", "server_error", "too_late"])
def test_a_broken_search_page_is_transient_not_unknown(httpserver: HTTPServer, fault: str) -> None:
    page = {"items": [{"id": "5", "text": "the app lost my data"}], "cursor": "5"}
    handler = faults.answer(fault, page)
    httpserver.expect_request("/posts/").respond_with_handler(handler)
    with pytest.raises(TransientError) as caught:
        sandbox(httpserver.url_for("").rstrip("/")).search(SearchQuery(terms=["app"]), "")
    assert not isinstance(caught.value, UnknownOutcome)
    handler.settle()


def test_an_unreadable_page_keeps_the_raw_answer_for_the_admin(httpserver: HTTPServer) -> None:
    page = {"items": [{"id": "5", "text": "<script>alert(1)</script>"}], "cursor": "5"}
    httpserver.expect_request("/posts/").respond_with_handler(faults.answer("cut_short", page))
    with pytest.raises(TransientError) as caught:
        sandbox(httpserver.url_for("").rstrip("/")).search(SearchQuery(terms=["app"]), "")
    assert caught.value.raw == faults.cut(page).decode()


def test_the_raw_answer_kept_is_cut_short() -> None:
    assert len(http.unreadable_answer("X", "y" * 50_000).raw) == http.RAW_ANSWER_CHARS


@pytest.mark.parametrize(
    ("method", "status", "unknown"),
    [
        ("POST", 500, True),
        ("POST", 503, True),
        ("PATCH", 502, True),
        ("GET", 500, False),
        ("PUT", 500, False),  # idempotent: repeating it is safe
        ("POST", 429, False),
        ("POST", 408, False),
    ],
)
def test_which_server_errors_leave_a_write_unknown(method: str, status: int, unknown: bool) -> None:
    error = http.error_for_status(status, what="X", write=http.is_write(method))
    assert isinstance(error, TransientError)
    assert isinstance(error, UnknownOutcome) is unknown
