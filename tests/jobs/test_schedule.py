"""Schedule rules are pure: plain values in, decisions out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hunter.config import Settings
from hunter.jobs.schedule import (
    INCOMPLETE,
    RescanSchedule,
    is_periodic_due,
    parse_duration,
    parse_schedule,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(days=14)),
        (" 1.5D ", timedelta(hours=36)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["7", "d", "-1d", "0d", "7 days", ""])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|positive"):
        parse_duration(text)


def test_the_default_schedule() -> None:
    schedule = parse_schedule(Settings.model_fields["rescan_schedule"].default)
    assert schedule.max_age == {
        "P1": timedelta(days=7),
        "P2": timedelta(days=7),
        "P3": timedelta(days=7),
        "P4": timedelta(days=30),
        "P5": timedelta(days=30),
        "P6": timedelta(days=30),
        INCOMPLETE: timedelta(days=1),
    }
    assert schedule.describe() == "P1=7d,P2=7d,P3=7d,P4=30d,P5=30d,P6=30d,incomplete=1d"


def test_later_entries_override_and_unnamed_priorities_never_rescan() -> None:
    schedule = parse_schedule("P1-P6=30d, p2=7d")
    assert schedule.max_age["P2"] == timedelta(days=7)
    assert schedule.max_age["P6"] == timedelta(days=30)
    assert INCOMPLETE not in schedule.max_age
    assert schedule.max_age_for(None, complete=False) is None


def test_empty_schedule_is_off() -> None:
    assert not parse_schedule("").enabled
    assert not parse_schedule(" , ").enabled
    assert parse_schedule("incomplete=6h").enabled


@pytest.mark.parametrize("text", ["P0=7d", "P7=1d", "P3-P1=7d", "P1", "gold=7d", "P1=7"])
def test_bad_schedules_are_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        parse_schedule(text)


def test_due_by_priority_and_age() -> None:
    schedule = parse_schedule("P1-P3=7d,P4-P6=30d,incomplete=1d")
    week_ago = NOW - timedelta(days=7)
    assert schedule.is_due(priority="P1", complete=True, scanned_at=week_ago, now=NOW)
    assert not schedule.is_due(
        priority="P1", complete=True, scanned_at=week_ago + timedelta(seconds=1), now=NOW
    )
    assert not schedule.is_due(priority="P5", complete=True, scanned_at=week_ago, now=NOW)
    assert schedule.is_due(priority="P5", complete=True, scanned_at=NOW - timedelta(days=31), now=NOW)
    # An incomplete scan has no priority: the "incomplete" age applies whatever it says.
    assert schedule.is_due(priority=None, complete=False, scanned_at=NOW - timedelta(days=2), now=NOW)
    assert schedule.is_due(priority="P1", complete=False, scanned_at=NOW - timedelta(days=2), now=NOW)
    # A lead whose scan row is gone counts as never scanned.
    assert schedule.is_due(priority="P2", complete=True, scanned_at=None, now=NOW)


def test_cutoffs_match_is_due() -> None:
    schedule = RescanSchedule({"P1": timedelta(days=7), INCOMPLETE: timedelta(hours=6)})
    assert schedule.cutoffs(NOW) == {"P1": NOW - timedelta(days=7), INCOMPLETE: NOW - timedelta(hours=6)}


def test_periodic_duties_run_at_start_then_every_interval() -> None:
    assert is_periodic_due(None, 60, 1000.0)
    assert not is_periodic_due(1000.0, 60, 1059.9)
    assert is_periodic_due(1000.0, 60, 1060.0)
