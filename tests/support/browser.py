"""What the browser tests share: the two screen sizes, and the check that no catalogue key reached
the visible text."""
from __future__ import annotations

import re

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# what a catalogue key looks like if one ever reached a page untranslated
KEY_LIKE = re.compile(r"\b(?:app|nav|lang|common|login|role|warning|case|round|source|unit|item|filing|inbox|done|"
                      r"task|form|upload|rounds|findings|distill|error)\.[a-z_]+(?:\.[a-z_]+)*\b")


def assert_translated(page) -> None:
    """No catalogue key among the visible text of the page."""
    text = page.inner_text("body")
    assert KEY_LIKE.findall(text) == [], KEY_LIKE.findall(text)
