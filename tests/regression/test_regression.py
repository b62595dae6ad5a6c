"""Regression set: compact DNS cases → evidence (real scanner) → evaluation, compared exactly.

Each ``cases_*.yaml`` holds a list of cases (schema in ``dnscase.py``) with an ``expect`` block:

* ``platform``, ``segment``, ``priority``, ``needs_rescan``: compared exactly (missing keys are
  not checked, but every case states platform, segment and priority).
* ``factors``: the exact set of breakdown factor ids.
* ``tags``: the exact set of engine tags.
* ``score``: ``[low, high]`` inclusive, or ``null`` for "no score".
* optional ``provider``, ``gateway``, ``half_migrated``.

``brief: {claims: [...], no_claims: [...]}`` checks the claims of both briefs (tr and en).
``rescan: {set: {...}, now: ..., expect: {...}, changes: [...], tags_removed: [...],
tags_added: [...]}`` scans again with some keys replaced and checks change detection.

A rules change that alters an outcome fails here until the case is edited: that edit is the
deliberate, reviewable record of the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from dnscase import case_now, evidence_for

from hunter.core.brief import build_brief
from hunter.core.changes import comparison_base, detect_changes
from hunter.core.evaluation import Evaluation, EvaluationInput, evaluate, inputs_from_evidence
from hunter.core.priority import priority_rank
from hunter.core.scoring import ReferralInfo
from hunter.core.tags import merge_tags

HERE = Path(__file__).parent
EXPECT_KEYS = frozenset(
    {
        "platform",
        "segment",
        "priority",
        "needs_rescan",
        "factors",
        "tags",
        "score",
        "provider",
        "gateway",
        "half_migrated",
    }
)
RESCAN_KEYS = frozenset({"set", "now", "expect", "changes", "tags_removed", "tags_added"})


def _load() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("cases_*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            case["_file"] = path.name
            cases.append(case)
    return cases


CASES = _load()


def _run(case: Mapping[str, Any]) -> tuple[Evaluation, EvaluationInput]:
    body = {k: v for k, v in case.items() if not k.startswith("_")}
    evidence = evidence_for(body)
    referral = ReferralInfo.from_dict(body["referral"]) if body.get("referral") else None
    inputs = inputs_from_evidence(
        evidence,
        attributes={str(k): str(v) for k, v in (body.get("attributes") or {}).items()},
        now=case_now(body),
        referral=referral,
        user_tags=body.get("user_tags") or (),
    )
    return evaluate(inputs), inputs


def _actual(ev: Evaluation, inputs: EvaluationInput) -> dict[str, Any]:
    c = inputs.classification
    return {
        "platform": c.platform,
        "segment": ev.segment,
        "priority": ev.priority,
        "needs_rescan": ev.needs_rescan,
        "factors": sorted(ev.factor_ids),
        "tags": sorted(ev.tags),
        "score": ev.score,
        "provider": c.provider,
        "gateway": c.gateway,
        "half_migrated": c.half_migrated,
    }


def _check(expect: Mapping[str, Any], ev: Evaluation, inputs: EvaluationInput, where: str) -> None:
    unknown = set(expect) - EXPECT_KEYS
    assert not unknown, f"{where}: unknown expect key(s) {sorted(unknown)}"
    for key in ("platform", "segment", "priority"):
        assert key in expect, f"{where}: every case states {key}"
    actual = _actual(ev, inputs)
    problems = []
    for key, wanted in expect.items():
        got = actual[key]
        if key == "score":
            ok = got is None if wanted is None else got is not None and wanted[0] <= got <= wanted[1]
        elif key in ("factors", "tags"):
            ok = sorted(wanted) == got
        else:
            ok = wanted == got
        if not ok:
            problems.append(f"  {key}: expected {wanted!r}, got {got!r}")
    if problems:
        lines = "\n".join(problems)
        breakdown = "\n".join(f"    {f.factor} {f.points:+d}" for f in ev.breakdown)
        pytest.fail(
            f"{where}\n{lines}\n  (score {ev.score}; breakdown:\n{breakdown}\n  evidence lines: "
            f"{list(inputs.classification.evidence_lines)})",
            pytrace=False,
        )
    # One priority: the rank the list sorts by is always derived from the priority itself.
    assert ev.priority_rank == priority_rank(ev.priority)


def _check_brief(spec: Mapping[str, Any], ev: Evaluation, inputs: EvaluationInput, where: str) -> None:
    for lang in ("tr", "en"):
        brief = build_brief(ev, inputs, lang, None, "Bulut Ortak A.Ş.")
        claims = {claim for s in brief.statements() for claim in s.claims}
        missing = set(spec.get("claims") or ()) - claims
        present = set(spec.get("no_claims") or ()) & claims
        assert not missing, f"{where} [{lang}]: brief lacks claims {sorted(missing)}; has {sorted(claims)}"
        assert not present, f"{where} [{lang}]: brief must not claim {sorted(present)}"


def test_the_set_is_large_and_ids_are_unique() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 80
    assert len(set(ids)) == len(ids), "duplicate case ids"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    where = f"{case['_file']}: {case['id']}"
    ev, inputs = _run(case)
    _check(case["expect"], ev, inputs, where)
    if case.get("brief"):
        _check_brief(case["brief"], ev, inputs, where)
    rescan = case.get("rescan")
    if not rescan:
        return
    unknown = set(rescan) - RESCAN_KEYS
    assert not unknown, f"{where}: unknown rescan key(s) {sorted(unknown)}"
    second = {**case, **(rescan.get("set") or {})}
    if "now" in rescan:
        second["now"] = rescan["now"]
    ev2, inputs2 = _run(second)
    _check(rescan["expect"], ev2, inputs2, f"{where} (rescan)")
    base = comparison_base(None, ev)
    kinds = sorted(ch.kind for ch in detect_changes(base, ev2, ev2.evaluated_at))
    assert kinds == sorted(rescan.get("changes") or []), f"{where}: changes {kinds}"
    merged = merge_tags(ev.tags, ev2.tags, case.get("user_tags") or ())
    assert sorted(merged.removed) == sorted(rescan.get("tags_removed") or []), (
        f"{where}: removed {merged.removed}"
    )
    assert sorted(merged.added) == sorted(rescan.get("tags_added") or []), f"{where}: added {merged.added}"
    for tag in case.get("user_tags") or ():
        assert tag in merged.tags, f"{where}: user tag {tag!r} lost"
