"""bench/tone_eval.py honours every field of a row (first_reply, personal_account, the
platform's limits when a row has none) and prints only aggregate figures for the
blind set. Runs on a small file of its own, never on the blind set."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tone_eval.py"


@pytest.fixture(scope="module")
def bench() -> Any:
    spec = importlib.util.spec_from_file_location("tone_eval_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ROW = {
    "platform": "sandbox",
    "playbook": "own_brand",
    "own_terms": ["Northwind"],
    "competitor_terms": ["Telvana"],
    "post_text": "Northwind charged me twice, still waiting on a refund.",
    "language": "en",
    "text": "Glad the refund landed, DM me if not. Could you update your post?",
}


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_the_bench_honours_first_reply_personal_account_and_platform_limits(
    bench: Any, tmp_path: Path
) -> None:
    rows = [
        {**ROW, "id": "first", "expect_blocking": ["delete_request"], "expect_ok": False},
        {**ROW, "id": "later", "first_reply": False, "expect_blocking": [], "expect_ok": True},
        {
            **ROW,
            "id": "personal",
            "first_reply": False,
            "personal_account": True,
            "expect_blocking": ["no_disclosure"],
            "expect_ok": False,
        },
        {
            **ROW,
            "id": "long",
            "platform": "x",
            "text": "Sorry! DM us. " + "a" * 300,
            "expect_blocking": ["too_long"],
            "expect_ok": False,
        },
    ]
    results = {r.id: r for r in bench.run(_write(tmp_path / "rows.jsonl", rows))}
    assert "delete_request" in results["first"].blocking
    assert results["later"].blocking == set()
    assert results["personal"].blocking == {"no_disclosure"}
    assert "too_long" in results["long"].blocking


def test_the_blind_summary_prints_aggregates_and_no_rows(
    bench: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {**ROW, "id": "secret-row-id", "text": "secret text here, sorry, DM us",
         "expect_blocking": [], "expect_ok": True},
        {**ROW, "id": "secret-row-2", "language": "es", "text": "Borra el tuit.",
         "expect_blocking": ["delete_request"], "expect_ok": False},
    ]  # fmt: skip
    bench.summary(bench.run(_write(tmp_path / "blind.jsonl", rows)))
    out = capsys.readouterr().out
    assert "bad replies blocked" in out and "delete_request" in out
    assert "es " in out
    assert "secret" not in out
