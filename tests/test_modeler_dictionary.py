"""The modeler's Chinese dictionary is one dictionary in two places: the page's run-time copy
(service/static/js/modeler-zh.js, what the designer uses) and the bundle's source
(frontend/src/translations/zh.js, built into rectiflow-modeler.js by frontend/build.sh)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from support.chinese import english_words

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r'^\s+("(?:[^"\\]|\\.)*"): ("(?:[^"\\]|\\.)*"),?$', re.M)


def _entries(path: Path) -> dict[str, str]:
    return {json.loads(k): json.loads(v) for k, v in ENTRY.findall(path.read_text(encoding="utf-8"))}


def test_the_page_and_the_bundle_share_one_dictionary():
    page = _entries(ROOT / "service/static/js/modeler-zh.js")
    bundle = _entries(ROOT / "frontend/src/translations/zh.js")
    assert len(page) > 500
    assert page == bundle


def test_every_entry_is_chinese_and_keeps_its_placeholders():
    for english, chinese in _entries(ROOT / "service/static/js/modeler-zh.js").items():
        assert english_words(re.sub(r"{[^}]+}", "", chinese)) == [], (english, chinese)
        assert sorted(re.findall(r"{[^}]+}", english)) == sorted(re.findall(r"{[^}]+}", chinese)), english
