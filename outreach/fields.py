"""Field declarations the outreach models share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models


def team_member(
    *,
    on_delete: Callable[..., None] = models.PROTECT,
    optional: bool = True,
    editable: bool = True,
    related_name: str = "+",
) -> models.ForeignKey[Any, Any]:
    """A foreign key to the user who did something; kept when they leave unless told otherwise."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=on_delete,
        null=optional,
        blank=optional,
        editable=editable,
        related_name=related_name,
    )
