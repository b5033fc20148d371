"""Forms of the review admin. They only validate input; the moves live in workflow.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from monitoring.models import Brand, Incident
from outreach.models import Playbook, ResearchNote, Severity
from outreach.workflow import MAX_DRAFT_CHARS, MAX_NOTE_CHARS, PLAYBOOK_EDITABLE_FIELDS
from outreach.workflow.playbooks import limit_problems

INCIDENT_CHOICE_DAYS = 14


def recent_incidents(*, brand_id: int | None = None, keep: int | None = None) -> Any:
    """Incidents worth choosing from: not closed, or seen in the last two weeks (and the
    one already chosen), newest first."""
    since = timezone.now() - dt.timedelta(days=INCIDENT_CHOICE_DAYS)
    recent = Q(last_seen_at__gte=since) | ~Q(state=Incident.State.CLOSED)
    if keep is not None:
        recent |= Q(pk=keep)
    incidents = Incident.objects.filter(recent).select_related("brand")
    if brand_id is not None:
        incidents = incidents.filter(brand_id=brand_id)
    return incidents.order_by("-last_seen_at")


class IncidentChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return (
            f"#{obj.pk} {obj.brand} · {obj.topic} · {obj.get_state_display().lower()} · "
            f"{obj.volume} complaint{'s' if obj.volume != 1 else ''} since "
            f"{timezone.localtime(obj.first_seen_at):%d %b %H:%M}"
        )


class OpenCaseForm(forms.Form):
    """Open a case by hand from a post. The kind follows the brand (ours: own-brand
    service; a competitor: competitor outreach), so it is not asked."""

    post_id = forms.IntegerField(min_value=1, label="Post id")
    brand = forms.ModelChoiceField(
        queryset=Brand.objects.all(),
        help_text="Our brand opens an own-brand service case; a competitor, a competitor case.",
    )
    severity = forms.TypedChoiceField(choices=Severity.choices, coerce=int, initial=Severity.NORMAL)
    incident = IncidentChoiceField(
        queryset=Incident.objects.none(), required=False, help_text="Optional; of the same brand."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = recent_incidents()  # type: ignore[attr-defined]


class OpenFromDetectionsForm(forms.Form):
    """Open the cases of corrected detections (the ids travel in the form, checked again)."""

    ids = forms.CharField(max_length=2000, widget=forms.HiddenInput)
    severity = forms.TypedChoiceField(choices=Severity.choices, coerce=int, initial=Severity.NORMAL)


class ResearchForm(forms.Form):
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        max_length=MAX_NOTE_CHARS,
        required=False,
        help_text="What happened, in your own words.",
    )
    thread_checked = forms.BooleanField(
        required=False, label="I read the thread and the author's recent posts"
    )
    scope = forms.ChoiceField(choices=ResearchNote.Scope.choices, required=False)
    incident = IncidentChoiceField(
        queryset=Incident.objects.none(),
        required=False,
        help_text="When the scope is an incident: which one (this brand's recent incidents).",
    )

    def __init__(self, *args: Any, brand_id: int, current: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["incident"]
        field.queryset = recent_incidents(brand_id=brand_id, keep=current)  # type: ignore[attr-defined]


class DraftForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        max_length=MAX_DRAFT_CHARS,
        strip=False,
    )


class MoveForm(forms.Form):
    note = forms.CharField(max_length=MAX_NOTE_CHARS, required=False)
    text_hash = forms.CharField(max_length=64, required=False)


class DismissSelectedForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=MAX_NOTE_CHARS
    )


class RemoveDoNotContactForm(forms.Form):
    removal_reason = forms.CharField(
        label="Why remove it",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=MAX_NOTE_CHARS,
        help_text="Kept with the entry, with your name.",
    )


class TextListWidget(forms.Widget):
    """A list of texts as one text box each, plus empty boxes to add more (no JSON to type).

    Every box posts under the field's name; empty ones are dropped when cleaned."""

    def __init__(self, *, blank: int = 2, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.blank = blank

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> str:
        texts = [str(t) for t in value] if isinstance(value, list | tuple) else []
        boxes = format_html_join(
            "",
            '<li><textarea name="{}" rows="3" cols="80" aria-label="text {}">{}</textarea></li>',
            ((name, i + 1, text) for i, text in enumerate([*texts, *[""] * self.blank])),
        )
        element_id = (attrs or {}).get("id") or f"id_{name}"
        return format_html(
            '<ol class="nj-text-list" id="{}">{}</ol>'
            '<p class="help">One text per box; an emptied box is removed. '
            "Save to get more empty boxes.</p>",
            element_id,
            boxes,
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])


class TextListField(forms.Field):
    """A list of non-empty texts, each at most ``max_chars`` long."""

    widget = TextListWidget

    def __init__(self, *, max_chars: int = MAX_DRAFT_CHARS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_chars = max_chars

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
            raise forms.ValidationError("Enter each text in its own box.")
        texts = [t.replace("\r\n", "\n").strip() for t in value]
        return [t for t in texts if t]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        for number, text in enumerate(value, 1):
            if len(text) > self.max_chars:
                raise forms.ValidationError(
                    f"Text {number} is longer than {self.max_chars} characters."
                )

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial or []) != self.to_python(data)


class PlaybookForm(forms.ModelForm):
    edit_note = forms.CharField(
        label="What changed and why",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        max_length=MAX_NOTE_CHARS,
        help_text="What changed and why (kept with the new version).",
    )

    # Edited as a list of texts, one box each; offered on the case page as starting points.
    reply_templates = TextListField(
        required=False,
        label="Reply templates",
        help_text="Starting points for replies, shown on the case page. "
        "A template sent unchanged is a tone-guard warning.",
    )

    class Meta:
        model = Playbook
        fields = ["kind", *PLAYBOOK_EDITABLE_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A read-only page (view permission only, or a retired version) has no
        # editable fields at all: the admin leaves them out of the form.
        if self.instance.pk:
            if "kind" in self.fields:
                self.fields["kind"].disabled = True
        elif "edit_note" in self.fields:
            self.fields["edit_note"].required = False

    def clean(self) -> dict[str, Any]:
        """Refuse values beyond the limits no playbook may cross (rules 6 and 7)."""
        cleaned = super().clean() or {}
        kind = self.instance.kind if self.instance.pk else cleaned.get("kind", "")
        for name, problem in limit_problems(kind, cleaned).items():
            if name in self.fields:
                self.add_error(name, problem)
        return cleaned
