"""Sales brief per lead, in Turkish and English (pure; texts in ``data/brief_texts.yaml``,
prices in ``data/offers.yaml``).

Every sentence is a :class:`Statement`: its text plus the ``claims`` it makes about the lead, in
a small vocabulary the consistency suite checks against the evidence (so the check never parses
prose). The earlier tool wrote "SPF includes Microsoft" whether or not it did; here a sentence
about a fact can only be produced by the code path that read that fact, and that code path
attaches the claim.

Claim vocabulary (``kind`` or ``kind:argument``):

* lead: ``priority:P1``, ``segment:Migration``, ``score:72``, ``factor:<id>``, ``incomplete``
* platform: ``platform:<p>``, ``provider:<key>``, ``confidence:<high|medium|low>``,
  ``gateway:<class>``, ``secondary:<p>``, ``mx:<host>``, ``half_migrated``,
  ``tenant_trace:<trace>``, ``tenant_name:<name>``, ``parked``
* SPF: ``spf:<present|missing|invalid|unknown>``, ``spf:count:<n>``, ``spf_includes:<platform>``,
  ``spf_not_includes:<platform>``, ``spf:tree_incomplete``, ``spf:all:<fail|softfail|neutral|pass|none>``,
  ``spf:redirect:<target>``, ``spf:over_limit``, ``spf:void_over_limit``, ``spf:errors``
* DMARC: ``dmarc:<present|missing|invalid|unknown>``, ``dmarc:policy:<p>``, ``dmarc:no_p_tag``,
  ``dmarc:sp:<p>``, ``dmarc:pct:<n>``, ``dmarc:partial``, ``dmarc:org_fallback``,
  ``dmarc:rua``, ``dmarc:no_rua``
* DKIM: ``dkim:found:<selector>``, ``dkim:not_found``, ``dkim:unknown``,
  ``dkim:m365_cname_only:<selector>``, ``dkim:weak_key:<selector>``
* other records: ``mta_sts:<status>``, ``tls_rpt:<status>``
* organisation: ``size:<band>``, ``size:none``, ``size:employees:<text>``, ``registered:<date>``,
  ``expires:<date>``, ``expires_within:<days>``, ``expired:<date>``, ``registry_status:<s>``,
  ``referral:active``, ``referral:qualification:<q>``, ``referral:deal_value``
* offer: ``offer:price:<key>:<price>`` (the price list says so)

The partner's name and every price are parameters (settings / ``offers.yaml``), never literals.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, NamedTuple

import yaml

from hunter.core.domains import Domain, try_normalise_domain
from hunter.core.evaluation import Evaluation, EvaluationInput
from hunter.core.posture import MailPosture
from hunter.core.providers import Classification
from hunter.core.providers import default_rules as default_provider_rules
from hunter.core.scoring import LANGS, Lang, Rules, default_rules, provider_name
from hunter.core.text import fold

__all__ = [
    "Brief",
    "NextStep",
    "Objection",
    "OfferLine",
    "OfferSuggestion",
    "Offers",
    "Statement",
    "build_brief",
    "default_offers",
    "load_offers",
    "texts",
]

_CLOUD: Final = frozenset({"google", "zoho", "yandex", "amazon", "icloud", "other_cloud"})
_GAP_ORDER: Final = (
    "dmarc_missing",
    "dmarc_invalid",
    "dmarc_none",
    "dmarc_partial",
    "spf_missing",
    "spf_invalid",
    "spf_broken",
    "spf_over_limit",
    "spf_permissive",
    "dkim_missing",
)
_GAP_CLAIMS: Final = {
    "dmarc_missing": ("dmarc:missing",),
    "dmarc_invalid": ("dmarc:invalid",),
    "dmarc_none": ("dmarc:policy:none",),
    "dmarc_partial": ("dmarc:partial",),
    "spf_missing": ("spf:missing",),
    "spf_invalid": ("spf:invalid",),
    "spf_broken": ("spf:errors",),
    "dkim_missing": ("dkim:not_found",),
}
_DMARC_GAPS: Final = frozenset({"dmarc_missing", "dmarc_none", "dmarc_invalid"})
_DELIVERY_GAPS: Final = frozenset(
    {"spf_missing", "spf_invalid", "spf_broken", "spf_over_limit", "dkim_missing"}
)
# Platforms with their own SPF include: the brief says so when the record does not authorise them.
_SPF_PLATFORMS: Final = frozenset({"m365", "google", "zoho", "yandex"})


# --------------------------------------------------------------------------------------------
# Catalogue and price list


@functools.cache
def texts() -> dict[str, Any]:
    """The packaged ``data/brief_texts.yaml`` (parsed once)."""
    raw = resources.files("hunter.data").joinpath("brief_texts.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(raw)
    if not isinstance(data, dict):
        raise ValueError("brief_texts.yaml must be a mapping")
    return data


@functools.cache
def _company_keys() -> frozenset[str]:
    return frozenset(fold(k) for k in texts().get("company_name_keys") or ())


@dataclass(frozen=True, slots=True)
class Licence:
    key: str
    name: str
    price: float
    max_users: int | None
    includes: tuple[str, ...]
    pitch: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Addon:
    key: str
    name: Mapping[str, str]
    """Per language (product names are usually the same in both)."""
    price: float
    unit: str
    """``user_month`` or ``once``."""
    when_gaps: frozenset[str]
    segments: frozenset[str] | None
    priorities: frozenset[str] | None


@dataclass(frozen=True)
class Offers:
    version: str
    currency: str
    licences: Mapping[str, Licence]
    addons: tuple[Addon, ...]
    by_band: Mapping[str, str]
    order: tuple[str, ...]
    no_size: tuple[str, ...]
    existing_upgrade: str | None


def load_offers(data: Mapping[str, Any] | str) -> Offers:
    """Price list from parsed YAML (or YAML text). Raises ValueError on bad data."""
    if isinstance(data, str):
        data = yaml.safe_load(data)
    if not isinstance(data, Mapping):
        raise ValueError("offers must be a mapping")
    currency = str(data.get("currency") or "").strip().upper()
    if not currency:
        raise ValueError("offers need a currency")
    licences: dict[str, Licence] = {}
    for raw in data.get("licences") or ():
        pitch = raw.get("pitch") or {}
        if set(pitch) != set(LANGS):
            raise ValueError(f"licence {raw.get('key')!r}: pitch needs tr and en")
        licence = Licence(
            key=str(raw["key"]),
            name=str(raw["name"]),
            price=float(raw["price"]),
            max_users=None if raw.get("max_users") is None else int(raw["max_users"]),
            includes=tuple(raw.get("includes") or ()),
            pitch={k: str(v) for k, v in pitch.items()},
        )
        licences[licence.key] = licence
    addons = []
    for raw in data.get("addons") or ():
        unit = str(raw.get("unit") or "user_month")
        if unit not in ("user_month", "once"):
            raise ValueError(f"addon {raw.get('key')!r}: unit must be user_month or once")
        segments, priorities = raw.get("segments"), raw.get("priorities")
        name = raw["name"]
        names: dict[str, str] = (
            {lang: str(name[lang]) for lang in LANGS}
            if isinstance(name, Mapping)
            else {lang: str(name) for lang in LANGS}
        )
        addons.append(
            Addon(
                key=str(raw["key"]),
                name=names,
                price=float(raw["price"]),
                unit=unit,
                when_gaps=frozenset(raw.get("when_gaps") or ()),
                segments=frozenset(segments) if segments is not None else None,
                priorities=frozenset(priorities) if priorities is not None else None,
            )
        )
    by_band = {str(k): str(v) for k, v in (data.get("by_band") or {}).items()}
    order = tuple(data.get("order") or licences)
    no_size = tuple(data.get("no_size") or ())
    upgrade = data.get("existing_upgrade")
    for key in (*by_band.values(), *order, *no_size, *([upgrade] if upgrade else [])):
        if key not in licences:
            raise ValueError(f"offers: unknown licence {key!r}")
    return Offers(
        version=str(data.get("version") or ""),
        currency=currency,
        licences=licences,
        addons=tuple(addons),
        by_band=by_band,
        order=order,
        no_size=no_size,
        existing_upgrade=str(upgrade) if upgrade else None,
    )


@functools.cache
def default_offers() -> Offers:
    """The packaged ``data/offers.yaml`` (parsed once)."""
    return load_offers(resources.files("hunter.data").joinpath("offers.yaml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# Brief types


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    claims: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "claims": list(self.claims)}


@dataclass(frozen=True, slots=True)
class Objection:
    objection: Statement
    answer: Statement

    def to_dict(self) -> dict[str, Any]:
        return {"objection": self.objection.to_dict(), "answer": self.answer.to_dict()}


@dataclass(frozen=True, slots=True)
class OfferLine:
    key: str
    name: str
    kind: str
    """licence | addon | service"""
    price: float
    currency: str
    unit: str
    users_min: int | None
    users_max: int | None
    """None with ``users_min`` set means an open range ("250+"); both None: no size hint."""
    monthly_min: float | None
    monthly_max: float | None
    text: Statement
    detail: Statement | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "price": self.price,
            "currency": self.currency,
            "unit": self.unit,
            "users_min": self.users_min,
            "users_max": self.users_max,
            "monthly_min": self.monthly_min,
            "monthly_max": self.monthly_max,
            "text": self.text.to_dict(),
            "detail": self.detail.to_dict() if self.detail else None,
        }


@dataclass(frozen=True, slots=True)
class OfferSuggestion:
    summary: Statement
    lines: tuple[OfferLine, ...]
    note: Statement | None
    currency: str
    price_list_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary.to_dict(),
            "lines": [line.to_dict() for line in self.lines],
            "note": self.note.to_dict() if self.note else None,
            "currency": self.currency,
            "price_list_version": self.price_list_version,
        }


@dataclass(frozen=True, slots=True)
class NextStep:
    action: str
    """call | email | wait | archive"""
    within_days: int | None
    text: Statement

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "within_days": self.within_days, "text": self.text.to_dict()}


@dataclass(frozen=True, slots=True)
class Brief:
    domain: str
    display_domain: str
    lang: str
    partner_name: str
    priority: str | None
    segment: str | None
    score: int | None
    one_liner: Statement
    why: tuple[Statement, ...]
    platform: tuple[Statement, ...]
    evidence: tuple[str, ...]
    """The classifier's evidence lines, verbatim (quotes of records, not translated)."""
    security: tuple[Statement, ...]
    call_script: tuple[Statement, ...]
    discovery_questions: tuple[Statement, ...]
    objections: tuple[Objection, ...]
    offer: OfferSuggestion
    next_step: NextStep
    crm_lines: tuple[Statement, ...]
    rules_version: str

    @property
    def crm_note(self) -> str:
        """Plain text for the CRM (a few lines)."""
        return "\n".join(s.text for s in self.crm_lines)

    def statements(self) -> Iterator[Statement]:
        """Every sentence of the brief (for the consistency checks)."""
        yield self.one_liner
        yield from self.why
        yield from self.platform
        yield from self.security
        yield from self.call_script
        yield from self.discovery_questions
        for objection in self.objections:
            yield objection.objection
            yield objection.answer
        yield self.offer.summary
        for line in self.offer.lines:
            yield line.text
            if line.detail is not None:
                yield line.detail
        if self.offer.note is not None:
            yield self.offer.note
        yield self.next_step.text
        yield from self.crm_lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "display_domain": self.display_domain,
            "lang": self.lang,
            "partner_name": self.partner_name,
            "priority": self.priority,
            "segment": self.segment,
            "score": self.score,
            "one_liner": self.one_liner.to_dict(),
            "why": [s.to_dict() for s in self.why],
            "platform": [s.to_dict() for s in self.platform],
            "evidence": list(self.evidence),
            "security": [s.to_dict() for s in self.security],
            "call_script": [s.to_dict() for s in self.call_script],
            "discovery_questions": [s.to_dict() for s in self.discovery_questions],
            "objections": [o.to_dict() for o in self.objections],
            "offer": self.offer.to_dict(),
            "next_step": self.next_step.to_dict(),
            "crm_note": self.crm_note,
            "rules_version": self.rules_version,
        }

    def to_text(self) -> str:
        """Plain text (for copying and the PDF export)."""
        titles = texts()["titles"]

        def title(key: str) -> str:
            return str(titles[key][self.lang])

        out = [self.one_liner.text, ""]

        def section(key: str, items: Iterable[str], bullet: str = "- ") -> None:
            lines = [f"{bullet}{item}" for item in items]
            if lines:
                out.extend([title(key), *lines, ""])

        section("why", (s.text for s in self.why))
        section("platform", (s.text for s in self.platform))
        section("evidence", self.evidence, "  ")
        section("security", (s.text for s in self.security))
        section("call_script", (f"{i}. {s.text}" for i, s in enumerate(self.call_script, 1)), "")
        section("questions", (s.text for s in self.discovery_questions))
        section(
            "objections",
            (
                f"{title('objection')}: {o.objection.text}\n  {title('answer')}: {o.answer.text}"
                for o in self.objections
            ),
        )
        offer_lines = [self.offer.summary.text]
        for line in self.offer.lines:
            offer_lines.append(line.text.text)
            if line.detail is not None:
                offer_lines.append(f"  {line.detail.text}")
        if self.offer.note is not None:
            offer_lines.append(self.offer.note.text)
        section("offer", offer_lines)
        section("next_step", [self.next_step.text.text])
        section("crm_note", self.crm_note.splitlines(), "  ")
        return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------------------------
# Writing


class Phrase(NamedTuple):
    """A piece of text that carries claims into the sentence it is put in."""

    text: str
    claims: tuple[str, ...] = ()


def _join(items: Sequence[str], lang: Lang) -> str:
    if len(items) <= 1:
        return "".join(items)
    word = texts()["words"]["and"][lang]
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _money(value: float, currency: str, lang: Lang, decimals: int = 2) -> str:
    text = f"{value:,.{decimals}f}"
    if lang == "tr":  # Turkish: 1.234,50 USD
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return f"{text} {currency}"
    return f"{currency} {text}"


def _display_domain(domain: str) -> str:
    result = try_normalise_domain(domain)
    return result.unicode if isinstance(result, Domain) and result.ascii == domain else domain


class _Writer:
    def __init__(
        self,
        evaluation: Evaluation,
        inputs: EvaluationInput,
        lang: Lang,
        offers: Offers,
        partner_name: str,
        rules: Rules,
    ) -> None:
        self.ev = evaluation
        self.inputs = inputs
        self.c: Classification = inputs.classification
        self.p: MailPosture = inputs.posture
        self.lang = lang
        self.offers = offers
        self.partner = partner_name
        self.rules = rules
        self.cat = texts()
        self.domain = _display_domain(inputs.domain)
        self.gaps = self._gaps()

    # ---- helpers ------------------------------------------------------------------------------

    def tpl(self, path: str) -> str:
        node: Any = self.cat
        for part in path.split("."):
            node = node[part]
        return str(node[self.lang])

    def say(self, path: str, claims: Iterable[str] = (), **params: Any) -> Statement:
        """Fill a template; Phrase parameters contribute their claims."""
        collected = list(claims)
        values: dict[str, Any] = {}
        for name, value in params.items():
            if isinstance(value, Phrase):
                collected.extend(value.claims)
                values[name] = value.text
            else:
                values[name] = value
        return Statement(self.tpl(path).format_map(values), tuple(dict.fromkeys(collected)))

    def phrase(self, path: str, claims: Iterable[str] = (), **params: Any) -> Phrase:
        statement = self.say(path, claims, **params)
        return Phrase(statement.text, statement.claims)

    def word(self, key: str, **params: Any) -> str:
        return self.tpl(f"words.{key}").format_map(params)

    def days(self, n: int) -> str:
        return self.word("day" if n == 1 else "days", n=n)

    def status(self, status: str | None) -> str:
        key = status or "not_looked_up"
        entry = self.cat["status"].get(key)
        return str(entry[self.lang]) if entry else key

    def _gaps(self) -> tuple[str, ...]:
        fired = set(self.ev.factor_ids)
        gaps: list[str] = []
        factor_gap = {
            "dmarc:missing": "dmarc_missing",
            "dmarc:invalid": "dmarc_invalid",
            "dmarc:none": "dmarc_none",
            "dmarc:partial": "dmarc_partial",
            "spf:missing": "spf_missing",
            "spf:invalid": "spf_invalid",
            "spf:broken": "spf_broken",
            "spf:over_limit": "spf_over_limit",
            "spf:permissive": "spf_permissive",
            "dkim:missing": "dkim_missing",
        }
        for factor, gap in factor_gap.items():
            if factor in fired:
                gaps.append(gap)
        return tuple(g for g in _GAP_ORDER if g in gaps)

    def gap_phrase(self, gaps: Sequence[str] | None = None) -> Phrase:
        gaps = self.gaps if gaps is None else gaps
        words = [self.tpl(f"gap_phrase.{g}") for g in gaps]
        claims = [c for g in gaps for c in self._gap_claims(g)]
        return Phrase(_join(words, self.lang), tuple(claims))

    def _gap_claims(self, gap: str) -> tuple[str, ...]:
        spf = self.p.spf
        if gap == "spf_permissive":
            return (f"spf:all:{spf.all_result}",)
        if gap == "spf_over_limit":
            return tuple(
                claim
                for claim, fired in (
                    ("spf:over_limit", spf.over_limit),
                    ("spf:void_over_limit", spf.void_over_limit),
                )
                if fired
            )
        return _GAP_CLAIMS[gap]

    def priority_phrase(self) -> Phrase:
        ev = self.ev
        base = ev.base_priority or ev.priority or "P6"
        label = self.rules.priority_labels[base][self.lang]
        if ev.priority != base:
            return self.phrase(
                "priority_phrase.lifted",
                (f"priority:{ev.priority}", "factor:referral:priority_lift"),
                priority=ev.priority,
                base=base,
                label=label,
            )
        return self.phrase(
            "priority_phrase.plain", (f"priority:{ev.priority}",), priority=ev.priority, label=label
        )

    def traces(self) -> Phrase:
        traces = self.c.tenant_traces
        return Phrase(
            ", ".join(self.rules.trace_name(t) for t in traces), tuple(f"tenant_trace:{t}" for t in traces)
        )

    def number(self, value: float, decimals: int = 2) -> str:
        text = f"{value:.{decimals}f}"
        return text.replace(".", ",") if self.lang == "tr" else text

    def platform_phrase(self, *, you: bool = False) -> Phrase:
        c = self.c
        platform = c.platform or "unknown"
        claims = [f"platform:{platform}"]
        if c.provider:
            claims.append(f"provider:{c.provider}")
        if platform == "hosting":
            if c.provider:
                return self.phrase("platform_phrase.hosting", claims, provider=provider_name(c.provider))
            return self.phrase("platform_phrase.hosting_unnamed", claims)
        if platform == "self_hosted":
            host = c.mx_hosts[0].host if c.mx_hosts else self.domain
            if c.mx_hosts:
                claims.append(f"mx:{host}")
            key = "platform_phrase.self_hosted_you" if you else "platform_phrase.self_hosted"
            return self.phrase(key, claims, host=host)
        if platform in _CLOUD:
            name = provider_name(c.provider) if c.provider else self.rules.platform_name(platform, self.lang)
            return self.phrase("platform_phrase.cloud", claims, name=name)
        return self.phrase(f"platform_phrase.{platform}", claims)

    # ---- sections -----------------------------------------------------------------------------

    def one_liner(self) -> Statement:
        ev = self.ev
        if ev.needs_rescan:
            reasons = "; ".join(self.c.incomplete_reasons) or "DMARC"
            return self.say("one_liner.incomplete", ("incomplete",), domain=self.domain, reasons=reasons)
        gaps = self.gap_phrase(self.gaps[:3])
        return self.say(
            "one_liner.complete",
            (f"score:{ev.score}",),
            domain=self.domain,
            priority=self.priority_phrase(),
            score_word=self.word("score"),
            score=ev.score,
            platform=self.platform_phrase(),
            gaps=self.phrase("one_liner.gaps", gaps=gaps) if gaps.text else "",
        )

    def why(self) -> tuple[Statement, ...]:
        ranked = sorted(
            (f for f in self.ev.breakdown if f.points != 0),
            key=lambda f: -abs(f.points),
        )[:4]
        extra = [f for f in self.ev.breakdown if f.factor in ("referral:priority_lift", "incomplete")]
        chosen = [f for f in self.ev.breakdown if f in ranked or f in extra]
        return tuple(Statement(f.text[self.lang], (f"factor:{f.factor}", *f.claims)) for f in chosen)

    def platform(self) -> tuple[Statement, ...]:
        c = self.c
        if self.ev.needs_rescan:
            return ()
        out: list[Statement] = []
        platform = c.platform or "unknown"
        if platform == "unresolved":
            return (self.say("platform.nxdomain", ("platform:unresolved",), domain=self.domain),)
        label = self.word(f"confidence_{c.confidence_label}")
        out.append(
            self.say(
                "platform.verdict",
                (f"confidence:{c.confidence_label}",),
                platform=self.platform_phrase(),
                confidence_label=label,
                confidence=self.number(c.confidence),
            )
        )
        if c.mx_hosts:
            hosts = [f"{h.preference} {h.host}" for h in c.mx_hosts]
            out.append(
                self.say(
                    "platform.mx",
                    tuple(f"mx:{h.host}" for h in c.mx_hosts),
                    count=len(hosts),
                    hosts=", ".join(hosts),
                )
            )
        else:
            out.append(self.say("platform.no_mx", ("platform:none",), domain=self.domain))
        if c.gateway is not None:
            gateway = Phrase(provider_name(c.gateway_provider) or c.gateway, (f"gateway:{c.gateway}",))
            if platform == "unknown":
                out.append(self.say("platform.gateway_unknown", ("platform:unknown",), gateway=gateway))
            else:
                out.append(
                    self.say("platform.gateway_known", gateway=gateway, platform=self.platform_phrase())
                )
        if c.secondary_platforms:
            names = [self.rules.platform_name(p, self.lang) for p in c.secondary_platforms]
            out.append(
                self.say(
                    "platform.secondary",
                    tuple(f"secondary:{p}" for p in c.secondary_platforms),
                    platforms=", ".join(names),
                )
            )
        traces = self.traces()
        if c.half_migrated:
            out.append(self.say("platform.half_migrated", ("half_migrated",), traces=traces))
        elif c.tenant_traces:
            out.append(self.say("platform.traces", traces=traces))
        if c.tenant_name:
            out.append(self.say("platform.tenant", (f"tenant_name:{c.tenant_name}",), tenant=c.tenant_name))
        parked = self.ev.factor("risk:parked")
        if parked is not None:
            detail = ", ".join(
                dict.fromkeys(
                    provider_name(s.split(":")[-1]) or s
                    for s in c.signals
                    if s.startswith(("parked:", "mx:parking:"))
                )
            )
            out.append(self.say("platform.parked", ("parked",), detail=detail))
        return tuple(out)

    def security(self) -> tuple[Statement, ...]:
        out: list[Statement] = []
        if not self.ev.needs_rescan:
            if self.ev.platform in ("none", "unresolved"):
                out.append(self.say("security.no_mail", (f"platform:{self.ev.platform}",)))
            elif self.gaps:
                out.append(self.say("security.gaps", gaps=self.gap_phrase()))
            elif self.ev.factor("risk:parked") is None:
                out.append(self.say("security.no_gaps", ("gaps:none",)))
        if self.ev.platform == "unresolved":
            return tuple(out)  # records of a domain that does not exist say nothing more
        out += self._spf()
        out += self._dmarc()
        out += self._dkim()
        out += self._mta_sts()
        return tuple(out)

    def _spf(self) -> list[Statement]:
        spf = self.p.spf
        if spf.status == "unknown":
            return [
                self.say(
                    "security.spf_unknown",
                    ("spf:unknown",),
                    domain=self.domain,
                    status=self.status(spf.lookup_status),
                )
            ]
        if spf.status == "missing":
            return [self.say("security.spf_missing", ("spf:missing",), domain=self.domain)]
        if spf.status == "invalid":
            return [
                self.say(
                    "security.spf_invalid",
                    ("spf:invalid", f"spf:count:{spf.record_count}"),
                    count=spf.record_count,
                )
            ]
        out = [self.say("security.spf_record", ("spf:present",), record=spf.record)]
        included = [p for p, yes in spf.includes_platform.items() if yes]
        if spf.include_providers:
            # One name and one example target per provider the tree reaches (gateways and bulk
            # senders included: they are authorised too).
            rules = default_provider_rules()
            first: dict[str, str] = {}
            for target in spf.tree_targets:
                match = rules.spf_index.match(target)
                if match is not None:
                    first.setdefault(match[1].key, target)
            keys = [k for k in spf.include_providers if k in first]
            names = [f"{provider_name(k)} ({first[k]})" for k in keys]
            out.append(
                self.say(
                    "security.spf_includes",
                    (*(f"spf_includes:{p}" for p in included), *(f"spf_includes_provider:{k}" for k in keys)),
                    names=", ".join(names),
                )
            )
        platform = self.c.platform
        if platform in _SPF_PLATFORMS and spf.tree_complete and not spf.includes_platform.get(platform or ""):
            out.append(
                self.say(
                    "security.spf_not_includes",
                    (f"spf_not_includes:{platform}", f"platform:{platform}"),
                    platform=self.rules.platform_name(platform, self.lang),
                )
            )
        if not spf.tree_complete:
            out.append(
                self.say(
                    "security.spf_tree_incomplete",
                    ("spf:tree_incomplete",),
                    targets=", ".join(spf.unresolved_includes[:4]),
                )
            )
        if spf.all_result is not None:
            out.append(self.say(f"security.spf_all_{spf.all_result}", (f"spf:all:{spf.all_result}",)))
        elif spf.redirect:
            out.append(
                self.say("security.spf_redirect", (f"spf:redirect:{spf.redirect}",), target=spf.redirect)
            )
        else:
            out.append(self.say("security.spf_all_none", ("spf:all:none",)))
        if spf.over_limit:
            out.append(self.say("security.spf_over_limit", ("spf:over_limit",), count=spf.lookups_used))
        if spf.void_over_limit:
            out.append(
                self.say("security.spf_void_over_limit", ("spf:void_over_limit",), count=spf.void_lookups)
            )
        codes = [
            e["code"] for e in spf.errors if e["code"] not in ("too_many_lookups", "too_many_void_lookups")
        ]
        if codes:
            out.append(
                self.say("security.spf_errors", ("spf:errors",), codes=", ".join(dict.fromkeys(codes)))
            )
        return out

    def _dmarc(self) -> list[Statement]:
        d = self.p.dmarc
        name = f"_dmarc.{self.domain}"
        if d.status == "unknown":
            return [
                self.say(
                    "security.dmarc_unknown",
                    ("dmarc:unknown",),
                    name=name,
                    status=self.status(d.lookup_status),
                )
            ]
        if d.status == "missing":
            return [
                self.say(
                    "security.dmarc_missing",
                    ("dmarc:missing",),
                    name=name,
                    answer=self.status(d.missing_reason),
                )
            ]
        if d.status == "invalid":
            if d.record_count > 1:
                detail = self.tpl("security.dmarc_invalid_multiple").format(count=d.record_count)
            else:
                detail = self.tpl("security.dmarc_invalid_version")
            return [self.say("security.dmarc_invalid", ("dmarc:invalid",), detail=detail)]
        out = [self.say("security.dmarc_record", ("dmarc:present",), record=d.record)]
        if d.from_organisational_domain:
            out.append(self.say("security.dmarc_org", ("dmarc:org_fallback",), source=d.source_domain))
        policy = d.effective_p or "none"
        if d.p is None:
            out.append(self.say("security.dmarc_no_p", ("dmarc:no_p_tag", "dmarc:policy:none")))
        else:
            out.append(self.say(f"security.dmarc_{policy}", (f"dmarc:policy:{policy}",)))
        if d.sp is not None and d.sp != policy:
            out.append(
                self.say(
                    "security.dmarc_sp", (f"dmarc:sp:{d.sp}", f"dmarc:policy:{policy}"), sp=d.sp, p=policy
                )
            )
        if d.pct is not None and d.pct < 100 and policy != "none":
            out.append(self.say("security.dmarc_pct", (f"dmarc:pct:{d.pct}",), pct=d.pct))
        if d.rua:
            out.append(self.say("security.dmarc_rua", ("dmarc:rua",), rua=", ".join(d.rua[:3])))
        else:
            out.append(self.say("security.dmarc_no_rua", ("dmarc:no_rua",)))
        return out

    def _dkim(self) -> list[Statement]:
        k = self.p.dkim
        out: list[Statement] = []
        if k.status == "found":
            out.append(
                self.say(
                    "security.dkim_found",
                    tuple(f"dkim:found:{s}" for s in k.found),
                    selectors=", ".join(k.found),
                )
            )
            for s in k.selectors:
                if (
                    s.status == "found"
                    and s.key_present
                    and s.key_type == "rsa"
                    and s.key_bits
                    and s.key_bits < 1024
                ):
                    out.append(
                        self.say(
                            "security.dkim_weak_key",
                            (f"dkim:weak_key:{s.selector}",),
                            selector=s.selector,
                            bits=s.key_bits,
                        )
                    )
        elif k.status == "not_found":
            out.append(
                self.say(
                    "security.dkim_not_found",
                    ("dkim:not_found",),
                    probed=k.probed,
                    selectors=", ".join(s.selector for s in k.selectors),
                )
            )
        elif k.probed == 0:
            out.append(self.say("security.dkim_not_probed", ("dkim:unknown",)))
        else:
            failed = sum(1 for s in k.selectors if s.status == "unknown")
            out.append(self.say("security.dkim_unknown", ("dkim:unknown",), failed=failed, probed=k.probed))
        cname_only = [s.selector for s in k.selectors if s.m365 and s.status == "cname_only"]
        if cname_only and not k.m365_signing:
            out.append(
                self.say(
                    "security.dkim_m365_cname_only",
                    tuple(f"dkim:m365_cname_only:{s}" for s in cname_only),
                    selectors=", ".join(cname_only),
                )
            )
        return out

    def _mta_sts(self) -> list[Statement]:
        m = self.p.mta_sts
        out: list[Statement] = []
        if m.status == "present":
            out.append(self.say("security.mta_sts_present", ("mta_sts:present",), record=m.record))
        elif m.status == "missing":
            out.append(self.say("security.mta_sts_missing", ("mta_sts:missing",)))
        elif m.status == "invalid":
            out.append(self.say("security.mta_sts_invalid", ("mta_sts:invalid",)))
        elif m.lookup_status is None:
            out.append(self.say("security.mta_sts_not_checked", ("mta_sts:unknown",)))
        else:
            out.append(
                self.say(
                    "security.mta_sts_unknown", ("mta_sts:unknown",), status=self.status(m.lookup_status)
                )
            )
        if self.p.tls_rpt.status == "present":
            out.append(
                self.say("security.tls_rpt_present", ("tls_rpt:present",), record=self.p.tls_rpt.record)
            )
        return out

    def company(self) -> str:
        keys = _company_keys()
        for key, value in self.inputs.attributes.items():
            if value and value.strip() and fold(key) in keys:
                return value.strip()
        return self.domain

    def call_script(self) -> tuple[Statement, ...]:
        ev = self.ev
        if ev.needs_rescan:
            return (self.say("call_script.none_incomplete", ("incomplete",)),)
        priority = ev.priority or "P6"
        if priority == "P6":
            return (self.say("call_script.none_skip", (f"priority:{priority}",)),)
        out = [self.say("call_script.opening", partner=self.partner, company=self.company())]
        if ev.factor("referral:active") is not None:
            out.append(self.say("call_script.referral", ("referral:active",)))
        platform = self.platform_phrase(you=True)
        if self.c.half_migrated:
            traces = self.traces()
            out.append(
                self.say(
                    "call_script.observation_half",
                    ("half_migrated",),
                    domain=self.domain,
                    traces=traces,
                    platform=platform,
                )
            )
        elif priority != "P5" or self.c.platform != "unknown" or self.c.gateway is not None:
            gateway: Phrase | str = ""
            if self.c.gateway is not None:
                name = Phrase(
                    provider_name(self.c.gateway_provider) or self.c.gateway, (f"gateway:{self.c.gateway}",)
                )
                gateway = self.phrase("call_script.observation_gateway", gateway=name)
            out.append(
                self.say("call_script.observation", domain=self.domain, platform=platform, gateway=gateway)
            )
        if self.gaps:
            observed = len(out) > (2 if ev.factor("referral:active") is not None else 1)
            key = "call_script.gaps" if observed else "call_script.gaps_first"
            out.append(self.say(key, gaps=self.gap_phrase(self.gaps[:3]), domain=self.domain))
        base = ev.base_priority or priority
        angle_params: dict[str, Any] = {}
        if base == "P2":
            angle_params["platform"] = self.platform_phrase(you=True)
        out.append(self.say(f"call_script.angle.{base}", **angle_params))
        out.append(self.say(f"call_script.close.{base}"))
        return tuple(out)

    def questions(self) -> tuple[Statement, ...]:
        ev = self.ev
        if ev.needs_rescan or ev.priority in (None, "P6"):
            return ()
        q = self.cat["questions"]
        base = ev.base_priority or ev.priority or "P5"
        out = [Statement(item[self.lang]) for item in q["common"]]
        if self.c.half_migrated:
            out += [Statement(item[self.lang], ("half_migrated",)) for item in q["half_migrated"]]
        platform = self.platform_phrase(you=True)
        for item in q.get(base) or ():
            template = str(item[self.lang])
            if "{platform}" in template:
                out.append(Statement(template.format(platform=platform.text), platform.claims))
            else:
                out.append(Statement(template))
        gaps = set(self.gaps)
        if gaps & _DMARC_GAPS:
            claims = self.gap_phrase([g for g in self.gaps if g in _DMARC_GAPS]).claims
            out += [Statement(item[self.lang], claims) for item in q["dmarc"]]
        if gaps & _DELIVERY_GAPS:
            claims = self.gap_phrase([g for g in self.gaps if g in _DELIVERY_GAPS]).claims
            out += [Statement(item[self.lang], claims) for item in q["delivery"]]
        return tuple(out)

    def objections(self) -> tuple[Objection, ...]:
        ev = self.ev
        if ev.needs_rescan or ev.priority in (None, "P6"):
            return ()
        base = ev.base_priority or ev.priority or "P5"
        basic = self.offers.licences.get("business_basic") or next(iter(self.offers.licences.values()), None)
        out = []
        for item in self.cat["objections"].get(base) or ():
            params: dict[str, Any] = {}
            for part in ("objection", "answer"):
                template = str(item[part][self.lang])
                if "{platform}" in template:
                    params["platform"] = self.platform_phrase(you=True)
                if "{gaps}" in template:
                    params["gaps"] = self.gap_phrase()
                if "{basic_price}" in template and basic is not None:
                    params["basic_price"] = Phrase(
                        _money(basic.price, self.offers.currency, self.lang),
                        (f"offer:price:{basic.key}:{basic.price:g}",),
                    )
            if "gaps" in params and not self.gaps:
                continue  # the answer quotes findings; without any it would say nothing true
            pair = []
            for part in ("objection", "answer"):
                template = str(item[part][self.lang])
                claims: list[str] = []
                values = {}
                for name, value in params.items():
                    if "{" + name + "}" in template:
                        claims.extend(value.claims)
                        values[name] = value.text
                pair.append(Statement(template.format_map(values), tuple(dict.fromkeys(claims))))
            out.append(Objection(pair[0], pair[1]))
        return tuple(out)

    def offer(self) -> OfferSuggestion:
        ev = self.ev
        o = self.offers
        note = self.say("offer.note", version=o.version, currency=o.currency)
        if ev.needs_rescan:
            reason = self.tpl("offer.none_incomplete")
            return OfferSuggestion(
                self.say("offer.none", ("incomplete",), reason=reason), (), None, o.currency, o.version
            )
        if ev.priority == "P6":
            reason = self.tpl("offer.none_skip")
            summary = self.say("offer.none", (f"priority:{ev.priority}",), reason=reason)
            return OfferSuggestion(summary, (), None, o.currency, o.version)
        size = ev.size
        lines: list[OfferLine] = []
        chosen: list[str] = []
        existing = ev.segment == "Existing"
        if size is not None:
            employees = Phrase(
                self.word("employees", n=size.employees_text),
                (f"size:{size.band}", f"size:employees:{size.employees_text}"),
            )
            source = size.key if size.source == "attribute" else "Partner Center"
        if existing:
            upgrade = o.licences.get(o.existing_upgrade or "")
            if upgrade is not None and self.gaps:
                summary = self.say(
                    "offer.existing_upgrade",
                    (f"offer:price:{upgrade.key}:{upgrade.price:g}",),
                    name=upgrade.name,
                    price=_money(upgrade.price, o.currency, self.lang),
                )
            elif size is not None:
                summary = self.say("offer.by_size", employees=employees, source=source)
            else:
                summary = self.say("offer.no_size", ("size:none",))
        elif size is not None:
            key = o.by_band.get(size.band) or o.order[-1]
            # Business plans have a user cap: move up the order while the hint exceeds it.
            index = o.order.index(key) if key in o.order else len(o.order) - 1
            over_cap = None
            while (cap := o.licences[o.order[index]].max_users) is not None and size.minimum > cap:
                over_cap = cap
                if index + 1 >= len(o.order):
                    break
                index += 1
            chosen = [o.order[index]]
            if over_cap is not None:
                summary = self.say("offer.by_size_over_cap", employees=employees, source=source, cap=over_cap)
            else:
                summary = self.say("offer.by_size", employees=employees, source=source)
        else:
            chosen = list(o.no_size)
            summary = self.say("offer.no_size", ("size:none",))
        for key in chosen:
            lines.append(self._licence_line(o.licences[key]))
        # An add-on is left out only when every suggested licence already contains it.
        included = set.intersection(*(set(o.licences[key].includes) for key in chosen)) if chosen else set()
        for addon in o.addons:
            if addon.key in included:
                continue
            if addon.segments is not None and ev.segment not in addon.segments:
                continue
            if addon.priorities is not None and (ev.base_priority or ev.priority) not in addon.priorities:
                continue
            relevant = [g for g in self.gaps if g in addon.when_gaps]
            if addon.when_gaps and not relevant:
                continue
            lines.append(self._addon_line(addon, relevant))
        return OfferSuggestion(summary, tuple(lines), note, o.currency, o.version)

    def _totals(self, price: float) -> tuple[int | None, int | None, float | None, float | None]:
        size = self.ev.size
        if size is None:
            return None, None, None, None
        low = price * size.minimum
        high = price * size.maximum if size.maximum is not None else None
        return size.minimum, size.maximum, round(low, 2), None if high is None else round(high, 2)

    def _total_detail(self, price: float) -> Statement | None:
        size = self.ev.size
        if size is None:
            return None
        _umin, _umax, low, high = self._totals(price)
        assert low is not None
        cur = self.offers.currency
        if high is None:
            total = f"≥ {_money(low, cur, self.lang, 0)}"
        elif high == low:
            total = _money(low, cur, self.lang, 0)
        else:
            total = f"{_money(low, cur, self.lang, 0)} – {_money(high, cur, self.lang, 0)}"
        n = Phrase(size.employees_text, (f"size:employees:{size.employees_text}",))
        return self.say("offer.licence_total", n=n, total=total)

    def _licence_line(self, licence: Licence) -> OfferLine:
        o = self.offers
        umin, umax, low, high = self._totals(licence.price)
        text = self.say(
            "offer.licence",
            (f"offer:price:{licence.key}:{licence.price:g}",),
            name=licence.name,
            price=_money(licence.price, o.currency, self.lang),
            pitch=licence.pitch[self.lang],
        )
        return OfferLine(
            licence.key,
            licence.name,
            "licence",
            licence.price,
            o.currency,
            "user_month",
            umin,
            umax,
            low,
            high,
            text,
            self._total_detail(licence.price),
        )

    def _addon_line(self, addon: Addon, gaps: list[str]) -> OfferLine:
        o = self.offers
        gap_phrase = self.gap_phrase(gaps)
        reason_key = {
            "defender_o365_p1": "offer.reason_defender",
            "entra_id_p1": "offer.reason_entra",
            "email_auth_setup": "offer.reason_setup",
            "copilot": "offer.reason_copilot",
        }.get(addon.key)
        reason = (
            self.phrase(reason_key, gaps=gap_phrase, partner=self.partner)
            if reason_key
            else Phrase(gap_phrase.text, gap_phrase.claims)
        )
        price = _money(addon.price, o.currency, self.lang)
        price_claim = (f"offer:price:{addon.key}:{addon.price:g}",)
        name = addon.name[self.lang]
        if addon.unit == "once":
            text = self.say("offer.service", price_claim, name=name, price=price, reason=reason)
            return OfferLine(
                addon.key, name, "service", addon.price, o.currency, "once", None, None, None, None, text
            )
        umin, umax, low, high = self._totals(addon.price)
        text = self.say("offer.addon", price_claim, name=name, price=price, reason=reason)
        return OfferLine(
            addon.key,
            name,
            "addon",
            addon.price,
            o.currency,
            "user_month",
            umin,
            umax,
            low,
            high,
            text,
            self._total_detail(addon.price),
        )

    def next_step(self) -> NextStep:
        ev = self.ev
        steps = self.cat["next_steps"]
        claims: tuple[str, ...]
        if ev.needs_rescan:
            key, claims = "incomplete", ("incomplete",)
        elif ev.factor("referral:active") is not None and ev.priority not in (None, "P6"):
            key, claims = "referral", ("referral:active", f"priority:{ev.priority}")
        else:
            key, claims = ev.priority or "P6", (f"priority:{ev.priority}",)
        step = steps[key]
        days = step.get("days")
        text = str(step[self.lang]).format(days=self.days(int(days)) if days is not None else "")
        return NextStep(str(step["action"]), None if days is None else int(days), Statement(text, claims))

    def crm_lines(self, next_step: NextStep) -> tuple[Statement, ...]:
        ev = self.ev
        out: list[Statement] = []
        if ev.needs_rescan:
            out.append(self.say("crm_note.header_incomplete", ("incomplete",), domain=self.domain))
        else:
            out.append(
                self.say(
                    "crm_note.header",
                    (f"score:{ev.score}", f"segment:{ev.segment}"),
                    domain=self.domain,
                    priority=self.priority_phrase(),
                    score_word=self.word("score"),
                    score=ev.score,
                    segment=self.rules.segment_labels.get(ev.segment or "", {}).get(self.lang, ev.segment),
                )
            )
            mx = ", ".join(h.host for h in self.c.mx_hosts[:3]) or "—"
            out.append(
                self.say(
                    "crm_note.mail",
                    tuple(f"mx:{h.host}" for h in self.c.mx_hosts[:3]),
                    platform=self.platform_phrase(),
                    mx=mx,
                )
            )
        out.append(
            self.say(
                "crm_note.security", spf=self._spf_short(), dmarc=self._dmarc_short(), dkim=self._dkim_short()
            )
        )
        size = ev.size
        if size is not None:
            size_text = Phrase(
                self.word("employees", n=size.employees_text), (f"size:employees:{size.employees_text}",)
            )
        else:
            size_text = Phrase(self.word("no_size"), ("size:none",))
        referral = self.inputs.referral
        if ev.factor("referral:active") is not None and referral is not None:
            ref = Phrase(
                self.word("referral_active", status=referral.status, substatus=referral.substatus or "-"),
                ("referral:active",),
            )
        else:
            ref = Phrase(self.word("no_referral"))
        out.append(self.say("crm_note.org", size=size_text, referral=ref))
        out.append(self.say("crm_note.next", next_step.text.claims, next=next_step.text.text))
        day = ev.evaluated_at
        date = f"{day.day:02d}.{day.month:02d}.{day.year}" if self.lang == "tr" else day.date().isoformat()
        out.append(self.say("crm_note.footer", date=date, version=ev.rules_version))
        return tuple(out)

    def _spf_short(self) -> Phrase:
        spf = self.p.spf
        if spf.status == "present":
            term = (
                f"{spf.all_qualifier}all" if spf.all_qualifier else "redirect" if spf.redirect else "no all"
            )
            claim = f"spf:all:{spf.all_result}" if spf.all_result else "spf:present"
            return self.phrase("crm_note.spf_present", ("spf:present", claim), all=term)
        if spf.status == "invalid":
            return self.phrase("crm_note.spf_invalid", ("spf:invalid",), count=spf.record_count)
        return self.phrase(f"crm_note.spf_{spf.status}", (f"spf:{spf.status}",))

    def _dmarc_short(self) -> Phrase:
        d = self.p.dmarc
        if d.status == "present":
            policy = d.effective_p or "none"
            return self.phrase("crm_note.dmarc_present", (f"dmarc:policy:{policy}",), policy=policy)
        return self.phrase(f"crm_note.dmarc_{d.status}", (f"dmarc:{d.status}",))

    def _dkim_short(self) -> Phrase:
        k = self.p.dkim
        if k.status == "found":
            return self.phrase(
                "crm_note.dkim_found", tuple(f"dkim:found:{s}" for s in k.found), selectors=", ".join(k.found)
            )
        if k.status == "not_found":
            return self.phrase("crm_note.dkim_not_found", ("dkim:not_found",))
        return self.phrase("crm_note.dkim_unknown", ("dkim:unknown",))


def build_brief(
    evaluation: Evaluation,
    inputs: EvaluationInput,
    lang: Lang,
    offers: Offers | None,
    partner_name: str,
    rules: Rules | None = None,
) -> Brief:
    """The sales brief for one lead in ``lang`` ("tr" or "en").

    ``offers`` defaults to the packaged price list; ``partner_name`` comes from settings.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}")
    if not partner_name or not partner_name.strip():
        raise ValueError("partner_name is required (it comes from the settings)")
    w = _Writer(
        evaluation,
        inputs,
        lang,
        offers if offers is not None else default_offers(),
        partner_name.strip(),
        rules if rules is not None else default_rules(),
    )
    next_step = w.next_step()
    return Brief(
        domain=inputs.domain,
        display_domain=w.domain,
        lang=lang,
        partner_name=w.partner,
        priority=evaluation.priority,
        segment=evaluation.segment,
        score=evaluation.score,
        one_liner=w.one_liner(),
        why=w.why(),
        platform=w.platform(),
        evidence=tuple(inputs.classification.evidence_lines),
        security=w.security(),
        call_script=w.call_script(),
        discovery_questions=w.questions(),
        objections=w.objections(),
        offer=w.offer(),
        next_step=next_step,
        crm_lines=w.crm_lines(next_step),
        rules_version=evaluation.rules_version,
    )
