"""The modeler's Chinese dictionary: one source (frontend/src/translations/zh.js), built into the
vendored bundle, which the designer page reads it from (RectiflowModeler.dictionaries.zh)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from support.chinese import english_words

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r'^\s+("(?:[^"\\]|\\.)*"): ("(?:[^"\\]|\\.)*"),?$', re.M)
DICTIONARY = ROOT / "frontend/src/translations/zh.js"
BUNDLE = ROOT / "service/static/vendor/bpmn/rectiflow-modeler.js"


def _entries(path: Path) -> dict[str, str]:
    return {json.loads(k): json.loads(v) for k, v in ENTRY.findall(path.read_text(encoding="utf-8"))}


def test_the_bundle_was_built_with_the_whole_dictionary():
    """A dictionary changed without running frontend/build.sh would leave the page English there."""
    entries = _entries(DICTIONARY)
    assert len(entries) > 500
    bundle = BUNDLE.read_text(encoding="utf-8")
    missing = [english for english, chinese in entries.items() if json.dumps(chinese, ensure_ascii=False)[1:-1]
               not in bundle]
    assert missing == []


def test_every_entry_is_chinese_and_keeps_its_placeholders():
    for english, chinese in _entries(DICTIONARY).items():
        assert english_words(re.sub(r"{[^}]+}", "", chinese)) == [], (english, chinese)
        assert sorted(re.findall(r"{[^}]+}", english)) == sorted(re.findall(r"{[^}]+}", chinese)), english
