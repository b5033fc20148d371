"""Every variable config/settings.py reads is documented in .env.example and README.md."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_setting_read_from_the_environment_is_documented() -> None:
    settings_source = (REPO / "config" / "settings.py").read_text()
    names = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', settings_source))
    assert "NOJACKAL_BROKER_TIMEOUT_SECONDS" in names  # the pattern still finds them
    env_example = (REPO / ".env.example").read_text()
    readme = (REPO / "README.md").read_text()
    assert sorted(n for n in names if not re.search(rf"^{n}=", env_example, re.M)) == []
    assert sorted(n for n in names if f"`{n}`" not in readme) == []
