"""Change detection between evaluations: what changed, once, and never from an incomplete scan."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from hunter.core.brief import texts
from hunter.core.changes import (
    SEVERITIES,
    EvaluationSnapshot,
    comparison_base,
    detect_changes,
)
from hunter.core.evaluation import Evaluation, evaluate, inputs_from_evidence

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
from dnscase import case_now, evidence_for

NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
M365 = {
    "mx": "0 firma-com-tr.mail.protection.outlook.com.",
    "txt": ["v=spf1 include:spf.protection.outlook.com -all"],
    "dmarc": "v=DMARC1; p=reject",
    "dkim": {
        "selector1": {"cname": "selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com", "key": True}
    },
}
GOOGLE = {
    "mx": "1 smtp.google.com.",
    "txt": ["v=spf1 include:_spf.google.com ~all"],
    "dmarc": "v=DMARC1; p=reject",
    "dkim": {"google": "key"},
}


def run(**case: Any) -> Evaluation:
    inputs = inputs_from_evidence(evidence_for(case), now=case_now(case))
    return evaluate(inputs)


def snap(**changes: Any) -> EvaluationSnapshot:
    base = EvaluationSnapshot(
        domain="firma.com.tr",
        evaluated_at=NOW,
        complete=True,
        platform="google",
        gateway=None,
        mx_hosts=("smtp.google.com",),
        dmarc_status="present",
        dmarc_policy="reject",
        tenant_traces=(),
        priority="P2",
        expires=None,
        rules_version="v",
    )
    return dataclasses.replace(base, **changes)


def kinds(changes: list[Any]) -> list[str]:
    return sorted(c.kind for c in changes)


def test_snapshot_round_trip() -> None:
    ev = run(**M365, registration={"expires": "2026-02-01"})
    data = json.loads(json.dumps(ev.snapshot.to_dict()))
    assert EvaluationSnapshot.from_dict(data) == ev.snapshot
    assert ev.snapshot.mx_hosts == ("firma-com-tr.mail.protection.outlook.com",)
    assert ev.snapshot.dmarc_policy == "reject"
    assert ev.snapshot.expires == date(2026, 2, 1)


def test_first_evaluation_reports_nothing_but_expiry() -> None:
    assert detect_changes(None, run(**M365), NOW) == []
    changes = detect_changes(None, run(**M365, registration={"expires": "2025-11-20"}), NOW)
    assert kinds(changes) == ["domain_expiring"]


@pytest.mark.parametrize(
    ("before", "after", "expected", "severity"),
    [
        (
            {"platform": "google"},
            {"platform": "m365", "mx_hosts": ("x.mail.protection.outlook.com",)},
            "platform_to_m365",
            "high",
        ),
        ({"platform": "m365"}, {"platform": "google"}, "platform_from_m365", "high"),
        ({"platform": "google"}, {"platform": "zoho"}, "platform_changed", "medium"),
        ({}, {"mx_hosts": ("aspmx.l.google.com",)}, "mx_changed", "low"),
        ({}, {"mx_hosts": ("mx.pphosted.com",), "gateway": "proofpoint"}, "mx_changed", "medium"),
        ({"dmarc_status": "missing", "dmarc_policy": None}, {}, "dmarc_added", "medium"),
        ({}, {"dmarc_status": "missing", "dmarc_policy": None}, "dmarc_removed", "high"),
        ({}, {"dmarc_policy": "none"}, "dmarc_weakened", "medium"),
        ({}, {"dmarc_status": "invalid", "dmarc_policy": None}, "dmarc_weakened", "medium"),
        ({"dmarc_policy": "none"}, {"dmarc_policy": "quarantine"}, "dmarc_strengthened", "low"),
        ({}, {"tenant_traces": ("ms_txt",)}, "tenant_traces_appeared", "high"),
        (
            {"platform": "m365"},
            {"platform": "m365", "tenant_traces": ("lyncdiscover",)},
            "tenant_traces_appeared",
            "low",
        ),
        ({"priority": "P2"}, {"priority": "P1"}, "priority_raised", "medium"),
        ({"priority": "P2"}, {"priority": "P5"}, "priority_lowered", "low"),
    ],
)
def test_change_kinds(before: dict[str, Any], after: dict[str, Any], expected: str, severity: str) -> None:
    later = NOW.replace(day=8)
    changes = detect_changes(snap(**before), snap(evaluated_at=later, **after), later)
    assert [c.kind for c in changes] == [expected]
    change = changes[0]
    assert change.severity == severity
    assert change.severity in SEVERITIES
    assert change.text["tr"]
    assert change.text["en"]
    assert change.text["tr"] != change.text["en"]
    assert "{" not in change.text["tr"] + change.text["en"]
    json.dumps(change.to_dict(), ensure_ascii=False)


def test_platform_change_does_not_also_report_mx() -> None:
    changes = detect_changes(run(**GOOGLE).snapshot, run(**M365, now="2025-11-08").snapshot, NOW)
    assert "mx_changed" not in kinds(changes)
    assert "platform_to_m365" in kinds(changes)
    assert "Microsoft 365" in changes[0].text["en"]


def test_incomplete_scans_raise_no_spurious_changes() -> None:
    complete = run(**GOOGLE)
    failed = run(**{**GOOGLE, "dmarc": {"status": "timeout"}}, now="2025-11-08")
    assert failed.needs_rescan
    assert detect_changes(complete, failed, NOW) == []  # no "DMARC removed", no "priority dropped"
    assert detect_changes(failed, complete, NOW) == []
    # The comparison base survives the incomplete scan, so a real change is still reported later.
    base = comparison_base(complete, failed)
    assert base == complete.snapshot
    removed = run(**{**GOOGLE, "dmarc": None}, now="2025-11-15")
    assert kinds(detect_changes(base, removed, NOW)) == ["dmarc_removed"]
    assert comparison_base(base, removed) == removed.snapshot
    assert comparison_base(None, failed) == failed.snapshot


def test_expiry_alerts_once_per_expiry_date() -> None:
    first = snap(expires=date(2025, 11, 20))
    changes = detect_changes(None, first, NOW)
    assert kinds(changes) == ["domain_expiring"]
    key = changes[0].dedupe_key
    assert key == "firma.com.tr:domain_expiring:2025-11-20"
    # The next evaluation with the same date inside the window does not alert again.
    later = NOW.replace(day=10)
    assert detect_changes(first, snap(evaluated_at=later, expires=date(2025, 11, 20)), later) == []
    # Entering the window for the first time alerts.
    outside = snap(expires=date(2025, 12, 25))
    inside_at = datetime(2025, 11, 30, tzinfo=UTC)
    assert kinds(
        detect_changes(outside, snap(evaluated_at=inside_at, expires=date(2025, 12, 25)), inside_at)
    ) == ["domain_expiring"]
    # Renewed, then approaching again a year later: a new date, a new alert.
    renewed_at = datetime(2026, 11, 5, tzinfo=UTC)
    renewed = snap(evaluated_at=renewed_at, expires=date(2026, 11, 20))
    changes = detect_changes(first, renewed, renewed_at)
    assert kinds(changes) == ["domain_expiring"]
    assert changes[0].dedupe_key.endswith("2026-11-20")
    # Expired dates are the risk factor's business, not an "expiring" alert.
    assert detect_changes(None, snap(expires=date(2025, 10, 1)), NOW) == []


def test_expiry_is_checked_on_incomplete_scans_too() -> None:
    failed = run(mx={"status": "timeout"}, registration={"expires": "2025-11-20"})
    assert kinds(detect_changes(None, failed, NOW)) == ["domain_expiring"]


def test_dicts_are_accepted_as_snapshots() -> None:
    before = run(**GOOGLE).snapshot.to_dict()
    after = run(**{**GOOGLE, "dmarc": "v=DMARC1; p=none"}, now="2025-11-08").snapshot.to_dict()
    assert kinds(detect_changes(before, after, NOW)) == ["dmarc_weakened"]


def test_every_change_kind_has_texts_with_matching_placeholders() -> None:
    field = re.compile(r"\{([a-z_]+)\}")
    section = texts()["changes"]
    expected = {
        "platform_to_m365",
        "platform_from_m365",
        "platform_changed",
        "mx_changed",
        "dmarc_added",
        "dmarc_removed",
        "dmarc_weakened",
        "dmarc_strengthened",
        "tenant_traces_appeared",
        "priority_raised",
        "priority_lowered",
        "domain_expiring",
    }
    assert set(section) == expected
    for kind, entry in section.items():
        assert set(field.findall(entry["tr"])) == set(field.findall(entry["en"])), kind


def test_dedupe_keys_fit_the_alert_column() -> None:
    long_domain = ".".join(["a" * 60] * 4)[:240] + ".com"
    before = snap(
        domain=long_domain, mx_hosts=tuple(f"mx{i}.natrohost.com" for i in range(30)), platform="hosting"
    )
    after = snap(
        domain=long_domain, mx_hosts=("mx.natrohost.com",), platform="hosting", expires=date(2025, 11, 20)
    )
    changes = detect_changes(before, after, NOW)
    assert kinds(changes) == ["domain_expiring", "mx_changed"]
    for change in changes:
        assert len(change.dedupe_key) <= 200
    # Same inputs, same keys: delivery can drop a repeat.
    assert [c.dedupe_key for c in detect_changes(before, after, NOW)] == [c.dedupe_key for c in changes]
