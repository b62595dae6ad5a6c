"""Score 0–100 with an explainable breakdown (pure; rules in ``data/scoring.yaml``).

The score is the sum of the points of every factor that fired, clamped to the YAML's range.
Each :class:`Factor` carries its id, points, a sentence in Turkish and English, the evidence it
read (``{"lookup": "_dmarc.x TXT", "value": "v=DMARC1; p=none"}``) and machine-checkable
``claims`` (``dmarc:policy:none``) that the tests verify against the posture.

Facts are derived once per evaluation (:func:`derive_facts`) and shared by the score, the
priority (``core/priority.py``) and the tags (``core/tags.py``), so the three can never disagree
about what the evidence says.

Speed: this runs for every stored lead after a rules change, so the rules are parsed once
(:func:`default_rules` is cached), regexes are compiled at import, and per-call work is plain
attribute reads, a few small dicts and ``str.format_map``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

import yaml

from hunter.core.evidence import RdapStatus, RegistrationInfo
from hunter.core.posture import MailPosture
from hunter.core.providers import Classification
from hunter.core.providers import default_rules as default_provider_rules
from hunter.core.text import fold

__all__ = [
    "LANGS",
    "PRIORITIES",
    "SEGMENTS",
    "Factor",
    "FactorSpec",
    "Facts",
    "Lang",
    "PriorityRule",
    "ReferralInfo",
    "Rules",
    "SizeHint",
    "default_rules",
    "derive_facts",
    "load_rules",
    "parse_size",
    "score_factors",
    "size_hint",
]

Lang = Literal["tr", "en"]
LANGS: Final[tuple[Lang, ...]] = ("tr", "en")
PRIORITIES: Final = ("P1", "P2", "P3", "P4", "P5", "P6")
SEGMENTS: Final = ("Migration", "Existing", "Cold", "Skip")
GROUPS: Final = ("platform", "security", "organisation", "referral", "risk", "status")
GAPS: Final = (
    "dmarc_missing",
    "dmarc_none",
    "dmarc_invalid",
    "dmarc_partial",
    "spf_missing",
    "spf_invalid",
    "spf_broken",
    "spf_over_limit",
    "spf_permissive",
    "dkim_missing",
)
_NO_MAIL: Final = frozenset({"none", "unresolved"})
_LIMIT_CODES: Final = frozenset({"too_many_lookups", "too_many_void_lookups"})
_CONDITIONS: Final = frozenset(
    {
        "platform",
        "parked",
        "half_migrated",
        "low_confidence",
        "security_gaps",
        "behind_gateway",
        "receives_mail",
    }
)
_FORMAT_FIELD = re.compile(r"\{([a-z_]+)\}")


# --------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class ReferralInfo:
    """The Partner Center referral behind a lead (hook for the Partner Center sync).

    Values as Partner Center spells them (``status`` New / Active / Closed, ``qualification``
    SalesQualified / MarketingQualified / Direct); compared case-insensitively.
    """

    status: str | None = None
    substatus: str | None = None
    qualification: str | None = None
    deal_value: float | None = None
    currency: str | None = None
    company_size: str | None = None
    """``customerProfile.size`` as given (a size hint when no import column has one)."""
    referral_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "substatus": self.substatus,
            "qualification": self.qualification,
            "deal_value": self.deal_value,
            "currency": self.currency,
            "company_size": self.company_size,
            "referral_id": self.referral_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferralInfo:
        value = data.get("deal_value")
        return cls(
            status=data.get("status"),
            substatus=data.get("substatus"),
            qualification=data.get("qualification"),
            deal_value=float(value) if value is not None else None,
            currency=data.get("currency"),
            company_size=data.get("company_size"),
            referral_id=data.get("referral_id"),
        )


@dataclass(frozen=True, slots=True)
class SizeHint:
    """Employees as a file column or a referral states them; never estimated from DNS."""

    minimum: int
    maximum: int | None
    """Equal to ``minimum`` for an exact number; None for an open range ("250+")."""
    band: str
    source: str
    """``attribute`` or ``referral``."""
    key: str
    """The column name, or ``customerProfile.size``."""
    raw: str

    @property
    def exact(self) -> bool:
        return self.maximum == self.minimum

    @property
    def employees_text(self) -> str:
        if self.maximum is None:
            return f"{self.minimum}+"
        if self.exact:
            return str(self.minimum)
        return f"{self.minimum}–{self.maximum}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "minimum": self.minimum,
            "maximum": self.maximum,
            "band": self.band,
            "source": self.source,
            "key": self.key,
            "raw": self.raw,
            "employees": self.employees_text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SizeHint:
        return cls(
            minimum=int(data["minimum"]),
            maximum=None if data.get("maximum") is None else int(data["maximum"]),
            band=str(data["band"]),
            source=str(data["source"]),
            key=str(data["key"]),
            raw=str(data["raw"]),
        )


# --------------------------------------------------------------------------------------------
# Output


class Factor(NamedTuple):
    """One line of the breakdown (a NamedTuple: thousands are built per second on re-evaluation)."""

    factor: str
    points: int
    group: str
    text: Mapping[str, str]
    """``{"tr": …, "en": …}``"""
    evidence: tuple[Mapping[str, str], ...] = ()
    """What was read: ``{"lookup": <name and type, or source>, "value": <record or value>}``."""
    claims: tuple[str, ...] = ()
    """Facts the sentence asserts, in the claim vocabulary of ``core/brief.py``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "points": self.points,
            "group": self.group,
            "text": dict(self.text),
            "evidence": [dict(e) for e in self.evidence],
            "claims": list(self.claims),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Factor:
        return cls(
            factor=str(data["factor"]),
            points=int(data["points"]),
            group=str(data.get("group", "")),
            text=dict(data.get("text") or {}),
            evidence=tuple(dict(e) for e in data.get("evidence") or ()),
            claims=tuple(data.get("claims") or ()),
        )


# --------------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True, slots=True)
class FactorSpec:
    id: str
    group: str
    points: int
    tr: str
    en: str
    static: bool = False
    """No placeholders: the text dict is built once and shared by every factor that fires."""
    text: Mapping[str, str] | None = None

    def make(
        self,
        params: Mapping[str, Any] | None = None,
        evidence: tuple[Mapping[str, str], ...] = (),
        claims: tuple[str, ...] = (),
        *,
        points: int | None = None,
        tr: Mapping[str, Any] | None = None,
        en: Mapping[str, Any] | None = None,
    ) -> Factor:
        """A fired factor; ``tr``/``en`` hold language-specific parameter values."""
        if self.text is not None:
            text = self.text
        else:
            base = params or {}
            text = {
                "tr": self.tr.format_map({**base, **tr} if tr else base),
                "en": self.en.format_map({**base, **en} if en else base),
            }
        return Factor(self.id, self.points if points is None else points, self.group, text, evidence, claims)


@dataclass(frozen=True, slots=True)
class PriorityRule:
    """``if`` conditions (all must hold) → segment and priority."""

    platforms: frozenset[str] | None
    flags: tuple[tuple[str, bool], ...]
    segment: str
    priority: str

    def matches(self, facts: Facts) -> bool:
        if self.platforms is not None and facts.platform not in self.platforms:
            return False
        return all(getattr(facts, name) is value for name, value in self.flags)


@dataclass(frozen=True)
class Rules:
    version: str
    factors: Mapping[str, FactorSpec]
    score_min: int = 0
    score_max: int = 100
    security_cap: int | None = None
    low_confidence_below: float = 0.5
    expiring_within_days: int = 30
    new_domain_days: int = 365
    mature_domain_years: int = 3
    established_domain_years: int = 10
    referral_deal_value_min: float = 5000.0
    size_keys: frozenset[str] = frozenset()
    """Folded (Turkish-aware, case-insensitive) column names that hold a size hint."""
    size_bands: tuple[tuple[str, int | None], ...] = ()
    referral_active_statuses: frozenset[str] = frozenset({"new", "active"})
    referral_inactive_substatuses: frozenset[str] = frozenset()
    priority_gaps: frozenset[str] = frozenset()
    priority_rules: tuple[PriorityRule, ...] = ()
    lift_qualifications: frozenset[str] = frozenset()
    lift_from: frozenset[str] = frozenset()
    lift_steps: int = 1
    priority_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    segment_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    platform_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    platform_tags: Mapping[str, str] = field(default_factory=dict)
    trace_names: Mapping[str, str] = field(default_factory=dict)
    qualification_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rule_cache: dict[tuple[Any, ...], PriorityRule] = field(default_factory=dict, compare=False, repr=False)
    """Condition values → first matching rule, filled by ``core/priority.py`` (a handful of keys)."""

    def spec(self, factor_id: str) -> FactorSpec:
        return self.factors[factor_id]

    def band_for(self, minimum: int) -> str:
        for band, maximum in self.size_bands:
            if maximum is None or minimum <= maximum:
                return band
        return self.size_bands[-1][0] if self.size_bands else "unknown"

    def qualification_label(self, qualification: str | None, lang: Lang) -> str:
        labels = self.qualification_labels.get((qualification or "").lower())
        return labels[lang] if labels else (qualification or "")

    def trace_name(self, trace: str) -> str:
        return self.trace_names.get(trace, trace)

    def platform_name(self, platform: str | None, lang: Lang) -> str:
        names = self.platform_names.get(platform or "")
        return names.get(lang, platform or "") if names else (platform or "")


def _need(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise ValueError(f"{where}: missing {key!r}")
    return mapping[key]


def _lang_map(raw: Any, where: str) -> dict[str, str]:
    if isinstance(raw, str):
        return {"tr": raw, "en": raw}
    if not isinstance(raw, Mapping) or set(raw) != set(LANGS):
        raise ValueError(f"{where}: needs exactly the keys tr and en")
    return {lang: str(raw[lang]) for lang in LANGS}


def _load_factor(factor_id: str, raw: Any) -> FactorSpec:
    where = f"factor {factor_id!r}"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a mapping")
    unknown = set(raw) - {"group", "points", "tr", "en"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    group = _need(raw, "group", where)
    if group not in GROUPS:
        raise ValueError(f"{where}: group must be one of {GROUPS}")
    points = _need(raw, "points", where)
    if not isinstance(points, int) or isinstance(points, bool):
        raise ValueError(f"{where}: points must be an integer")
    tr, en = str(_need(raw, "tr", where)), str(_need(raw, "en", where))
    if set(_FORMAT_FIELD.findall(tr)) != set(_FORMAT_FIELD.findall(en)):
        raise ValueError(f"{where}: tr and en must use the same placeholders")
    static = not _FORMAT_FIELD.search(tr) and not _FORMAT_FIELD.search(en)
    # Static texts are shared read-only: a MappingProxy stops a caller mutating every lead's copy.
    text = MappingProxyType({"tr": tr, "en": en}) if static else None
    return FactorSpec(factor_id, group, points, tr, en, static, text)


def _load_priority_rule(raw: Any, index: int) -> PriorityRule:
    where = f"priority.rules[{index}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a mapping")
    cond = raw.get("if") or {}
    if not isinstance(cond, Mapping):
        raise ValueError(f"{where}.if must be a mapping")
    unknown = set(cond) - _CONDITIONS
    if unknown:
        raise ValueError(f"{where}: unknown condition(s) {sorted(unknown)}")
    segment, priority = raw.get("segment"), raw.get("priority")
    if segment not in SEGMENTS:
        raise ValueError(f"{where}: segment must be one of {SEGMENTS}")
    if priority not in PRIORITIES:
        raise ValueError(f"{where}: priority must be one of {PRIORITIES}")
    platforms = cond.get("platform")
    flags = []
    for name, value in cond.items():
        if name == "platform":
            continue
        if not isinstance(value, bool):
            raise ValueError(f"{where}: condition {name!r} must be true or false")
        flags.append((name, value))
    return PriorityRule(
        frozenset(str(p) for p in platforms) if platforms is not None else None,
        tuple(flags),
        segment,
        priority,
    )


# Factors the code fires; the YAML must define each one (the code reads them by id).
REQUIRED_FACTORS: Final = (
    "platform:hosting",
    "platform:self_hosted",
    "platform:google",
    "platform:zoho",
    "platform:yandex",
    "platform:amazon",
    "platform:icloud",
    "platform:other_cloud",
    "platform:m365",
    "platform:unknown",
    "platform:none",
    "platform:unresolved",
    "half_migrated",
    "behind_gateway",
    "low_confidence",
    "dmarc:missing",
    "dmarc:none",
    "dmarc:invalid",
    "dmarc:partial",
    "spf:missing",
    "spf:invalid",
    "spf:broken",
    "spf:over_limit",
    "spf:permissive",
    "dkim:missing",
    "security:cap",
    "domain_age:new",
    "domain_age:mature",
    "domain_age:established",
    "referral:active",
    "referral:deal_value",
    "referral:priority_lift",
    "risk:parked",
    "risk:expiring",
    "risk:expired",
    "risk:pending_delete",
    "incomplete",
)


def load_rules(data: Mapping[str, Any] | str) -> Rules:
    """Build rules from the parsed YAML (or YAML text). Raises ValueError on bad data."""
    if isinstance(data, str):
        try:
            data = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise ValueError(f"scoring rules are not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ValueError("scoring rules must be a mapping")
    known = {"version", "score", "thresholds", "size", "referral", "priority", "tags", "factors"}
    known.update({"platform_names", "trace_names"})
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"scoring rules: unknown section(s) {sorted(unknown)}")
    version = data.get("version")
    if not version:
        raise ValueError("scoring rules need a version")

    raw_factors = data.get("factors") or {}
    if not isinstance(raw_factors, Mapping):
        raise ValueError("factors must be a mapping")
    factors = {str(k): _load_factor(str(k), v) for k, v in raw_factors.items()}

    size = data.get("size") or {}
    bands = []
    for raw in size.get("bands") or []:
        maximum = raw.get("max")
        bands.append((str(_need(raw, "id", "size band")), None if maximum is None else int(maximum)))
    if bands and bands[-1][1] is not None:
        raise ValueError("the last size band must be open (max: null)")
    for band, _max in bands:
        if f"size:{band}" not in factors:
            raise ValueError(f"size band {band!r} needs a factor size:{band}")

    missing = [f for f in REQUIRED_FACTORS if f not in factors]
    if missing:
        raise ValueError(f"factors missing from the rules: {missing}")

    priority = data.get("priority") or {}
    gaps = frozenset(str(g) for g in priority.get("security_gaps") or ())
    if gaps - set(GAPS):
        raise ValueError(f"priority.security_gaps: unknown gap(s) {sorted(gaps - set(GAPS))}")
    rules = tuple(_load_priority_rule(raw, i) for i, raw in enumerate(priority.get("rules") or ()))
    if not rules or rules[-1].platforms is not None or rules[-1].flags:
        raise ValueError("priority.rules must end with a catch-all rule (if: {})")
    lift = priority.get("referral_lift") or {}
    lift_from = frozenset(str(p) for p in lift.get("from") or ())
    if lift_from - set(PRIORITIES):
        raise ValueError("priority.referral_lift.from: unknown priority")
    qualifications = frozenset(str(q).lower() for q in lift.get("qualifications") or ())
    for qualification in qualifications:
        if f"referral:{qualification}" not in factors:
            raise ValueError(
                f"referral qualification {qualification!r} needs a factor referral:{qualification}"
            )

    labels = {str(k): _lang_map(v, f"priority.labels.{k}") for k, v in (priority.get("labels") or {}).items()}
    if set(labels) != set(PRIORITIES):
        raise ValueError("priority.labels must name every priority")
    segment_labels = {
        str(k): _lang_map(v, f"priority.segment_labels.{k}")
        for k, v in (priority.get("segment_labels") or {}).items()
    }
    names = {
        str(k): _lang_map(v, f"platform_names.{k}") for k, v in (data.get("platform_names") or {}).items()
    }

    score = data.get("score") or {}
    thresholds = data.get("thresholds") or {}
    referral = data.get("referral") or {}
    tags = data.get("tags") or {}
    cap = score.get("security_cap")
    return Rules(
        version=str(version),
        factors=factors,
        score_min=int(score.get("min", 0)),
        score_max=int(score.get("max", 100)),
        security_cap=None if cap is None else int(cap),
        low_confidence_below=float(thresholds.get("low_confidence_below", 0.5)),
        expiring_within_days=int(thresholds.get("expiring_within_days", 30)),
        new_domain_days=int(thresholds.get("new_domain_days", 365)),
        mature_domain_years=int(thresholds.get("mature_domain_years", 3)),
        established_domain_years=int(thresholds.get("established_domain_years", 10)),
        referral_deal_value_min=float(thresholds.get("referral_deal_value_min", 5000)),
        size_keys=frozenset(fold(str(k)) for k in size.get("attribute_keys") or ()),
        size_bands=tuple(bands),
        referral_active_statuses=frozenset(
            str(s).lower() for s in referral.get("active_statuses") or ("new", "active")
        ),
        referral_inactive_substatuses=frozenset(
            str(s).lower() for s in referral.get("inactive_substatuses") or ()
        ),
        priority_gaps=gaps,
        priority_rules=rules,
        lift_qualifications=qualifications,
        lift_from=lift_from,
        lift_steps=int(lift.get("steps", 1)),
        priority_labels=labels,
        segment_labels=segment_labels,
        platform_names=names,
        platform_tags={str(k): str(v) for k, v in (tags.get("platform") or {}).items()},
        trace_names={str(k): str(v) for k, v in (data.get("trace_names") or {}).items()},
        qualification_labels={
            str(k).lower(): _lang_map(v, f"referral.qualification_labels.{k}")
            for k, v in (referral.get("qualification_labels") or {}).items()
        },
    )


@functools.cache
def default_rules() -> Rules:
    """The packaged ``data/scoring.yaml``, loaded once per process."""
    text = resources.files("hunter.data").joinpath("scoring.yaml").read_text(encoding="utf-8")
    return load_rules(text)


@functools.cache
def _provider_names() -> dict[str, str]:
    return {p.key: p.name for p in default_provider_rules().providers}


def provider_name(key: str | None) -> str | None:
    """Display name of a provider key from ``data/providers.yaml`` (the key itself if unknown)."""
    if key is None:
        return None
    return _provider_names().get(key, key)


# --------------------------------------------------------------------------------------------
# Size hints

# "1.200" and "1,200" are thousands in Turkish and English lists alike; employee counts have no
# decimals, so a separator followed by exactly three digits is read as a thousands separator.
_NUMBER = re.compile(r"\d{1,3}(?:[.,]\d{3})+(?!\d)|\d+")
_OPEN_UP = re.compile(r"\+|\b(?:fazla|uzeri|ustu|over|more|above|plus|ve uzeri)\b")
_OPEN_DOWN = re.compile(r"<|\b(?:az|less|under|alti|altinda|fewer|up to|kadar)\b")


@functools.lru_cache(maxsize=4096)
def _fold_key(key: str) -> str:
    # Column names repeat for every row of an import: fold each one once.
    return fold(key)


@functools.lru_cache(maxsize=8192)
def parse_size(text: str) -> tuple[int, int | None] | None:
    """Employees as ``(minimum, maximum)`` from what a cell says; None when it states no number.

    ``"45"`` → (45, 45); ``"50-99"`` / ``"10to50employees"`` → (50, 99) / (10, 50);
    ``"250+"`` / ``"1.000'den fazla"`` → (250, None) / (1000, None); ``"10'dan az"`` → (1, 10).
    """
    folded = fold(text)
    numbers = [int(n.replace(".", "").replace(",", "")) for n in _NUMBER.findall(folded)]
    numbers = [n for n in numbers if n > 0]
    if not numbers:
        return None
    if len(numbers) >= 2:
        low, high = sorted(numbers[:2])
        return low, high
    n = numbers[0]
    if _OPEN_UP.search(folded):
        return n, None
    if _OPEN_DOWN.search(folded):
        return 1, n
    return n, n


def size_hint(attributes: Mapping[str, str], referral: ReferralInfo | None, rules: Rules) -> SizeHint | None:
    """The first size column with a number in it, else the referral's company size."""
    for key, value in attributes.items():
        if not value or _fold_key(key) not in rules.size_keys:
            continue
        parsed = parse_size(str(value))
        if parsed is not None:
            return SizeHint(parsed[0], parsed[1], rules.band_for(parsed[0]), "attribute", key, str(value))
    if referral is not None and referral.company_size:
        parsed = parse_size(referral.company_size)
        if parsed is not None:
            return SizeHint(
                parsed[0],
                parsed[1],
                rules.band_for(parsed[0]),
                "referral",
                "customerProfile.size",
                referral.company_size,
            )
    return None


# --------------------------------------------------------------------------------------------
# Facts


@dataclass(slots=True)
class Facts:
    """What the evidence says, in the terms the rules speak (derived once per evaluation)."""

    domain: str
    complete: bool
    platform: str | None
    receives_mail: bool
    parked: bool
    half_migrated: bool
    behind_gateway: bool
    low_confidence: bool
    gaps: frozenset[str]
    security_gaps: bool
    size: SizeHint | None
    created: datetime | None
    domain_age_days: int | None
    expires: datetime | None
    expires_in_days: int | None
    registry_deleting: str | None
    referral_active: bool
    referral_qualification: str | None
    """Lower-case qualification of an active referral."""


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_DELETING: Final = {"pendingdelete": "pendingDelete", "redemptionperiod": "redemptionPeriod"}


def _registry_deleting(statuses: Iterable[str]) -> str | None:
    for status in statuses:
        key = status.replace(" ", "").replace("_", "").lower()
        if key in _DELETING:
            return _DELETING[key]
    return None


def _gaps(posture: MailPosture) -> frozenset[str]:
    gaps: list[str] = []
    dmarc = posture.dmarc
    if dmarc.status == "missing":
        gaps.append("dmarc_missing")
    elif dmarc.status == "invalid":
        gaps.append("dmarc_invalid")
    elif dmarc.status == "present":
        if not dmarc.enforced:
            gaps.append("dmarc_none")
        elif not dmarc.fully_enforced:
            gaps.append("dmarc_partial")
    spf = posture.spf
    if spf.status == "missing":
        gaps.append("spf_missing")
    elif spf.status == "invalid":
        gaps.append("spf_invalid")
    elif spf.status == "present":
        if spf.over_limit or spf.void_over_limit:
            gaps.append("spf_over_limit")
        if any(e["code"] not in _LIMIT_CODES for e in spf.errors):
            gaps.append("spf_broken")
        if spf.all_qualifier in ("+", "?"):
            gaps.append("spf_permissive")
    if posture.dkim.status == "not_found":
        gaps.append("dkim_missing")
    return frozenset(gaps)


def derive_facts(
    classification: Classification,
    posture: MailPosture,
    registration: RegistrationInfo | None,
    attributes: Mapping[str, str],
    referral: ReferralInfo | None,
    now: datetime,
    rules: Rules,
    domain: str | None = None,
) -> Facts:
    c = classification
    platform = c.platform
    # Unknown is not absent: a DMARC answer nobody got cannot be judged, whatever the classifier
    # says about completeness (it should already have said incomplete).
    complete = (
        c.complete
        and platform is not None
        and (posture.dmarc.status != "unknown" or platform == "unresolved")
    )
    receives = complete and platform not in _NO_MAIL
    gaps = _gaps(posture) if receives and not c.parked else frozenset()

    created = expires = None
    age = expires_in = None
    deleting = None
    if registration is not None and registration.status == RdapStatus.OK:
        now_utc = _utc(now)
        assert now_utc is not None
        created = _utc(registration.created)
        expires = _utc(registration.expires)
        if created is not None and created <= now_utc:
            age = (now_utc - created).days
        if expires is not None:
            # Days rounded down, but an expiry later today still counts as "0 days", not expired.
            expires_in = (expires - now_utc).days if expires >= now_utc else -1 - (now_utc - expires).days
        deleting = _registry_deleting(registration.domain_status)

    active = False
    qualification = None
    if referral is not None:
        status = (referral.status or "").lower()
        substatus = (referral.substatus or "").lower()
        active = (
            status in rules.referral_active_statuses and substatus not in rules.referral_inactive_substatuses
        )
        if active and referral.qualification:
            qualification = referral.qualification.lower()

    return Facts(
        domain=domain or c.domain,
        complete=complete,
        platform=platform if complete else None,
        receives_mail=receives,
        parked=complete and c.parked,
        half_migrated=complete and c.half_migrated,
        behind_gateway=complete and c.gateway is not None,
        low_confidence=complete and platform not in _NO_MAIL and c.confidence < rules.low_confidence_below,
        gaps=gaps,
        security_gaps=bool(gaps & rules.priority_gaps),
        size=size_hint(attributes, referral, rules),
        created=created,
        domain_age_days=age,
        expires=expires,
        expires_in_days=expires_in,
        registry_deleting=deleting,
        referral_active=active,
        referral_qualification=qualification,
    )


# --------------------------------------------------------------------------------------------
# Factors


def _ev(lookup: str, value: str) -> dict[str, str]:
    return {"lookup": lookup, "value": value}


def _mx_evidence(c: Classification, domain: str, limit: int = 6) -> list[dict[str, str]]:
    return [_ev(f"{domain} MX", f"{h.preference} {h.host}.") for h in c.mx_hosts[:limit]]


def _platform_factor(facts: Facts, c: Classification, rules: Rules) -> Factor:
    platform = facts.platform or "unknown"
    spec = rules.factors[f"platform:{platform}"]
    domain = facts.domain
    evidence = _mx_evidence(c, domain)
    claims = [f"platform:{platform}"]
    if c.provider:
        claims.append(f"provider:{c.provider}")
    if platform == "unresolved":
        evidence = [_ev(f"{domain} MX", "NXDOMAIN")]
    elif platform == "none":
        evidence = evidence or [_ev(f"{domain} MX", "no MX host")]
    else:
        # Lines that decided the platform without being MX records (gateway inference, SPF).
        evidence += [
            _ev("classification", line) for line in c.evidence_lines[:4] if not line.startswith("MX ")
        ]
    if c.provider:
        provider = provider_name(c.provider) or ""
    elif c.mx_hosts:
        provider = c.mx_hosts[0].host
    else:
        provider = ""
    if c.provider and platform not in ("hosting", "self_hosted"):
        return spec.make({"provider": provider, "platform_name": provider}, tuple(evidence), tuple(claims))
    return spec.make(
        {"provider": provider},
        tuple(evidence),
        tuple(claims),
        tr={"platform_name": rules.platform_name(platform, "tr")},
        en={"platform_name": rules.platform_name(platform, "en")},
    )


_STATUS_WORDS: Final = {"nxdomain": "NXDOMAIN", "nodata": "NODATA", "no_dmarc_record": "TXT without DMARC"}


def _security_factors(facts: Facts, posture: MailPosture, rules: Rules) -> list[Factor]:
    gaps = facts.gaps
    domain = facts.domain
    out: list[Factor] = []
    f = rules.factors
    dmarc = posture.dmarc
    dmarc_lookup = f"_dmarc.{dmarc.source_domain or domain} TXT"
    if "dmarc_missing" in gaps:
        answer = _STATUS_WORDS.get(dmarc.missing_reason or "", dmarc.missing_reason or "no record")
        out.append(
            f["dmarc:missing"].make(
                {"lookup": f"_dmarc.{domain}", "answer": answer},
                (_ev(f"_dmarc.{domain} TXT", answer),),
                ("dmarc:missing",),
            )
        )
    elif "dmarc_invalid" in gaps:
        if dmarc.record_count > 1:
            detail_en, detail_tr = f"{dmarc.record_count} records", f"{dmarc.record_count} ayrı kayıt"
        else:
            detail_en, detail_tr = "malformed v=DMARC1 tag", "hatalı v=DMARC1 etiketi"
        out.append(
            f["dmarc:invalid"].make(
                None,
                (_ev(dmarc_lookup, dmarc.record or f"{dmarc.record_count} DMARC records"),),
                ("dmarc:invalid",),
                tr={"detail": detail_tr},
                en={"detail": detail_en},
            )
        )
    elif "dmarc_none" in gaps:
        out.append(
            f["dmarc:none"].make(None, (_ev(dmarc_lookup, dmarc.record or ""),), ("dmarc:policy:none",))
        )
    elif "dmarc_partial" in gaps:
        pct = dmarc.pct if dmarc.pct is not None else 100
        detail = f"pct={pct}" if pct < 100 else "t=y"
        out.append(
            f["dmarc:partial"].make(
                {"policy": dmarc.effective_p or "", "detail": detail},
                (_ev(dmarc_lookup, dmarc.record or ""),),
                ("dmarc:partial", f"dmarc:policy:{dmarc.effective_p}"),
            )
        )
    spf = posture.spf
    spf_ev = (_ev(f"{domain} TXT", spf.record or "no SPF record"),)
    if "spf_missing" in gaps:
        out.append(f["spf:missing"].make(None, spf_ev, ("spf:missing",)))
    elif "spf_invalid" in gaps:
        out.append(
            f["spf:invalid"].make(
                {"count": spf.record_count},
                (_ev(f"{domain} TXT", f"{spf.record_count} SPF records"),),
                ("spf:invalid",),
            )
        )
    if "spf_broken" in gaps:
        codes = ", ".join(dict.fromkeys(e["code"] for e in spf.errors if e["code"] not in _LIMIT_CODES))
        out.append(f["spf:broken"].make({"codes": codes}, spf_ev, ("spf:errors",)))
    if "spf_over_limit" in gaps:
        parts_en, parts_tr, claims = [], [], []
        if spf.over_limit:
            parts_en.append(f"{spf.lookups_used} DNS lookups (limit 10)")
            parts_tr.append(f"{spf.lookups_used} DNS sorgusu (sınır 10)")
            claims.append("spf:over_limit")
        if spf.void_over_limit:
            parts_en.append(f"{spf.void_lookups} void lookups (limit 2)")
            parts_tr.append(f"{spf.void_lookups} boş yanıtlı sorgu (sınır 2)")
            claims.append("spf:void_over_limit")
        out.append(
            f["spf:over_limit"].make(
                None,
                (*spf_ev, _ev("SPF tree", f"{spf.lookups_used} DNS lookups, {spf.void_lookups} void")),
                tuple(claims),
                tr={"detail": ", ".join(parts_tr)},
                en={"detail": ", ".join(parts_en)},
            )
        )
    if "spf_permissive" in gaps:
        term = f"{spf.all_qualifier}all"
        out.append(f["spf:permissive"].make({"all": term}, spf_ev, (f"spf:all:{spf.all_result}",)))
    if "dkim_missing" in gaps:
        dkim = posture.dkim
        selectors = [s.selector for s in dkim.selectors]
        out.append(
            f["dkim:missing"].make(
                {"probed": dkim.probed, "selectors": ", ".join(selectors)},
                tuple(_ev(f"{s.name} TXT", s.status) for s in dkim.selectors),
                ("dkim:not_found",),
            )
        )
    if rules.security_cap is not None:
        total = sum(x.points for x in out)
        if total > rules.security_cap:
            out.append(
                f["security:cap"].make({"cap": rules.security_cap}, (), (), points=rules.security_cap - total)
            )
    return out


def _iso(value: datetime) -> str:
    return value.date().isoformat()


def _tr_date(value: datetime) -> str:
    # Turkish readers write dates day first: 20.01.2025.
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def _organisation_factors(facts: Facts, registration: RegistrationInfo | None, rules: Rules) -> list[Factor]:
    out: list[Factor] = []
    size = facts.size
    if size is not None:
        if size.source == "attribute":
            source_tr = source_en = size.key
        else:
            source_tr, source_en = "Partner Center yönlendirmesi", "Partner Center referral"
        lookup = f"import: {size.key}" if size.source == "attribute" else "referral: customerProfile.size"
        out.append(
            rules.factors[f"size:{size.band}"].make(
                {"employees": size.employees_text},
                (_ev(lookup, size.raw),),
                (f"size:{size.band}",),
                tr={"source": source_tr},
                en={"source": source_en},
            )
        )
    age = facts.domain_age_days
    if age is not None and facts.created is not None:
        years = age // 365
        if age < rules.new_domain_days:
            factor_id = "domain_age:new"
        elif years >= rules.established_domain_years:
            factor_id = "domain_age:established"
        elif years >= rules.mature_domain_years:
            factor_id = "domain_age:mature"
        else:
            factor_id = None
        if factor_id is not None:
            created = _iso(facts.created)
            source = registration.source if registration is not None else "rdap"
            out.append(
                rules.factors[factor_id].make(
                    {"created": created, "days": age, "years": years},
                    (_ev(f"{source} created", created),),
                    (f"registered:{created}",),
                    tr={"created": _tr_date(facts.created)},
                )
            )
    return out


def _referral_factors(facts: Facts, referral: ReferralInfo | None, rules: Rules) -> list[Factor]:
    if referral is None or not facts.referral_active:
        return []
    status = referral.status or ""
    substatus = referral.substatus or "-"
    evidence = (_ev("referral", f"{status} / {substatus}"),)
    out = [
        rules.factors["referral:active"].make(
            {"status": status, "substatus": substatus}, evidence, ("referral:active",)
        )
    ]
    qualification = facts.referral_qualification
    if qualification and f"referral:{qualification}" in rules.factors:
        out.append(
            rules.factors[f"referral:{qualification}"].make(
                None,
                (_ev("referral qualification", referral.qualification or ""),),
                (f"referral:qualification:{qualification}",),
                tr={"qualification": rules.qualification_label(qualification, "tr")},
                en={"qualification": rules.qualification_label(qualification, "en")},
            )
        )
    value = referral.deal_value
    if value is not None and value >= rules.referral_deal_value_min:
        shown = f"{value:,.0f} {referral.currency or ''}".strip()
        out.append(
            rules.factors["referral:deal_value"].make(
                {"deal_value": shown},
                (_ev("referral dealValue", shown),),
                ("referral:deal_value",),
                tr={"deal_value": shown.replace(",", ".")},
            )
        )
    return out


def _risk_factors(
    facts: Facts, c: Classification, registration: RegistrationInfo | None, rules: Rules
) -> list[Factor]:
    out: list[Factor] = []
    if facts.parked:
        keys = [s.split(":")[-1] for s in c.signals if s.startswith(("parked:", "mx:parking:"))]
        names = list(dict.fromkeys(provider_name(k) or k for k in keys)) or ["parking"]
        lines = [line for line in c.evidence_lines if "parking" in line][:3]
        out.append(
            rules.factors["risk:parked"].make(
                {"detail": ", ".join(names)},
                tuple(_ev("classification", line) for line in lines),
                ("parked",),
            )
        )
    source = registration.source if registration is not None else "rdap"
    if facts.expires is not None and facts.expires_in_days is not None:
        expires = _iso(facts.expires)
        ev = (_ev(f"{source} expires", expires),)
        if facts.expires_in_days < 0:
            out.append(
                rules.factors["risk:expired"].make(
                    {"expires": expires}, ev, (f"expired:{expires}",), tr={"expires": _tr_date(facts.expires)}
                )
            )
        elif facts.expires_in_days <= rules.expiring_within_days:
            out.append(
                rules.factors["risk:expiring"].make(
                    {"expires": expires, "days": facts.expires_in_days},
                    ev,
                    (f"expires:{expires}", f"expires_within:{facts.expires_in_days}"),
                    tr={"expires": _tr_date(facts.expires)},
                )
            )
    if facts.registry_deleting:
        out.append(
            rules.factors["risk:pending_delete"].make(
                {"status": facts.registry_deleting},
                (_ev(f"{source} status", facts.registry_deleting),),
                (f"registry_status:{facts.registry_deleting}",),
            )
        )
    return out


def score_factors(
    facts: Facts,
    classification: Classification,
    posture: MailPosture,
    registration: RegistrationInfo | None,
    referral: ReferralInfo | None,
    rules: Rules,
) -> list[Factor]:
    """Every factor that fires for a complete evaluation, in breakdown order."""
    c = classification
    out = [_platform_factor(facts, c, rules)]
    if facts.half_migrated:
        traces = ", ".join(rules.trace_name(t) for t in c.tenant_traces)
        evidence = [_ev("M365 tenant traces", traces)]
        if c.tenant_name:
            evidence.append(_ev("M365 DKIM CNAME tenant", c.tenant_name))
        out.append(
            rules.factors["half_migrated"].make(
                {"traces": traces},
                tuple(evidence),
                ("half_migrated", *(f"tenant_trace:{t}" for t in c.tenant_traces)),
            )
        )
    if facts.behind_gateway:
        name = provider_name(c.gateway_provider) or c.gateway or ""
        gateway_hosts = [
            _ev(f"{facts.domain} MX", f"{h.preference} {h.host}.")
            for h in c.mx_hosts
            if h.category == "gateway"
        ]
        out.append(
            rules.factors["behind_gateway"].make(
                {"gateway_name": name}, tuple(gateway_hosts[:4]), (f"gateway:{c.gateway}",)
            )
        )
    if facts.low_confidence:
        out.append(
            rules.factors["low_confidence"].make(
                {"confidence": f"{c.confidence:.2f}"},
                (_ev("classification confidence", f"{c.confidence:.2f}"),),
                ("confidence:low",),
                tr={"confidence": f"{c.confidence:.2f}".replace(".", ",")},
            )
        )
    if facts.gaps:
        out += _security_factors(facts, posture, rules)
    out += _organisation_factors(facts, registration, rules)
    out += _referral_factors(facts, referral, rules)
    out += _risk_factors(facts, c, registration, rules)
    return out


def total_score(factors: Iterable[Factor], rules: Rules) -> int:
    return max(rules.score_min, min(rules.score_max, sum(f.points for f in factors)))
