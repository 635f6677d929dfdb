"""The designer and instance pages over the Flask test client: who may open them, what
"validate" reports, that "deploy" makes a new version, and that instances stay need-to-know."""
from __future__ import annotations

import re
from pathlib import Path

import bpmn_snippets as B
import pytest
from sqlalchemy import select
from support.pages import session_login

from service.models import Unit
from workflows.tables import ModelVersion

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "bpmn-samples" / "miwg-camunda-modeler"


@pytest.fixture
def web(client):
    return client


def post_xml(client, path, xml: bytes, token: str | None):
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(path, data=xml, content_type="application/xml", headers=headers)


def versions(ctx, key: str) -> list[int]:
    with ctx.db.read() as s:
        return list(s.scalars(select(ModelVersion.version).where(ModelVersion.key == key)
                              .order_by(ModelVersion.version)))


# ---------------------------------------------------------------- who may open what
def test_designer_page_for_designers_readonly_for_office_refused_to_liaisons(web, ctx, district):
    session_login(web, ctx, "designer1")
    page = web.get("/designer/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="rf-deploy"' in html and "unit_rectification" in html and "流程设计" in html
    assert "vendor/bpmn/rectiflow-modeler.js" in html and "properties-panel.css" in html

    session_login(web, ctx, "office1")
    html = web.get("/designer/?key=unit_rectification&version=1").get_data(as_text=True)
    assert 'id="rf-deploy"' not in html and 'id="rf-validate"' not in html
    assert '"can_edit": false' in html

    token = session_login(web, ctx, f"{district.codes[district.units[2]].lower()}_liaison")
    assert web.get("/designer/").status_code == 403
    assert web.get("/designer/models/unit_rectification/versions/1/bpmn").status_code == 403
    assert post_xml(web, "/designer/validate", B.one_task(), token).status_code == 403
    assert post_xml(web, "/designer/deploy", B.one_task(), token).status_code == 403


def test_pages_need_a_session_login(web, ctx, district):
    r = web.get("/designer/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert web.get("/instances/1").status_code == 302
    assert web.get("/dashboard/").status_code == 302
    # the page's script asks with X-Requested-With: an expired session is a 401 it can report,
    # never a login page it could mistake for "no errors"
    xhr = {"X-Requested-With": "XMLHttpRequest"}
    assert web.get("/designer/models/unit_rectification/versions/1/bpmn", headers=xhr).status_code == 401


def test_posts_without_the_csrf_token_are_refused(web, ctx, district):
    session_login(web, ctx, "designer1")
    assert post_xml(web, "/designer/deploy", B.one_task(), None).status_code == 400
    assert versions(ctx, "simple") == []


def test_version_xml_is_served_for_the_modeler(web, ctx, district):
    session_login(web, ctx, "office1")
    r = web.get("/designer/models/unit_rectification/versions/1/bpmn")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    assert b'id="unit_rectification"' in r.data
    assert web.get("/designer/models/unit_rectification/versions/99/bpmn").status_code == 404


# ---------------------------------------------------------------- validate and deploy
@pytest.mark.parametrize("attack", [
    "__import__('os').system('touch {marker}')",
    "().__class__.__mro__[1].__subclasses__()",
    "open('{marker}', 'w').write('x')",
])
def test_validate_names_the_element_of_a_hostile_script_and_saves_nothing(web, ctx, district, tmp_path, attack):
    marker = tmp_path / "pwned"
    token = session_login(web, ctx, "designer1")
    r = post_xml(web, "/designer/validate", B.with_script(attack.format(marker=marker)), token)
    assert r.status_code == 200
    errors = r.get_json()["errors"]
    assert errors and {e["element_id"] for e in errors} == {"calc"}
    assert all("被拒绝" in e["message"] for e in errors)  # the page is Chinese: so is the engine's refusal
    assert versions(ctx, "scripted") == [] and not marker.exists()


def test_validate_reports_what_deploy_would_refuse(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    bad_condition = post_xml(web, "/designer/validate", B.with_condition("__import__('os').getcwd()"), token)
    assert {e["element_id"] for e in bad_condition.get_json()["errors"]} == {"f_cond"}
    broken = post_xml(web, "/designer/validate", b"<not-closed", token).get_json()["errors"]
    assert broken[0]["element_id"] is None and broken[0]["reason_code"] == "xml_malformed"
    missing_form = B.one_task().replace(b'<bpmn:userTask id="task"',
                                        b'<bpmn:userTask id="task" camunda:formKey="nowhere.json"')
    errors = post_xml(web, "/designer/validate", missing_form, token).get_json()["errors"]
    assert errors == [{"element_id": "task", "code": "form_missing", "form": "nowhere.json",
                       "message": "表单 nowhere.json 不存在（bpmn/forms 下没有此文件）"}]
    refused = post_xml(web, "/designer/deploy", missing_form, token)
    assert refused.status_code == 422 and refused.get_json()["errors"] == errors
    with web.session_transaction() as sess:
        sess["lang"] = "en"
    errors = post_xml(web, "/designer/validate", missing_form, token).get_json()["errors"]
    assert errors == [{"element_id": "task", "code": "form_missing", "form": "nowhere.json",
                       "message": "Form nowhere.json does not exist under bpmn/forms"}]
    with web.session_transaction() as sess:
        sess["lang"] = "zh"
    ok = post_xml(web, "/designer/validate", B.one_task(), token).get_json()
    assert ok["errors"] == [] and ok["warnings"] == [] and ok["current_version"] is None
    assert {a["element_id"] for a in ok["changes"]["added"]} == {"start", "task", "end", "lane_office"}


def test_validate_warns_about_lanes_that_name_no_role(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    body = post_xml(web, "/designer/validate", B.one_task(lane="外包公司"), token).get_json()
    assert body["errors"] == []
    assert [w["element_id"] for w in body["warnings"]] == ["lane_office"]


def test_deploy_makes_a_new_version_each_time_the_diagram_changes(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    first = post_xml(web, "/designer/deploy", B.one_task(task_name="初审"), token)
    assert first.status_code == 201 and first.get_json()["version"] == 1 and first.get_json()["created"]
    again = post_xml(web, "/designer/deploy", B.one_task(task_name="初审"), token)
    assert again.status_code == 200 and again.get_json() | {"created": None} == first.get_json() | {"created": None}
    second = post_xml(web, "/designer/deploy", B.one_task(task_name="复审"), token)
    assert second.status_code == 201 and second.get_json()["version"] == 2
    assert versions(ctx, "simple") == [1, 2]
    with ctx.db.read() as s:
        row = s.scalar(select(ModelVersion).where(ModelVersion.key == "simple", ModelVersion.version == 2))
        assert row.deployed_by == "designer1" and "复审".encode() in row.bpmn_xml
    sidebar = web.get("/designer/models").get_data(as_text=True)
    assert 'data-key="simple" data-version="2"' in sidebar


def test_deploy_refusal_names_elements_and_writes_nothing(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    r = post_xml(web, "/designer/deploy", B.with_script("__import__('os')"), token)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert {e["element_id"] for e in r.get_json()["errors"]} == {"calc"}
    assert versions(ctx, "scripted") == []


def test_new_diagram_template_is_deployable(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    assert web.get("/designer/template.bpmn?key=1bad").status_code == 400
    xml = web.get("/designer/template.bpmn?key=special_check&name=专项督查<>").data
    assert b'<bpmn:process id="special_check" name="\xe4\xb8\x93\xe9\xa1\xb9\xe7\x9d\xa3\xe6\x9f\xa5&lt;&gt;"' in xml
    checked = post_xml(web, "/designer/validate", xml, token).get_json()
    assert checked["errors"] == [] and checked["warnings"] == []
    assert post_xml(web, "/designer/deploy", xml, token).get_json()["version"] == 1


@pytest.mark.skipif(not SAMPLES.exists(), reason="the shared Camunda Modeler samples are not beside the checkout")
def test_camunda_modeler_samples_validate_to_a_clear_answer(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    valid = 0
    for path in sorted(SAMPLES.glob("*.bpmn")):
        r = post_xml(web, "/designer/validate", path.read_bytes(), token)
        assert r.status_code == 200, path.name
        body = r.get_json()
        assert all(e["message"] for e in body["errors"]), path.name
        valid += not body["errors"]
    assert valid > 0


# ---------------------------------------------------------------- instances
def _start(ctx, unit_id: int) -> int:
    def work(s):
        ctx.engine.deploy(s, B.one_task(pid="web_instance"), deployed_by="test")
        return ctx.engine.start(s, "web_instance", {"note": "起"}, unit_id=unit_id, business_key=f"t:{unit_id}",
                                actor="office1").instance.id
    return ctx.db.transaction(work)


def test_instance_view_shows_states_and_history_to_those_who_may_see_it(web, ctx, district):
    mine, other = district.units[2], district.units[3]
    instance_id = _start(ctx, mine)
    with ctx.db.read() as s:
        code = s.get(Unit, mine).code.lower()
    session_login(web, ctx, f"{code}_liaison")
    page = web.get(f"/instances/{instance_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '"active": ["task"]' in html and '"completed": ["start"]' in html
    assert "流程启动" in html and "关联事项" in html and f"t:{mine}" in html
    assert web.get(f"/instances/{instance_id}/bpmn").data.startswith(b"<?xml")

    session_login(web, ctx, f"{district.codes[other].lower()}_liaison")
    assert web.get(f"/instances/{instance_id}").status_code == 404
    assert web.get(f"/instances/{instance_id}/bpmn").status_code == 404
    session_login(web, ctx, "designer1")
    assert web.get(f"/instances/{instance_id}").status_code == 404
    for district_wide in ("office1", "leading1"):
        session_login(web, ctx, district_wide)
        assert web.get(f"/instances/{instance_id}").status_code == 200
    assert web.get("/instances/999999").status_code == 404


def test_instance_history_records_who_completed_what(web, ctx, district, api):
    instance_id = _start(ctx, district.units[2])
    office = api.as_("office1")
    task = office.tasks(process_model="web_instance")[0]
    office.complete(task["id"], {"ok": True})
    session_login(web, ctx, "office1")
    html = web.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "完成任务" in html and "巡察办" in html  # the actor's name, not only the login
    assert '"completed": ["end", "start", "task"]' in html
    assert "已结束" in html


def test_every_refusal_of_the_designer_reads_in_chinese(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    empty = post_xml(web, "/designer/validate", b"  ", token).get_json()
    assert empty["errors"] and all(cjk.search(e["message"]) for e in empty["errors"]), empty  # was English
    for xml in (B.with_script("import os"), B.with_condition("__import__('os').getcwd()"), b"<not-bpmn/>"):
        body = post_xml(web, "/designer/validate", xml, token).get_json()
        assert body["errors"] and all(cjk.search(e["message"]) for e in body["errors"]), body
    refused = post_xml(web, "/designer/deploy", b"<not-bpmn/>", token)
    assert refused.status_code == 422 and cjk.search(refused.get_json()["detail"])
    assert all(cjk.search(e["message"]) for e in refused.get_json().get("errors", []))


# A broken diagram of each kind a designer meets, with the element, the refusal's kind and reason
# (codes) and the sentence the Chinese page shows ({line} from the error itself).
_NO_START = (B.one_task().replace(b'<bpmn:startEvent id="start"/>', b"")
             .replace(b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task"/>', b"")
             .replace(b"<bpmn:flowNodeRef>start</bpmn:flowNodeRef>", b""))
BROKEN = [
    (B.with_script("import os"), "calc", "script_refused", "script_construct_refused",
     "脚本被拒绝：第 1 行：不允许使用 import"),
    (B.with_script("x = 1\ny = print(x)"), "calc", "script_refused", "script_name_refused",
     "脚本被拒绝：第 2 行：不允许使用名称 print"),
    (B.with_script("x = = 1"), "calc", "script_refused", "script_syntax_error", "脚本被拒绝：第 1 行有语法错误"),
    (B.with_script("x = notify(1)"), "calc", "script_refused", "script_call_refused",
     "脚本被拒绝：第 1 行：不允许调用 notify"),
    (B.with_condition("a.__class__"), "f_cond", "expression_refused", "script_attribute_refused",
     "表达式 a.__class__ 被拒绝：第 1 行：不允许使用属性 .__class__"),
    (B.timer("'P1D'"), "wait", "timer_refused", "timer_date_is_duration",
     "定时器被拒绝：P1D 是一段时长：定时日期必须是日期和时间（时长请用定时时长）"),
    (B.timer("'tomorrow'"), "wait", "timer_refused", "timer_not_iso",
     "定时器被拒绝：tomorrow 不是 ISO 8601 格式的时间或时长"),
    (B.one_task().replace(b'<bpmn:endEvent id="end"/>', b'<bpmn:endEvent id="end" colour="red"/>'),
     "end", "bpmn_schema", "schema_attribute_unknown", "第 {line} 行不符合 BPMN 规范：此处不允许该属性"),
    (B.one_task().replace(b'targetRef="end"/>', b"/>"), "f2", "bpmn_schema", "schema_attribute_missing",
     "第 {line} 行不符合 BPMN 规范：缺少必需的属性"),
    (_NO_START, "simple", "unrunnable", "spiff_no_start_event", "流程图无法运行：流程没有开始事件"),
    (B.with_condition("x").replace(b' default="f_default"', b""), "f_default", "unrunnable",
     "spiff_flow_without_condition", "流程图无法运行：排他网关的某条流出顺序流既没有条件，也不是默认流"),
    (B.one_task().replace(b'targetRef="end"', b'targetRef="nowhere"').replace(b'<bpmn:endEvent id="end"/>', b"")
     .replace(b"<bpmn:flowNodeRef>end</bpmn:flowNodeRef>", b""), "task", "unrunnable", "spiff_reference_broken",
     "流程图无法运行：顺序流或引用指向不存在的元素，或两个元素的标识相同"),
    (b'<?xml version="1.0"?><!DOCTYPE x []><x/>', None, "unsafe_xml", "xml_doctype",
     "XML 文档不安全，拒绝读取：含有 DOCTYPE 或 ENTITY 声明，不予接受"),
    (b"<not-closed", None, "unsafe_xml", "xml_malformed", "XML 文档不安全，拒绝读取：第 1 行的 XML 格式不正确"),
]
# names of formats and of the BPMN parts the designer draws, which the Chinese sentences keep
_NOT_WORDS = re.compile(r"\b(XML|BPMN|ISO|DOCTYPE|ENTITY)\b")


def test_each_deploy_refusal_reads_in_chinese_by_its_code(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    for xml, element_id, code, reason_code, sentence in BROKEN:
        refused = post_xml(web, "/designer/deploy", xml, token)
        assert refused.status_code == 422, (reason_code, refused.get_data(as_text=True))
        error = refused.get_json()["errors"][0]
        assert (error["element_id"], error["code"], error["reason_code"]) == (element_id, code, reason_code)
        assert error["message"] == sentence.format(line=error.get("line")), error
        # nothing English is left once the diagram's own text (names, values, ids) is taken out
        rest = _NOT_WORDS.sub("", error["message"])
        for value in (error.get(k) for k in ("expression", "syntax", "name", "value")):
            rest = rest.replace(str(value), "") if value else rest
        assert not re.search(r"[A-Za-z]", rest), (reason_code, rest)
        assert error["reason"]  # the engine's English words stay for API clients and logs
    assert versions(ctx, "scripted") == versions(ctx, "simple") == versions(ctx, "timed") == []
    with web.session_transaction() as sess:
        sess["lang"] = "en"
    error = post_xml(web, "/designer/deploy", BROKEN[1][0], token).get_json()["errors"][0]
    assert error["message"] == "Script refused: line 2: the name print is not allowed"
