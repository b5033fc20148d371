"""The adapters' HTTP layer: rate-limit and Retry-After headers, one error mapping."""

from __future__ import annotations

import datetime as dt

import pytest

from monitoring.platforms import http
from monitoring.platforms.base import PermanentError, RateLimit, TransientError
from tests.monitoring.platforms import recorded

NOW = dt.datetime(2026, 8, 1, 13, 0, tzinfo=dt.UTC)


# --- Retry-After and rate limits -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("Sat, 01 Aug 2026 13:01:00 GMT", 60.0),
        ("2026-08-01T13:00:30Z", 30.0),
        ("2026-08-01T12:00:00Z", 0.0),  # already past: no wait, never negative
        (str(int(NOW.timestamp()) + 90), 90.0),  # a Unix timestamp (X, Bluesky resets)
    ],
)
def test_retry_after_values_are_read(value: str, seconds: float) -> None:
    assert http.parse_retry_after(value, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "nan", "inf", "1e400", "9" * 100])
def test_unreadable_retry_after_is_none(value: str | None) -> None:
    assert http.parse_retry_after(value, NOW) is None


def test_naive_now_is_taken_as_utc() -> None:
    assert http.parse_retry_after("2026-08-01T13:00:10Z", NOW.replace(tzinfo=None)) == 10.0


def test_recorded_mastodon_headers_give_iso_reset() -> None:
    limit = http.rate_limit_from_headers(recorded.headers("mastodon", "status_post"), NOW)
    assert limit == RateLimit(
        limit=300,
        remaining=235,
        reset_at=dt.datetime(2026, 8, 1, 15, 0, 0, 754511, tzinfo=dt.UTC),
    )


def test_recorded_x_headers_give_epoch_reset() -> None:
    limit = http.rate_limit_from_headers(recorded.headers("x", "search_recent"), NOW)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (450, 448)
    assert limit.reset_at == dt.datetime.fromtimestamp(1665183229, dt.UTC)


def test_recorded_bluesky_headers_are_read() -> None:
    limit = http.rate_limit_from_headers(recorded.headers("bluesky", "search_posts"), NOW)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (3000, 2983)
    assert limit.reset_at == dt.datetime.fromtimestamp(1747676784, dt.UTC)


def test_recorded_reddit_headers_give_limit_from_used_plus_remaining() -> None:
    limit = http.rate_limit_from_headers(recorded.headers("reddit", "subscribe"), NOW)
    assert limit == RateLimit(limit=600, remaining=263, reset_at=NOW + dt.timedelta(seconds=87))


def test_header_names_are_case_insensitive() -> None:
    limit = http.rate_limit_from_headers({"X-RateLimit-Remaining": "5"}, NOW)
    assert limit == RateLimit(remaining=5)


@pytest.mark.parametrize("headers", [None, {}, {"content-type": "application/json"}])
def test_no_rate_limit_headers_is_none(headers: dict[str, str] | None) -> None:
    assert http.rate_limit_from_headers(headers, NOW) is None


def test_garbage_rate_limit_values_are_ignored() -> None:
    limit = http.rate_limit_from_headers(
        {
            "x-ratelimit-limit": "lots",
            "x-ratelimit-remaining": "-1",
            "x-ratelimit-reset": "x",
        },
        NOW,
    )
    assert limit is None


def test_retry_after_header_wins_over_reset() -> None:
    headers = {"Retry-After": "30", "X-RateLimit-Reset": "2026-08-01T14:00:00Z"}
    assert http.retry_after_from_headers(headers, NOW) == 30.0


def test_429_without_retry_after_waits_until_reset() -> None:
    # given Mastodon's documented 429 headers (rack-attack): no Retry-After, a reset time
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2026-08-01T13:05:00.000Z",
    }
    assert http.retry_after_from_headers(headers, NOW) == 300.0


def test_no_hint_means_no_retry_after() -> None:
    assert http.retry_after_from_headers({}, NOW) is None


# --- one error mapping for every adapter -------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, TransientError),
        (500, TransientError),
        (503, TransientError),
        (408, TransientError),
        (425, TransientError),
        (401, PermanentError),
        (403, PermanentError),
        (404, PermanentError),
        (302, PermanentError),
        (400, PermanentError),
        (422, PermanentError),
    ],
)
def test_each_status_maps_to_one_kind_of_error(status: int, kind: type) -> None:
    error = http.error_for_status(status, what="Somewhere", said="it said so", reason="Why")
    assert type(error) is kind
    assert str(error).startswith("Somewhere: ")
    if status != 302:
        assert f"{status} it said so" in str(error)


def test_the_reason_phrase_stands_in_when_the_platform_said_nothing() -> None:
    assert "(404 Not Found)" in str(http.error_for_status(404, what="X", reason="Not Found"))


def test_a_429_carries_the_wait_the_platform_asked_for() -> None:
    error = http.error_for_status(429, what="X", headers={"Retry-After": "30"})
    assert isinstance(error, TransientError) and error.retry_after == 30.0


def test_a_wait_read_by_a_client_library_wins_over_headers() -> None:
    error = http.error_for_status(429, what="X", headers={"Retry-After": "30"}, retry_after=5)
    assert isinstance(error, TransientError) and error.retry_after == 5


def test_a_json_error_body_is_read_by_its_usual_keys() -> None:
    assert http.json_error_message({"error": "invalid_grant"}) == "invalid_grant"
    assert http.json_error_message({"message": "m", "error": "e"}) == "m"
    assert http.json_error_message(["not", "an", "object"]) == ""
