"""SPF record selection and parsing (RFC 7208), pure: no DNS, no clock.

The parser reads leniently (extra spaces, tabs, upper case, trailing dots) but reports every
deviation precisely as an error (the record is a permerror per RFC 7208 §4.6) or a warning
(legal but risky or odd). Recursion through ``include``/``redirect`` needs DNS, so it lives in
the collector; this module only tells it which targets to fetch and which limits apply.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "DNS_MECHANISM_KINDS",
    "MECHANISM_KINDS",
    "QUALIFIER_RESULTS",
    "SpfIssue",
    "SpfLimits",
    "SpfMechanism",
    "SpfModifier",
    "SpfRecord",
    "SpfSelection",
    "check_tree_limits",
    "is_spf_record",
    "lookup_targets",
    "parse_spf",
    "select_spf",
]

MECHANISM_KINDS: Final = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
# RFC 7208 §4.6.4: the terms that cost a DNS query and count toward the limit of 10.
DNS_MECHANISM_KINDS: Final = frozenset({"include", "a", "mx", "ptr", "exists"})
QUALIFIER_RESULTS: Final = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
# RFC 6652 reporting modifiers: unknown to RFC 7208 but a registered extension, so no warning.
_EXTENSION_MODIFIERS: Final = frozenset({"ra", "rp", "rr"})

_VERSION_RE = re.compile(r"v=spf1(?: |\Z)", re.IGNORECASE)
_NEAR_MISS_RE = re.compile(r"^[\s\"']*v\s*=\s*spf1", re.IGNORECASE)
# qualifier, name, rest; RFC 7208 §12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
_TERM_RE = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9_.\-]*)(.*)", re.DOTALL)
_MACRO_RE = re.compile(r"%(?:\{([A-Za-z])(\d*)([rR]?)([.\-+,/_=]*)\}|[%_\-])")
_MACRO_LETTERS: Final = frozenset("slodiphcrtv")
_EXP_ONLY_LETTERS: Final = frozenset("crt")
# ip4-cidr-length / ip6-cidr-length: no leading zeros (RFC 7208 §12).
_CIDR4_RE = re.compile(r"0|[1-9][0-9]?")
_CIDR6_RE = re.compile(r"0|[1-9][0-9]{0,2}")
_TOPLABEL_RE = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9\-]*[a-z0-9]")
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")


class SpfLimits:
    """RFC 7208 §4.6.4 processing limits for one SPF evaluation (the whole include tree)."""

    DNS_MECHANISMS: Final = 10
    VOID_LOOKUPS: Final = 2
    # Address lookups one mx or ptr term may trigger.
    ADDRESS_LOOKUPS_PER_TERM: Final = 10


@dataclass(frozen=True, slots=True)
class SpfIssue:
    """One finding. ``code`` is stable (for scoring and translations), ``message`` is English."""

    code: str
    message: str
    term: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "term": self.term}


@dataclass(frozen=True, slots=True)
class SpfMechanism:
    """A directive. ``value`` is the domain-spec (lower-cased, trailing dot removed; None when
    the mechanism defaults to the current domain) or, for ip4/ip6, the address without prefix."""

    qualifier: str
    kind: str
    value: str | None
    cidr4: int | None
    cidr6: int | None
    term: str
    after_all: bool = False
    """True for terms after the first ``all``: never evaluated (RFC 7208 §5.1)."""

    @property
    def result(self) -> str:
        return QUALIFIER_RESULTS[self.qualifier]

    @property
    def has_macro(self) -> bool:
        return self.value is not None and "%" in self.value

    @property
    def counts_as_dns_lookup(self) -> bool:
        return self.kind in DNS_MECHANISM_KINDS and not self.after_all

    @property
    def network(self) -> str | None:
        """``address/prefix`` for ip4/ip6 as published (host bits kept), else None."""
        if self.kind == "ip4" and self.value is not None:
            return f"{self.value}/{self.cidr4}" if self.cidr4 is not None else self.value
        if self.kind == "ip6" and self.value is not None:
            return f"{self.value}/{self.cidr6}" if self.cidr6 is not None else self.value
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "qualifier": self.qualifier,
            "kind": self.kind,
            "value": self.value,
            "cidr4": self.cidr4,
            "cidr6": self.cidr6,
            "term": self.term,
            "after_all": self.after_all,
        }


@dataclass(frozen=True, slots=True)
class SpfModifier:
    name: str
    value: str
    term: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "term": self.term}


@dataclass(frozen=True, slots=True)
class SpfRecord:
    raw: str
    mechanisms: tuple[SpfMechanism, ...]
    modifiers: tuple[SpfModifier, ...]
    all_qualifier: str | None
    """Qualifier of the first ``all`` (``+ - ~ ?``), None when the record has no ``all``."""
    errors: tuple[SpfIssue, ...]
    warnings: tuple[SpfIssue, ...]

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def includes(self) -> list[str]:
        """Include targets an evaluator can reach, in order (terms after ``all`` excluded)."""
        return [
            m.value
            for m in self.mechanisms
            if m.kind == "include" and not m.after_all and m.value is not None
        ]

    @property
    def redirect(self) -> str | None:
        """The published ``redirect=`` target (first one), even when ``all`` makes it ignored."""
        return self._modifier("redirect")

    @property
    def redirect_ignored(self) -> bool:
        # RFC 7208 §6.1: redirect is ignored when the record has an "all" mechanism anywhere.
        return self.redirect is not None and any(m.kind == "all" for m in self.mechanisms)

    @property
    def exp(self) -> str | None:
        return self._modifier("exp")

    @property
    def dns_mechanism_count(self) -> int:
        """DNS-querying terms of this record alone (RFC 7208 §4.6.4), not of its include tree."""
        count = sum(1 for m in self.mechanisms if m.counts_as_dns_lookup)
        if self.redirect is not None and not self.redirect_ignored:
            count += 1
        return count

    def _modifier(self, name: str) -> str | None:
        return next((m.value for m in self.modifiers if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "valid": self.valid,
            "mechanisms": [m.to_dict() for m in self.mechanisms],
            "modifiers": [m.to_dict() for m in self.modifiers],
            "all_qualifier": self.all_qualifier,
            "includes": self.includes,
            "redirect": self.redirect,
            "redirect_ignored": self.redirect_ignored,
            "exp": self.exp,
            "dns_mechanism_count": self.dns_mechanism_count,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class SpfSelection:
    """The SPF record chosen from a name's TXT strings (RFC 7208 §4.5)."""

    record: str | None
    """The one SPF record; None when there is none or several (several is a permerror)."""
    count: int
    records: tuple[str, ...]
    error: SpfIssue | None
    warnings: tuple[SpfIssue, ...]
    """Near misses: TXT strings that look like SPF but are discarded by receivers."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "count": self.count,
            "records": list(self.records),
            "error": self.error.to_dict() if self.error else None,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def is_spf_record(txt: str) -> bool:
    """RFC 7208 §4.5: exactly ``v=spf1`` (any case) followed by a space or the end."""
    return _VERSION_RE.match(txt) is not None


def select_spf(txt_records: list[str]) -> SpfSelection:
    records = tuple(t for t in txt_records if is_spf_record(t))
    warnings = tuple(
        SpfIssue(
            "malformed_spf_like_record",
            "TXT string looks like SPF but does not start with exactly 'v=spf1' followed by a "
            "space; receivers discard it (RFC 7208 §4.5)",
            t,
        )
        for t in txt_records
        if not is_spf_record(t) and _NEAR_MISS_RE.match(t)
    )
    error = None
    if len(records) > 1:
        error = SpfIssue(
            "multiple_records",
            f"{len(records)} SPF records published; RFC 7208 §4.5 makes this a permerror",
        )
    return SpfSelection(
        record=records[0] if len(records) == 1 else None,
        count=len(records),
        records=records,
        error=error,
        warnings=warnings,
    )


# Pure and frozen, and records repeat across domains (every customer of a provider includes
# the same record), so re-evaluating many leads parses each distinct record once.
@functools.lru_cache(maxsize=4096)
def parse_spf(record: str) -> SpfRecord:
    """Parse one SPF record. Never raises: every problem becomes an error or a warning."""
    return _SpfParser(record).parse()


def lookup_targets(record: SpfRecord) -> list[tuple[str, str]]:
    """``(kind, domain)`` pairs the collector must fetch next: reachable includes in order, then
    an effective redirect. Deduplicated for fetching (the lookup count still counts repeats).
    Targets with macros need the sender's IP and are skipped; the parser already warned."""
    targets: list[tuple[str, str]] = []
    for m in record.mechanisms:
        if m.kind == "include" and not m.after_all and m.value and not m.has_macro:
            targets.append(("include", m.value))
    redirect = record.redirect
    if redirect and not record.redirect_ignored and "%" not in redirect:
        targets.append(("redirect", redirect))
    seen: set[tuple[str, str]] = set()
    unique = []
    for target in targets:
        if target not in seen:
            seen.add(target)
            unique.append(target)
    return unique


def check_tree_limits(dns_mechanisms: int, void_lookups: int) -> list[SpfIssue]:
    """Judge totals the collector summed over the whole tree against RFC 7208 §4.6.4."""
    issues = []
    if dns_mechanisms > SpfLimits.DNS_MECHANISMS:
        issues.append(
            SpfIssue(
                "too_many_lookups",
                f"SPF evaluation needs {dns_mechanisms} DNS lookups, more than "
                f"{SpfLimits.DNS_MECHANISMS} (RFC 7208 §4.6.4 permerror)",
            )
        )
    if void_lookups > SpfLimits.VOID_LOOKUPS:
        issues.append(
            SpfIssue(
                "too_many_void_lookups",
                f"SPF evaluation hits {void_lookups} void lookups, more than "
                f"{SpfLimits.VOID_LOOKUPS} (RFC 7208 §4.6.4 permerror)",
            )
        )
    return issues


def _macro_problem(value: str, *, allow_exp_letters: bool = False) -> str | None:
    """Check a macro-string (RFC 7208 §7.1); return what is wrong, or None."""
    pos = 0
    while pos < len(value):
        char = value[pos]
        if char != "%":
            # macro-literal = %x21-24 / %x26-7E
            if not "\x21" <= char <= "\x7e":
                return f"character {char!r} is not allowed in a domain-spec"
            pos += 1
            continue
        match = _MACRO_RE.match(value, pos)
        if match is None:
            return f"invalid macro at position {pos}"
        letter = match.group(1)
        if letter is not None:
            lowered = letter.lower()
            if lowered not in _MACRO_LETTERS:
                return f"unknown macro letter {letter!r}"
            if lowered in _EXP_ONLY_LETTERS and not allow_exp_letters:
                return f"macro letter {letter!r} is only allowed in explanation text (RFC 7208 §7.1)"
            digits = match.group(2)
            if digits and int(digits) == 0:
                return "macro digit transformer must be non-zero (RFC 7208 §7.3)"
        pos = match.end()
    return None


def _domain_problem(domain: str) -> str | None:
    """Why a macro-free domain-spec cannot be a fully qualified name, or None."""
    name = domain[:-1] if domain.endswith(".") else domain
    labels = name.split(".")
    if len(name) > 253:
        return "name longer than 253 characters"
    if len(labels) < 2:
        return "not a multi-label domain name"
    for label in labels:
        if not label:
            return "empty label"
        if len(label) > 63:
            return "label longer than 63 characters"
        if not _LABEL_RE.fullmatch(label):
            return f"label {label!r} is not a host name label"
    if not _TOPLABEL_RE.fullmatch(labels[-1]):
        return f"last label {labels[-1]!r} is not a valid top-level label"
    return None


def _normalise_domain(value: str) -> str:
    # Macro letters keep their case: upper case means URL-encode (RFC 7208 §7.3).
    if "%" in value:
        return value
    value = value.lower()
    return value[:-1] if value.endswith(".") and len(value) > 1 else value


class _SpfParser:
    """Single-use parser; collects findings while walking the terms."""

    def __init__(self, record: str) -> None:
        self.raw = record
        self.errors: list[SpfIssue] = []
        self.warnings: list[SpfIssue] = []
        self.mechanisms: list[SpfMechanism] = []
        self.modifiers: list[SpfModifier] = []
        self.all_qualifier: str | None = None

    def error(self, code: str, message: str, term: str | None = None) -> None:
        self.errors.append(SpfIssue(code, message, term))

    def warn(self, code: str, message: str, term: str | None = None) -> None:
        self.warnings.append(SpfIssue(code, message, term))

    def parse(self) -> SpfRecord:
        text = self.raw
        if text != text.lstrip():
            self.error(
                "leading_whitespace",
                "record starts with whitespace; receivers discard it (RFC 7208 §4.5: must begin v=spf1)",
            )
        tokens = text.split()
        if not tokens or tokens[0].lower() != "v=spf1":
            self.error("not_spf", "record does not start with 'v=spf1' (RFC 7208 §4.5)")
            return self.result()
        if re.search(r"[^\S ]", text.strip()):
            self.warn("non_space_separator", "terms are separated by tabs or other whitespace, not spaces")
        seen_all = False
        for token in tokens[1:]:
            mechanism = self.term(token, after_all=seen_all)
            seen_all = seen_all or (mechanism is not None and mechanism.kind == "all")
        self.final_checks()
        return self.result()

    def result(self) -> SpfRecord:
        return SpfRecord(
            raw=self.raw,
            mechanisms=tuple(self.mechanisms),
            modifiers=tuple(self.modifiers),
            all_qualifier=self.all_qualifier,
            errors=tuple(self.errors),
            warnings=tuple(self.warnings),
        )

    def term(self, token: str, *, after_all: bool) -> SpfMechanism | None:
        match = _TERM_RE.fullmatch(token)
        if match is None:
            self.error("bad_term", f"{token!r} is not an SPF mechanism or modifier", token)
            return None
        qualifier, raw_name, rest = match.groups()
        name = raw_name.lower()
        if rest.startswith("="):
            self.modifier(token, qualifier, name, rest[1:])
            return None
        if name not in MECHANISM_KINDS:
            self.error("unknown_mechanism", f"unknown mechanism {raw_name!r}", token)
            return None
        mechanism = self.mechanism(token, qualifier or "+", name, rest, after_all)
        if mechanism is not None:
            self.mechanisms.append(mechanism)
        return mechanism

    def modifier(self, token: str, qualifier: str, name: str, value: str) -> None:
        if qualifier:
            self.error("qualified_modifier", "modifiers take no qualifier (RFC 7208 §12)", token)
            return
        if name in ("redirect", "exp"):
            if not value:
                self.error("missing_value", f"{name}= needs a domain", token)
                return
            problem = _macro_problem(value, allow_exp_letters=name == "exp")
            if problem:
                self.error("bad_macro", f"{name}= {problem}", token)
                return
            if any(m.name == name for m in self.modifiers):
                self.error("duplicate_modifier", f"{name}= appears more than once (RFC 7208 §6)", token)
                return
            value = _normalise_domain(value)
            self.check_domain(name, value, token)
        else:
            problem = _macro_problem(value, allow_exp_letters=True)
            if problem:
                self.error("bad_macro", f"{name}= {problem}", token)
                return
            if name not in _EXTENSION_MODIFIERS:
                # RFC 7208 §6: unknown modifiers are ignored by receivers; kept for display.
                self.warn("unknown_modifier", f"unknown modifier {name!r} is ignored by receivers", token)
        self.modifiers.append(SpfModifier(name, value, token))

    def mechanism(
        self, token: str, qualifier: str, kind: str, rest: str, after_all: bool
    ) -> SpfMechanism | None:
        value: str | None = None
        cidr4: int | None = None
        cidr6: int | None = None
        if kind == "all":
            if rest:
                self.error("bad_term", "all takes no value", token)
                return None
        elif kind in ("include", "exists"):
            if not rest.startswith(":") or len(rest) == 1:
                code = "empty_include" if kind == "include" else "missing_value"
                self.error(code, f"{kind} needs a domain ({kind}:domain)", token)
                return None
            value = self.domain_spec(kind, rest[1:], token)
            if value is None:
                return None
        elif kind in ("a", "mx", "ptr"):
            domain_part, cidr_part = rest, ""
            if rest.startswith(":"):
                domain_part, cidr_part = _split_cidr(rest[1:])
                if not domain_part:
                    self.error("missing_value", f"{kind}: needs a domain after ':'", token)
                    return None
            elif rest.startswith("/"):
                domain_part, cidr_part = "", rest
            elif rest:
                self.error("bad_term", f"unexpected text after {kind}", token)
                return None
            if cidr_part:
                if kind == "ptr":
                    self.error("bad_cidr", "ptr takes no CIDR prefix length", token)
                    return None
                parsed = self.dual_cidr(cidr_part, token)
                if parsed is None:
                    return None
                cidr4, cidr6 = parsed
            if domain_part:
                value = self.domain_spec(kind, domain_part, token)
                if value is None:
                    return None
        else:  # ip4 / ip6
            if not rest.startswith(":") or len(rest) == 1:
                self.error("missing_value", f"{kind} needs an address ({kind}:address)", token)
                return None
            parsed_ip = self.ip_value(kind, rest[1:], token)
            if parsed_ip is None:
                return None
            value, prefix = parsed_ip
            if kind == "ip4":
                cidr4 = prefix
            else:
                cidr6 = prefix
        mechanism = SpfMechanism(qualifier, kind, value, cidr4, cidr6, token, after_all)
        if kind == "all" and not after_all:
            self.all_qualifier = qualifier
        return mechanism

    def domain_spec(self, kind: str, spec: str, token: str) -> str | None:
        problem = _macro_problem(spec)
        if problem:
            self.error("bad_macro", f"{kind}: {problem}", token)
            return None
        value = _normalise_domain(spec)
        self.check_domain(kind, value, token)
        return value

    def check_domain(self, kind: str, value: str, token: str) -> None:
        if "%" in value:
            if kind in ("include", "redirect"):
                self.warn(
                    "macro_target",
                    f"{kind} target uses macros and cannot be followed without a sender",
                    token,
                )
            return
        problem = _domain_problem(value)
        if problem:
            # Receivers treat such a term as a non-match or fail its lookup (RFC 7208 §4.8),
            # so it is a warning, as the grammar leaves its handling to implementations.
            self.warn("bad_domain", f"{kind} target {value!r}: {problem}", token)

    def dual_cidr(self, text: str, token: str) -> tuple[int | None, int | None] | None:
        # dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ] (RFC 7208 §5.6)
        match = re.fullmatch(r"(?:/([0-9]+))?(?://([0-9]+))?", text)
        if match is None or not text:
            self.error("bad_cidr", f"malformed CIDR length {text!r}", token)
            return None
        v4, v6 = match.groups()
        if v4 is not None and (not _CIDR4_RE.fullmatch(v4) or int(v4) > 32):
            self.error("bad_cidr", f"IPv4 prefix length /{v4} must be 0-32, no leading zeros", token)
            return None
        if v6 is not None and (not _CIDR6_RE.fullmatch(v6) or int(v6) > 128):
            self.error("bad_cidr", f"IPv6 prefix length //{v6} must be 0-128, no leading zeros", token)
            return None
        return (int(v4) if v4 is not None else None, int(v6) if v6 is not None else None)

    def ip_value(self, kind: str, text: str, token: str) -> tuple[str, int | None] | None:
        address, slash, prefix_text = text.partition("/")
        code = "bad_ip4" if kind == "ip4" else "bad_ip6"
        try:
            if "%" in address:  # no scope ids, no macros in ip4/ip6
                raise ValueError(address)
            parsed = ipaddress.ip_address(address)
        except ValueError:
            self.error(code, f"{address!r} is not an IP address", token)
            return None
        if (kind == "ip4") != (parsed.version == 4):
            other = "IPv6" if parsed.version == 6 else "IPv4"
            self.error(code, f"{kind} holds an {other} address {address!r}", token)
            return None
        prefix: int | None = None
        if slash:
            pattern, limit = (_CIDR4_RE, 32) if kind == "ip4" else (_CIDR6_RE, 128)
            if not pattern.fullmatch(prefix_text) or int(prefix_text) > limit:
                self.error(
                    "bad_cidr", f"prefix length /{prefix_text} must be 0-{limit}, no leading zeros", token
                )
                return None
            prefix = int(prefix_text)
        return address.lower(), prefix

    def final_checks(self) -> None:
        reachable = [m for m in self.mechanisms if not m.after_all]
        alls = [m for m in self.mechanisms if m.kind == "all"]
        if len(alls) > 1:
            self.warn("multiple_all", "more than one 'all'; only the first is used (RFC 7208 §4.6.2)")
        dead = [m.term for m in self.mechanisms if m.after_all and m.kind != "all"]
        if dead:
            self.warn(
                "terms_after_all",
                "mechanisms after 'all' are never evaluated (RFC 7208 §5.1): " + " ".join(dead),
            )
        include_values = [m.value for m in reachable if m.kind == "include"]
        repeated = sorted({v for v in include_values if v and include_values.count(v) > 1})
        if repeated:
            self.warn(
                "duplicate_include",
                "included more than once (each one still counts as a lookup): " + ", ".join(repeated),
            )
        if any(m.kind == "ptr" for m in self.mechanisms):
            self.warn("ptr_deprecated", "the ptr mechanism should not be used (RFC 7208 §5.5)")
        if self.all_qualifier == "+":
            self.warn(
                "plus_all", "+all (or a bare 'all') lets any server on the internet send as this domain"
            )
        elif self.all_qualifier == "?":
            self.warn("neutral_all", "?all gives a neutral result: unauthorised mail is not failed")
        has_redirect = any(m.name == "redirect" for m in self.modifiers)
        if has_redirect and alls:
            self.warn(
                "redirect_ignored",
                "redirect= is ignored because the record has an 'all' (RFC 7208 §6.1)",
            )
        if not alls and not has_redirect:
            self.warn(
                "no_all",
                "no 'all' and no redirect: unmatched senders get neutral (RFC 7208 §4.7)",
            )
        count = sum(1 for m in reachable if m.kind in DNS_MECHANISM_KINDS)
        count += 1 if has_redirect and not alls else 0
        if count > SpfLimits.DNS_MECHANISMS:
            self.error(
                "too_many_lookups",
                f"this record alone needs {count} DNS lookups, more than "
                f"{SpfLimits.DNS_MECHANISMS} (RFC 7208 §4.6.4)",
            )


def _split_cidr(text: str) -> tuple[str, str]:
    """Split ``domain/24//64`` at the first '/' outside a macro's braces."""
    depth = 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == "/" and depth == 0:
            return text[:index], text[index:]
    return text, ""
