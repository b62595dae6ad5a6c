"""Segment and the single P1–P6 priority; the referral lift; the sort order."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from hunter.core.priority import (
    NO_PRIORITY_RANK,
    assign_priority,
    priority_label,
    priority_rank,
    segment_label,
)
from hunter.core.scoring import PRIORITIES, Facts, ReferralInfo, default_rules, load_rules

RULES_PATH = Path(__file__).resolve().parents[2] / "src/hunter/data/scoring.yaml"


def facts(**changes: Any) -> Facts:
    base = Facts(
        domain="firma.com.tr",
        complete=True,
        platform="hosting",
        receives_mail=True,
        parked=False,
        half_migrated=False,
        behind_gateway=False,
        low_confidence=False,
        gaps=frozenset(),
        security_gaps=False,
        size=None,
        created=None,
        domain_age_days=None,
        expires=None,
        expires_in_days=None,
        registry_deleting=None,
        referral_active=False,
        referral_qualification=None,
    )
    if changes.get("platform") in ("none", "unresolved"):
        changes.setdefault("receives_mail", False)
    return dataclasses.replace(base, **changes)


def test_priority_rank() -> None:
    assert [priority_rank(p) for p in PRIORITIES] == [1, 2, 3, 4, 5, 6]
    assert priority_rank(None) == NO_PRIORITY_RANK == 99
    with pytest.raises(ValueError, match="unknown priority"):
        priority_rank("P7")


@pytest.mark.parametrize(
    ("changes", "segment", "priority"),
    [
        ({"platform": "hosting"}, "Migration", "P1"),
        ({"platform": "self_hosted"}, "Migration", "P1"),
        ({"platform": "google", "half_migrated": True}, "Migration", "P1"),
        ({"platform": "unknown", "half_migrated": True}, "Migration", "P1"),
        ({"platform": "google"}, "Migration", "P2"),
        ({"platform": "zoho"}, "Migration", "P2"),
        ({"platform": "yandex"}, "Migration", "P2"),
        ({"platform": "amazon"}, "Migration", "P2"),
        ({"platform": "icloud"}, "Migration", "P2"),
        ({"platform": "other_cloud"}, "Migration", "P2"),
        ({"platform": "m365", "security_gaps": True}, "Existing", "P3"),
        ({"platform": "m365"}, "Existing", "P4"),
        ({"platform": "m365", "behind_gateway": True}, "Existing", "P4"),
        ({"platform": "unknown"}, "Cold", "P5"),
        ({"platform": "unknown", "behind_gateway": True}, "Cold", "P5"),
        ({"platform": "google", "low_confidence": True}, "Cold", "P5"),
        ({"platform": "m365", "low_confidence": True, "security_gaps": True}, "Cold", "P5"),
        ({"platform": "none"}, "Skip", "P6"),
        ({"platform": "unresolved"}, "Skip", "P6"),
        ({"platform": "hosting", "parked": True}, "Skip", "P6"),
        ({"platform": "hosting", "parked": True, "half_migrated": True}, "Skip", "P6"),
    ],
)
def test_priority_table(changes: dict[str, Any], segment: str, priority: str) -> None:
    decision = assign_priority(facts(**changes), default_rules())
    assert (decision.segment, decision.priority, decision.base_priority) == (segment, priority, priority)
    assert decision.lift is None
    assert decision.rank == priority_rank(priority)


def test_incomplete_has_no_segment_or_priority() -> None:
    decision = assign_priority(facts(complete=False, platform=None), default_rules())
    assert (decision.segment, decision.priority, decision.rank) == (None, None, 99)


@pytest.mark.parametrize(
    ("platform", "qualification", "active", "expected"),
    [
        ("google", "salesqualified", True, "P1"),
        ("google", "direct", True, "P1"),
        ("google", "marketingqualified", True, "P2"),
        ("google", "salesqualified", False, "P2"),
        ("unknown", "salesqualified", True, "P4"),
        ("hosting", "salesqualified", True, "P1"),
        ("none", "salesqualified", True, "P6"),
    ],
)
def test_referral_lift(platform: str, qualification: str, active: bool, expected: str) -> None:
    f = facts(
        platform=platform, referral_active=active, referral_qualification=qualification if active else None
    )
    referral = ReferralInfo(status="Active", qualification=qualification)
    decision = assign_priority(f, default_rules(), referral)
    assert decision.priority == expected
    lifted = decision.priority != decision.base_priority
    assert (decision.lift is not None) == lifted
    if decision.lift is not None:
        assert decision.lift.factor == "referral:priority_lift"
        assert decision.lift.points == 0
        assert f"priority:{expected}" in decision.lift.claims


def test_rules_are_data() -> None:
    """Moving self-hosted to P2 is a YAML edit, not a code change."""
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    for rule in data["priority"]["rules"]:
        platforms = rule["if"].get("platform")
        if platforms == ["hosting", "self_hosted"]:
            rule["if"]["platform"] = ["hosting"]
    data["priority"]["rules"].insert(
        -1, {"if": {"platform": ["self_hosted"]}, "segment": "Migration", "priority": "P2"}
    )
    rules = load_rules(data)
    assert assign_priority(facts(platform="self_hosted"), rules).priority == "P2"
    assert assign_priority(facts(platform="self_hosted"), default_rules()).priority == "P1"


def test_rule_cache_returns_the_same_answer() -> None:
    rules = load_rules(yaml.safe_load(RULES_PATH.read_text(encoding="utf-8")))
    first = assign_priority(facts(platform="m365", security_gaps=True), rules)
    again = assign_priority(facts(platform="m365", security_gaps=True), rules)
    assert first == again
    assert assign_priority(facts(platform="m365"), rules).priority == "P4"


def test_list_order_is_priority_then_score() -> None:
    leads = [
        ("a", None, None),
        ("b", "P2", 70),
        ("c", "P1", 40),
        ("d", "P1", 75),
        ("e", "P6", 0),
        ("f", "P2", 90),
    ]
    ordered = sorted(leads, key=lambda lead: (priority_rank(lead[1]), -(lead[2] or 0)))
    assert [lead[0] for lead in ordered] == ["d", "c", "f", "b", "e", "a"]


def test_labels() -> None:
    assert priority_label("P1", "en") == "High-potential greenfield"
    assert priority_label("P1", "tr") == "Yüksek potansiyelli yeni müşteri"
    assert priority_label(None, "tr") == "Yeniden tarama gerekli"
    assert segment_label("Migration", "tr") == "Geçiş"
    assert segment_label(None, "en") == "—"
