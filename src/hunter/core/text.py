"""Turkish-aware text folding for matching and search (pure).

Python's ``"İ".lower()`` is ``"i̇"`` (i + combining dot), and ``"I".lower()`` is ``"i"`` where a
Turk expects ``"ı"``. For matching we need neither: both dotted and dotless forms fold to the
plain ASCII letter, as do the other Turkish letters, so "istanbul" finds "İSTANBUL" and
"FİRMA ÜNVANI" matches "firma unvani".
"""

from __future__ import annotations

import unicodedata

_TURKISH = str.maketrans(
    {
        "İ": "i",
        "I": "i",
        "ı": "i",
        "Ş": "s",
        "ş": "s",
        "Ğ": "g",
        "ğ": "g",
        "Ü": "u",
        "ü": "u",
        "Ö": "o",
        "ö": "o",
        "Ç": "c",
        "ç": "c",
    }
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics and Turkish letter forms, collapse whitespace."""
    text = text.translate(_TURKISH)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())
