"""What a keyboard user and a person with low vision must see: the focus ring and the edges of form
fields keep 3:1 against what is next to them (WCAG 2.1 AA, 1.4.11 non-text contrast), as computed
from the stylesheet itself."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).parents[1] / "service" / "static" / "css" / "app.css").read_text(encoding="utf-8")


def _properties() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\n\}", CSS, re.S)
    assert root, "app.css has no :root block"
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root.group(1)))


def _rule(selector: str) -> str:
    match = re.search(r"(?:^|\n)" + re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert match, f"app.css has no rule for {selector}"
    return match.group(1)


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _colour(value: str, props: dict[str, str]) -> str:
    value = value.strip()
    used = re.fullmatch(r"var\(--([\w-]+)\)", value)
    return props[used.group(1)] if used else value


def test_the_contrast_formula_matches_wcag():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_the_focus_ring_shows_against_the_page_a_card_and_the_top_bar():
    props = _properties()
    ring = re.search(r"outline:\s*3px solid ([^;]+);.*box-shadow:\s*0 0 0 2px ([^;]+);", _rule(":focus-visible"))
    assert ring, "the focus ring is an outline with a light inner band"
    outline, inner = (_colour(v, props) for v in ring.groups())
    for background in (props["bg"], props["card"]):
        assert contrast(outline, background) >= 3, (outline, background)
    assert contrast(outline, inner) >= 3  # the two bands of the ring tell apart
    topbar = re.search(r"outline-color:\s*([^;]+);", _rule(".topbar :focus-visible"))
    assert topbar
    assert contrast(_colour(topbar.group(1), props), props["brand"]) >= 3


def test_the_edges_of_form_fields_show_against_the_page_and_a_card():
    props = _properties()
    fields = re.search(r"input\[type=\"text\"\][^{]*\{[^}]*border:\s*1px solid ([^;]+);", CSS)
    assert fields, "text fields have a border"
    edge = _colour(fields.group(1), props)
    for background in (props["bg"], props["card"]):
        assert contrast(edge, background) >= 3, (edge, background)
