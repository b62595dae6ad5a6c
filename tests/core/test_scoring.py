"""Score model: rules file, size hints, factors and their evidence, clamping and the cap."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hunter.core.evaluation import evaluate, inputs_from_evidence
from hunter.core.scoring import (
    REQUIRED_FACTORS,
    ReferralInfo,
    default_rules,
    load_rules,
    parse_size,
    size_hint,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
from dnscase import case_now, evidence_for

RULES_PATH = Path(__file__).resolve().parents[2] / "src/hunter/data/scoring.yaml"


def raw_rules() -> dict[str, Any]:
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def run(**case: Any):  # type: ignore[no-untyped-def]
    evidence = evidence_for(case)
    referral = ReferralInfo.from_dict(case["referral"]) if case.get("referral") else None
    inputs = inputs_from_evidence(
        evidence, attributes=case.get("attributes") or {}, now=case_now(case), referral=referral
    )
    return evaluate(inputs)


# --- rules file --------------------------------------------------------------------------------


def test_packaged_rules_load_once_and_define_every_factor() -> None:
    rules = default_rules()
    assert rules is default_rules()
    assert rules.version
    assert set(REQUIRED_FACTORS) <= set(rules.factors)
    placeholder = re.compile(r"\{([a-z_]+)\}")
    for spec in rules.factors.values():
        assert spec.tr, spec.id
        assert spec.en, spec.id
        assert spec.tr != spec.en, spec.id
        assert set(placeholder.findall(spec.tr)) == set(placeholder.findall(spec.en)), spec.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(extra=1), "unknown section"),
        (lambda d: d["factors"]["platform:m365"].update(group="nope"), "group"),
        (lambda d: d["factors"]["platform:m365"].update(points="many"), "integer"),
        (lambda d: d["factors"]["platform:m365"].update(tr="{x}"), "placeholders"),
        (lambda d: d["factors"].pop("dmarc:none"), "missing"),
        (lambda d: d["priority"]["rules"].pop(), "catch-all"),
        (lambda d: d["priority"]["rules"][0].update(segment="Hot"), "segment"),
        (lambda d: d["priority"]["rules"][0].update(priority="P9"), "priority"),
        (lambda d: d["priority"]["rules"][0]["if"].update(colour=True), "unknown condition"),
        (lambda d: d["priority"]["rules"][0]["if"].update(parked="yes"), "true or false"),
        (lambda d: d["priority"]["security_gaps"].append("bad_gap"), "unknown gap"),
        (lambda d: d["size"]["bands"].append({"id": "huge", "max": None}), "size:huge"),
        (lambda d: d["size"]["bands"].pop(), "open"),
        (lambda d: d["priority"]["labels"].pop("P6"), "every priority"),
        (lambda d: d["priority"]["referral_lift"]["qualifications"].append("Other"), "referral:other"),
    ],
)
def test_bad_rules_are_rejected(change: Any, message: str) -> None:
    data = raw_rules()
    change(data)
    with pytest.raises(ValueError, match=message):
        load_rules(data)


def test_rules_accept_yaml_text_and_reject_broken_yaml() -> None:
    assert load_rules(RULES_PATH.read_text(encoding="utf-8")).version == default_rules().version
    with pytest.raises(ValueError, match="YAML"):
        load_rules("factors: [")


# --- size hints --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45", (45, 45)),
        ("yaklaşık 45 kişi", (45, 45)),
        ("50-99", (50, 99)),
        ("50 - 99", (50, 99)),
        ("50–99 arası", (50, 99)),
        ("99-50", (50, 99)),
        ("100+", (100, None)),
        ("250 ve üzeri", (250, None)),
        ("1.000'den fazla", (1000, None)),
        ("more than 500", (500, None)),
        ("1.200", (1200, 1200)),
        ("1,200", (1200, 1200)),
        ("10'dan az", (1, 10)),
        ("less than 10", (1, 10)),
        ("10to50employees", (10, 50)),
        ("Small (1-10 employees)", (1, 10)),
        ("Bilinmiyor", None),
        ("", None),
        ("0", None),
    ],
)
def test_parse_size(text: str, expected: tuple[int, int | None] | None) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("employees", "band"),
    [
        ("1", "micro"),
        ("9", "micro"),
        ("10", "small"),
        ("49", "small"),
        ("50", "medium"),
        ("249", "medium"),
        ("250", "large"),
        ("999", "large"),
        ("1000", "enterprise"),
        ("10-300", "small"),
    ],
)
def test_size_bands_use_the_lower_bound(employees: str, band: str) -> None:
    hint = size_hint({"employees": employees}, None, default_rules())
    assert hint is not None
    assert hint.band == band


def test_size_columns_are_matched_turkish_aware_and_only_those() -> None:
    rules = default_rules()
    for key in ("ÇALIŞAN SAYISI", "çalışan sayısı", "Calisan Sayisi", "Personel Sayısı", "Employees"):
        hint = size_hint({key: "45"}, None, rules)
        assert hint is not None
        assert hint.key == key
        assert hint.source == "attribute"
    assert size_hint({"Telefon": "0212 555 00 00", "Posta Kodu": "34000"}, None, rules) is None
    referral = ReferralInfo(status="Active", company_size="51to250employees")
    from_referral = size_hint({"Çalışan Sayısı": "bilinmiyor"}, referral, rules)
    assert from_referral is not None
    assert from_referral.source == "referral"
    assert from_referral.band == "medium"
    # The file's column wins over the referral.
    hint = size_hint({"Çalışan Sayısı": "8"}, referral, rules)
    assert hint is not None
    assert hint.band == "micro"


# --- factors -----------------------------------------------------------------------------------


def test_every_factor_quotes_what_it_read() -> None:
    ev = run(
        mx="0 firma-com-tr.mail.protection.outlook.com.",
        txt=["v=spf1 include:spf.protection.outlook.com -all"],
        dmarc="v=DMARC1; p=none; rua=mailto:d@firma.com.tr",
        attributes={"Çalışan Sayısı": "50-99"},
        registration={"created": "2005-03-01", "expires": "2025-11-20"},
    )
    dmarc = ev.factor("dmarc:none")
    assert dmarc is not None
    assert dmarc.evidence == (
        {"lookup": "_dmarc.firma.com.tr TXT", "value": "v=DMARC1; p=none; rua=mailto:d@firma.com.tr"},
    )
    assert dmarc.claims == ("dmarc:policy:none",)
    platform = ev.factor("platform:m365")
    assert platform is not None
    assert {
        "lookup": "firma.com.tr MX",
        "value": "0 firma-com-tr.mail.protection.outlook.com.",
    } in platform.evidence
    size = ev.factor("size:medium")
    assert size is not None
    assert size.evidence == ({"lookup": "import: Çalışan Sayısı", "value": "50-99"},)
    expiring = ev.factor("risk:expiring")
    assert expiring is not None
    assert expiring.points == -10
    assert expiring.evidence == ({"lookup": "rdap expires", "value": "2025-11-20"},)
    assert "20.11.2025" in expiring.text["tr"]
    assert "2025-11-20" in expiring.text["en"]
    for factor in ev.breakdown:
        assert factor.text["tr"]
        assert factor.text["en"]
        assert "{" not in factor.text["tr"] + factor.text["en"]
        assert factor.evidence, factor.factor
    assert ev.score == sum(f.points for f in ev.breakdown)


def test_score_is_clamped_to_the_range() -> None:
    parked = run(
        mx="10 mx.parkingcrew.net.", ns=["ns1.parkingcrew.net"], registration={"expires": "2025-10-01"}
    )
    assert sum(f.points for f in parked.breakdown) < 0
    assert parked.score == 0
    rich = run(
        mx="10 mx.natrohost.com.",
        txt=["v=spf1 include:spf.natrohost.com ~all", "MS=ms12345"],
        traces={"autodiscover": "autodiscover.outlook.com"},
        attributes={"employees": "1500"},
        registration={"created": "2001-01-01", "expires": "2027-01-01"},
        referral={
            "status": "Active",
            "substatus": "Accepted",
            "qualification": "SalesQualified",
            "deal_value": 50000,
        },
    )
    assert sum(f.points for f in rich.breakdown) > 100
    assert rich.score == 100


def test_security_cap_is_a_breakdown_line() -> None:
    ev = run(mx="10 mx.natrohost.com.", txt=["v=spf1 ipv4:192.0.2.1 +all"])
    security = [f for f in ev.breakdown if f.group == "security"]
    assert security[-1].factor == "security:cap"
    assert sum(f.points for f in security) == default_rules().security_cap


def test_no_security_angles_for_domains_without_mail() -> None:
    ev = run(a="203.0.113.1")
    assert ev.platform == "none"
    assert not [f for f in ev.breakdown if f.group == "security"]


def test_incomplete_scan_has_only_the_incomplete_line() -> None:
    ev = run(mx={"status": "timeout"}, attributes={"employees": "500"}, referral={"status": "Active"})
    assert ev.factor_ids == ("incomplete",)
    assert ev.score is None
    assert ev.segment is None
    assert ev.priority is None
    assert ev.needs_rescan
    assert "mx: timeout" in ev.breakdown[0].text["en"]


def test_rules_version_is_stored_and_custom_rules_apply() -> None:
    data = raw_rules()
    data["version"] = "test-1"
    data["factors"]["platform:hosting"]["points"] = 50
    rules = load_rules(data)
    evidence = evidence_for(
        {
            "mx": "10 mx.natrohost.com.",
            "txt": ["v=spf1 include:spf.natrohost.com ~all"],
            "dmarc": "v=DMARC1; p=reject",
            "dkim": {"default": "key"},
        }
    )
    inputs = inputs_from_evidence(evidence)
    assert evaluate(inputs).score == 40
    custom = evaluate(inputs, rules)
    assert (custom.score, custom.rules_version) == (50, "test-1")


@given(st.sampled_from(["45", "1-9", "10 - 49", "250+", "2.500", "abc", "50–99 kişi"]), st.booleans())
def test_score_stays_in_range_for_any_size_and_referral(size: str, with_referral: bool) -> None:
    referral = (
        {"status": "Active", "qualification": "SalesQualified", "deal_value": 9999} if with_referral else None
    )
    ev = run(mx="10 mx.natrohost.com.", attributes={"employees": size}, referral=referral)
    assert ev.score is not None
    assert 0 <= ev.score <= 100
