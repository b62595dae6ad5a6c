"""Mail-security posture facts: SPF, DMARC, DKIM, MTA-STS, TLS-RPT and BIMI (pure).

A sales brief quotes these facts, so each one must be true of the evidence:

* Unknown is not absent. ``missing`` is only said when the DNS gave a definite answer without
  a record: NXDOMAIN, NODATA, or TXT records of which none carries the protocol's version tag
  (receivers discard those, so the domain has no such record). A failed lookup (servfail,
  timeout, refused, error) or one that was never made is ``unknown``.
* ``includes_platform`` is computed from the SPF include tree the collector fetched; when
  ``tree_complete`` is False a False value only means "not seen in the part that resolved".
* DKIM selectors cannot be listed, only probed: ``not_found`` means "no key at any of the
  probed selectors", never "the domain does not sign".
* DKIM through CNAME (Microsoft 365's selector1/selector2): the selector counts as ``found``
  only when the CNAME chain ends in a TXT record holding a key. A CNAME whose target has no key
  (M365 DKIM prepared but not enabled, or the key not published yet) is ``cname_only``: it
  proves a tenant (see providers.py) but not that mail is signed.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hunter.core.dmarc import parse_dmarc, select_dmarc
from hunter.core.evidence import Evidence, Lookup, LookupPurpose, LookupStatus
from hunter.core.providers import (
    GATEWAYS,
    MAIL_PLATFORMS,
    LookupIndex,
    ProviderRules,
    default_rules,
    lookup_index,
)
from hunter.core.spf import check_tree_limits, parse_spf, select_spf

__all__ = [
    "DkimPosture",
    "DkimSelector",
    "DmarcPosture",
    "MailPosture",
    "SpfPosture",
    "TxtPolicyPosture",
    "assess_posture",
]

PRESENT: Final = "present"
MISSING: Final = "missing"
INVALID: Final = "invalid"
UNKNOWN: Final = "unknown"

SPF_LOOKUP_LIMIT: Final = 10
SPF_VOID_LIMIT: Final = 2

# Re-evaluation assesses every stored lead: plain lookups instead of the enum's properties
# (``status.is_failure``, ``status.value`` cost a Python-level descriptor call each).
_OK: Final = LookupStatus.OK
_FAILED: Final = frozenset(s for s in LookupStatus if s.is_failure)
_STATUS_TEXT: Final = {s: s.value for s in LookupStatus}

# Pure, and the same DMARC records recur across leads (``v=DMARC1; p=none`` …).
_parse_dmarc = functools.lru_cache(maxsize=4096)(parse_dmarc)


def _name(text: str) -> str:
    return text.strip().rstrip(".").lower()


def _lookup(lookups: LookupIndex, purpose: LookupPurpose, name: str | None = None) -> Lookup | None:
    """The first lookup for ``purpose`` named ``name``; failing that (for a non-empty name),
    the first one at all."""
    found = lookups.all(purpose)
    if name is not None:
        wanted = _name(name)
        for lk in found:
            if lk.name == name or _name(lk.name) == wanted:  # the same text needs no normalising
                return lk
        if not name:
            return None
    return found[0] if found else None


def _issue(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _tags(record: str) -> dict[str, str]:
    """``tag=value; …`` (DKIM, MTA-STS, TLS-RPT, BIMI); first occurrence wins, names lower-cased."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, eq, value = part.strip().partition("=")
        if eq and name.strip():
            tags.setdefault(name.strip().lower(), value.strip())
    return tags


# --------------------------------------------------------------------------------------------
# SPF


@dataclass(frozen=True, slots=True)
class SpfPosture:
    status: str
    """present | missing | invalid (several records) | unknown (apex TXT lookup failed)."""
    lookup_status: str | None
    record: str | None
    record_count: int
    valid: bool
    """Exactly one record, no syntax error, within the lookup and void-lookup limits."""
    errors: tuple[dict[str, str], ...]
    warnings: tuple[dict[str, str], ...]
    all_qualifier: str | None
    all_result: str | None
    includes: tuple[str, ...]
    """Include targets of the apex record itself."""
    redirect: str | None
    tree_targets: tuple[str, ...]
    """Every include/redirect target reached through the tree."""
    tree_complete: bool
    unresolved_includes: tuple[str, ...]
    include_loops: tuple[str, ...]
    lookups_used: int
    over_limit: bool
    void_lookups: int
    void_over_limit: bool
    includes_platform: Mapping[str, bool] = field(default_factory=dict)
    """Mail platform → some target in the tree belongs to it (``m365``, ``google`` …)."""
    includes_gateway: Mapping[str, bool] = field(default_factory=dict)
    include_providers: tuple[str, ...] = ()
    walk_errors: tuple[str, ...] = ()
    """What the collector reported while walking the tree (loops, stopped past 10 lookups …)."""

    @property
    def includes_microsoft(self) -> bool:
        return bool(self.includes_platform.get("m365"))

    @property
    def includes_google(self) -> bool:
        return bool(self.includes_platform.get("google"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "lookup_status": self.lookup_status,
            "record": self.record,
            "record_count": self.record_count,
            "valid": self.valid,
            "errors": [dict(e) for e in self.errors],
            "warnings": [dict(w) for w in self.warnings],
            "all_qualifier": self.all_qualifier,
            "all_result": self.all_result,
            "includes": list(self.includes),
            "redirect": self.redirect,
            "tree_targets": list(self.tree_targets),
            "tree_complete": self.tree_complete,
            "unresolved_includes": list(self.unresolved_includes),
            "include_loops": list(self.include_loops),
            "lookups_used": self.lookups_used,
            "over_limit": self.over_limit,
            "void_lookups": self.void_lookups,
            "void_over_limit": self.void_over_limit,
            "includes_platform": dict(self.includes_platform),
            "includes_gateway": dict(self.includes_gateway),
            "includes_microsoft": self.includes_microsoft,
            "includes_google": self.includes_google,
            "include_providers": list(self.include_providers),
            "walk_errors": list(self.walk_errors),
        }


_QUALIFIER_RESULTS: Final = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


def _spf_posture(lookups: LookupIndex, rules: ProviderRules) -> SpfPosture:
    evidence = lookups.evidence
    apex = _lookup(lookups, LookupPurpose.APEX_TXT, evidence.domain)
    lookups_used = evidence.spf_lookup_count
    void = evidence.spf_void_lookups
    empty_platforms = dict.fromkeys(MAIL_PLATFORMS, False)
    empty_gateways = dict.fromkeys(GATEWAYS, False)

    def without_record(
        status: str,
        lookup_status: str | None,
        *,
        count: int = 0,
        errors: tuple[dict[str, str], ...] = (),
        warnings: tuple[dict[str, str], ...] = (),
    ) -> SpfPosture:
        return SpfPosture(
            status=status,
            lookup_status=lookup_status,
            record=None,
            record_count=count,
            valid=False,
            errors=errors,
            warnings=warnings,
            all_qualifier=None,
            all_result=None,
            includes=(),
            redirect=None,
            tree_targets=(),
            tree_complete=status != UNKNOWN,
            unresolved_includes=(),
            include_loops=(),
            lookups_used=lookups_used,
            over_limit=lookups_used > SPF_LOOKUP_LIMIT,
            void_lookups=void,
            void_over_limit=void > SPF_VOID_LIMIT,
            includes_platform=empty_platforms,
            includes_gateway=empty_gateways,
        )

    if apex is None:
        return without_record(UNKNOWN, None)
    if apex.status in _FAILED:
        return without_record(UNKNOWN, _STATUS_TEXT[apex.status])
    selection = select_spf(list(apex.answers)) if apex.status == _OK else select_spf([])
    warnings = [w.to_dict() for w in selection.warnings]
    if selection.count == 0:
        return without_record(MISSING, _STATUS_TEXT[apex.status], warnings=tuple(warnings))
    if selection.record is None:  # several records: a permerror, no SPF applies
        assert selection.error is not None
        return without_record(
            INVALID,
            _STATUS_TEXT[apex.status],
            count=selection.count,
            errors=(selection.error.to_dict(),),
            warnings=tuple(warnings),
        )

    parsed = parse_spf(selection.record)
    tree = lookups.spf_tree()
    errors = [e.to_dict() for e in parsed.errors]
    known = {e["code"] for e in errors}
    for issue in check_tree_limits(lookups_used, void):
        if issue.code not in known:
            errors.append(issue.to_dict())
    if tree.loops:
        errors.append(
            _issue("include_loop", "SPF include loop through " + ", ".join(tree.loops) + " (permerror)")
        )
    warnings.extend(w.to_dict() for w in parsed.warnings)
    for target in tree.void:
        warnings.append(_issue("void_include", f"include/redirect target {target} has no SPF record"))

    platforms = dict(empty_platforms)
    gateways = dict(empty_gateways)
    providers: dict[str, None] = {}
    for _target, prov in tree.providers(rules):
        providers.setdefault(prov.key, None)
        if prov.platform in platforms:
            platforms[prov.platform] = True
        if prov.gateway in gateways:
            gateways[prov.gateway] = True
    return SpfPosture(
        status=PRESENT,
        lookup_status=_STATUS_TEXT[apex.status],
        record=selection.record,
        record_count=selection.count,
        valid=not errors,
        errors=tuple(errors),
        warnings=tuple(warnings),
        all_qualifier=parsed.all_qualifier,
        all_result=_QUALIFIER_RESULTS.get(parsed.all_qualifier or ""),
        includes=tuple(parsed.includes),
        redirect=parsed.redirect,
        tree_targets=tree.targets,
        tree_complete=tree.complete,
        unresolved_includes=tree.unresolved,
        include_loops=tree.loops,
        lookups_used=lookups_used,
        over_limit=lookups_used > SPF_LOOKUP_LIMIT,
        void_lookups=void,
        void_over_limit=void > SPF_VOID_LIMIT,
        includes_platform=platforms,
        includes_gateway=gateways,
        include_providers=tuple(providers),
        walk_errors=tuple(evidence.spf_errors),
    )


# --------------------------------------------------------------------------------------------
# DMARC


@dataclass(frozen=True, slots=True)
class DmarcPosture:
    status: str
    """present | missing | invalid (several records, or one receivers discard) | unknown."""
    lookup_status: str | None
    """Status of the lookup that decided (the organisational one when the fallback was used)."""
    missing_reason: str | None
    """For ``missing``: nxdomain | nodata | no_dmarc_record (TXT there, none is DMARC)."""
    record: str | None
    record_count: int
    source_domain: str | None
    from_organisational_domain: bool
    p: str | None
    """Published policy (None when absent or invalid)."""
    sp: str | None
    """Published subdomain policy (None when absent)."""
    effective_p: str | None
    """Policy receivers apply to the domain; None when there is no usable record."""
    effective_sp: str | None
    pct: int | None
    rua: tuple[str, ...]
    ruf: tuple[str, ...]
    adkim: str | None
    aspf: str | None
    enforced: bool
    fully_enforced: bool
    valid: bool
    errors: tuple[dict[str, str], ...]
    warnings: tuple[dict[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "lookup_status": self.lookup_status,
            "missing_reason": self.missing_reason,
            "record": self.record,
            "record_count": self.record_count,
            "source_domain": self.source_domain,
            "from_organisational_domain": self.from_organisational_domain,
            "p": self.p,
            "sp": self.sp,
            "effective_p": self.effective_p,
            "effective_sp": self.effective_sp,
            "pct": self.pct,
            "rua": list(self.rua),
            "ruf": list(self.ruf),
            "adkim": self.adkim,
            "aspf": self.aspf,
            "enforced": self.enforced,
            "fully_enforced": self.fully_enforced,
            "valid": self.valid,
            "errors": [dict(e) for e in self.errors],
            "warnings": [dict(w) for w in self.warnings],
        }


def _dmarc_empty(
    status: str,
    lookup: Lookup | None,
    *,
    missing_reason: str | None = None,
    record_count: int = 0,
    errors: tuple[dict[str, str], ...] = (),
    warnings: tuple[dict[str, str], ...] = (),
) -> DmarcPosture:
    return DmarcPosture(
        status=status,
        lookup_status=_STATUS_TEXT[lookup.status] if lookup is not None else None,
        missing_reason=missing_reason,
        record=None,
        record_count=record_count,
        source_domain=None,
        from_organisational_domain=False,
        p=None,
        sp=None,
        effective_p=None,
        effective_sp=None,
        pct=None,
        rua=(),
        ruf=(),
        adkim=None,
        aspf=None,
        enforced=False,
        fully_enforced=False,
        valid=False,
        errors=errors,
        warnings=warnings,
    )


def _dmarc_source(lookup: Lookup) -> str:
    name = _name(lookup.name)
    return name.removeprefix("_dmarc.")


def _dmarc_from(lookup: Lookup, *, organisational: bool) -> DmarcPosture | None:
    """Posture from one answered lookup, or None when it holds no DMARC record at all."""
    answers = list(lookup.answers) if lookup.status == _OK else []
    selection = select_dmarc(answers)
    warnings = tuple(w.to_dict() for w in selection.warnings)
    if selection.count == 0:
        return None
    if selection.record is None:
        assert selection.error is not None
        return _dmarc_empty(
            INVALID,
            lookup,
            record_count=selection.count,
            errors=(selection.error.to_dict(),),
            warnings=warnings,
        )
    parsed = _parse_dmarc(selection.record)
    usable = not parsed.discarded
    return DmarcPosture(
        status=PRESENT if usable else INVALID,
        lookup_status=_STATUS_TEXT[lookup.status],
        missing_reason=None,
        record=selection.record,
        record_count=selection.count,
        source_domain=_dmarc_source(lookup),
        from_organisational_domain=organisational,
        p=parsed.p,
        sp=parsed.sp,
        effective_p=parsed.effective_p if usable else None,
        effective_sp=parsed.effective_sp if usable else None,
        pct=parsed.pct,
        rua=tuple(u.uri for u in parsed.rua),
        ruf=tuple(u.uri for u in parsed.ruf),
        adkim=parsed.adkim,
        aspf=parsed.aspf,
        enforced=parsed.enforced,
        fully_enforced=parsed.fully_enforced,
        valid=parsed.valid,
        errors=tuple(e.to_dict() for e in parsed.errors),
        warnings=warnings + tuple(w.to_dict() for w in parsed.warnings),
    )


def _missing_reason(lookup: Lookup) -> str:
    if lookup.status in (LookupStatus.NXDOMAIN, LookupStatus.NODATA):
        return _STATUS_TEXT[lookup.status]
    return "no_dmarc_record"


def _dmarc_posture(lookups: LookupIndex) -> DmarcPosture:
    own = _lookup(lookups, LookupPurpose.DMARC, f"_dmarc.{lookups.evidence.domain}")
    org = _lookup(lookups, LookupPurpose.DMARC_ORG)
    if own is None or own.status in _FAILED:
        return _dmarc_empty(UNKNOWN, own)
    found = _dmarc_from(own, organisational=False)
    if found is not None:
        return found
    if org is not None and _name(org.name) != _name(own.name):
        if org.status in _FAILED:
            return _dmarc_empty(UNKNOWN, org)
        found = _dmarc_from(org, organisational=True)
        if found is not None:
            return found
    return _dmarc_empty(MISSING, own, missing_reason=_missing_reason(own))


# --------------------------------------------------------------------------------------------
# DKIM


@dataclass(frozen=True, slots=True)
class DkimSelector:
    selector: str
    name: str
    status: str
    """found | cname_only | absent | no_record | unknown"""
    lookup_status: str
    key_present: bool
    """A non-empty ``p=``; an empty one means the key was revoked."""
    key_type: str | None
    key_bits: int | None
    cname_target: str | None
    m365: bool
    """The selector is a CNAME into Microsoft 365 (onmicrosoft.com / dkim.mail.microsoft)."""
    record: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "selector": self.selector,
            "name": self.name,
            "status": self.status,
            "lookup_status": self.lookup_status,
            "key_present": self.key_present,
            "key_type": self.key_type,
            "key_bits": self.key_bits,
            "cname_target": self.cname_target,
            "m365": self.m365,
            "record": self.record,
        }


@dataclass(frozen=True, slots=True)
class DkimPosture:
    status: str
    """found (a key at some probed selector) | not_found | unknown (a probe failed, none found)."""
    selectors: tuple[DkimSelector, ...]
    probed: int
    found: tuple[str, ...]
    """Selectors holding a usable key."""
    m365_cname_selectors: tuple[str, ...]
    m365_signing: bool
    """An M365 CNAME selector resolves to a key: Microsoft 365 signs the domain's mail."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "selectors": [s.to_dict() for s in self.selectors],
            "probed": self.probed,
            "found": list(self.found),
            "m365_cname_selectors": list(self.m365_cname_selectors),
            "m365_signing": self.m365_signing,
        }


def _dkim_record(answers: Sequence[str]) -> str | None:
    """The first TXT answer that is a DKIM key record (``v=DKIM1`` or a ``p=`` tag)."""
    for answer in answers:
        tags = _tags(answer)
        if tags.get("v", "").upper() == "DKIM1" or "p" in tags:
            return answer
    return None


def _der_item(data: bytes, pos: int) -> tuple[int, int, int]:
    """``(tag, start, end)`` of the DER element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _rsa_modulus_bits(der: bytes) -> int | None:
    """Modulus size of an RSA key given as SubjectPublicKeyInfo or bare RSAPublicKey."""
    tag, start, _end = _der_item(der, 0)
    if tag != 0x30:
        return None
    inner_tag, inner_start, inner_end = _der_item(der, start)
    if inner_tag == 0x30:  # SubjectPublicKeyInfo: skip the algorithm, open the BIT STRING
        bit_tag, bit_start, bit_end = _der_item(der, inner_end)
        if bit_tag != 0x03:
            return None
        return _rsa_modulus_bits(der[bit_start + 1 : bit_end])
    if inner_tag == 0x02:  # RSAPublicKey: the first INTEGER is the modulus
        modulus = der[inner_start:inner_end].lstrip(b"\x00")
        return len(modulus) * 8 - (8 - modulus[0].bit_length()) if modulus else None
    return None


def _key_bits(key_type: str, p: str) -> int | None:
    try:
        raw = base64.b64decode("".join(p.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if key_type == "ed25519":
        return len(raw) * 8 if raw else None
    try:
        return _rsa_modulus_bits(raw)
    except (ValueError, IndexError):
        return None


def _dkim_selector(lookup: Lookup, rules: ProviderRules) -> DkimSelector:
    name = _name(lookup.name)
    selector = lookup.selector or name.split("._domainkey", 1)[0]
    cnames = lookup.cnames
    cname = _name(cnames[0]) if cnames else None
    m365 = False
    for target in cnames:
        match = rules.dkim_index.match(target)
        if match is not None and match[1].platform == "m365":
            m365 = True
    ok = lookup.status == _OK
    record = _dkim_record(lookup.answers) if ok and lookup.answers else None
    key_type: str | None = None
    key_bits: int | None = None
    key_present = False
    if record is not None:
        status = "found"
        tags = _tags(record)
        key_type = tags.get("k", "rsa").lower() or "rsa"
        p = tags.get("p", "")
        key_present = bool(p)
        key_bits = _key_bits(key_type, p) if p else None
    elif lookup.status in _FAILED:
        status = UNKNOWN
    elif cname is not None:
        status = "cname_only"
    elif ok:
        status = "no_record"
    else:
        status = "absent"
    return DkimSelector(
        selector=selector,
        name=name,
        status=status,
        lookup_status=_STATUS_TEXT[lookup.status],
        key_present=key_present,
        key_type=key_type,
        key_bits=key_bits,
        cname_target=cname,
        m365=m365,
        record=record,
    )


def _dkim_posture(lookups: LookupIndex, rules: ProviderRules) -> DkimPosture:
    selectors = tuple(_dkim_selector(lk, rules) for lk in lookups.all(LookupPurpose.DKIM))
    found = tuple(s.selector for s in selectors if s.status == "found" and s.key_present)
    if found:
        status = "found"
    elif any(s.status == UNKNOWN for s in selectors) or not selectors:
        status = UNKNOWN  # no probe at all is not evidence of absence either
    else:
        status = "not_found"
    m365 = tuple(s.selector for s in selectors if s.m365)
    return DkimPosture(
        status=status,
        selectors=selectors,
        probed=len(selectors),
        found=found,
        m365_cname_selectors=m365,
        m365_signing=any(s.m365 and s.key_present for s in selectors),
    )


# --------------------------------------------------------------------------------------------
# MTA-STS, TLS-RPT, BIMI


@dataclass(frozen=True, slots=True)
class TxtPolicyPosture:
    """A versioned TXT policy record (``v=STSv1``, ``v=TLSRPTv1``, ``v=BIMI1``)."""

    status: str
    """present | missing | invalid (several records) | unknown."""
    lookup_status: str | None
    name: str | None
    record: str | None
    record_count: int
    tags: Mapping[str, str]
    valid: bool
    """Present, single, and carrying the tag the protocol requires."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "lookup_status": self.lookup_status,
            "name": self.name,
            "record": self.record,
            "record_count": self.record_count,
            "tags": dict(self.tags),
            "valid": self.valid,
        }


def _has_version(record: str, version: str) -> bool:
    # The version tag must come first (RFC 8461 §3.1, RFC 8460 §3, BIMI draft); case-insensitive
    # here because a receiver-side typo check is not this module's job.
    name, _, value = record.split(";", 1)[0].partition("=")
    return name.strip().lower() == "v" and value.strip().lower() == version.lower()


def _txt_policy(
    lookups: LookupIndex, purpose: LookupPurpose, name: str, version: str, required: tuple[str, ...]
) -> TxtPolicyPosture:
    lookup = _lookup(lookups, purpose, name)
    if lookup is None or lookup.status in _FAILED:
        return TxtPolicyPosture(
            status=UNKNOWN,
            lookup_status=_STATUS_TEXT[lookup.status] if lookup else None,
            name=_name(lookup.name) if lookup else None,
            record=None,
            record_count=0,
            tags={},
            valid=False,
        )
    answers = list(lookup.answers) if lookup.status == _OK else []
    records = [a for a in answers if _has_version(a, version)]
    record = records[0] if len(records) == 1 else None
    tags = _tags(record) if record else {}
    status = PRESENT if len(records) == 1 else (INVALID if records else MISSING)
    return TxtPolicyPosture(
        status=status,
        lookup_status=_STATUS_TEXT[lookup.status],
        name=_name(lookup.name),
        record=record,
        record_count=len(records),
        tags=tags,
        valid=status == PRESENT and any(tags.get(t) for t in required),
    )


# --------------------------------------------------------------------------------------------
# Public API


@dataclass(frozen=True, slots=True)
class MailPosture:
    domain: str
    spf: SpfPosture
    dmarc: DmarcPosture
    dkim: DkimPosture
    mta_sts: TxtPolicyPosture
    tls_rpt: TxtPolicyPosture
    bimi: TxtPolicyPosture

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "spf": self.spf.to_dict(),
            "dmarc": self.dmarc.to_dict(),
            "dkim": self.dkim.to_dict(),
            "mta_sts": self.mta_sts.to_dict(),
            "tls_rpt": self.tls_rpt.to_dict(),
            "bimi": self.bimi.to_dict(),
        }


def assess_posture(evidence: Evidence, rules: ProviderRules | None = None) -> MailPosture:
    """Security facts of one domain's mail DNS; ``rules`` defaults to the packaged YAML."""
    rules = rules if rules is not None else default_rules()
    domain = _name(evidence.domain)
    lookups = lookup_index(evidence)
    return MailPosture(
        domain=domain,
        spf=_spf_posture(lookups, rules),
        dmarc=_dmarc_posture(lookups),
        dkim=_dkim_posture(lookups, rules),
        # MTA-STS needs the policy id; TLS-RPT a report address; BIMI a logo or a certificate.
        mta_sts=_txt_policy(lookups, LookupPurpose.MTA_STS, f"_mta-sts.{domain}", "STSv1", ("id",)),
        tls_rpt=_txt_policy(lookups, LookupPurpose.TLS_RPT, f"_smtp._tls.{domain}", "TLSRPTv1", ("rua",)),
        bimi=_txt_policy(lookups, LookupPurpose.BIMI, f"default._bimi.{domain}", "BIMI1", ("l", "a")),
    )
