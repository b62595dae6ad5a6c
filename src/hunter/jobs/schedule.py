"""Pure schedule rules: how old a lead's scan may get before it is rescanned, and when a periodic
duty is due. No I/O and no clock reads; the caller passes ``now``.

``HUNTER_RESCAN_SCHEDULE`` reads like ``P1-P3=7d,P4-P6=30d,incomplete=1d``: each entry names a
priority, a range of priorities, or ``incomplete`` (a latest scan that could not finish, which
has no priority) and the oldest that scan may be. Leads not named are never rescanned by the
schedule. Later entries override earlier ones, so ``P1-P6=30d,P1=7d`` works.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hunter.core.scoring import PRIORITIES

INCOMPLETE = "incomplete"
SCHEDULE_KEYS = (*PRIORITIES, INCOMPLETE)

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([wdhms])\s*$", re.IGNORECASE)
_RANGE = re.compile(r"^P([1-6])(?:\s*-\s*P?([1-6]))?$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``45s``, ``2w`` → a timedelta. A unit is required."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"expected a duration like 7d, 12h, 30m or 45s, got {text.strip()!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"a rescan age must be positive, got {text.strip()!r}")
    return timedelta(seconds=seconds)


def _keys(selector: str) -> list[str]:
    selector = selector.strip()
    if selector.lower() == INCOMPLETE:
        return [INCOMPLETE]
    match = _RANGE.match(selector)
    if match is None:
        raise ValueError(f"expected P1-P6, a range like P1-P3, or 'incomplete', got {selector!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if high < low:
        raise ValueError(f"priority range {selector!r} runs backwards")
    return [f"P{n}" for n in range(low, high + 1)]


@dataclass(frozen=True)
class RescanSchedule:
    """The oldest a scan may get, per priority key (P1–P6, ``incomplete``)."""

    max_age: Mapping[str, timedelta] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.max_age)

    def max_age_for(self, priority: str | None, complete: bool) -> timedelta | None:
        key = priority if complete and priority else INCOMPLETE if not complete else None
        return self.max_age.get(key) if key else None

    def is_due(
        self, *, priority: str | None, complete: bool, scanned_at: datetime | None, now: datetime
    ) -> bool:
        age = self.max_age_for(priority, complete)
        if age is None:
            return False
        return scanned_at is None or scanned_at <= now - age

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """Per key: a lead whose latest scan finished at or before this instant is due."""
        return {key: now - age for key, age in self.max_age.items()}

    def describe(self) -> str:
        return ",".join(f"{key}={_format(age)}" for key, age in self.max_age.items())


def _format(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_schedule(text: str) -> RescanSchedule:
    """Parse ``HUNTER_RESCAN_SCHEDULE``; an empty text is a schedule that never rescans."""
    ages: dict[str, timedelta] = {}
    for entry in text.split(","):
        if not entry.strip():
            continue
        selector, sep, duration = entry.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=AGE entries like P1-P3=7d, got {entry.strip()!r}")
        age = parse_duration(duration)
        for key in _keys(selector):
            ages[key] = age
    ordered = {key: ages[key] for key in SCHEDULE_KEYS if key in ages}
    return RescanSchedule(ordered)


def is_periodic_due(last_run: float | None, interval: float, now: float) -> bool:
    """A periodic duty (monotonic seconds) runs at start and then every ``interval`` seconds."""
    return last_run is None or now - last_run >= interval
