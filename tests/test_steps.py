"""The service reacts to the steps elements declare, not to their ids; a version of a default model
that drops a step the service needs is refused; every engine call applies what its steps mean."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from support.api import liaison, publish_round

from service.context import BPMN_DIR
from service.models import RecommendationLetter, SelfCheckItem, SupervisionAction

STEP = '<camunda:property name="rectiflow.step" value="{}" />'


def _shipped(key: str) -> str:
    return (BPMN_DIR / f"{key}.bpmn").read_text(encoding="utf-8")


def _rename(xml: str, old: str, new: str) -> str:
    """Rename an element id everywhere it is referred to (refs, lane members, diagram shapes)."""
    xml = re.sub(rf'\b(id|sourceRef|targetRef|attachedToRef|bpmnElement)="{old}"', rf'\1="{new}"', xml)
    return xml.replace(f">{old}<", f">{new}<")


def test_a_renamed_self_check_still_updates_the_case(ctx, api, district):
    xml = _rename(_shipped("unit_rectification"), "self_check", "unit_self_check")
    assert 'id="unit_self_check"' in xml and 'id="self_check"' not in xml and STEP.format("self_check") in xml
    r = api.as_("designer1").post("/process-models", data=xml.encode(), content_type="application/xml")
    assert r.status_code == 201, r.get_json()

    publish_round(api, district)
    unit = liaison(api, district, 1)
    task = unit.tasks(step="self_check")
    assert [t["bpmn_id"] for t in task] == ["unit_self_check"]
    case = unit.get("/cases").get_json()["items"][0]
    common = unit.get(f"/rounds/{case['round_id']}").get_json()["common_problems"]
    unit.complete(task[0]["id"], {"items": [{"common_problem_id": common[0]["id"], "applicable": True,
                                            "problems_found": 2, "findings": "发现两处"}]})
    assert unit.get(f"/cases/{case['id']}").get_json()["status"] == "rectifying"
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(SelfCheckItem)
                        .where(SelfCheckItem.case_id == case["id"])) == 1


def test_a_version_without_a_step_the_service_needs_is_refused_naming_it(api, district):
    xml = _rename(_shipped("unit_rectification"), "self_check", "unit_self_check").replace(
        STEP.format("self_check"), "")
    r = api.as_("designer1").post("/process-models", data=xml.encode(), content_type="application/xml")
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert [e["step"] for e in errors] == ["self_check"]
    assert "self_check" in errors[0]["message"]


def test_a_letter_starts_with_its_steps_applied(ctx, api, district):
    """A version of the letter whose plan is a script step (planned in advance): starting the letter,
    inside the publication, already records the plan."""
    xml = _shipped("recommendation_letter")
    task = re.search(r'<bpmn:userTask id="plan_governance".*?</bpmn:userTask>', xml, re.S).group(0)
    script = re.sub(r"<bpmn:userTask ", '<bpmn:scriptTask scriptFormat="python" ', task, count=1)
    script = re.sub(r"<camunda:formData>.*?</camunda:formData>", "", script, flags=re.S)
    script = script.replace("</bpmn:userTask>", "<bpmn:script>plan = '年度专项治理计划'</bpmn:script></bpmn:scriptTask>")
    r = api.as_("designer1").post("/process-models", data=xml.replace(task, script).encode(),
                                  content_type="application/xml")
    assert r.status_code == 201, r.get_json()

    round_id = publish_round(api, district)
    with ctx.db.read() as s:
        statuses = set(s.scalars(select(RecommendationLetter.status).where(RecommendationLetter.round_id == round_id)))
        plans = s.scalars(select(SupervisionAction.detail).where(SupervisionAction.kind == "governance_plan")).all()
    assert statuses == {"planned"}
    assert plans == ["专项治理方案：年度专项治理计划"]
    department = api.as_(f"{district.codes[district.departments[0]].lower()}_liaison")
    assert [(x["round_id"], x["status"]) for x in department.get("/letters").get_json()["items"]] == \
           [(round_id, "planned")]
