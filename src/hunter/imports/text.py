"""Text helpers for spreadsheet cells and headers (pure)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Final

from hunter.core.text import fold

_NON_ALNUM: Final = re.compile(r"[^0-9a-z]+")
# Zero-width and byte-order marks survive copy-paste from web pages into Excel.
_INVISIBLE: Final = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES: Final = re.compile(r"[ \t\u00a0\u2007\u202f\u3000]+")
_NEEDS_WORK: Final = re.compile("[\t\r\n\u00a0\u2007\u202f\u3000\u200b\u200c\u200d\u2060\ufeff\u00ad]|  ")


def header_key(text: str) -> str:
    """Fold a header for matching: Turkish-aware, no diacritics, punctuation as single spaces.

    ``"FİRMA ÜNVANI"`` → ``"firma unvani"``, ``"E-POSTA"`` → ``"e posta"``, ``"S.NO"`` → ``"s no"``.
    """
    return _NON_ALNUM.sub(" ", fold(text)).strip()


def snake_key(text: str) -> str:
    """Stable attribute key from a header: ``"Vergi No"`` → ``"vergi_no"``."""
    return header_key(text).replace(" ", "_")


def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letters (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def clean_text(text: str) -> str:
    """Trim a cell and make look-alike spaces plain, so comparisons and output are stable."""
    if not text:
        return ""
    if _NEEDS_WORK.search(text) is None:  # the common case, once per cell of a 200k-row file
        text = text.strip()
        if text.isascii() or unicodedata.is_normalized("NFC", text):
            return text
        return unicodedata.normalize("NFC", text)  # macOS exports decomposed "ş"
    text = _INVISIBLE.sub("", text)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" in text:
        lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
        return "\n".join(line for line in lines if line)
    return _SPACES.sub(" ", text).strip()


def cell_text(value: object) -> str:
    """A calamine cell value as the text Excel shows for it (formulas: their cached value)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        # Phone numbers and row numbers arrive as floats: 2124441234.0 must read "2124441234".
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return (
            value.isoformat(sep=" ")
            if (value.hour or value.minute or value.second)
            else value.date().isoformat()
        )
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return clean_text(str(value))
