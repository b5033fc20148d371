"""What nojackal listens to and what it heard: brands, our accounts, sources, people and posts.

The sandbox network's own tables (``Sandbox*``) live here too: they stand in for
a social network's servers so the whole product runs offline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from monitoring.credentials import decrypt_json, encrypt_json
from monitoring.platforms import PLATFORM_CHOICES, Limits, Platform, get_platform, platform_class


class Brand(models.Model):
    """Our own brand or a competitor, with every name people use for it."""

    class Kind(models.TextChoices):
        OWN = "own", "Own brand"
        COMPETITOR = "competitor", "Competitor"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    aliases = models.JSONField(default=list, blank=True, help_text="Other names, one per item.")
    products = models.JSONField(default=list, blank=True, help_text="Product and plan names.")
    handles = models.JSONField(
        default=dict,
        blank=True,
        help_text='Official accounts per platform, e.g. {"mastodon": ["@acme@acme.social"]}.',
    )
    exclusions = models.JSONField(
        default=list, blank=True, help_text="Known false friends that must not count as a mention."
    )
    # Set when a classifier version is activated (monitoring/versions.py), from the threshold
    # chosen for this brand on the team's labels when that version was trained.
    threshold = models.FloatField(
        null=True,
        blank=True,
        editable=False,
        help_text="A post about this brand is a complaint when its score is at least this; "
        "chosen on the team's labels for the brand (blank: the model's 0.5).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    def all_terms(self) -> list[str]:
        """The name, aliases and product names, without duplicates."""
        seen: dict[str, None] = {}
        for term in [self.name, *self.aliases, *self.products]:
            if term and term.casefold() not in {s.casefold() for s in seen}:
                seen[term] = None
        return list(seen)


class Account(models.Model):
    """Our own identity on a platform. Credentials are encrypted at rest and never shown."""

    platform = models.CharField(max_length=20, choices=PLATFORM_CHOICES)
    handle = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    options = models.JSONField(
        default=dict, blank=True, help_text="Plain settings (instance URL...), never secrets."
    )
    # Fernet token (see monitoring/credentials.py); written by set_credentials only.
    credentials_encrypted = models.TextField(blank=True, editable=False)
    max_sends_per_hour = models.PositiveIntegerField(
        default=6, help_text="The platform-side cap for this account, on top of playbook caps."
    )
    enabled = models.BooleanField(default=True)
    # Own-brand (service) replies go from this account when one is marked: at most one
    # per platform (the constraint below), so a customer always hears from the same voice.
    is_service = models.BooleanField(
        default=False,
        verbose_name="service account",
        help_text="Own-brand replies on this platform are sent from this account "
        "(at most one per platform).",
    )
    # A staff member's own account: its replies must disclose the affiliation (the
    # playbook's disclosure wording), or the tone guard blocks them (no_disclosure).
    personal_account = models.BooleanField(
        default=False,
        verbose_name="staff member's personal account",
        help_text="Replies from this account must say the sender works for us.",
    )
    notifications_cursor = models.TextField(blank=True, editable=False)
    rate_limited_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The platform's Limits as last read (monitoring/limits.py: a beat tick and
    # "Test connection"), so that reading them never waits on the network.
    limits = models.JSONField(default=dict, blank=True, editable=False)
    limits_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "handle"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "handle"], name="account_unique_handle"),
            models.UniqueConstraint(
                fields=["platform"],
                condition=Q(is_service=True),
                name="account_one_service_per_platform",
                violation_error_message="This platform already has a service account.",
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle.lstrip('@')} ({self.platform})"

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    def set_credentials(self, credentials: dict[str, str]) -> None:
        """Encrypt and keep ``credentials`` (the caller saves the row)."""
        self.credentials_encrypted = encrypt_json(credentials) if credentials else ""

    def get_credentials(self) -> dict[str, str]:
        """The decrypted credentials, for the adapter only (never log or display them)."""
        if not self.credentials_encrypted:
            return {}
        return decrypt_json(self.credentials_encrypted)

    def adapter_settings(self) -> tuple[dict[str, str], dict[str, Any]]:
        """Credentials and options for this account's platform adapter (never log them)."""
        return self.get_credentials(), {"handle": self.handle.lstrip("@"), **(self.options or {})}

    def adapter(self) -> Platform:
        """This account's platform adapter, with its decrypted credentials (no network yet)."""
        credentials, options = self.adapter_settings()
        return get_platform(self.platform, credentials=credentials, options=options)

    def cached_limits(self) -> Limits:
        """The platform's limits as last read, without the network; its defaults before that."""
        known = {f.name for f in dataclasses.fields(Limits)}
        stored = {k: v for k, v in (self.limits or {}).items() if k in known}
        if "reply_max_length" in stored:
            return Limits(**stored)
        return platform_class(self.platform).default_limits()


class SourceQuerySet(models.QuerySet["Source"]):
    def due(self, now: dt.datetime) -> SourceQuerySet:
        """Enabled sources whose next poll time has come (uses the next_poll_at index)."""
        return self.filter(enabled=True, next_poll_at__lte=now)


class Source(models.Model):
    """One listening query on one platform, with its own cadence and cursor."""

    name = models.CharField(max_length=120)
    platform = models.CharField(max_length=20, choices=PLATFORM_CHOICES)
    brand = models.ForeignKey(
        Brand,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sources",
        help_text="The brand this query listens for, if it is about one.",
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sources",
        help_text="Search as this account (its credentials and its rate limit, shared with "
        "everything else that uses it). Needed for Mastodon full-text search, Bluesky, Reddit.",
    )
    # Fernet token (monitoring/credentials.py) for read-only platforms that need a key of
    # their own (an X bearer token, a Reddit app); never shown back in the admin.
    credentials_encrypted = models.TextField(blank=True, editable=False)
    terms = models.JSONField(
        default=list, help_text="Search terms; a post matching any is fetched."
    )
    exclusions = models.JSONField(default=list, blank=True, help_text="Terms that drop a post.")
    language = models.CharField(max_length=10, blank=True, help_text="ISO code, blank for any.")
    options = models.JSONField(
        default=dict, blank=True, help_text="Platform settings (instance URL, feed URL, mode...)."
    )
    cadence_seconds = models.PositiveIntegerField(default=120)
    enabled = models.BooleanField(default=True)
    next_poll_at = models.DateTimeField(default=timezone.now, db_index=True)
    cursor = models.TextField(blank=True, help_text="Where the next poll resumes.")
    failure_count = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    # The platform's answer when it could not be read (cut short), for the admin.
    last_raw_answer = models.TextField(blank=True)
    # The current run of failed polls (or the disablement) began here; null while healthy.
    failing_since = models.DateTimeField(null=True, blank=True)
    # The team was told of the current episode: one alert per episode, never one per poll.
    alerted_at = models.DateTimeField(null=True, blank=True)
    posts_ingested = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cadence_seconds__gte=10), name="source_cadence_at_least_10s"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    def set_credentials(self, credentials: dict[str, str]) -> None:
        """Encrypt and keep the source's own credentials (the caller saves the row)."""
        self.credentials_encrypted = encrypt_json(credentials) if credentials else ""

    def adapter_settings(self) -> tuple[dict[str, str], dict[str, object]]:
        """Credentials and options for the adapter: the account's, then the source's own."""
        credentials: dict[str, str] = {}
        options: dict[str, object] = {}
        if self.account is not None:
            credentials, options = self.account.adapter_settings()
        if self.credentials_encrypted:
            credentials.update(decrypt_json(self.credentials_encrypted))
        options.update(self.options)
        return credentials, options


class Person(models.Model):
    """One account on one platform."""

    platform = models.CharField(max_length=20, choices=PLATFORM_CHOICES)
    external_id = models.CharField(max_length=255)
    handle = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    profile_url = models.URLField(max_length=500, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    # Names blanked by retention or erasure; the row stays while a closed case points at it.
    redacted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="person_unique_per_platform"
            ),
        ]
        indexes = [
            models.Index(fields=["platform", "handle"]),
            # A handle looked up exactly but case-insensitively (the queue's search:
            # Django's iexact is UPPER(handle) = UPPER(...)).
            models.Index(Upper("handle"), name="person_handle_upper"),
        ]
        # PostgreSQL also has GIN trigram indexes on UPPER(handle) and UPPER(display_name)
        # for the admin's search (monitoring/migrations/0012_search_indexes.py; not model
        # state, SQLite has none).

    def __str__(self) -> str:
        return f"@{self.handle.lstrip('@')} ({self.platform})"


class Post(models.Model):
    """One post as the platform gave it; the raw payload is kept for research."""

    platform = models.CharField(max_length=20, choices=PLATFORM_CHOICES)
    external_id = models.CharField(max_length=255)
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="posts")
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    text = models.TextField()
    url = models.URLField(max_length=1000, blank=True)
    lang = models.CharField(max_length=10, blank=True)
    posted_at = models.DateTimeField(db_index=True)
    in_reply_to = models.CharField(max_length=255, blank=True, help_text="Parent's external id.")
    raw = models.JSONField(default=dict)
    fetched_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Text, payload and link blanked by retention or erasure; the row stays while a
    # closed case points at it (the audit skeleton).
    redacted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The detection queue: True from storing until detection judged the post. A partial
    # index on it keeps "the posts waiting" as cheap at 1M posts as at 1k, where an
    # anti-join against Detection walked the whole history before every batch.
    # db_default too, so rows written by COPY (bench/) join the queue by themselves.
    awaiting_detection = models.BooleanField(default=True, db_default=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="post_unique_per_platform"
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"],
                name="post_detection_queue",
                condition=Q(awaiting_detection=True),
            ),
        ]
        # PostgreSQL also has a GIN trigram index on UPPER(text) for the admin's search
        # (monitoring/migrations/0012_search_indexes.py; not model state).

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"


# --- The sandbox network ------------------------------------------------------
# A tiny social network in our own database, seeded from a bundled corpus, so
# that listening, replying, engagement and following can be tried offline.


class SandboxPost(models.Model):
    """A post on the simulated network (seeded, or written by us or a persona)."""

    author_id_text = models.CharField("author id", max_length=64)
    author_handle = models.CharField(max_length=64)
    author_name = models.CharField(max_length=120, blank=True)
    text = models.TextField()
    lang = models.CharField(max_length=10, blank=True)
    published_at = models.DateTimeField(db_index=True)
    reply_to = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    corpus_id = models.CharField(max_length=32, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "sandbox post"
        constraints = [
            models.UniqueConstraint(
                fields=["author_handle", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="sandbox_post_idempotent",
            ),
        ]

    def __str__(self) -> str:
        return f"sandbox post {self.pk} by @{self.author_handle}"


class SandboxPersona(models.Model):
    """How a simulated person answers when one of our accounts replies to them."""

    external_id = models.CharField(max_length=64, unique=True)
    handle = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120, blank=True)
    persona = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"@{self.handle} ({self.persona})"


class SandboxFollow(models.Model):
    follower_handle = models.CharField(max_length=64)
    followed_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follower_handle", "followed_id"], name="sandbox_follow_once"
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.follower_handle} follows {self.followed_id}"


class SandboxNotification(models.Model):
    """Something a persona did to one of our accounts; visible from ``visible_at``."""

    account_handle = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=20)
    person_id_text = models.CharField(max_length=64)
    person_handle = models.CharField(max_length=64)
    subject = models.ForeignKey(SandboxPost, on_delete=models.CASCADE, null=True, related_name="+")
    post = models.ForeignKey(SandboxPost, on_delete=models.CASCADE, null=True, related_name="+")
    visible_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} from @{self.person_handle}"


# --- Detection ------------------------------------------------------------------


class ClassifierVersion(models.Model):
    """A trained complaint classifier. Exactly one is active; training never activates."""

    version = models.CharField(max_length=64, unique=True)
    blob = models.BinaryField(editable=False)
    metrics = models.JSONField(default=dict, blank=True, editable=False)
    examples = models.PositiveIntegerField(default=0, help_text="Examples it was trained on.")
    corrections = models.PositiveIntegerField(default=0, help_text="Of which reviewer corrections.")
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="one_active_classifier"
            ),
        ]

    def __str__(self) -> str:
        return self.version + (" (active)" if self.active else "")


class Incident(models.Model):
    """Many complaints about one brand and topic close together in time."""

    class State(models.TextChoices):
        EMERGING = "emerging", "Emerging"
        ACTIVE = "active", "Active"
        COOLING = "cooling", "Cooling"
        CLOSED = "closed", "Closed"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="incidents")
    topic = models.CharField(max_length=40)
    state = models.CharField(max_length=20, choices=State.choices, default=State.EMERGING)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    volume = models.PositiveIntegerField(default=0)
    peak_per_hour = models.PositiveIntegerField(default=0)
    baseline_per_hour = models.FloatField(
        default=0, help_text="The brand's normal complaint rate when the incident was last updated."
    )
    spike = models.BooleanField(default=False, help_text="Volume well above the brand's normal.")
    alerted_state = models.CharField(max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["brand", "topic", "state"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["emerging", "active", "cooling", "closed"]),
                name="incident_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} · {self.topic} · {self.first_seen_at:%Y-%m-%d %H:%M}"


class Detection(models.Model):
    """A classifier's verdict on one post, and what triage did with it."""

    class Triage(models.TextChoices):
        PENDING = "pending", "Not triaged yet"
        OPENED = "opened", "Case opened"
        NO_BRAND = "no_brand", "No brand mentioned"
        NOT_COMPLAINT = "not_complaint", "Not a complaint"
        # The classifier cannot read the post's language: a person judges it (never dropped).
        LANGUAGE_NOT_COVERED = "language_not_covered", "Language not covered: judge it"
        TOO_OLD = "too_old", "Too old"
        OUR_ACCOUNT = "our_account", "One of our accounts"
        BRAND_ACCOUNT = "brand_account", "The brand's own account"
        DO_NOT_CONTACT = "do_not_contact", "Do not contact"
        IN_CONVERSATION = "in_conversation", "Already in conversation"
        COOLDOWN = "cooldown", "Cooling down after a case"
        CAP_REACHED = "cap_reached", "Playbook cap reached"
        NO_PLAYBOOK = "no_playbook", "No active playbook"
        ERROR = "error", "Error"

    class Correction(models.TextChoices):
        COMPLAINT = "complaint", "Complaint"
        NOT_COMPLAINT = "not_complaint", "Not a complaint"
        WRONG_BRAND = "wrong_brand", "Wrong brand"

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="detection")
    brands = models.ManyToManyField(Brand, blank=True, related_name="detections")
    brand = models.ForeignKey(
        Brand,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="primary_detections",
        help_text="The brand the complaint is about (own brand first, then the first competitor).",
    )
    posted_at = models.DateTimeField(help_text="Copied from the post for indexed counts.")
    complaint = models.BooleanField()
    score = models.FloatField()
    sentiment = models.FloatField(default=0)
    topic = models.CharField(max_length=40, blank=True)
    model_version = models.CharField(max_length=64)
    language = models.CharField(
        max_length=10,
        blank=True,
        default="",
        db_default="",
        help_text="The post's language (ISO 639-1): the platform's code, else detected; "
        "empty when the post has too few words to tell (monitoring/language.py).",
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="detections"
    )
    triage = models.CharField(max_length=20, choices=Triage.choices, default=Triage.PENDING)
    triage_note = models.CharField(max_length=300, blank=True)
    correction = models.CharField(max_length=20, choices=Correction.choices, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "complaint", "posted_at"]),
            models.Index(fields=["triage"]),
            # The detection list, newest first (ties broken by id, as the admin orders).
            models.Index(fields=["posted_at", "id"], name="detection_posted"),
            # One incident's latest complaints (its page, and the list filtered to it).
            models.Index(fields=["incident", "posted_at", "id"], name="detection_incident_posted"),
            # The few corrected detections, newest first (the list's correction filter).
            models.Index(
                fields=["correction", "posted_at"],
                name="detection_corrected",
                condition=~Q(correction=""),
            ),
            # The label queue (monitoring/label_queue.py): one brand's uncorrected verdicts of
            # the active model, walked outwards from the threshold by score.
            models.Index(
                fields=["model_version", "brand", "score"],
                name="detection_label_queue",
                condition=Q(correction=""),
            ),
            # Its bucket of posts naming no brand: PostgreSQL does not walk an index in
            # order past an IS NULL column (it would sort the whole bucket instead).
            models.Index(
                fields=["model_version", "score"],
                name="detection_label_queue_nobrand",
                condition=Q(correction="", brand__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        verdict = "complaint" if self.complaint else "not a complaint"
        return f"{self.post}: {verdict} ({self.score:.2f})"


class IncidentHour(models.Model):
    """An incident's complaints in one hour, counted as they join it (``incidents.assign``),
    so its chart never reads the detections themselves."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="hours")
    hour = models.DateTimeField(help_text="The start of the hour (UTC).")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["incident", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "hour"], name="incident_hour_once"),
        ]

    def __str__(self) -> str:
        return f"incident {self.incident_id} at {self.hour:%Y-%m-%d %H:00}: {self.count}"


class IncidentMinutes(models.Model):
    """An incident's complaints in one 5-minute slot of its first hours (``incidents.FINE_SPAN``),
    counted beside ``IncidentHour`` so a young incident's chart has more than one bar."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField(help_text="The start of the 5 minutes (UTC).")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["incident", "start"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "start"], name="incident_minutes_once"),
        ]

    def __str__(self) -> str:
        return f"incident {self.incident_id} at {self.start:%Y-%m-%d %H:%M}: {self.count}"


class BrandDay(models.Model):
    """One brand's mentions and complaints in one day (UTC), counted as posts are judged
    (``monitoring.rollups``): what the dashboard reads instead of the detections."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    mentions = models.PositiveIntegerField(default=0, help_text="Posts naming the brand.")
    complaints = models.PositiveIntegerField(
        default=0, help_text="Complaints whose main brand it is."
    )

    class Meta:
        ordering = ["day", "brand"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "day"], name="brand_day_once"),
        ]
        indexes = [models.Index(fields=["day", "brand"], name="brand_day_day")]

    def __str__(self) -> str:
        return f"{self.brand_id} on {self.day}: {self.complaints}/{self.mentions}"


class Label(models.Model):
    """One text the team has judged complaint or not: the team's own domain, for training.

    Fed by reviewers' corrections in the detection admin, by ``import_labels`` and by the
    label queue; ``train_classifier`` weighs these above the shipped examples. A text is
    stored once (``text_key`` is the hash of its normalised form): a second label of the
    same text replaces the first rather than counting twice. ``monitoring/labels.py`` is the
    only writer.

    Retention: a label keeps its own copy of the text, so it outlives the post it was given
    on: the retention purge (``outreach/retention.py``) deletes or empties old posts and the
    label stays, unlinked (``post`` set null), because the team's judgements are the model's
    training data and cost the team's time. A person erased on request (``forget_person``)
    takes their labels with them: every label given on their posts, or carrying one of their
    posts' texts, is deleted.
    """

    class Source(models.TextChoices):
        CORRECTION = "correction", "Reviewer correction"
        IMPORT = "import", "Bulk import"
        QUEUE = "queue", "Label queue"

    text = models.TextField()
    text_key = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the normalised text."
    )
    complaint = models.BooleanField()
    brand = models.ForeignKey(
        Brand, on_delete=models.SET_NULL, null=True, blank=True, related_name="labels"
    )
    platform = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    external_id = models.CharField(
        max_length=200, blank=True, help_text="The id the imported file gave the row, if any."
    )
    post = models.ForeignKey(
        Post,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="labels",
        help_text="The post the label was given on (corrections and the label queue).",
    )
    labelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    labelled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-labelled_at"]
        indexes = [
            models.Index(fields=["labelled_at"], name="label_labelled_at"),
            models.Index(fields=["brand", "complaint"], name="label_brand_complaint"),
        ]

    def __str__(self) -> str:
        return ("complaint" if self.complaint else "not a complaint") + f": {self.text[:60]}"
