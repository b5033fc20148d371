"""Alerts to the team: email, and chat tools through Apprise URLs (Slack, Teams, Matrix...)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import apprise
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from monitoring.models import Incident

log = logging.getLogger(__name__)


class AlertNotDelivered(Exception):
    """Some channel refused the alert; the task retries."""


def send(subject: str, body: str, *, emails: Sequence[str] | None = None) -> int:
    """Send one alert to every configured channel; return how many channels took it.

    ``emails``: the addresses for this alert (the reviewers, for their digest) instead of
    ``NOJACKAL_ALERT_EMAILS``; the chat channels are the team's either way."""
    delivered = 0
    recipients = list(emails) if emails else settings.NOJACKAL_ALERT_EMAILS
    if recipients:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        delivered += 1
    if settings.NOJACKAL_ALERT_URLS:
        notifier = apprise.Apprise()
        for url in settings.NOJACKAL_ALERT_URLS:
            if not notifier.add(url):
                # Never log the URL itself: chat webhooks carry their secret in it.
                log.error("alert channel %d is not a valid Apprise URL", len(notifier) + 1)
        # Plain text, said so: Apprise escapes it for each tool, so a handle, a post URL or
        # a platform's error message in the alert is never the tool's markup ("<!channel>",
        # a labelled link).
        text = apprise.NotifyFormat.TEXT
        if len(notifier) and not notifier.notify(title=subject, body=body, body_format=text):
            raise AlertNotDelivered("a chat channel did not accept the alert")
        delivered += len(notifier)
    if not delivered:
        log.warning("alert not sent, no channel configured: %s", subject)
    return delivered


def incident_message(incident: Incident, state: str) -> tuple[str, str]:
    """Subject and body for an incident alert."""
    brand = incident.brand
    if state == Incident.State.ACTIVE:
        subject = f"[nojackal] {brand}: {incident.topic} complaints are spiking"
        lead = (
            f"{incident.volume} complaints about {brand} ({incident.topic}) since "
            f"{incident.first_seen_at:%Y-%m-%d %H:%M} UTC; up to {incident.peak_per_hour} in an "
            f"hour against a normal {incident.baseline_per_hour:.1f} per hour."
        )
    else:
        subject = f"[nojackal] {brand}: the {incident.topic} incident is over"
        lead = (
            f"No new complaints since {incident.last_seen_at:%Y-%m-%d %H:%M} UTC; "
            f"{incident.volume} in all."
        )
    advice = (
        "Research before replying: read a few threads and the incident page first. "
        "One empathetic reply per person, no selling."
        if brand.kind == brand.Kind.COMPETITOR
        else "This is our own brand: answer fast, offer a private channel, never argue."
    )
    link = settings.NOJACKAL_SITE_URL + reverse(
        "admin:monitoring_incident_change", args=[incident.pk]
    )
    return subject, f"{lead}\n\n{advice}\n\nIncident #{incident.pk}: {link}"
