"""Typed adapter options: each adapter declares its settings once, as a frozen dataclass.

A Source's ``options`` (merged over its Account's) are plain JSON typed in the
admin. Each adapter parses them once, in its constructor, into its own
``Options`` class: known keys are converted to the declared type and checked,
keys the adapter does not use are left alone (an account's options serve every
adapter of its platform and the outreach side too). The admin runs the same
parse when a source is saved, so a bad option is a form error, not a poll that
fails hours later.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, NewType, Self
from urllib.parse import urlparse

# OptionsError is declared beside the other adapter errors in base (which needs it);
# it is imported from here too.
from .errors import OptionsError

# Option types beyond the builtins: checked to be http(s) URLs with a host when set.
Url = NewType("Url", str)
ApiRoot = NewType("ApiRoot", str)  # a Url that paths are appended to: no trailing slash
NO_URL = Url("")
NO_API_ROOT = ApiRoot("")

MAX_TIMEOUT = 300.0
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


@dataclasses.dataclass(frozen=True)
class AdapterOptions:
    """Options every adapter has. Subclasses add fields and extend ``check``.

    ``required`` names options a source of this platform cannot poll without
    (checked when a source is saved and when the option is used, not at
    construction: an adapter is also built just to read its limits).
    """

    required: ClassVar[tuple[str, ...]] = ()

    timeout: float = 10.0

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> Self:
        """The options in ``raw`` typed and checked; OptionsError naming the first bad one."""
        hints = _hints(cls)
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            value = (raw or {}).get(field.name)
            # "" and null mean "not set", as the admin's JSON editor leaves them.
            if value is None or value == "":
                continue
            values[field.name] = _convert(field.name, value, hints[field.name])
        options = cls(**values)
        options.check()
        return options

    def check(self) -> None:
        """Raise OptionsError for a value of the right type that makes no sense."""
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise OptionsError(
                f"timeout {self.timeout!r} must be between 0 and {MAX_TIMEOUT:g} seconds"
            )

    def urls(self, given: Mapping[str, Any]) -> dict[str, str]:
        """The URL options set in ``given`` (not defaults), by name, as parsed."""
        hints = _hints(type(self))
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if hints[field.name] in (Url, ApiRoot) and given.get(field.name)
        }

    def missing(self) -> list[str]:
        """The required options that are not set."""
        return [name for name in self.required if not getattr(self, name)]


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """OptionsError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise OptionsError(f"{name} {value!r} is not one of {', '.join(choices)}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(name: str, value: Any, kind: Any) -> Any:
    """``value`` as ``kind`` (str, Url, ApiRoot, int, float, bool or a tuple of floats)."""
    if kind in (Url, ApiRoot):
        url = _convert(name, value, str)
        parts = urlparse(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OptionsError(f"{name} {url!r} is not an http(s) URL")
        return url.rstrip("/") if kind is ApiRoot else url
    if kind is str:
        if isinstance(value, Mapping | list):
            raise OptionsError(f"{name} must be text, not {type(value).__name__}")
        return str(value).strip()
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in _TRUE:
            return True
        if str(value).strip().lower() in _FALSE:
            return False
        raise OptionsError(f"{name} {value!r} is not true or false")
    if kind in (int, float):
        return _number(name, value, kind)
    if typing.get_origin(kind) is tuple:
        items = typing.get_args(kind)
        if not isinstance(value, list | tuple) or len(value) != len(items):
            raise OptionsError(f"{name} {value!r} must be a list of {len(items)} numbers")
        return tuple(_number(name, item, float) for item in value)
    raise TypeError(f"option {name} has a type options cannot parse: {kind!r}")


def _number(name: str, value: Any, kind: type) -> Any:
    try:
        if isinstance(value, bool):
            raise ValueError("a boolean is not a number")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("not finite")
    except (TypeError, ValueError):
        unit = " of seconds" if name == "timeout" else ""
        raise OptionsError(f"{name} {value!r} is not a number{unit}") from None
    if kind is int:
        if number != int(number):
            raise OptionsError(f"{name} {value!r} is not a whole number")
        return int(number)
    return number
