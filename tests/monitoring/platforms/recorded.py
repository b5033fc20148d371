"""Load the recorded real platform payloads kept in ``shared/data/platform_payloads``.

The recordings stay where they are (their README does not allow copying them
into the project); tests read them in place. ``NOJACKAL_SHARED_DIR`` points at
the shared folder and defaults to ``<repo>/../shared``.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[3]
SHARED_DIR = Path(os.environ.get("NOJACKAL_SHARED_DIR", REPO_DIR.parent / "shared")).resolve()
PAYLOADS_DIR = SHARED_DIR / "data" / "platform_payloads"


def path(platform: str, filename: str) -> Path:
    """Path of one recorded file (``cassettes/x.yaml`` works too); FileNotFoundError if missing."""
    found = (PAYLOADS_DIR / platform / filename).resolve()
    if PAYLOADS_DIR not in found.parents:
        raise ValueError(f"{platform}/{filename} is outside the recordings")
    if not found.is_file():
        raise FileNotFoundError(f"no recording {found} (is NOJACKAL_SHARED_DIR right?)")
    return found


@functools.cache
def _load_cached(platform: str, filename: str) -> dict[str, Any]:
    with path(platform, filename).open(encoding="utf-8") as handle:
        doc: dict[str, Any] = json.load(handle)
    return doc


def load(platform: str, filename: str) -> dict[str, Any]:
    """The normalised recording (``_provenance``, ``request``, ``response``), a fresh copy."""
    if not filename.endswith(".json"):
        filename += ".json"
    return copy.deepcopy(_load_cached(platform, filename))


def body(platform: str, filename: str) -> Any:
    """Just the recorded response body (the payload)."""
    return load(platform, filename)["response"]["body"]


def headers(platform: str, filename: str) -> dict[str, str]:
    """The recorded response headers (lower-case names), ``{}`` when none were stored."""
    return dict(load(platform, filename).get("response", {}).get("headers", {}))


def status(platform: str, filename: str) -> int:
    """The recorded HTTP status, 200 when the source stored the body only."""
    return int(load(platform, filename).get("response", {}).get("status") or 200)


def cassette(platform: str, filename: str) -> Path:
    """Path of a whole vcrpy/betamax cassette under ``<platform>/cassettes``."""
    return path(platform, f"cassettes/{filename}")
