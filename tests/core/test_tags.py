"""Engine tags follow the evidence both ways; user tags are never touched."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hunter.core.brief import texts
from hunter.core.evaluation import Evaluation, evaluate, inputs_from_evidence
from hunter.core.scoring import ReferralInfo, default_rules
from hunter.core.tags import ENGINE_TAGS, merge_tags, normalise_tags

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
from dnscase import case_now, evidence_for


def run(**case: Any) -> Evaluation:
    evidence = evidence_for(case)
    referral = ReferralInfo.from_dict(case["referral"]) if case.get("referral") else None
    inputs = inputs_from_evidence(
        evidence,
        attributes=case.get("attributes") or {},
        now=case_now(case),
        referral=referral,
        user_tags=case.get("user_tags") or (),
    )
    return evaluate(inputs)


M365 = {
    "mx": "0 firma-com-tr.mail.protection.outlook.com.",
    "txt": ["v=spf1 include:spf.protection.outlook.com -all"],
    "dkim": {
        "selector1": {"cname": "selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com", "key": True}
    },
}


def test_tags_follow_the_evidence_and_are_removed_when_false() -> None:
    before = run(**M365, dmarc="v=DMARC1; p=none")
    assert set(before.tags) == {"m365", "security-risk", "weak-dmarc"}
    after = run(**M365, dmarc="v=DMARC1; p=reject")
    assert after.tags == ("m365",)
    merged = merge_tags(before.tags, after.tags)
    assert set(merged.removed) == {"security-risk", "weak-dmarc"}
    assert merged.added == ()
    assert merged.tags == ("m365",)


def test_gap_tags() -> None:
    ev = run(mx="10 mx.natrohost.com.", txt=["v=spf1 a mx +all"])
    assert set(ev.tags) == {"local-hosting", "security-risk", "no-dmarc", "weak-spf", "dkim-missing"}
    partial = run(**M365, dmarc="v=DMARC1; p=quarantine; pct=25")
    assert set(partial.tags) == {"m365", "partial-dmarc"}  # enforced in part: not a security-risk


def test_incomplete_scan_keeps_only_facts_it_knows() -> None:
    ev = run(
        mx={"status": "timeout"},
        registration={"created": "2025-09-01", "expires": "2025-11-10"},
        referral={"status": "Active", "substatus": "Accepted"},
    )
    assert set(ev.tags) == {"needs-rescan", "expire-soon", "new-domain", "referral"}


def test_registration_tags() -> None:
    expired = run(
        mx="10 mx.natrohost.com.", registration={"expires": "2025-10-01", "status": ["pendingDelete"]}
    )
    assert {"expired", "pending-delete"} <= set(expired.tags)
    assert "expire-soon" not in expired.tags


def test_merge_tags_semantics() -> None:
    merged = merge_tags(
        ["m365", "weak-dmarc", "security-risk"],
        ["m365", "expire-soon"],
        ["  Fuar 2025 ", "weak-dmarc", "fuar 2025", "", "Sıcak"],
    )
    assert merged.engine == ("m365", "expire-soon")
    assert merged.user == ("Fuar 2025", "weak-dmarc", "Sıcak")
    assert merged.added == ("expire-soon",)
    assert merged.removed == ("weak-dmarc", "security-risk")
    # The engine dropped weak-dmarc, but the user's own weak-dmarc tag stays.
    assert merged.tags == ("m365", "expire-soon", "Fuar 2025", "weak-dmarc", "Sıcak")
    # A user tag that matches an engine tag is shown once.
    assert merge_tags(None, ["M365"], ["m365"]).tags == ("M365",)
    assert merge_tags(None, [], []).tags == ()
    assert merge_tags(None, ["m365"]).to_dict()["added"] == ["m365"]


def test_user_tags_pass_through_the_evaluation_untouched() -> None:
    ev = run(mx="10 mx.natrohost.com.", user_tags=["Sıcak", "no-dmarc"])
    assert ev.user_tags == ("Sıcak", "no-dmarc")
    assert "Sıcak" in ev.all_tags
    assert ev.all_tags.count("no-dmarc") == 1


def test_normalise_tags() -> None:
    assert normalise_tags([" a  b ", "A B", "", "c"]) == ("a b", "c")


def test_every_engine_tag_has_labels_and_platform_tags_are_known() -> None:
    rules = default_rules()
    assert set(rules.platform_tags.values()) <= ENGINE_TAGS
    labels = texts()["tags"]
    for tag in ENGINE_TAGS:
        assert labels[tag]["tr"], tag
        assert labels[tag]["en"], tag
