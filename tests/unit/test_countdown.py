"""Countdown text, glyphs and tick interval for the TUI."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from uq.domain import SlaState
from uq.queue.countdown import countdown_text, state_glyph, tick_interval


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (59, "59s"),
        (60, "1m"),
        (23 * 60 + 59, "23m"),
        (59 * 60 + 59, "59m"),
        (3600, "1h 00m"),
        (3600 + 5 * 60, "1h 05m"),
        (3600 + 5 * 60 + 59, "1h 05m"),
        (23 * 3600 + 59 * 60, "23h 59m"),
        (86400, "1d 0h"),
        (2 * 86400 + 4 * 3600, "2d 4h"),
        (78 * 3600, "3d 6h"),  # a 78-hour clock, never "78:00"
        (30 * 86400, "30d 0h"),
        (-1, "-1s"),
        (-45, "-45s"),
        (-15 * 60, "-15m"),
        (-(15 * 60 + 30), "-15m"),
        (-(3600 + 5 * 60), "-1h 05m"),
        (-(2 * 86400 + 4 * 3600), "-2d 4h"),
    ],
    ids=lambda v: str(v),
)
def test_countdown_text(seconds: int, text: str) -> None:
    assert countdown_text(seconds) == text


UNIT_RE = re.compile(r"^-?(\d+s|\d+m|\d+h \d{2}m|\d+d \d{1,2}h)$")


@given(st.integers(min_value=-400 * 86400, max_value=400 * 86400))
def test_countdown_text_shape(seconds: int) -> None:
    text = countdown_text(seconds)
    assert ":" not in text
    assert UNIT_RE.match(text), text
    assert text.startswith("-") == (seconds < 0)
    assert len(text.lstrip("-").split()) <= 2


def test_glyphs_distinct_single_cell_and_ascii_fallback() -> None:
    glyphs = [state_glyph(s) for s in SlaState]
    assert glyphs == ["○", "▲", "✖"]
    assert all(len(g) == 1 for g in glyphs)
    ascii_glyphs = [state_glyph(s, ascii=True) for s in SlaState]
    assert ascii_glyphs == ["o", "!", "x"]
    assert all(g.isascii() for g in ascii_glyphs)


@pytest.mark.parametrize(
    ("seconds", "interval"),
    [
        (3600, 30),
        (600, 30),
        (599, 1),
        (30, 1),
        (0, 1),
        (-1, 1),
        (-599, 1),
        (-600, 30),
        (-7200, 30),
    ],
    ids=["an-hour-left", "exactly-10m-left", "under-10m", "30s-left", "due-now",
         "just-breached", "breached-9m59s", "breached-10m", "breached-2h"],
)
def test_tick_interval(seconds: int, interval: int) -> None:
    assert tick_interval(seconds) == interval
