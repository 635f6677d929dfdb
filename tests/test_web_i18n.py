"""Every string the pages show has a Chinese and an English text; no key shows untranslated."""
from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest
from lxml import etree

from service.models import CASE_STATUSES, PROBLEM_SOURCES, ROLES, UNIT_KINDS, WARNINGS
from service.web import i18n

ROOT = Path(__file__).resolve().parent.parent
# a whole literal key (`t("a.b")`, `t("a.b", n=1)`); keys built from codes are checked below
KEY_CALL = re.compile(r"""\bt\(\s*['"]([a-z0-9_]+(?:\.[a-z0-9_]+)+)['"]\s*[,)]""")


def _params(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_both_languages_with_the_same_parameters():
    for key, (zh, en) in i18n.MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert _params(zh) == _params(en), key


def test_every_key_used_in_templates_and_views_exists():
    sources = list((ROOT / "service" / "templates").rglob("*.html")) + list((ROOT / "service" / "web").glob("*.py"))
    used = {key for path in sources for key in KEY_CALL.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 100
    assert sorted(used - set(i18n.MESSAGES)) == []


@pytest.mark.parametrize("prefix,codes", [
    ("role", ROLES), ("warning", WARNINGS), ("case.status", CASE_STATUSES), ("source", PROBLEM_SOURCES),
    ("unit.kind", UNIT_KINDS), ("round.status", ("discovering", "listing", "published", "closed")),
    ("item.status", ("done", "ongoing", "not_done")), ("filing.result", ("accepted", "returned", "pending")),
])
def test_keys_built_from_codes_exist(prefix, codes):
    assert [c for c in codes if f"{prefix}.{c}" not in i18n.MESSAGES] == []


def test_strict_mode_raises_on_a_missing_key(app):
    app.config["RECTIFLOW_I18N_STRICT"] = True
    with app.test_request_context(), pytest.raises(KeyError):
        i18n.t("no.such.key")
    app.config["RECTIFLOW_I18N_STRICT"] = False
    with app.test_request_context():
        assert i18n.t("no.such.key") == "no.such.key"


def test_the_default_models_and_forms_read_in_english():
    """Task names, field labels and choices of the shipped diagrams and forms have English texts."""
    texts: set[str] = set()
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
    for path in (ROOT / "bpmn").glob("*.bpmn"):
        root = etree.parse(str(path)).getroot()
        texts |= {e.get("name") for e in root.iterfind(".//bpmn:userTask", ns)}
        texts |= {e.get("name") for e in root.iterfind(".//bpmn:process", ns)}
        texts |= {e.get("label") for e in root.iterfind(".//camunda:formField", ns)}
        texts |= {e.get("name") for e in root.iterfind(".//camunda:value", ns)}

    def walk(node):
        if isinstance(node, dict):
            for key in ("title", "description"):
                if isinstance(node.get(key), str):
                    texts.add(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in (ROOT / "bpmn" / "forms").glob("*.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    texts.discard(None)
    assert sorted(t for t in texts if t not in i18n.CONTENT_EN) == []


def test_validation_messages_are_translated(app):
    with app.test_request_context():
        assert i18n.message("'findings' is a required property") == "此项必填"
        assert i18n.message("-1 is less than the minimum of 0") == "不能小于 0"
        assert i18n.message("'x' is not a 'date'") == "请输入有效日期（年-月-日）"
        assert i18n.message("True was expected") == "请勾选此项"
        assert i18n.message("something new") == "something new"
