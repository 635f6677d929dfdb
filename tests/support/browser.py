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

# one login per role of the demo district (README "Roles and demo logins"); d01_liaison is both a
# department's and a unit's liaison
DEMO_LOGINS = ("admin", "security1", "auditor1", "office1", "inspector1", "leading1", "leader_li", "d01_liaison",
               "s01_liaison", "c01_liaison", "c01_head", "discipline1", "designer1")
