"""Read the design tokens out of hunter.css and compute WCAG 2.2 contrast (pure Python)."""

from __future__ import annotations

import re
from importlib import resources
from typing import Final

THEMES: Final = ("light", "dark")
_ROOT_BLOCK: Final = re.compile(r":root\s*\{(?P<body>.*?)\n\}", re.S)
_DECLARATION: Final = re.compile(r"(--[\w-]+)\s*:\s*([^;]+);")
_LIGHT_DARK: Final = re.compile(r"^light-dark\(\s*(#[0-9a-fA-F]{3,8})\s*,\s*(#[0-9a-fA-F]{3,8})\s*\)$")


def stylesheet() -> str:
    return resources.files("hunter.web").joinpath("static", "hunter.css").read_text(encoding="utf-8")


def colour_tokens(css: str | None = None) -> dict[str, dict[str, str]]:
    """``{theme: {--token: #rrggbb}}`` for every ``light-dark(#…, #…)`` token on :root."""
    match = _ROOT_BLOCK.search(css or stylesheet())
    if match is None:
        raise ValueError("no :root block in hunter.css")
    themes: dict[str, dict[str, str]] = {theme: {} for theme in THEMES}
    for name, value in _DECLARATION.findall(match.group("body")):
        pair = _LIGHT_DARK.match(" ".join(value.split()))
        if pair:
            themes["light"][name], themes["dark"][name] = pair.group(1), pair.group(2)
    return themes


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
