"""What the team does about what nojackal heard: cases, their research, drafts and sends.

Stage changes happen only in ``outreach/workflow.py``; the constraints here are
the guards the database can hold by itself (one open case per person, one first
reply per case, valid stage values, append-only audit).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from monitoring.models import Account, Brand, Incident, Person, Post
from monitoring.platforms import PLATFORM_CHOICES, NotificationKind
from outreach.donotcontact import DoNotContact as DoNotContact
from outreach.donotcontact import normalise_handle as normalise_handle
from outreach.erasure import ERASED as ERASED
from outreach.erasure import Erasure as Erasure
from outreach.erasure import ErasureSalt as ErasureSalt
from outreach.erasure import subject_hash as subject_hash
from outreach.erasure import subject_hashes as subject_hashes

# The do-not-contact list has its own module (it is append-only, with its own triggers);
# it is re-exported here so that every model is found in outreach.models.
from outreach.fields import team_member
from outreach.limits import CAP_CEILINGS, MIN_COOLDOWN_DAYS
from outreach.tone.rules import FIRM_CODES


def text_hash(text: str) -> str:
    """The SHA-256 of a reply text exactly as written (approval is bound to it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PlaybookKind(models.TextChoices):
    COMPETITOR = "competitor", "Competitor complaint"
    OWN_BRAND = "own_brand", "Own-brand service"


class Playbook(models.Model):
    """One version of the rule set for a kind of case. Rows are never edited in place:
    an edit is a new version (``workflow.edit_playbook``) and the old one is deactivated."""

    Kind = PlaybookKind

    kind = models.CharField(max_length=20, choices=PlaybookKind.choices)
    version = models.PositiveIntegerField(default=1, editable=False)
    is_active = models.BooleanField(default=True, editable=False)
    name = models.CharField(max_length=120)
    guidance = models.TextField(help_text="What the team should and should not do, in words.")
    reply_templates = models.JSONField(
        default=list, blank=True, help_text="Starting points for replies, one text per item."
    )
    freshness_hours = models.PositiveIntegerField(
        default=72, help_text="No reply to a post older than this; such cases expire."
    )
    due_hours = models.PositiveIntegerField(default=24, help_text="A new case is due this soon.")
    engagement_window_days = models.PositiveIntegerField(
        default=7, help_text="After our reply, how long we wait for the person to engage."
    )
    cooldown_days = models.PositiveIntegerField(
        default=30, help_text="No new case for a person this soon after their last one closed."
    )
    max_replies_per_brand_per_day = models.PositiveIntegerField(
        default=20, help_text="Replies about one brand (a competitor's customers) per 24 hours."
    )
    max_replies_per_incident = models.PositiveIntegerField(
        default=5, help_text="Replies in total to people caught in one incident."
    )
    max_replies_per_account_per_hour = models.PositiveIntegerField(
        default=4, help_text="Replies one of our accounts may send per hour."
    )
    # "Are we being jackals?" (the dashboard): warn when a week's rate, among the people
    # we replied to, crosses one of these.
    alert_opt_out_percent = models.PositiveSmallIntegerField(
        default=5, help_text="Warn when more than this % of the people replied to opt out."
    )
    alert_stop_percent = models.PositiveSmallIntegerField(
        default=3, help_text='Warn when more than this % answer "stop" (or the like).'
    )
    alert_block_percent = models.PositiveSmallIntegerField(
        default=2, help_text="Warn when more than this % block or mute our account."
    )
    alert_no_response_percent = models.PositiveSmallIntegerField(
        default=80, help_text="Warn when more than this % never answer."
    )
    # Issue #17: a brand's complaint threshold is chosen on the team's labels to maximise
    # macro-F1, or, with a floor, the best one that still finds this share of complaints
    # (monitoring/versions.py). Own brand: a missed complaint costs more than an extra post.
    min_recall_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text="The threshold chosen for these brands' posts must find at least this % of "
        "the complaints among the team's labels (blank: the best macro-F1). Applied from the "
        "next classifier version trained.",
    )
    four_eyes = models.BooleanField(
        default=True, help_text="The approver must not be the draft's author."
    )
    auto_follow = models.BooleanField(
        default=False, help_text="Queue a follow automatically once the person engages."
    )
    disclosure = models.CharField(
        max_length=200,
        blank=True,
        default="I work at {brand}",
        help_text="How a reply from a staff member's personal account says who they work "
        'for; {brand} stands for our brand (blank: "I work at {brand}"). The tone guard '
        "blocks such a reply without it.",
    )
    previous = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="next_version",
    )
    # Rule 11: why, then what changed field by field against the previous version
    # (workflow.edit_playbook writes it); with created_by, who changed what.
    change_note = models.TextField(blank=True, editable=False)
    created_by = team_member(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="playbook_unique_version"),
            # Rule 11: one playbook. Exactly one active version per kind.
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_active=True), name="playbook_one_active_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PlaybookKind.values), name="playbook_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(freshness_hours__gte=1) & Q(due_hours__gte=1),
                name="playbook_windows_positive",
            ),
            # Rule 6: the cooldown has a floor no edit can go under (outreach/limits.py).
            models.CheckConstraint(
                condition=Q(cooldown_days__gte=MIN_COOLDOWN_DAYS),
                name="playbook_cooldown_floor",
            ),
            # Rule 7: a competitor playbook's caps cannot be raised above the ceilings.
            models.CheckConstraint(
                condition=Q(kind=PlaybookKind.OWN_BRAND)
                | Q(**{f"{name}__lte": ceiling for name, ceiling in CAP_CEILINGS.items()}),
                name="playbook_caps_ceiling",
            ),
        ]

    def __str__(self) -> str:
        active = "" if self.is_active else ", retired"
        return f"{self.name} v{self.version} ({self.get_kind_display()}{active})"


class Stage(models.TextChoices):
    NEW = "new", "New"
    RESEARCHING = "researching", "Researching"
    DRAFTING = "drafting", "Drafting"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved (reply queued)"
    AWAITING_ENGAGEMENT = "awaiting_engagement", "Replied, awaiting engagement"
    ENGAGED = "engaged", "Engaged"
    # Queued in the outbox; "followed" once the dispatcher records the platform's answer.
    FOLLOW_REQUESTED = "follow_requested", "Follow requested (queued)"
    FOLLOWED = "followed", "Followed"
    RESOLVED = "resolved", "Resolved"
    AMEND_REQUESTED = "amend_requested", "Amend requested"
    DISMISSED = "dismissed", "Dismissed"
    EXPIRED = "expired", "Expired"
    OPTED_OUT = "opted_out", "Opted out"
    FAILED = "failed", "Failed"
    NO_RESPONSE = "no_response", "No response"
    # The conversation after engagement ended in silence (the playbook's window).
    GONE_QUIET = "gone_quiet", "Conversation gone quiet"


# A person has at most one case in these stages (rule 6); the others are closed.
OPEN_STAGES: tuple[str, ...] = (
    Stage.NEW,
    Stage.RESEARCHING,
    Stage.DRAFTING,
    Stage.AWAITING_APPROVAL,
    Stage.APPROVED,
    Stage.AWAITING_ENGAGEMENT,
    Stage.ENGAGED,
    Stage.FOLLOW_REQUESTED,
    Stage.FOLLOWED,
)
# After the person engaged: the team may answer again (later replies, private messages).
CONVERSATION_STAGES: tuple[str, ...] = (Stage.ENGAGED, Stage.FOLLOW_REQUESTED, Stage.FOLLOWED)
CLOSED_STAGES: tuple[str, ...] = tuple(s for s in Stage.values if s not in OPEN_STAGES)
# Before our reply went out: the stages a stale post expires from (rule 8).
PRE_REPLY_STAGES: tuple[str, ...] = (
    Stage.NEW,
    Stage.RESEARCHING,
    Stage.DRAFTING,
    Stage.AWAITING_APPROVAL,
    Stage.APPROVED,
)


class Severity(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class Case(models.Model):
    """One outreach opportunity: one person, one post, one playbook version."""

    Kind = PlaybookKind
    Stage = Stage

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="cases")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="cases")
    # Copied from the post so the queue can filter on an indexed column without a join.
    platform = models.CharField(max_length=20, choices=PLATFORM_CHOICES, editable=False)
    kind = models.CharField(max_length=20, choices=PlaybookKind.choices, editable=False)
    stage = models.CharField(
        max_length=30, choices=Stage.choices, default=Stage.NEW, editable=False
    )
    playbook = models.ForeignKey(
        Playbook, on_delete=models.PROTECT, related_name="cases", editable=False
    )
    assignee = team_member(on_delete=models.SET_NULL, related_name="outreach_cases")
    due_at = models.DateTimeField(editable=False)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.NORMAL)
    # Set by triage from the detection, or by the research note; caps count per incident.
    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="cases",
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    dismiss_reason = models.TextField(blank=True, editable=False)
    # Rule 6, service first: a competitor case is put on hold while we serve the same
    # person in an own-brand case (``held_by``); no outreach goes out on it meanwhile.
    # Set and lifted by outreach/workflow/holds.py only. ``on_hold`` is set before the
    # own-brand case exists (the one-open-case index must never see two at once), so
    # it is a column of its own beside the link.
    on_hold = models.BooleanField(default=False, editable=False)
    held_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="holding",
    )

    class Meta:
        # Rule 12: due time then severity; never follower count or reach.
        ordering = ["due_at", "-severity", "id"]
        permissions = [("claim_case", "Can claim and work on a case")]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="case_stage_valid"),
            models.CheckConstraint(
                condition=Q(kind__in=PlaybookKind.values), name="case_kind_valid"
            ),
            # Rule 6: one conversation per person: one open case not on hold...
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(stage__in=OPEN_STAGES, on_hold=False),
                name="case_one_open_per_person",
            ),
            # ...and never two open cases of one kind (a held one counts).
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(stage__in=OPEN_STAGES),
                name="case_one_open_per_person_per_kind",
            ),
            # Only an open competitor case is held, and a link means a hold.
            models.CheckConstraint(
                condition=Q(on_hold=False, held_by__isnull=True)
                | Q(on_hold=True, kind=PlaybookKind.COMPETITOR, stage__in=OPEN_STAGES),
                name="case_hold_consistent",
            ),
            models.CheckConstraint(
                condition=(Q(stage__in=OPEN_STAGES) & Q(closed_at__isnull=True))
                | (Q(stage__in=CLOSED_STAGES) & Q(closed_at__isnull=False)),
                name="case_closed_at_matches_stage",
            ),
            models.CheckConstraint(
                condition=~Q(stage=Stage.DISMISSED) | ~Q(dismiss_reason=""),
                name="case_dismissal_has_reason",
            ),
        ]
        indexes = [
            # The queue: open cases by due time then severity (partial, so it stays small).
            models.Index(
                F("due_at").asc(),
                F("severity").desc(),
                F("id").asc(),
                name="case_queue_open",
                condition=Q(stage__in=OPEN_STAGES),
            ),
            models.Index(F("due_at").asc(), F("severity").desc(), F("id").asc(), name="case_queue"),
            # Counts per open stage above the queue: an index-only scan of open cases.
            models.Index(
                fields=["stage"], name="case_open_stage", condition=Q(stage__in=OPEN_STAGES)
            ),
            models.Index(fields=["stage", "due_at"], name="case_stage_due"),
            models.Index(fields=["person", "closed_at"], name="case_person_closed"),
            models.Index(fields=["brand", "opened_at"], name="case_brand_opened"),
            models.Index(fields=["platform", "due_at"], name="case_platform_due"),
            # One incident's open cases per stage (the incident page counts them), however
            # many closed ones the incident gathered.
            models.Index(
                fields=["incident", "stage"],
                name="case_incident_open",
                condition=Q(closed_at__isnull=True),
            ),
            # One incident's cases in queue order (the incident page links there).
            models.Index(
                fields=["incident", "due_at", "-severity", "id"], name="case_incident_queue"
            ),
            # The dashboard: open cases per member of staff, and a period's cases that belong
            # to an incident, without walking everything anyone was ever assigned or grouped.
            models.Index(
                fields=["assignee", "stage"],
                name="case_open_assignee",
                condition=Q(stage__in=OPEN_STAGES),
            ),
            models.Index(
                fields=["opened_at"],
                name="case_in_incident_opened",
                condition=Q(incident__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        # No user-written text here: titles and breadcrumbs show it unescaped by bidi rules.
        return f"case {self.pk} ({self.get_stage_display()})"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def is_service(self) -> bool:
        """An own-brand case: service first, paced only by the platform (rule 7)."""
        return self.kind == PlaybookKind.OWN_BRAND


class ResearchNote(models.Model):
    """What happened, how big it is, and whether the thread was read (rule 1)."""

    class Scope(models.TextChoices):
        UNDECIDED = "", "Not decided yet"
        ISOLATED = "isolated", "Isolated complaint"
        INCIDENT = "incident", "Part of an incident"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="research")
    summary = models.TextField(blank=True)
    thread_checked = models.BooleanField(default=False)
    scope = models.CharField(max_length=20, choices=Scope.choices, blank=True)
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="research_notes"
    )
    # Filled from the data, never typed in: the incident's complaints, or the
    # brand's complaints of the last days for an isolated one.
    chatter_volume = models.PositiveIntegerField(default=0, editable=False)
    author = team_member(optional=False, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope="incident") | Q(incident__isnull=False),
                name="research_incident_named",
            ),
        ]

    def __str__(self) -> str:
        return f"research for case {self.case_id}"


class ReplyDraft(models.Model):
    """A public reply of a case, edited in place; approval covers one exact text.

    Every case has at most one first reply (``is_first_reply``); an own-brand case
    may also have one request to amend the post after resolution; and a case in
    conversation has one ``later`` draft, the team's next answer (a public reply or a
    private message), written, approved and sent again for each answer.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="drafts")
    is_first_reply = models.BooleanField(default=True, editable=False)
    later = models.BooleanField(default=False, editable=False)
    text = models.TextField()
    author = team_member(optional=False, editable=False)
    # Everyone but the author who changed the text: four eyes excludes them too.
    editor_ids = models.JSONField(default=list, blank=True, editable=False)
    tone_findings = models.JSONField(default=list, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = team_member(editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_text_hash = models.CharField(max_length=64, blank=True, editable=False)
    rejected_by = team_member(editable=False)
    rejection_note = models.TextField(blank=True, editable=False)
    # The text as it was when last rejected: with the text approved later in its place, a
    # labelled pair the tone guard's model learns from (outreach/tone_training.py). NULL
    # until a rejection: a nullable column is added without rebuilding the table on SQLite
    # (whose rebuild would break the outbox's triggers) and raw inserts need not name it.
    rejected_text = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001

    class Meta:
        permissions = [("approve_replydraft", "Can approve a reply draft")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(is_first_reply=True), name="draft_one_first_reply"
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(is_first_reply=False, later=False),
                name="draft_one_amend_request",
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(later=True), name="draft_one_later_reply"
            ),
            models.CheckConstraint(
                condition=Q(later=False) | Q(is_first_reply=False), name="draft_later_not_first"
            ),
            # An approval is whole or absent: who, when and which text.
            models.CheckConstraint(
                condition=(
                    Q(approved_by__isnull=True)
                    & Q(approved_at__isnull=True)
                    & Q(approved_text_hash="")
                )
                | (
                    Q(approved_by__isnull=False)
                    & Q(approved_at__isnull=False)
                    & ~Q(approved_text_hash="")
                ),
                name="draft_approval_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"draft for case {self.case_id}"

    @property
    def approval_is_valid(self) -> bool:
        """True when approved and the text is still exactly the approved text."""
        return bool(self.approved_text_hash) and self.approved_text_hash == text_hash(self.text)

    @property
    def blocking_codes(self) -> list[str]:
        return [f["code"] for f in self.tone_findings if f.get("blocking")]


class ActionKind(models.TextChoices):
    REPLY = "reply", "Public reply"
    FOLLOW = "follow", "Follow"
    PRIVATE_MESSAGE = "private_message", "Private message"
    # Own-brand, after resolution: one polite public reply asking whether the
    # person would amend their post (an approved, tone-checked ReplyDraft).
    AMEND_REQUEST = "amend_request", "Request to amend the post"
    # After engagement: the team's next public answer in the conversation.
    LATER_REPLY = "later_reply", "Later reply"


# The kinds that post text, each from an approved draft.
TEXT_KINDS: tuple[str, ...] = (
    ActionKind.REPLY,
    ActionKind.AMEND_REQUEST,
    ActionKind.LATER_REPLY,
    ActionKind.PRIVATE_MESSAGE,
)
# The conversation after engagement: as many as the team answers, each approved.
CONVERSATION_KINDS: tuple[str, ...] = (ActionKind.LATER_REPLY, ActionKind.PRIVATE_MESSAGE)


class ActionState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class OutboundActionQuerySet(models.QuerySet["OutboundAction"]):
    def sent_replies(self) -> OutboundActionQuerySet:
        """First replies the platform has: what a person can engage with."""
        return self.filter(kind=ActionKind.REPLY, state=ActionState.SENT)

    def sent_reply(self, case: Case | int) -> OutboundAction | None:
        """The case's first reply once sent, with its account; None before."""
        case_id = case if isinstance(case, int) else case.pk
        return self.sent_replies().filter(case_id=case_id).select_related("account").first()


class OutboundAction(models.Model):
    """The outbox: something we intend to do on a platform, recorded before doing it."""

    Kind = ActionKind
    State = ActionState

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="actions")
    draft = models.ForeignKey(
        ReplyDraft, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    idempotency_key = models.CharField(max_length=100, unique=True)
    state = models.CharField(
        max_length=20, choices=ActionState.choices, default=ActionState.PENDING
    )
    text = models.TextField(blank=True)
    text_hash = models.CharField(max_length=64, blank=True)
    # The post a reply answers, fixed at approval; empty means the case's post.
    in_reply_to = models.CharField(max_length=255, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set when an attempt may have reached the platform without our hearing how it
    # ended (a timeout, a reset, an unreadable answer, a worker killed mid-send):
    # the next attempt asks the platform (``find_reply``) before anything else, and
    # such a row is never failed on a guess. Cleared once the platform has answered.
    outcome_unknown_since = models.DateTimeField(null=True, blank=True)

    objects = OutboundActionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ActionKind.values), name="action_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ActionState.values), name="action_state_valid"
            ),
            # Rule 4: one public reply per case (a cancelled one may be replaced).
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(kind="reply") & ~Q(state="cancelled"),
                name="action_one_reply_per_case",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(kind="follow") & ~Q(state="cancelled"),
                name="action_one_follow_per_case",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(kind="amend_request") & ~Q(state="cancelled"),
                name="action_one_amend_request_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=TEXT_KINDS) | (~Q(text="") & ~Q(text_hash="")),
                name="action_reply_has_text",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "not_before"], name="action_due"),
            models.Index(fields=["account", "created_at"], name="action_account_created"),
            # The caps and the dispatcher's spacing, each answered by one index range
            # whatever the size of the outbox (issue #15): an account's sends by time
            # (its last send, its sends this hour), all sent replies by time (a brand's
            # today), replies by creation (approval's caps), an account's slots.
            models.Index(
                fields=["account", "sent_at"],
                name="action_account_sent",
                condition=Q(state="sent"),
            ),
            models.Index(
                fields=["sent_at"],
                name="action_reply_sent",
                condition=Q(kind="reply", state="sent"),
            ),
            models.Index(
                fields=["created_at"], name="action_reply_created", condition=Q(kind="reply")
            ),
            models.Index(fields=["account", "not_before"], name="action_account_slot"),
            # An account's queue alone (pending and sending rows): the drain's next row is
            # found without walking the account's sent history, which the index above
            # holds too (send_slot reads its top, whatever the state).
            models.Index(
                fields=["account", "not_before"],
                name="action_account_queue",
                condition=Q(state__in=[ActionState.PENDING, ActionState.SENDING]),
            ),
            # Engagement: a notification about our post is matched by the post's id.
            models.Index(
                fields=["external_id"], name="action_sent_external", condition=Q(state="sent")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for case {self.case_id} ({self.state})"


# What a person did, exactly the kinds the platform adapters report: one list,
# so a kind added to the adapters cannot be refused by the database or vice versa.
EngagementKind = models.TextChoices(
    "EngagementKind",
    [
        (kind.upper(), (kind, kind.replace("_", " ").capitalize()))
        for kind in NotificationKind.CHOICES
    ],
)


class EngagementEvent(models.Model):
    """What the person did after our reply (from the account's notifications)."""

    Kind = EngagementKind

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="engagements")
    platform = models.CharField(max_length=20, choices=PLATFORM_CHOICES)
    kind = models.CharField(max_length=20, choices=EngagementKind.choices)
    external_id = models.CharField(max_length=255)
    text = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at"]
        indexes = [models.Index(fields=["occurred_at"], name="engagement_occurred")]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="engagement_unique_per_platform"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EngagementKind.values), name="engagement_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"


class CaseEvent(models.Model):
    """The audit trail: every move, approval, send and override. Append-only."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=40)
    origin = models.CharField(max_length=30, choices=Stage.choices)
    target = models.CharField(max_length=30, choices=Stage.choices)
    actor = team_member()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="caseevent_case_created")]

    def __str__(self) -> str:
        return f"{self.action}: {self.origin} -> {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("case events are append-only")


class FindingOverrule(models.Model):
    """A reviewer's written decision that one tone finding does not apply to a draft.

    Written by ``workflow.overrule_finding`` only (beside a ``CaseEvent`` in the audit
    trail); only warnings and model findings can be overruled, never the firm codes
    (links, prices, codes, our brand named). Counted per code in the admin so that
    patterns that are often overruled surface. Append-only, in the database too: a firm
    code is refused by a CHECK constraint and an edit or deletion by a trigger
    (``dbrules.overrule_install_sql``), except ``forget_person`` erasing the reason."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="overrules")
    draft = models.ForeignKey("ReplyDraft", on_delete=models.PROTECT, related_name="overrules")
    code = models.CharField(max_length=40)
    source = models.CharField(max_length=20, default="pattern")
    reason = models.TextField()
    # The text the finding was overruled on: an edit brings the finding back.
    text_hash = models.CharField(max_length=64)
    actor = team_member()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["code", "source"], name="overrule_code_source")]
        constraints = [
            # Links, prices, codes and our brand named are never overruled (rules 2 and 3),
            # also by a row written below the workflow. Append-only: migration 0026's triggers.
            models.CheckConstraint(
                condition=~Q(code__in=sorted(FIRM_CODES)), name="overrule_never_firm"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.source}) overruled on case {self.case_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("overrules are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("overrules are append-only")


class CaseDay(models.Model):
    """The cases opened on a day (UTC), per brand and kind, and how many of them reached each
    step of the dashboard's funnel and jackal check, counted once per case as the workflow
    moves them (``outreach/rollups.py``, from ``workflow/events.py``)."""

    day = models.DateField(help_text="The day the cases were opened (UTC).")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=PlaybookKind.choices)
    step = models.CharField(max_length=30, help_text='"opened", a stage, "blocked" or "stopped".')
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "brand", "kind", "step"]
        constraints = [
            models.UniqueConstraint(fields=["day", "brand", "kind", "step"], name="case_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.brand_id} {self.kind} {self.step}: {self.count}"


class StaffDay(models.Model):
    """Per member of staff, brand and day the cases were opened (UTC): the approvals they gave
    and how long their cases spent in each working stage, as counts per bin of hours
    (``outreach/rollups.py``, from ``workflow/events.py``): the dashboard's workload panel
    reads these instead of the case events."""

    day = models.DateField(help_text="The day the cases were opened (UTC).")
    user = team_member(on_delete=models.CASCADE, optional=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(max_length=30, help_text='"approved" or a working stage.')
    bin = models.PositiveSmallIntegerField(
        default=0, help_text="The bin of hours spent in the stage (outreach.rollups.HOUR_EDGES)."
    )
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "user", "brand", "measure", "bin"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "user", "brand", "measure", "bin"], name="staff_day_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id} {self.measure}[{self.bin}]: {self.count}"
