"""DMARC record selection and parsing, pure: no DNS, no clock.

Follows RFC 7489 and its successor RFC 9989 (DMARCbis). RFC 9989 removed ``pct``, ``rf`` and
``ri``: receivers that implement it ignore them, older receivers still honour them, so they are
read as published and flagged with a warning. RFC 9989 added ``np``, ``t`` and ``psd``.

Decisions (the traps an earlier tool fell into):

* Tags are split on ``;`` and read by name, never by substring, so ``sp=none`` cannot override
  ``p=reject``. Tag names and keyword values are case-insensitive (``P=Reject`` is reject).
* ``v=DMARC1`` must be the first tag and its value is case-sensitive (RFC 7489 §6.4 ABNF spells
  it in hex, RFC 9989 uses ``%s"DMARC1"``); receivers discard any other record, so a wrong or
  misplaced version is an error and ``discarded`` is True. The other tags are still read so the
  UI can show what the owner meant. This matches checkdmarc.
* ``p`` not directly after ``v`` is a warning, not an error: RFC 7489's ABNF put it second, but
  RFC 9989 allows any order; the value is read either way.
* A duplicate tag is an error; the first occurrence wins.
* A missing ``p`` is a warning (RFC 9989: treated as ``p=none``; RFC 7489 required it). An
  invalid value is an error and the field falls back to its default, as receivers do
  (RFC 9989 §4.8: syntax errors in tag values are discarded in favour of defaults).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "POLICIES",
    "POLICY_STRENGTH",
    "DmarcIssue",
    "DmarcRecord",
    "DmarcSelection",
    "DmarcUri",
    "is_dmarc_record",
    "parse_dmarc",
    "parse_report_uri",
    "policy_strength",
    "select_dmarc",
]

POLICIES: Final = ("none", "quarantine", "reject")
# For change detection: 0 means no usable policy at all.
POLICY_STRENGTH: Final = {"none": 1, "quarantine": 2, "reject": 3}
DEFAULT_RI: Final = 86400
DEFAULT_PCT: Final = 100

_KNOWN_TAGS: Final = frozenset(
    {"v", "p", "sp", "np", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "t", "psd"}
)
_RETIRED_TAGS: Final = ("pct", "rf", "ri")
_WSP = " \t"
_VERSION_RE = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)")
_NEAR_MISS_RE = re.compile(r"^[\s\"']*v\s*=\s*dmarc", re.IGNORECASE)
# RFC 6376 §3.2 tag-list names, which DMARC's tag syntax mirrors.
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.DOTALL)
# RFC 7489 §6.2: "!" 1*DIGIT [ "k" / "m" / "g" / "t" ]
_SIZE_RE = re.compile(r"[0-9]+[kmgtKMGT]?")
_LOCAL_PART_RE = re.compile(r"(?:[A-Za-z0-9#$&'*+/=?^_`{|}~.\-]|%[0-9A-Fa-f]{2})+")
_HOST_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?")
_GENERIC_URI_REST_RE = re.compile(r"[\x21-\x2b\x2d-\x3a\x3c-\x7e]+")


def policy_strength(policy: str | None) -> int:
    """none < quarantine < reject; 0 for no usable policy."""
    return POLICY_STRENGTH.get(policy or "", 0)


@dataclass(frozen=True, slots=True)
class DmarcIssue:
    """One finding. ``code`` is stable (for scoring and translations), ``message`` is English."""

    code: str
    message: str
    tag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "tag": self.tag}


@dataclass(frozen=True, slots=True)
class DmarcUri:
    """A valid report URI. For mailto, ``address`` is the mail address; otherwise the URI."""

    uri: str
    scheme: str
    address: str
    size_limit: str | None = None

    @property
    def domain(self) -> str | None:
        if self.scheme != "mailto":
            return None
        return self.address.rpartition("@")[2].lower()

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "scheme": self.scheme,
            "address": self.address,
            "size_limit": self.size_limit,
            "domain": self.domain,
        }


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    raw: str
    p: str | None
    """Published policy when valid; None when missing or invalid (see ``effective_p``)."""
    sp: str | None
    """Published subdomain policy when valid, else None (see ``effective_sp``)."""
    np: str | None
    pct: int
    """As published (default 100). Retired by RFC 9989 but still honoured by older receivers."""
    pct_published: bool
    rua: tuple[DmarcUri, ...]
    ruf: tuple[DmarcUri, ...]
    adkim: str
    aspf: str
    fo: str
    rf: str
    ri: int
    t: str | None
    psd: str | None
    unknown_tags: tuple[tuple[str, str], ...]
    errors: tuple[DmarcIssue, ...]
    warnings: tuple[DmarcIssue, ...]
    discarded: bool
    """True when receivers ignore the whole record (missing, misplaced or wrong version)."""

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def effective_p(self) -> str:
        # RFC 9989: a missing or invalid p is treated as none.
        return self.p or "none"

    @property
    def effective_sp(self) -> str:
        """Policy for subdomains: sp, else p (RFC 7489 §6.3)."""
        return self.sp or self.effective_p

    @property
    def effective_np(self) -> str:
        """Policy for non-existent subdomains: np, else sp, else p (RFC 9989)."""
        return self.np or self.effective_sp

    @property
    def testing(self) -> bool:
        return self.t == "y"

    @property
    def enforced(self) -> bool:
        """Receivers act on failing mail for the domain itself: p is quarantine or reject."""
        return not self.discarded and self.effective_p in ("quarantine", "reject")

    @property
    def fully_enforced(self) -> bool:
        """Enforced for all mail: also pct=100 (older receivers) and not in test mode (t=y)."""
        return self.enforced and self.pct == 100 and not self.testing

    @property
    def policy_strength(self) -> int:
        """0 (record discarded) < none < quarantine < reject, for change detection."""
        return 0 if self.discarded else policy_strength(self.effective_p)

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "valid": self.valid,
            "discarded": self.discarded,
            "p": self.p,
            "sp": self.sp,
            "np": self.np,
            "effective_p": self.effective_p,
            "effective_sp": self.effective_sp,
            "effective_np": self.effective_np,
            "pct": self.pct,
            "pct_published": self.pct_published,
            "rua": [u.to_dict() for u in self.rua],
            "ruf": [u.to_dict() for u in self.ruf],
            "adkim": self.adkim,
            "aspf": self.aspf,
            "fo": self.fo,
            "rf": self.rf,
            "ri": self.ri,
            "t": self.t,
            "psd": self.psd,
            "unknown_tags": dict(self.unknown_tags),
            "enforced": self.enforced,
            "fully_enforced": self.fully_enforced,
            "policy_strength": self.policy_strength,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class DmarcSelection:
    """The DMARC record chosen from the TXT strings at ``_dmarc.<domain>``."""

    record: str | None
    """The one DMARC record; None when there is none or several (several means no DMARC)."""
    count: int
    records: tuple[str, ...]
    error: DmarcIssue | None
    warnings: tuple[DmarcIssue, ...]
    """Near misses: TXT strings that look like DMARC but that receivers discard."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "count": self.count,
            "records": list(self.records),
            "error": self.error.to_dict() if self.error else None,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def is_dmarc_record(txt: str) -> bool:
    """Starts with ``v=DMARC1`` (tag name any case, value exact) then ``;`` or the end."""
    return _VERSION_RE.match(txt) is not None


def select_dmarc(txt_records: list[str]) -> DmarcSelection:
    records = tuple(t for t in txt_records if is_dmarc_record(t))
    warnings = tuple(
        DmarcIssue(
            "malformed_dmarc_like_record",
            "TXT string looks like DMARC but does not start with exactly 'v=DMARC1'; "
            "receivers discard it (RFC 7489 §6.6.3)",
            t,
        )
        for t in txt_records
        if not is_dmarc_record(t) and _NEAR_MISS_RE.match(t)
    )
    error = None
    if len(records) > 1:
        # RFC 7489 §6.6.3 / RFC 9989: several records means no DMARC processing at all.
        error = DmarcIssue(
            "multiple_records", f"{len(records)} DMARC records published; receivers apply none"
        )
    return DmarcSelection(
        record=records[0] if len(records) == 1 else None,
        count=len(records),
        records=records,
        error=error,
        warnings=warnings,
    )


def parse_dmarc(record: str) -> DmarcRecord:
    """Parse one DMARC record. Never raises: every problem becomes an error or a warning."""
    return _DmarcParser(record).parse()


def parse_report_uri(text: str) -> DmarcUri | str:
    """One rua/ruf entry: a ``DmarcUri``, or the reason it is invalid."""
    uri = text.strip(_WSP)
    if not uri:
        return "empty URI"
    match = _SCHEME_RE.fullmatch(uri)
    if match is None:
        return "no URI scheme (expected e.g. mailto:)"
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme != "mailto":
        if not _GENERIC_URI_REST_RE.fullmatch(rest):
            return "malformed URI"
        return DmarcUri(uri=uri, scheme=scheme, address=uri)
    address, bang, size = rest.partition("!")
    if bang and not _SIZE_RE.fullmatch(size):
        return f"size limit {size!r} must be digits with an optional k/m/g/t unit"
    # RFC 6068 allows header fields after "?"; they do not change the recipient.
    address = address.partition("?")[0]
    local, at, host = address.rpartition("@")
    if not at or not local or not _LOCAL_PART_RE.fullmatch(local):
        return "mailto: needs an e-mail address"
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(_HOST_LABEL_RE.fullmatch(label) for label in labels):
        return f"{host!r} is not a valid mail domain"
    return DmarcUri(uri=uri, scheme="mailto", address=address, size_limit=size if bang else None)


class _DmarcParser:
    """Single-use parser; collects findings while walking the tags."""

    def __init__(self, record: str) -> None:
        self.raw = record
        self.errors: list[DmarcIssue] = []
        self.warnings: list[DmarcIssue] = []
        self.tags: dict[str, str] = {}
        self.order: list[str] = []
        self.unknown: list[tuple[str, str]] = []
        self.first_key: str | None = None
        self.discarded = False

    def error(self, code: str, message: str, tag: str | None = None) -> None:
        self.errors.append(DmarcIssue(code, message, tag))

    def warn(self, code: str, message: str, tag: str | None = None) -> None:
        self.warnings.append(DmarcIssue(code, message, tag))

    def parse(self) -> DmarcRecord:
        text = self.raw
        if text != text.lstrip():
            self.error("leading_whitespace", "record starts with whitespace; strict receivers discard it")
            self.discarded = True
        self.split_tags(text.strip())
        self.check_version()
        return self.build()

    def split_tags(self, text: str) -> None:
        parts = text.split(";")
        # One trailing ";" is allowed (RFC 7489 §6.4); its empty remainder is not a tag.
        if len(parts) > 1 and not parts[-1].strip():
            parts.pop()
        for index, part in enumerate(parts):
            part = part.strip()
            if not part:
                if index > 0 or len(parts) > 1:
                    self.error("empty_tag", "empty tag between two ';'")
                continue
            name, eq, value = part.partition("=")
            name, value = name.strip(), value.strip()
            if not eq or not _TAG_NAME_RE.fullmatch(name):
                self.error("bad_tag", f"{part!r} is not a tag=value pair", part)
                continue
            key = name.lower()
            if index == 0:
                self.first_key = key
            self.order.append(key)
            if key not in _KNOWN_TAGS:
                self.unknown.append((key, value))
                self.warn("unknown_tag", f"unknown tag {key!r} is ignored by receivers", key)
                continue
            if key in self.tags:
                self.error("duplicate_tag", f"tag {key!r} appears more than once; first one kept", key)
                continue
            self.tags[key] = value

    def check_version(self) -> None:
        if "v" not in self.tags:
            self.error("missing_version", "no v=DMARC1 tag; receivers discard the record")
            self.discarded = True
            return
        if self.first_key != "v":
            self.error("version_not_first", "v=DMARC1 must be the first tag", "v")
            self.discarded = True
        if self.tags["v"] != "DMARC1":
            self.error(
                "bad_version",
                f"version {self.tags['v']!r} is not exactly 'DMARC1' (case-sensitive); "
                "receivers discard the record",
                "v",
            )
            self.discarded = True

    def keyword(self, tag: str, allowed: tuple[str, ...]) -> str | None:
        """Case-insensitive keyword tag; None when absent or invalid (invalid is an error)."""
        raw = self.tags.get(tag)
        if raw is None:
            return None
        value = raw.lower()
        if value not in allowed:
            self.error("invalid_value", f"{tag}={raw!r} is not one of {', '.join(allowed)}", tag)
            return None
        return value

    def integer(self, tag: str, default: int, maximum: int) -> int:
        raw = self.tags.get(tag)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or int(raw) > maximum:
            self.error("invalid_value", f"{tag}={raw!r} must be an integer 0-{maximum}", tag)
            return default
        return int(raw)

    def colon_list(self, tag: str, allowed: frozenset[str], default: str) -> str:
        raw = self.tags.get(tag)
        if raw is None:
            return default
        options = [o.strip(_WSP).lower() for o in raw.split(":")]
        bad = [o for o in options if o not in allowed]
        if bad:
            self.error("invalid_value", f"{tag}={raw!r}: unknown option(s) {', '.join(bad)}", tag)
            return default
        return ":".join(options)

    def uris(self, tag: str) -> tuple[DmarcUri, ...]:
        raw = self.tags.get(tag)
        if raw is None:
            return ()
        good = []
        for entry in raw.split(","):
            parsed = parse_report_uri(entry)
            if isinstance(parsed, str):
                self.error("invalid_uri", f"{tag} URI {entry.strip()!r}: {parsed}", tag)
                continue
            if parsed.scheme != "mailto":
                self.warn(
                    "non_mailto_uri",
                    f"{tag} URI {parsed.uri!r} is not mailto:; receivers need only support mailto",
                    tag,
                )
            good.append(parsed)
        return tuple(good)

    def build(self) -> DmarcRecord:
        p = self.keyword("p", POLICIES)
        sp = self.keyword("sp", POLICIES)
        np = self.keyword("np", POLICIES)
        adkim = self.keyword("adkim", ("r", "s")) or "r"
        aspf = self.keyword("aspf", ("r", "s")) or "r"
        t = self.keyword("t", ("y", "n"))
        psd = self.keyword("psd", ("y", "n", "u"))
        # pct was removed by RFC 9989 (DMARCbis); read anyway because RFC 7489 receivers apply it.
        pct = self.integer("pct", DEFAULT_PCT, 100)
        ri = self.integer("ri", DEFAULT_RI, 2**32 - 1)
        fo = self.colon_list("fo", frozenset({"0", "1", "d", "s"}), "0")
        rf = self.colon_list("rf", frozenset({"afrf"}), "afrf")
        rua = self.uris("rua")
        ruf = self.uris("ruf")
        # Without any v tag this is not a DMARC record; policy advice would be noise.
        if "v" in self.tags:
            self.semantic_warnings(p, sp, pct, fo, t)
        return DmarcRecord(
            raw=self.raw,
            p=p,
            sp=sp,
            np=np,
            pct=pct,
            pct_published="pct" in self.tags,
            rua=rua,
            ruf=ruf,
            adkim=adkim,
            aspf=aspf,
            fo=fo,
            rf=rf,
            ri=ri,
            t=t,
            psd=psd,
            unknown_tags=tuple(self.unknown),
            errors=tuple(self.errors),
            warnings=tuple(self.warnings),
            discarded=self.discarded,
        )

    def semantic_warnings(self, p: str | None, sp: str | None, pct: int, fo: str, t: str | None) -> None:
        if "p" not in self.tags:
            self.warn(
                "missing_p",
                "no p tag: RFC 9989 treats it as p=none; RFC 7489 receivers require p",
                "p",
            )
        elif len(self.order) > 1 and self.order[0] == "v" and self.order[1] != "p":
            self.warn(
                "p_not_second",
                "p is not directly after v; RFC 9989 allows this but RFC 7489 receivers may not",
                "p",
            )
        effective_p = p or "none"
        if effective_p == "none":
            self.warn("policy_none", "p=none only monitors: failing mail is delivered", "p")
        if sp is not None and policy_strength(sp) < policy_strength(effective_p):
            self.warn("sp_weaker", f"subdomains get the weaker policy sp={sp}", "sp")
        for tag in _RETIRED_TAGS:
            if tag in self.tags:
                self.warn(
                    f"{tag}_retired",
                    f"{tag} is retired by RFC 9989 (newer receivers ignore it, older ones apply it)",
                    tag,
                )
        if pct < 100:
            self.warn("pct_partial", f"pct={pct}: older receivers apply the policy to {pct}% of mail", "pct")
        if t == "y":
            self.warn("testing_mode", "t=y asks receivers not to apply the policy yet (RFC 9989)", "t")
        if "rua" not in self.tags:
            self.warn("no_rua", "no rua: nobody receives aggregate reports", "rua")
        options = fo.split(":")
        if "0" in options and "1" in options:
            self.warn("fo_conflict", "fo lists both 0 and 1, which contradict each other", "fo")
