"""Alerts carry text from outside (a platform's error message, a person's handle, a post's
URL) into the team's chat: as text, never as the chat tool's own markup."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitoring import alerts

HOSTILE = [
    "<!channel> the source needs you",
    "<https://phish.example/login|Re-authorise the nojackal account>",
    "Jane <!here> <@U0123>",
]


@pytest.fixture
def slack(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A Slack webhook as the only channel; the payloads Apprise would post to it."""
    settings.NOJACKAL_ALERT_EMAILS = []
    settings.NOJACKAL_ALERT_URLS = ["slack://T1234/B1234/abcdefghijklmnopqrstuvwxyz"]
    posted: list[dict[str, Any]] = []

    class Answer:
        status_code = 200
        content = b"ok"
        text = "ok"

    def request(method: str, url: str, **kwargs: Any) -> Answer:
        posted.append(json.loads(kwargs["data"]))
        return Answer()

    monkeypatch.setattr("apprise.plugins.slack.requests.request", request)
    return posted


@pytest.mark.parametrize("outside", HOSTILE)
def test_alert_text_from_outside_reaches_slack_as_text_not_markup(
    slack: list[dict[str, Any]], outside: str
) -> None:
    assert alerts.send(f"nojackal: {outside}", f"The platform said: {outside}\n") == 1
    (payload,) = slack
    sent = json.dumps(payload)
    assert "<!" not in sent and "<http" not in sent and "<@" not in sent
    assert "&lt;" in payload["attachments"][0]["text"]  # shown, escaped
