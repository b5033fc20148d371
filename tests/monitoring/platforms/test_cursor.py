"""The one cursor codec: JSON state in, JSON state out, anything else refused."""

from __future__ import annotations

import pytest

from monitoring.platforms.base import PermanentError
from monitoring.platforms.cursor import dump_cursor, load_cursor


def test_a_dumped_cursor_loads_back_to_the_same_state() -> None:
    state = {"ts": 12, "seen": ["b", "a"]}
    assert load_cursor(dump_cursor(state), "Somewhere") == state


def test_equal_states_give_equal_cursors() -> None:
    assert dump_cursor({"a": 1, "b": 2}) == dump_cursor({"b": 2, "a": 1})


def test_an_empty_cursor_is_the_start() -> None:
    assert load_cursor("", "Somewhere") == {}


@pytest.mark.parametrize("bad", ["not json", "[1]", '"text"', '{"ts": "soon"}', '{"x": 1}'])
def test_a_cursor_that_does_not_read_back_is_permanent(bad: str) -> None:
    with pytest.raises(PermanentError, match="unreadable Somewhere cursor"):
        load_cursor(bad, "Somewhere", lambda s: isinstance(s["ts"], int))
