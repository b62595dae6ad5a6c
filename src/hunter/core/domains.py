"""Domain normalisation: turn whatever a spreadsheet cell holds into one registrable domain.

Accepts bare host names, URLs and e-mail addresses; returns the registrable domain (per the
public suffix list bundled with the ``publicsuffixlist`` package, ICANN and private sections) in
punycode for storage and in Unicode for display, or rejects the value with a machine reason code.

Pure code: no I/O at run time beyond the package's own bundled PSL file, no network.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import threading
from dataclasses import dataclass
from typing import Final, Literal, get_args

import idna
from publicsuffixlist import PublicSuffixList

__all__ = [
    "REASONS",
    "Domain",
    "DomainError",
    "DomainErrorReason",
    "host_matches_suffix",
    "looks_like_domain",
    "normalise_domain",
    "normalise_hostname",
    "registrable_domain",
    "try_normalise_domain",
]

DomainErrorReason = Literal[
    "empty",
    "placeholder",
    "ip_literal",
    "invalid_tld",
    "public_suffix",
    "label_too_long",
    "too_long",
    "invalid_characters",
    "invalid_idna",
]

REASONS: Final[frozenset[str]] = frozenset(get_args(DomainErrorReason))

MAX_DOMAIN_LENGTH: Final = 253
MAX_LABEL_LENGTH: Final = 63
# Anything longer than this cannot hold a sensible URL/e-mail; refuse before doing regex work.
_MAX_INPUT_LENGTH: Final = 4096


class DomainError(ValueError):
    """A value that cannot be turned into a domain; ``reason`` is one of :data:`REASONS`."""

    reason: str
    value: str

    def __init__(self, reason: str, value: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.value = value
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"DomainError(reason={self.reason!r}, value={self.value!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[type[DomainError], tuple[str, str, str]]:
        # The default exception pickling would call __init__ with the message only.
        return (type(self), (self.reason, self.value, self.message))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DomainError):
            return NotImplemented
        return (self.reason, self.value, self.message) == (other.reason, other.value, other.message)

    def __hash__(self) -> int:
        return hash((self.reason, self.value, self.message))


@dataclass(frozen=True, slots=True)
class Domain:
    ascii: str  # registrable domain, punycode, lower-case, no trailing dot (storage key)
    unicode: str  # display form

    def __str__(self) -> str:
        return self.ascii


# --------------------------------------------------------------------------------------------
# Public suffix list

_psl_lock = threading.Lock()
_psl_instance: PublicSuffixList | None = None


def _psl() -> PublicSuffixList:
    # Parsing the bundled list takes ~50 ms, so build it once, on first use, for the process.
    global _psl_instance
    if _psl_instance is None:
        with _psl_lock:
            if _psl_instance is None:
                # accept_unknown=False: a TLD the PSL does not know (firma.local) has no suffix.
                _psl_instance = PublicSuffixList(accept_unknown=False)
    return _psl_instance


# --------------------------------------------------------------------------------------------
# Cleaning helpers

# Invisible characters that creep in from copy-paste (web pages, Word, Excel).
_INVISIBLE: Final = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
_INVISIBLE_INSIDE: Final = re.compile("[\u200b\u2060\ufeff\u00ad\u180e]")
_QUOTES: Final = "\"'`“”‘’„«»"
_ANGLE_ADDR: Final = re.compile(r"^[^<>]*<([^<>]+)>$")  # "Ali Veli <ali@firma.com.tr>"
_SCHEME: Final = re.compile(r"^(?:[a-z][a-z0-9+.\-]*:)?//")  # any "scheme://" and "//host"
_SCHEME_NO_SLASHES: Final = re.compile(r"^(?:https?|ftp|mailto):/*|^https?//")  # "mailto:", "http:/x"
_AUTHORITY_END: Final = re.compile(r"[/?#\\]")
_ASCII_LABEL: Final = re.compile(r"^[a-z0-9_](?:[a-z0-9_\-]*[a-z0-9_])?$")
_SEPARATORS: Final = re.compile(r"[\s,;|]+")
_DOMAIN_LIKE_TOKEN: Final = re.compile(r"[^\W_][\w\-]*\.[^\W_]")
_NUMERIC: Final = re.compile(r"^[0-9]+$")

_PLACEHOLDERS: Final[frozenset[str]] = frozenset(
    {
        "nan",
        "none",
        "null",
        "nil",
        "na",
        "n/a",
        "n.a",
        "n.a.",
        "#n/a",
        "#yok",
        "#value!",
        "#ref!",
        "#name?",
        "undefined",
        "unknown",
        "tbd",
        "x",
        "xx",
        "xxx",
        "0",
        "yok",
        "yoktur",
        "-yok-",
        "bilinmiyor",
        "belirtilmemiş",
        "belirtilmedi",
        "mevcut değil",
        "web",
        "www",
        "www.",
        "http",
        "https",
        "http://",
        "https://",
        "http://www.",
        "https://www.",
        "web site",
        "website",
        "web sitesi",
        "web sitesi yok",
        "internet sitesi",
        "internet adresi",
        "e-posta",
        "eposta",
        "e-mail",
        "email",
        "mail",
        "mailto:",
    }
)


def _turkish_lower(text: str) -> str:
    """Lower-case for host names and placeholders.

    Python lower-cases "İ" to "i" + U+0307 (combining dot) and UTS46 does the same, which turns
    "FİRMA" into a different IDN; in a URL an upper-case dotted İ means plain "i". Non-ASCII text
    goes through the UTS46 mapping (IDNA 2008, non-transitional) so case folding and
    compatibility mapping (full-width letters, "。" as a dot) follow the IDNA rules rather than
    Python's (which would, e.g., use a final sigma).
    """
    text = text.replace("İ", "i")
    if text.isascii():
        return text.lower()
    try:
        return idna.uts46_remap(text, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError):
        # A disallowed code point somewhere (an emoji, say): map what can be mapped, keep the
        # rest so that label validation reports it.
        out = []
        for ch in text:
            try:
                out.append(idna.uts46_remap(ch, std3_rules=False, transitional=False))
            except (idna.IDNAError, UnicodeError):
                out.append(ch)
        return "".join(out)


def _trim(text: str) -> str:
    text = text.strip().strip(_INVISIBLE).strip()
    return _INVISIBLE_INSIDE.sub("", text)


def _coerce(value: object) -> str:
    # Spreadsheet readers hand over None, floats (NaN) and ints; treat them as their text.
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value)


def _is_placeholder(folded: str) -> bool:
    collapsed = " ".join(folded.split())
    if collapsed in _PLACEHOLDERS:
        return True
    # "-", "--", "?", ".", "…", "/" and the like: nothing a domain could be made of.
    return not any(ch.isalnum() for ch in collapsed)


def _several_values(text: str) -> bool:
    tokens = [t for t in _SEPARATORS.split(text) if _DOMAIN_LIKE_TOKEN.search(t)]
    return len(tokens) >= 2


# --------------------------------------------------------------------------------------------
# Error constructors (messages in one place)


def _err(reason: DomainErrorReason, value: str, message: str) -> DomainError:
    return DomainError(reason, value, message)


# A cached result is either a Domain/host string or (reason, message) to rebuild the error for the
# caller's original value; exceptions themselves are not cached by lru_cache.
_Failure = tuple[DomainErrorReason, str]


# --------------------------------------------------------------------------------------------
# Host name validation


def _label_to_ascii(label: str) -> str | _Failure:
    if label.isascii():
        if label.startswith("xn--"):
            try:
                ulabel = idna.ulabel(label)
                if idna.alabel(ulabel).decode("ascii") != label:
                    raise idna.IDNAError("A-label does not round-trip")
            except (idna.IDNAError, UnicodeError) as exc:
                return ("invalid_idna", f"the label {label!r} is not valid punycode/IDNA ({exc})")
            return label
        if not _ASCII_LABEL.match(label):
            return (
                "invalid_characters",
                f"the label {label!r} may only hold letters, digits and inner hyphens",
            )
        return label
    try:
        encoded = "xn--" + label.encode("punycode").decode("ascii")
    except UnicodeError as exc:
        return ("invalid_idna", f"the label {label!r} cannot be converted to punycode ({exc})")
    if len(encoded) > MAX_LABEL_LENGTH:
        return (
            "label_too_long",
            f"the label {label!r} is {len(encoded)} characters long in punycode "
            f"(at most {MAX_LABEL_LENGTH} are allowed)",
        )
    try:
        return idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        return ("invalid_idna", f"the label {label!r} is not a valid internationalised label ({exc})")


def _label_to_unicode(label: str) -> str:
    if label.startswith("xn--"):
        try:
            return idna.ulabel(label)
        except (idna.IDNAError, UnicodeError):
            return label
    return label


def _bracketed(host: str) -> _Failure:
    # "[2001:db8::1]" is how URLs carry IPv6 addresses; brackets around anything else are junk.
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return ("invalid_characters", "square brackets only ever enclose an IP address")
    return ("ip_literal", "it is an IP address, not a domain")


@functools.lru_cache(maxsize=65536)
def _ascii_host(host: str) -> str | _Failure:
    """Validate an already lower-cased host (no scheme, port or path) and return it in ASCII."""
    if host.endswith("."):
        host = host[:-1]  # one trailing dot: the fully-qualified form of the same name
    if not host:
        return ("placeholder", "there is no host name in the value")
    if host.startswith("[") or host.endswith("]"):
        return _bracketed(host)
    if any(ch.isspace() for ch in host):
        return ("invalid_characters", "the host name contains spaces")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return ("ip_literal", "it is an IP address, not a domain")
    labels = host.split(".")
    if any(not label for label in labels):
        return ("invalid_characters", "it has an empty label (two dots in a row or a leading dot)")
    ascii_labels = []
    for label in labels:
        result = _label_to_ascii(label)
        if isinstance(result, tuple):
            return result
        if len(result) > MAX_LABEL_LENGTH:
            return (
                "label_too_long",
                f"the label {result[:20]!r}… is {len(result)} characters long "
                f"(at most {MAX_LABEL_LENGTH} are allowed)",
            )
        ascii_labels.append(result)
    ascii_host = ".".join(ascii_labels)
    if len(ascii_host) > MAX_DOMAIN_LENGTH:
        return (
            "too_long",
            f"the host name is {len(ascii_host)} characters long (at most {MAX_DOMAIN_LENGTH} are allowed)",
        )
    if _NUMERIC.match(ascii_labels[-1]):
        # "12345", "1.2.3.4.5": top-level domains are never numeric (RFC 3696 section 2).
        return ("invalid_tld", "it ends in a number; no top-level domain is numeric")
    return ascii_host


def _extract_host(text: str) -> str | _Failure:
    """From a trimmed, lower-cased cell (URL, e-mail or bare host) take the host part."""
    match = _ANGLE_ADDR.match(text)
    if match:
        text = match.group(1).strip()
    text = _SCHEME.sub("", text, count=1)
    text = _SCHEME_NO_SLASHES.sub("", text, count=1)
    authority = _AUTHORITY_END.split(text, maxsplit=1)[0]
    if any(ch.isspace() or ch in ",;|" for ch in authority):
        return ("invalid_characters", "")  # message filled in by the caller, which sees the whole cell
    host = authority.rpartition("@")[2]  # e-mail address or URL userinfo
    if host.startswith("["):
        return _bracketed(host.rpartition("]")[0] + "]")  # "[v6]:port"
    if host.count(":") > 1:
        try:
            ipaddress.ip_address(host)  # bare IPv6
        except ValueError:
            return ("invalid_characters", "a host name holds at most one ':' (before the port)")
        return ("ip_literal", "it is an IP address, not a domain")
    host, _, port = host.partition(":")
    if port and not port.isdigit():
        return ("invalid_characters", f"{port!r} is not a port number")
    return host


# --------------------------------------------------------------------------------------------
# Public API


def registrable_domain(hostname: str) -> str | None:
    """The PSL registrable domain (ASCII) of a normalised host name, or None if it has none.

    ``mail.firma.com.tr`` → ``firma.com.tr``; ``com.tr``, ``firma`` and ``firma.local`` → None.
    """
    host = _suffix_form(hostname)
    return _registrable(host) if host else None


@functools.lru_cache(maxsize=65536)
def _registrable(hostname: str) -> str | None:
    if not hostname:
        return None
    result = _psl().privatesuffix(hostname)
    return result if isinstance(result, str) else None


def normalise_hostname(value: str) -> str:
    """Lower-case ASCII host name without trailing dot, for MX targets, CNAMEs and the like.

    No registrable-domain reduction, no ``www.`` stripping, no URL parsing; underscores are allowed
    (``_dmarc.firma.com.tr``) because DNS names use them. Raises :class:`DomainError`.
    """
    original = _coerce(value)
    text = _trim(original)
    if not text:
        raise _err("empty", original, "the host name is empty")
    result = _ascii_host(_turkish_lower(text))
    if isinstance(result, tuple):
        raise _err(result[0], original, f"{text!r} is not a valid host name: {result[1]}")
    return result


@functools.lru_cache(maxsize=65536)
def _normalise_cached(original: str) -> Domain | _Failure:
    if len(original) > _MAX_INPUT_LENGTH:
        return ("too_long", f"the value is {len(original)} characters long; no domain is that long")
    text = _trim(original).strip(_QUOTES).strip()
    if not text:
        return ("empty", "the value is empty")
    folded = _turkish_lower(text)
    if _is_placeholder(folded):
        return ("placeholder", f"{text!r} is a placeholder, not a domain")

    host = _extract_host(folded)
    if isinstance(host, tuple):
        reason, message = host
        if message:
            return (reason, f"{text!r} is not a valid domain: {message}")
        if _several_values(folded):
            return (reason, f"{text!r} holds several values; put one domain per cell")
        return (reason, f"{text!r} contains spaces or separators that cannot be in a domain")

    ascii_host = _ascii_host(host)
    if isinstance(ascii_host, tuple):
        reason, message = ascii_host
        if reason == "invalid_characters" and _several_values(folded):
            return (reason, f"{text!r} holds several values; put one domain per cell")
        return (reason, f"{text!r} is not a valid domain: {message}")

    registrable = _registrable(ascii_host)
    if registrable is None:
        if _psl().is_public(ascii_host):
            return ("public_suffix", f"{ascii_host!r} is a public suffix, not a company's domain")
        return ("invalid_tld", f"{ascii_host!r} does not end in a known top-level domain")

    first, _, rest = registrable.partition(".")
    if first == "www":
        # "www.com.tr" is "www." in front of a bare public suffix. Checking the registrable label
        # (not just the input's first label) keeps the result idempotent for "a.www.com.tr".
        return ("public_suffix", f"{rest!r} is a public suffix with only 'www.' in front of it")
    if "_" in first:
        return (
            "invalid_characters",
            f"{registrable!r} has an underscore in its name; registered domains cannot",
        )
    unicode = ".".join(_label_to_unicode(label) for label in registrable.split("."))
    return Domain(ascii=registrable, unicode=unicode)


def normalise_domain(value: str) -> Domain:
    """The registrable domain behind a URL, e-mail address or host name.

    Raises :class:`DomainError` with a reason code from :data:`REASONS`.
    """
    original = _coerce(value)
    result = _normalise_cached(original)
    if isinstance(result, Domain):
        return result
    raise _err(result[0], original, result[1])


def try_normalise_domain(value: str) -> Domain | DomainError:
    """Like :func:`normalise_domain` but returns the error instead of raising (bulk imports)."""
    try:
        return normalise_domain(value)
    except DomainError as exc:
        return exc
    except Exception as exc:  # a bug must not abort a 200k-row import; report the row instead
        return _err("invalid_characters", _coerce(value), f"the value could not be parsed ({exc!r})")


def looks_like_domain(value: str) -> bool:
    """Cheap check for column detection: would :func:`normalise_domain` succeed? (cached)"""
    text = _coerce(value)
    if len(text) > _MAX_INPUT_LENGTH:
        return False
    return isinstance(try_normalise_domain(text), Domain)


def _suffix_form(name: str) -> str | None:
    name = name.strip().strip(".")
    if name.isascii():
        return name.lower()
    try:
        return normalise_hostname(name)
    except DomainError:
        return None


def host_matches_suffix(hostname: str, suffix: str) -> bool:
    """True if ``hostname`` is ``suffix`` or lies under it at a label boundary.

    ``mx1.mail.protection.outlook.com`` matches ``outlook.com``; ``opendns.com`` does not match
    ``dns.com``. Case, surrounding dots and Unicode vs punycode forms do not matter.
    """
    host = _suffix_form(hostname)
    suf = _suffix_form(suffix)
    if not host or not suf:
        return False
    return host == suf or host.endswith("." + suf)
