"""The Latin-script words a page shows a person: its text and the attributes read out or shown."""
from __future__ import annotations

import re
from html.parser import HTMLParser

SHOWN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "value")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]|[A-Za-z]")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self._hidden += 1
        named = dict(attrs)
        if tag == "input" and named.get("type") in ("hidden", "checkbox", "radio"):
            return
        if tag == "option":
            return
        self.parts.extend(v for k, v in attrs if k in SHOWN_ATTRIBUTES and v)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def latin_words(html: str) -> set[str]:
    """The Latin-script words among what the page shows (text, and the attributes people see or hear)."""
    parser = _Text()
    parser.feed(html)
    return set(WORD.findall(" ".join(parser.parts)))
