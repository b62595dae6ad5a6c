"""DNS regression corpus: real zones, the real DNS server, the real scanner, the real classifier.

Each ``*.yaml`` file next to this one holds a list of cases:

```yaml
- id: m365-classic                     # unique across the corpus
  domain: firma-ornek.com.tr           # unique too: every case lives in one shared server
  note: why this case exists           # optional
  zone: |                              # zone-file lines; {d} = the domain, {dash} = d with dashes
    {d}. MX 0 {dash}.mail.protection.outlook.com.
  faults: [{name: "{d}", type: MX, fault: drop}]   # servfail | refused | drop | truncate
  network_hint: false                  # true: pass the sandbox's IP → network table as the hint
  expect: {platform: m365, ...}        # only the keys given are compared (see OBSERVED_KEYS)
```

All cases are served by ONE sandbox server (the provider infrastructure zones plus every case
zone) and scanned concurrently, so the whole corpus takes a few seconds. Cases with faults are
scanned afterwards by a client with a 0.3 s timeout and a single attempt, so DROP stays fast.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from hunter.collect.dns import DnsClient, DnsConfig
from hunter.collect.scanner import scan_domain
from hunter.core.domains import normalise_hostname
from hunter.core.evidence import Evidence, LookupPurpose
from hunter.core.posture import MailPosture, assess_posture
from hunter.core.providers import Classification, classify
from hunter.sandbox.dns_server import running_dns_server
from hunter.sandbox.provider_zones import network_for_ip, populate_providers
from hunter.sandbox.zones import Fault, ZoneStore

CORPUS_DIR = Path(__file__).parent
NOW = datetime(2025, 6, 1, tzinfo=UTC)
MIN_CASES = 80
_CASE_KEYS = {"id", "domain", "note", "zone", "faults", "network_hint", "expect"}


@dataclass(frozen=True)
class Case:
    id: str
    domain: str
    ascii_domain: str
    zone: str
    faults: tuple[tuple[str, Fault, str | None], ...]
    expect: dict[str, Any]
    network_hint: bool
    source: str


@dataclass
class Outcome:
    evidence: Evidence
    classification: Classification
    posture: MailPosture
    observed: dict[str, Any] = field(default_factory=dict)


def _expand(text: str, domain: str) -> str:
    return text.replace("{d}", domain).replace("{dash}", domain.replace(".", "-"))


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CORPUS_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        assert isinstance(raw, list), f"{path.name}: a corpus file is a list of cases"
        for entry in raw:
            unknown = set(entry) - _CASE_KEYS
            assert not unknown, f"{path.name}: {entry.get('id')}: unknown key(s) {sorted(unknown)}"
            ascii_domain = normalise_hostname(entry["domain"])
            faults = tuple(
                (
                    _expand(str(f["name"]), ascii_domain),
                    Fault(f["fault"]),
                    f.get("type"),
                )
                for f in entry.get("faults") or []
            )
            cases.append(
                Case(
                    id=entry["id"],
                    domain=entry["domain"],
                    ascii_domain=ascii_domain,
                    zone=_expand(entry.get("zone") or "", ascii_domain),
                    faults=faults,
                    expect=dict(entry.get("expect") or {}),
                    network_hint=bool(entry.get("network_hint", False)),
                    source=path.name,
                )
            )
    return cases


CASES = load_cases()


# --------------------------------------------------------------------------------------------
# What a case can expect


def _lookup_status(evidence: Evidence, purpose: LookupPurpose) -> str | None:
    lookup = evidence.first(purpose)
    return lookup.status.value if lookup else None


def observe(c: Classification, p: MailPosture, evidence: Evidence) -> dict[str, Any]:
    return {
        # classification
        "complete": c.complete,
        "incomplete": sorted(r.split(":")[0] for r in c.incomplete_reasons),
        "platform": c.platform,
        "secondary_platforms": sorted(c.secondary_platforms),
        "provider": c.provider,
        "confidence_label": c.confidence_label,
        "gateway": c.gateway,
        "gateway_provider": c.gateway_provider,
        "tenant_traces": sorted(c.tenant_traces),
        "tenant_name": c.tenant_name,
        "half_migrated": c.half_migrated,
        "parked": c.parked,
        "dns_host": c.dns_host,
        "footprint": sorted(c.footprint),
        # lookups as the scanner recorded them
        "mx_status": _lookup_status(evidence, LookupPurpose.MX),
        "txt_status": _lookup_status(evidence, LookupPurpose.APEX_TXT),
        "dmarc_lookup": _lookup_status(evidence, LookupPurpose.DMARC),
        # posture
        "spf_status": p.spf.status,
        "spf_valid": p.spf.valid,
        "spf_records": p.spf.record_count,
        "spf_all": p.spf.all_result,
        "spf_over_limit": p.spf.over_limit,
        "spf_void_over_limit": p.spf.void_over_limit,
        "spf_loop": bool(p.spf.include_loops),
        "spf_includes_microsoft": p.spf.includes_microsoft,
        "spf_includes_google": p.spf.includes_google,
        "spf_includes": sorted(k for k, v in p.spf.includes_platform.items() if v),
        "spf_tree_complete": p.spf.tree_complete,
        "dmarc_status": p.dmarc.status,
        "dmarc_missing_reason": p.dmarc.missing_reason,
        "dmarc_policy": p.dmarc.effective_p,
        "dmarc_sp": p.dmarc.effective_sp,
        "dmarc_pct": p.dmarc.pct,
        "dmarc_enforced": p.dmarc.enforced,
        "dmarc_source": p.dmarc.source_domain,
        "dkim_status": p.dkim.status,
        "dkim_found": sorted(p.dkim.found),
        "dkim_m365_signing": p.dkim.m365_signing,
        "dkim_m365_selectors": sorted(p.dkim.m365_cname_selectors),
        "mta_sts": p.mta_sts.status,
        "tls_rpt": p.tls_rpt.status,
        "bimi": p.bimi.status,
    }


_TEXT_CHECKS = {"evidence_contains", "signals_contain"}


def _all_keys() -> frozenset[str]:
    # The keys observe() produces, read from a throwaway run on empty evidence.
    empty = Evidence(domain="example.com", collected_at=NOW)
    return frozenset(observe(classify(empty), assess_posture(empty), empty))


OBSERVED_KEYS = _all_keys()


# --------------------------------------------------------------------------------------------
# Running the corpus


def _hint(address: str) -> str | None:
    network = network_for_ip(address)
    if network is None:
        return None
    return "hosting" if network.kind == "hosting" else network.kind


async def _scan_all(host: str, port: int) -> dict[str, Evidence]:
    servers = [(host, port)]
    # Cases without faults first, at full speed with patient retries. Then the faulted cases
    # with one short attempt (DROP costs one timeout) and a small in-flight cap, so that no
    # healthy lookup of theirs waits in the server's queue long enough to time out.
    sure = DnsConfig(nameservers=servers, timeout=2.0, attempts=3, backoff=0.01)
    fast = DnsConfig(nameservers=servers, timeout=0.3, attempts=1, backoff=0.0, concurrency=16)
    results: dict[str, Evidence] = {}
    for config, cases in ((sure, [c for c in CASES if not c.faults]), (fast, [c for c in CASES if c.faults])):
        async with DnsClient(config) as client:
            found = await asyncio.gather(*(scan_domain(client, c.domain, NOW) for c in cases))
        results.update((c.id, e) for c, e in zip(cases, found, strict=True))
    return results


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    store = ZoneStore()
    populate_providers(store)
    for case in CASES:
        if case.zone.strip():
            try:
                store.add_text(case.zone)
            except ValueError as exc:
                raise AssertionError(f"{case.source}: {case.id}: bad zone: {exc}") from exc
        for name, fault, rdtype in case.faults:
            store.set_fault(name, fault, rdtype)
    with running_dns_server(store) as server:
        evidences = asyncio.run(_scan_all(server.host, server.port))
    results = {}
    for case in CASES:
        evidence = evidences[case.id]
        c = classify(evidence, network_hint=_hint if case.network_hint else None)
        p = assess_posture(evidence)
        results[case.id] = Outcome(evidence, c, p, observe(c, p, evidence))
    return results


def _normal(key: str, value: Any) -> Any:
    if isinstance(value, list | tuple) and key not in _TEXT_CHECKS:
        return sorted(value)
    return value


def _report(case: Case, outcome: Outcome, problems: list[str]) -> str:
    c = outcome.classification
    lines = [f"{case.source}: case {case.id!r} ({case.ascii_domain}) differs from its expectation:"]
    lines += [f"  - {p}" for p in problems]
    lines.append("evidence lines:")
    lines += [f"    {line}" for line in c.evidence_lines] or ["    (none)"]
    lines.append(f"signals: {', '.join(c.signals) or '(none)'}")
    lines.append("lookups:")
    for lk in outcome.evidence.lookups:
        detail = "; ".join(lk.answers)[:120]
        chain = f" via {' -> '.join(lk.cnames)}" if lk.cnames else ""
        lines.append(f"    {lk.purpose.value:16} {lk.name} {lk.rdtype} {lk.status.value}{chain} {detail}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Tests


def test_corpus_is_large_and_well_formed() -> None:
    assert len(CASES) >= MIN_CASES, f"the corpus has {len(CASES)} cases, want at least {MIN_CASES}"
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    domains = [c.ascii_domain for c in CASES]
    assert len(domains) == len(set(domains)), "case domains must be unique (one shared server)"
    for case in CASES:
        assert case.expect, f"{case.id}: no expectations"
        unknown = set(case.expect) - OBSERVED_KEYS - _TEXT_CHECKS
        assert not unknown, f"{case.source}: {case.id}: unknown expect key(s) {sorted(unknown)}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[case.id]
    problems = []
    for key, wanted in case.expect.items():
        if key == "evidence_contains":
            text = "\n".join(outcome.classification.evidence_lines)
            problems += [f"no evidence line contains {s!r}" for s in wanted if s not in text]
            continue
        if key == "signals_contain":
            signals = set(outcome.classification.signals)
            problems += [f"signal {s!r} missing" for s in wanted if s not in signals]
            continue
        got = outcome.observed[key]
        if _normal(key, wanted) != _normal(key, got):
            problems.append(f"{key}: expected {wanted!r}, got {got!r}")
    assert not problems, _report(case, outcome, problems)


def test_every_platform_and_gateway_is_in_the_corpus() -> None:
    from hunter.core.providers import GATEWAYS, PLATFORMS

    platforms = {c.expect.get("platform") for c in CASES}
    gateways = {c.expect.get("gateway") for c in CASES}
    assert set(PLATFORMS) <= platforms
    assert set(GATEWAYS) <= gateways
