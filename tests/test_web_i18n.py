"""The pages' gettext catalogues: compiled as committed, complete in Chinese, current with the code.

A text the pages use but zh_CN does not translate would show in English on a Chinese page: the
completeness test fails instead (what RECTIFLOW_I18N_STRICT did for the hand-written catalogue).
`make translations` extracts, updates and compiles; these tests say when it has to be run.
"""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages import frontend
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from service import lists, notices, operations
from service.models import CASE_STATUSES, DOCUMENT_KINDS, PROBLEM_SOURCES, ROLES, UNIT_KINDS, WARNINGS, KeyKind
from service.web import dashboard, i18n, problems

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "service" / "translations"
ZH = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
CONTENT_EN = TRANSLATIONS / "en" / "LC_MESSAGES" / "content.po"
CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po"))


def _mapping(cfg: str):
    parse = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with open(ROOT / cfg, encoding="utf-8") as f:
        return parse(f)


def _keywords() -> dict:
    """pybabel's keywords plus the ones `make translations` passes (BABEL_KEYWORDS in the Makefile)."""
    line = re.search(r"^BABEL_KEYWORDS\s*=\s*(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    extra = frontend.parse_keywords(re.findall(r"-k\s+(\S+)", line))
    return DEFAULT_KEYWORDS | extra


def _extract(cfg: str, folders: list[str], keywords: dict) -> dict[tuple, set[str]]:
    """(context, msgid or (singular, plural)) -> the files using it, as pybabel would extract them."""
    method_map, options_map = _mapping(cfg)
    found: dict[tuple, set[str]] = {}
    for folder in folders:
        if (ROOT / folder).is_file():  # a single module, such as the service's table of error texts
            for _line, message, _comments, context in extract_from_file(
                    "python", str(ROOT / folder), keywords=keywords):
                found.setdefault((context, message), set()).add(folder)
            continue
        for filename, _line, message, _comments, context in extract_from_dir(
                str(ROOT / folder), method_map, options_map, keywords=keywords):
            found.setdefault((context, message), set()).add(f"{folder}/{filename}")
    return found


@pytest.fixture(scope="module")
def ui_texts():
    return _extract("babel.cfg", ["service/web", "service/templates", "service/errors.py"], _keywords())


@pytest.fixture(scope="module")
def model_texts():
    return _extract("babel-content.cfg", ["bpmn"], {})


def _catalogue(path: Path):
    with open(path, "rb") as f:
        return read_po(f)


def _key(m) -> tuple:
    return m.context, tuple(m.id) if m.pluralizable else m.id


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(TRANSLATIONS)))
def test_each_committed_mo_is_its_po_compiled(po):
    """The service reads the committed .mo files (no build step on install): they cannot drift."""
    out = io.BytesIO()
    write_mo(out, _catalogue(po))
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make translations`"
    assert mo.read_bytes() == out.getvalue(), f"{mo} is not {po.name} compiled: run `make translations`"


def test_the_templates_and_page_modules_use_only_texts_the_catalogue_template_holds(ui_texts, model_texts):
    """messages.pot and content.pot are what pybabel extracts today, so `pybabel update` loses nothing."""
    for pot, texts in (("messages.pot", ui_texts), ("content.pot", model_texts)):
        held = {(m.context, m.id) for m in _catalogue(TRANSLATIONS / pot) if m.id}
        assert sorted(map(str, set(texts) - held)) == [], f"new texts: run `make translations` ({pot})"
        assert sorted(map(str, held - set(texts))) == [], f"texts no longer used: run `make translations` ({pot})"


def test_chinese_translates_every_text_the_pages_use(ui_texts):
    catalogue = _catalogue(ZH)
    entries = {(m.context, m.id): m for m in catalogue if m.id}
    assert len(ui_texts) > 300
    problems = []
    for key, files in sorted(ui_texts.items(), key=str):
        m = entries.get(key)
        if m is None:
            problems.append(f"missing: {key} ({', '.join(sorted(files))})")
        elif m.fuzzy:
            problems.append(f"fuzzy: {key}")
        elif not (all(m.string) if m.pluralizable else m.string):
            problems.append(f"untranslated: {key} ({', '.join(sorted(files))})")
    assert problems == [], "zh_CN lacks texts the pages show; translate them in " + str(ZH.relative_to(ROOT))
    assert [(m.id, errors) for m, errors in catalogue.check()] == []  # placeholders agree with the msgid


def test_the_default_models_and_forms_read_in_english(model_texts, app):
    """Task names, lanes, field labels and choices of the shipped diagrams and forms have English texts."""
    entries = {m.id: m for m in _catalogue(CONTENT_EN) if m.id}
    texts = sorted(message for _context, message in model_texts)
    assert "对照自查" in texts and "是否适用本单位" in texts and "巡察办" in texts
    assert [t for t in texts if t not in entries or not entries[t].string or entries[t].fuzzy] == []
    with app.test_request_context():
        assert i18n.tc("对照自查") == "对照自查"
    with app.test_request_context():
        i18n.session["lang"] = "en"
        assert i18n.tc("对照自查") == "Self-check"
        assert i18n.tc("一个设计者自己的任务") == "一个设计者自己的任务"  # a designer's own text shows as written
        assert i18n.tc(None) == ""


@pytest.mark.parametrize("kind,codes", [
    ("role", ROLES), ("warning", WARNINGS), ("case_status", CASE_STATUSES), ("source", PROBLEM_SOURCES),
    ("unit_kind", UNIT_KINDS), ("round_status", ("discovering", "listing", "published", "closed")),
    ("item_status", ("done", "ongoing", "not_done")), ("filing_result", ("accepted", "returned", "pending")),
    ("instance_status", operations.INSTANCE_STATUSES), ("figure", dashboard.FIGURES), ("list", lists.LISTS),
    ("supervision", lists.ACTION_LABELS), ("supervision_outcome", lists.OUTCOME_LABELS), ("document", DOCUMENT_KINDS),
    ("event", ("started", "task_completed", "timer_fired", "message", "completed", "failed", "retried")),
    ("notice", notices.KINDS), ("leader_notice", notices.LEADER_KIND),
    ("audit_target", [str(kind) for kind in KeyKind]),  # a business key in a history reads as the record's kind
])
def test_every_code_shown_as_a_word_has_one(kind, codes):
    assert [c for c in codes if c not in i18n.LABELS[kind]] == []


def test_labels_and_field_problems_read_in_the_sessions_language(app):
    with app.test_request_context():
        assert i18n.label("role", "office") == "巡察办" and i18n.label("case_status", "closed") == "已销号"
        assert i18n.label("item_status", "done") == "已完成" and i18n.label("role", "nobody") == "nobody"
        assert problems.field_text({"field": "items.0.findings", "code": "required"}) == "此项必填"
        assert problems.field_text({"field": "n", "code": "minimum", "limit": 0}) == "不能小于 0"
        assert problems.field_text({"field": "d", "code": "format", "expected": "date"}) == "请输入有效日期（年-月-日）"
        assert problems.field_text({"field": "attest", "code": "const"}) == "请勾选此项"
        assert problems.field_text({"field": "x", "code": "something_new"}) == "内容不符合要求"
    with app.test_request_context():
        i18n.session["lang"] = "en"
        assert i18n.label("role", "office") == "Inspection office"
        assert problems.field_text({"field": "n", "code": "minimum", "limit": 0}) == "Must be at least 0"


def test_plural_texts_pick_their_form(app):
    with app.test_request_context():
        assert i18n.ngettext("%(num)d day left", "%(num)d days left", 1) == "剩 1 天"
        assert i18n.js_counted(lambda k: i18n.ngettext("%(n)s row", "%(n)s rows", k, n="{n}")) == \
            {"one": "共 {n} 行", "other": "共 {n} 行"}
    with app.test_request_context():
        i18n.session["lang"] = "en"
        assert i18n.ngettext("%(num)d day left", "%(num)d days left", 1) == "1 day left"
        assert i18n.ngettext("%(num)d day left", "%(num)d days left", 3) == "3 days left"
        assert i18n.js_text(i18n._("Not found in the diagram: %(ids)s")) == "Not found in the diagram: {ids}"


def test_times_show_in_the_configured_zone(app, ctx):
    moment = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    with app.test_request_context():
        assert i18n.fmt_datetime(moment) == "2026-01-02 00:30"  # Asia/Shanghai, the default
        assert i18n.fmt_datetime(moment, with_time=False) == "2026-01-02"
        assert i18n.fmt_datetime(None) == ""
    ctx.settings.timezone = "America/New_York"
    with app.test_request_context():
        assert i18n.fmt_datetime(moment) == "2026-01-01 11:30"


def test_deploy_refusals_read_in_chinese_on_a_chinese_page(app):
    errors = [{"element_id": "calc", "code": "script_refused", "reason": "import is not allowed",
               "message": "script refused: import is not allowed"},
              {"element_id": "t", "code": "timer_refused", "reason": "a cycle shorter than a minute",
               "message": "timer refused: a cycle shorter than a minute"},
              {"element_id": "t", "code": "unsupported_extension", "tag": "taskListener", "message": "..."},
              {"element_id": None, "code": "form_missing", "form": "f.json", "message": "..."},
              {"element_id": None, "code": "something_new", "message": "something the table does not know"}]
    with app.test_request_context():
        assert [e["message"] for e in problems.deploy_errors(errors)] == [
            "脚本被拒绝：import is not allowed", "定时器被拒绝：a cycle shorter than a minute",
            "本引擎不支持 camunda:taskListener", "表单 f.json 不存在（bpmn/forms 下没有此文件）",
            "something the table does not know"]
    with app.test_request_context():
        i18n.session["lang"] = "en"
        assert problems.deploy_errors(errors)[0]["message"] == "Script refused: import is not allowed"
