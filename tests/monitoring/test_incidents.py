"""Incidents: grouping, spike detection against the brand's own history, one alert per change."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from monitoring import alerts, incidents
from monitoring.models import Detection, Incident, Post
from tests.factories import BrandFactory, PersonFactory, PostFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def alert_channels(settings):
    settings.NOJACKAL_ALERT_EMAILS = ["team@example.invalid"]
    settings.NOJACKAL_ALERT_URLS = []
    # These tests are about grouping and states: one complaint may start an incident
    # here; the minimum number of people has its own tests below.
    settings.NOJACKAL_INCIDENT_MIN_PEOPLE = 1


def complaint(brand, at, topic="outage", **kwargs):
    post = PostFactory(posted_at=at)
    return Detection.objects.create(
        post=post,
        brand=brand,
        posted_at=at,
        complaint=True,
        score=0.9,
        topic=topic,
        model_version="test",
        **kwargs,
    )


def burst(brand, count, *, start, every=dt.timedelta(minutes=1), topic="outage"):
    return [complaint(brand, start + i * every, topic) for i in range(count)]


def update(detections, now, capture):
    with time_machine.travel(now, tick=False), capture(execute=True):
        touched = incidents.assign([d.pk for d in detections])
        return {i: incidents.refresh(i, now) for i in touched}


def test_poisson_tail_matches_known_values():
    assert incidents.poisson_tail(0, 3.0) == 1.0
    assert incidents.poisson_tail(1, 2.0) == pytest.approx(1 - 0.1353352832, abs=1e-9)
    assert incidents.poisson_tail(10, 1.0) == pytest.approx(1.1142547e-07, rel=1e-4)


def test_a_burst_well_above_the_brands_normal_rate_is_a_spike_and_alerts_once(
    django_capture_on_commit_callbacks,
):
    brand = BrandFactory(name="Zephyrline")
    # A normal week: one outage complaint every six hours.
    history = burst(brand, 27, start=NOW - dt.timedelta(days=7), every=dt.timedelta(hours=6))
    update(history, NOW - dt.timedelta(hours=2), django_capture_on_commit_callbacks)
    mail.outbox.clear()

    states = update(
        burst(brand, 20, start=NOW - dt.timedelta(minutes=30)),
        NOW,
        django_capture_on_commit_callbacks,
    )

    incident = Incident.objects.get(state=Incident.State.ACTIVE)
    assert list(states.values()) == [Incident.State.ACTIVE]
    assert incident.spike and incident.volume == 20 and incident.peak_per_hour == 20
    assert incident.baseline_per_hour < 1
    assert len(mail.outbox) == 1
    assert "Zephyrline: outage complaints are spiking" in mail.outbox[0].subject
    # More complaints and more refreshes: still the one alert.
    update(
        burst(brand, 5, start=NOW + dt.timedelta(minutes=1)),
        NOW + dt.timedelta(minutes=10),
        django_capture_on_commit_callbacks,
    )
    with django_capture_on_commit_callbacks(execute=True):
        for minutes in (11, 12, 13):
            incidents.refresh(incident.pk, NOW + dt.timedelta(minutes=minutes))
    assert len(mail.outbox) == 1


def test_the_same_volume_is_no_spike_for_a_brand_that_is_always_that_busy(
    django_capture_on_commit_callbacks,
):
    brand = BrandFactory(name="Telvana")
    # Six billing complaints an hour, every hour of the week.
    start = NOW - dt.timedelta(days=7)
    times = [start + i * dt.timedelta(minutes=10) for i in range(7 * 24 * 6)]
    author = PersonFactory()
    posts = Post.objects.bulk_create(
        Post(platform="sandbox", external_id=f"h{i}", author=author, text="x", posted_at=at)
        for i, at in enumerate(times)
    )
    Detection.objects.bulk_create(
        Detection(
            post=post,
            brand=brand,
            posted_at=post.posted_at,
            complaint=True,
            score=0.9,
            topic="billing",
            model_version="test",
        )
        for post in posts
    )
    states = update(
        burst(brand, 12, start=NOW - dt.timedelta(minutes=30)),
        NOW,
        django_capture_on_commit_callbacks,
    )
    assert list(states.values()) == [Incident.State.EMERGING]
    assert mail.outbox == []


def test_a_quiet_incident_cools_then_closes_and_the_close_is_announced_once(
    django_capture_on_commit_callbacks,
):
    brand = BrandFactory()
    update(
        burst(brand, 12, start=NOW),
        NOW + dt.timedelta(minutes=12),
        django_capture_on_commit_callbacks,
    )
    incident = Incident.objects.get()
    assert incident.state == Incident.State.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        assert incidents.refresh_open(NOW + dt.timedelta(hours=2)) == 1
        assert Incident.objects.get().state == Incident.State.COOLING
        incidents.refresh_open(NOW + dt.timedelta(hours=7))
        incidents.refresh_open(NOW + dt.timedelta(hours=8))
    assert Incident.objects.get().state == Incident.State.CLOSED
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 2 and "is over" in subjects[1]


def test_an_incident_that_never_spiked_closes_without_an_alert(django_capture_on_commit_callbacks):
    brand = BrandFactory()
    update(burst(brand, 2, start=NOW), NOW, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        incidents.refresh_open(NOW + dt.timedelta(hours=7))
    assert Incident.objects.get().state == Incident.State.CLOSED
    assert mail.outbox == []


def test_complaints_join_the_open_incident_of_their_brand_and_topic(
    django_capture_on_commit_callbacks,
):
    telvana, orbix = BrandFactory(name="Telvana"), BrandFactory(name="Orbix")
    detections = [
        complaint(telvana, NOW, "outage"),
        complaint(telvana, NOW + dt.timedelta(hours=1), "outage"),
        complaint(telvana, NOW + dt.timedelta(hours=1), "billing"),
        complaint(orbix, NOW, "outage"),
        complaint(telvana, NOW + dt.timedelta(hours=8), "outage"),  # after a 7 h gap: new one
    ]
    update(detections, NOW + dt.timedelta(hours=8), django_capture_on_commit_callbacks)
    volumes = sorted(Incident.objects.values_list("brand__name", "topic", "volume").order_by())
    assert volumes == [
        ("Orbix", "outage", 1),
        ("Telvana", "billing", 1),
        ("Telvana", "outage", 1),
        ("Telvana", "outage", 2),
    ]


def test_posts_that_are_not_complaints_or_have_no_topic_join_no_incident(
    django_capture_on_commit_callbacks,
):
    brand = BrandFactory()
    praise = complaint(brand, NOW)
    Detection.objects.filter(pk=praise.pk).update(complaint=False)
    untopical = complaint(brand, NOW, topic="")
    update([praise, untopical], NOW, django_capture_on_commit_callbacks)
    assert Incident.objects.count() == 0


def test_hourly_volume_counts_complaints_per_hour(django_capture_on_commit_callbacks):
    brand = BrandFactory()
    start = NOW.replace(minute=5)
    update(
        burst(brand, 6, start=start, every=dt.timedelta(minutes=20)),
        start + dt.timedelta(hours=2),
        django_capture_on_commit_callbacks,
    )
    chart = incidents.hourly_volume(Incident.objects.get())
    assert [n for _, n in chart] == [3, 3]
    assert chart[0][0] == NOW.replace(minute=0)


def test_alerts_go_to_chat_tools_through_apprise(settings, monkeypatch):
    from monitoring import alerts

    sent = []
    monkeypatch.setattr(
        "apprise.Apprise.notify", lambda self, title, body, **kw: sent.append(title) or True
    )
    settings.NOJACKAL_ALERT_URLS = ["json://127.0.0.1:9/hook"]
    assert alerts.send("subject", "body") == 2
    assert sent == ["subject"]


def test_a_chat_tool_that_refuses_makes_the_alert_retry(settings, monkeypatch):
    from monitoring import alerts

    monkeypatch.setattr("apprise.Apprise.notify", lambda self, **kw: False)
    settings.NOJACKAL_ALERT_URLS = ["json://127.0.0.1:9/hook"]
    with pytest.raises(alerts.AlertNotDelivered):
        alerts.send("subject", "body")


def test_now_is_used_when_no_time_is_given():
    brand = BrandFactory()
    detection = complaint(brand, timezone.now())
    incidents.assign([detection.pk])
    assert incidents.refresh(Incident.objects.get().pk) == Incident.State.EMERGING


def people_complain(brand, n_people, *, at=NOW, each=1, topic="outage"):
    """``each`` complaints from each of ``n_people`` different people, a minute apart."""
    ids = []
    for p in range(n_people):
        author = PersonFactory()
        for k in range(each):
            post = PostFactory(author=author, posted_at=at + dt.timedelta(minutes=p * each + k))
            ids.append(complaint_of(post, brand, topic).pk)
    return ids


def complaint_of(post, brand, topic):
    return Detection.objects.create(
        post=post,
        brand=brand,
        posted_at=post.posted_at,
        complaint=True,
        score=0.9,
        topic=topic,
        model_version="test",
    )


def test_complaints_from_two_people_stay_isolated(settings):
    settings.NOJACKAL_INCIDENT_MIN_PEOPLE = 3
    brand = BrandFactory()
    ids = people_complain(brand, 2, each=3)
    assert incidents.assign(ids) == set()
    assert not Incident.objects.exists()
    assert Detection.objects.filter(incident__isnull=True).count() == 6


def test_the_third_person_makes_an_incident_of_all_their_complaints(settings):
    settings.NOJACKAL_INCIDENT_MIN_PEOPLE = 3
    brand = BrandFactory()
    first = people_complain(brand, 2)
    incidents.assign(first)
    assert not Incident.objects.exists()
    third = people_complain(brand, 1, at=NOW + dt.timedelta(minutes=10))
    (incident_id,) = incidents.assign(third)
    incident = Incident.objects.get(pk=incident_id)
    assert incident.volume == 3
    assert incident.first_seen_at == NOW
    assert Detection.objects.filter(incident=incident).count() == 3
    assert sum(incident.hours.values_list("count", flat=True)) == 3
    assert sum(incident.slots.values_list("count", flat=True)) == 3


def test_people_counted_are_of_the_same_brand_and_topic_within_the_gap(settings):
    settings.NOJACKAL_INCIDENT_MIN_PEOPLE = 3
    brand = BrandFactory()
    people_complain(brand, 1, at=NOW - incidents.GAP - dt.timedelta(minutes=5))
    people_complain(brand, 1, topic="billing")
    ids = people_complain(brand, 2)
    assert incidents.assign(Detection.objects.values_list("pk", flat=True)) == set()
    assert ids


def test_a_young_incident_is_charted_in_five_minute_buckets(settings):
    brand = BrandFactory()
    ids = people_complain(brand, 3) + people_complain(brand, 2, at=NOW + dt.timedelta(minutes=40))
    (incident_id,) = incidents.assign(ids)
    incident = Incident.objects.get(pk=incident_id)
    bucket, series = incidents.volume(incident)
    assert bucket == dt.timedelta(minutes=5)
    assert series[0] == (NOW, 3)
    assert series[-1] == (NOW + dt.timedelta(minutes=40), 2)
    assert sum(n for _, n in series) == 5


def test_an_incident_older_than_the_fine_span_is_charted_per_hour(settings):
    brand = BrandFactory()
    ids = (
        people_complain(brand, 3)
        + people_complain(brand, 1, at=NOW + dt.timedelta(hours=3))
        + people_complain(brand, 1, at=NOW + incidents.FINE_SPAN + dt.timedelta(minutes=10))
    )
    (incident_id,) = incidents.assign(ids)
    incident = Incident.objects.get(pk=incident_id)
    bucket, series = incidents.volume(incident)
    assert bucket == dt.timedelta(hours=1)
    assert series[0] == (NOW, 3)
    assert series[3] == (NOW + dt.timedelta(hours=3), 1)
    assert sum(n for _, n in series) == 5


def test_the_alert_links_to_the_incident(settings):
    settings.NOJACKAL_SITE_URL = "https://nojackal.example"
    brand = BrandFactory()
    incident = Incident.objects.create(
        brand=brand, topic="outage", first_seen_at=NOW, last_seen_at=NOW, volume=30
    )
    _, body = alerts.incident_message(incident, Incident.State.ACTIVE)
    assert f"https://nojackal.example/admin/monitoring/incident/{incident.pk}/change/" in body


def test_a_young_incident_without_five_minute_counts_is_charted_per_hour():
    brand = BrandFactory()
    ids = people_complain(brand, 3)
    (incident_id,) = incidents.assign(ids)
    incident = Incident.objects.get(pk=incident_id)
    incident.slots.all().delete()  # as for an incident opened before the upgrade
    bucket, series = incidents.volume(incident)
    assert bucket == dt.timedelta(hours=1) and series == [(NOW, 3)]


def test_a_gap_inside_one_batch_starts_a_new_incident():
    brand = BrandFactory(name="Orbitel")
    early = burst(brand, 3, start=NOW - dt.timedelta(hours=12))
    late = burst(brand, 2, start=NOW - dt.timedelta(hours=1))
    touched = incidents.assign([d.pk for d in early + late])
    assert len(touched) == 2
    first, second = Incident.objects.order_by("first_seen_at")
    assert (first.volume, second.volume) == (3, 2)
    assert set(Detection.objects.filter(incident=second).values_list("pk", flat=True)) == {
        d.pk for d in late
    }
