"""The design tokens: every text pair ≥ 4.5:1 and every UI part ≥ 3:1 in both themes (WCAG 2.2),
computed from hunter.css itself; and no colour or length anywhere but the token stylesheet."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from ui_tokens import THEMES, colour_tokens, contrast, stylesheet

SURFACES = (
    "--color-bg",
    "--color-surface",
    "--color-surface-sunken",
    "--color-surface-raised",
    "--color-hover",
    "--color-selected",
)
TEXT_ON_SURFACES = ("--color-fg", "--color-fg-muted", "--color-link")
# The focus ring sits outline-offset away from its control, so it is seen against the surface.
UI_PARTS = ("--color-focus", "--color-border-strong")
EXTRA_TEXT = (
    ("--color-primary-fg", "--color-primary-hover"),
    ("--color-danger-solid-fg", "--color-danger-solid-hover"),
    ("--color-info-fg", "--color-surface-raised"),
    ("--color-success-fg", "--color-surface-raised"),
    ("--color-danger-fg", "--color-surface-raised"),
)
EXTRA_UI = (
    ("--color-p6-border", "--color-p6-bg"),
    ("--color-primary-bg", "--color-surface"),  # a primary button's edge
)


def pairs() -> list[tuple[str, str, float]]:
    names = set(colour_tokens()["light"])
    found = [
        (fg, fg[:-3] + "-bg", 4.5) for fg in sorted(names) if fg.endswith("-fg") and fg[:-3] + "-bg" in names
    ]
    found += [(fg, bg, 4.5) for fg in TEXT_ON_SURFACES for bg in SURFACES]
    found += [(fg, bg, 4.5) for fg, bg in EXTRA_TEXT]
    found += [(ui, bg, 3.0) for ui in UI_PARTS for bg in SURFACES]
    found += [(ui, bg, 3.0) for ui, bg in EXTRA_UI]
    return found


def test_the_parser_finds_both_themes_of_every_colour_token() -> None:
    tokens = colour_tokens()
    assert set(tokens["light"]) == set(tokens["dark"])
    assert {"--color-fg", "--color-bg", "--color-focus", "--color-p1-bg", "--color-p6-fg"} <= set(
        tokens["light"]
    )
    assert len(pairs()) > 40


@pytest.mark.parametrize("theme", THEMES)
def test_every_token_pair_meets_wcag_contrast(theme: str) -> None:
    colours = colour_tokens()[theme]
    failures = [
        f"{fg} on {bg}: {contrast(colours[fg], colours[bg]):.2f} < {minimum}"
        for fg, bg, minimum in pairs()
        if contrast(colours[fg], colours[bg]) < minimum
    ]
    assert failures == []


def test_contrast_arithmetic_matches_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#fff", "#ffffff") == pytest.approx(1.0)


def test_the_priority_ramp_is_ordered_from_strongest_to_muted() -> None:
    for theme in THEMES:
        colours = colour_tokens()[theme]
        background = colours["--color-surface"]
        weight = [contrast(colours[f"--color-p{n}-bg"], background) for n in range(1, 7)]
        # P1 and P2 are solid, P3–P5 tinted, P6 an outline on the surface itself.
        assert weight[0] > weight[2], (theme, weight)
        assert weight[1] > weight[2], (theme, weight)
        assert weight[5] == pytest.approx(1.0), (theme, weight)


def test_spacing_and_type_scales_are_the_specified_ones() -> None:
    css = stylesheet()
    spacing = [int(v) for v in re.findall(r"--space-\d:\s*(\d+)px", css)]
    sizes = [int(v) for v in re.findall(r"--text-(?:xs|sm|md|lg|xl|2xl):\s*(\d+)px", css)]
    radii = dict(re.findall(r"--radius-(control|surface):\s*(\d+)px", css))
    assert spacing == [4, 8, 12, 16, 24, 32]
    assert sizes == [12, 13, 14, 16, 20, 24]
    assert radii == {"control": "4", "surface": "8"}
    assert "--shadow-1:" in css
    assert "--shadow-2:" in css


LITERAL = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(|\b\d+(?:\.\d+)?(?:px|rem|em)\b")


def _web_files(suffix: str) -> list[Path]:
    root = Path(str(resources.files("hunter.web")))
    return sorted(p for p in root.rglob(f"*{suffix}") if "vendor" not in p.parts)


def test_templates_and_scripts_have_no_literal_colours_or_lengths() -> None:
    offenders = []
    for path in [*_web_files(".html"), *_web_files(".js")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "style=" in line or LITERAL.search(line.replace("&#", "")):
                offenders.append(f"{path.name}:{number}: {line.strip()[:80]}")
    assert offenders == []


def test_no_css_uppercasing_of_text() -> None:
    # Turkish casing (i → İ) is done in Python where needed; CSS would get "I" for "i".
    assert "text-transform" not in stylesheet()
