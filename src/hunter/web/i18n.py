"""UI languages: catalogues (``web/locales/{tr,en}.yaml``), negotiation, locale formats, casing.

Every string a page shows comes from a catalogue. Keys are dotted paths into the YAML files
(``leads.empty.title``); ``{name}`` placeholders are filled with ``str.format``. Both
catalogues must have the same keys (a test checks it), so a missing translation is a test
failure rather than a raw key on screen.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any, Final

import yaml

LOCALES: Final = ("tr", "en")
DEFAULT_LOCALE: Final = "en"
"""For browsers that ask for neither language (Turkish browsers ask for Turkish and get it)."""
LOCALE_COOKIE: Final = "hunter_lang"
THEME_COOKIE: Final = "hunter_theme"
THEMES: Final = ("system", "light", "dark")


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    elif isinstance(node, list):
        raise ValueError(f"catalogue key {prefix!r}: lists are not supported, use numbered keys")
    else:
        out[prefix] = "" if node is None else str(node)


@functools.cache
def catalogue(locale: str) -> dict[str, str]:
    """The flattened catalogue of one locale (parsed once per process)."""
    if locale not in LOCALES:
        raise KeyError(locale)
    raw = resources.files("hunter.web").joinpath("locales", f"{locale}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(raw) or {}
    flat: dict[str, str] = {}
    _flatten("", data, flat)
    return flat


def negotiate(accept_language: str | None) -> str | None:
    """The best of our locales for an Accept-Language header (q-values honoured), or None."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LOCALES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def pick_locale(user_locale: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The signed-in user's choice, then the cookie, then the browser's languages, then English."""
    for candidate in (user_locale, cookie):
        if candidate in LOCALES:
            return candidate  # type: ignore[return-value]
    return negotiate(accept_language) or DEFAULT_LOCALE


# --- casing ------------------------------------------------------------------------------------

_TR_UPPER: Final = str.maketrans({"i": "İ", "ı": "I"})
_TR_LOWER: Final = str.maketrans({"I": "ı", "İ": "i"})


def upper(text: str, locale: str) -> str:
    """Upper-case the way the language does it: Turkish "istanbul" → "İSTANBUL"."""
    return (text.translate(_TR_UPPER) if locale == "tr" else text).upper()


def lower(text: str, locale: str) -> str:
    return (text.translate(_TR_LOWER) if locale == "tr" else text).lower()


def capitalise(text: str, locale: str) -> str:
    return upper(text[:1], locale) + text[1:] if text else text


# --- numbers and dates ---------------------------------------------------------------------------

_SEPARATORS: Final = {"tr": (".", ","), "en": (",", ".")}


def format_number(value: float | int | None, locale: str, decimals: int = 0) -> str:
    """1.234,5 in Turkish, 1,234.5 in English; "—" for no value."""
    if value is None:
        return "—"
    group, point = _SEPARATORS.get(locale, _SEPARATORS["en"])
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", point).replace("\x00", group)


def format_money(value: float | None, currency: str, locale: str) -> str:
    if value is None:
        return "—"
    amount = format_number(value, locale, 2)
    return f"{amount} {currency}" if locale == "tr" else f"{currency} {amount}"


def _as_datetime(value: datetime | date | str | None) -> datetime | date | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value


def format_date(value: datetime | date | str | None, locale: str) -> str:
    """dd.MM.yyyy in Turkish; "22 Nov 2026" in English (month names from the catalogue)."""
    parsed = _as_datetime(value)
    if parsed is None:
        return "—"
    if locale == "tr":
        return f"{parsed.day:02d}.{parsed.month:02d}.{parsed.year}"
    month = catalogue(locale).get(f"format.month_short.{parsed.month}", str(parsed.month))
    return f"{parsed.day} {month} {parsed.year}"


def format_datetime(value: datetime | str | None, locale: str) -> str:
    parsed = _as_datetime(value)
    if not isinstance(parsed, datetime):
        return format_date(parsed, locale)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return f"{format_date(parsed, locale)} {parsed.hour:02d}:{parsed.minute:02d} UTC"


# --- the translator templates get ------------------------------------------------------------------


@functools.cache
def _message_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """English ``messages.*`` entries as patterns: "Try again in {minutes} minutes." matches any number."""
    patterns = []
    for key, text in catalogue("en").items():
        if key.startswith("messages."):
            parts = re.split(r"\{(\w+)\}", text)
            regex = "".join(
                re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
            )
            patterns.append((key, re.compile(regex)))
    return tuple(patterns)


@dataclass(frozen=True)
class Translator:
    locale: str

    @property
    def other(self) -> str:
        return "en" if self.locale == "tr" else "tr"

    def __call__(self, key: str, /, **params: Any) -> str:
        text = catalogue(self.locale).get(key)
        if text is None:
            # Visible in development and caught by the "no raw keys" browser test.
            return key
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        return key in catalogue(self.locale)

    def maybe(self, key: str, default: str) -> str:
        """A catalogue entry when there is one (e.g. a platform name), else ``default``."""
        return catalogue(self.locale).get(key, default)

    def number(self, value: float | int | None, decimals: int = 0) -> str:
        return format_number(value, self.locale, decimals)

    def money(self, value: float | None, currency: str) -> str:
        return format_money(value, currency, self.locale)

    def date(self, value: datetime | date | str | None) -> str:
        return format_date(value, self.locale)

    def datetime(self, value: datetime | str | None) -> str:
        return format_datetime(value, self.locale)

    def upper(self, text: str) -> str:
        return upper(text, self.locale)

    def lower(self, text: str) -> str:
        return lower(text, self.locale)

    def message(self, english: str | None) -> str | None:
        """A known English message from another layer (e.g. sign-in errors) in this language."""
        if not english:
            return english
        for key, pattern in _message_patterns():
            match = pattern.fullmatch(english)
            if match:
                return self(key, **match.groupdict())
        return english

    def pick(self, texts: Mapping[str, Any] | str | None) -> str:
        """One language out of a ``{"tr": ..., "en": ...}`` mapping stored by the engine."""
        if texts is None:
            return ""
        if isinstance(texts, str):
            return texts
        value = texts.get(self.locale) or texts.get(self.other) or ""
        return str(value)
