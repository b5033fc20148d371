"""Form pieces for platform credentials: write-only fields that are never shown back."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from monitoring.models import Account, Source
from monitoring.platforms import PlatformError, check_account_options


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value back, not even after a failed submit."""

    def format_value(self, value: Any) -> str | None:
        return None


def parse_credentials(raw: str) -> dict[str, str]:
    """A JSON object, or ``key=value`` lines, into a mapping of strings."""
    raw = raw.strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise forms.ValidationError("Credentials look like JSON but do not parse.") from None
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise forms.ValidationError("Credentials must be a JSON object of names to values.")
        return {k: str(v) for k, v in data.items()}
    result: dict[str, str] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            # Never echo the line: it may hold a secret.
            raise forms.ValidationError(f"Line {number} is not key=value.")
        result[key.strip()] = value.strip()
    return result


def store_credentials(obj: Account | Source, cleaned_data: dict[str, Any]) -> None:
    """Apply a credentials form to ``obj``: clear, replace, or keep them when left blank."""
    if cleaned_data.get("clear_credentials"):
        obj.set_credentials({})
    elif cleaned_data.get("credentials"):
        obj.set_credentials(cleaned_data["credentials"])


class AccountForm(forms.ModelForm):
    credentials = forms.CharField(
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 3, "cols": 60, "autocomplete": "off"}),
        help_text="Write-only: a JSON object or key=value lines. Leave blank to keep the "
        "stored credentials. They are encrypted and never shown again.",
    )
    clear_credentials = forms.BooleanField(required=False, label="Remove stored credentials")

    class Meta:
        model = Account
        fields = [
            "platform",
            "handle",
            "display_name",
            "options",
            "max_sends_per_hour",
            "enabled",
            "is_service",
            "personal_account",
        ]

    def clean_credentials(self) -> dict[str, str]:
        return parse_credentials(self.cleaned_data.get("credentials") or "")

    def clean(self) -> dict[str, Any]:
        """An option that does not parse, or an instance URL on our own network, is a form error."""
        data = super().clean() or {}
        if data.get("platform") and isinstance(data.get("options"), dict):
            try:
                check_account_options(data["platform"], data["options"])
            except PlatformError as exc:
                self.add_error("options", str(exc))
        return data
