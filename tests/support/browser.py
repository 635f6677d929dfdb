"""What the browser tests do on a page: log in and out through the forms, and check that no
catalogue key reached the visible text."""
from __future__ import annotations

import re

from .district import PASSWORD

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# what a catalogue key looks like if one ever reached a page untranslated
KEY_LIKE = re.compile(r"\b(?:app|nav|lang|common|login|role|warning|case|round|source|unit|item|filing|inbox|done|"
                      r"task|form|upload|rounds|findings|distill|error)\.[a-z_]+(?:\.[a-z_]+)*\b")


def login(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/inbox")


def logout(page, base: str) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{base}/login")


def assert_translated(page) -> None:
    """No catalogue key among the visible text of the page."""
    text = page.inner_text("body")
    assert KEY_LIKE.findall(text) == [], KEY_LIKE.findall(text)
