"""DMN decision tables on business-rule tasks: a designer deploys a decision and a process whose
business-rule task runs it; each case then takes the route the table decides. A decision's new
version reaches new instances, never running ones; what the engine cannot run is refused at deploy."""
from __future__ import annotations

from pathlib import Path

import bpmn_snippets as B
import pytest
from sqlalchemy import select

from workflows.tables import HumanTask

CASE_ROUTE = (Path(__file__).parent / "fixtures" / "case_route.dmn").read_bytes()
ROUTES = ("fast", "normal", "escalate")


def routed(pid: str = "routed_case", decision: str = "case_route") -> bytes:
    """Started by a message from outside; registers the case, decides its route, and waits at the
    user task of that route."""
    lanes = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>"
                    for n in ("start", "register", "decide", "gw", *(f"do_{r}" for r in ROUTES), "end"))
    tasks = "".join(f'<bpmn:userTask id="do_{r}" name="{r}"/>' + B.flow(f"f_{r}", "gw", f"do_{r}", f"route == '{r}'")
                    + B.flow(f"e_{r}", f"do_{r}", "end") for r in ROUTES)
    body = f"""
      <bpmn:laneSet id="ls"><bpmn:lane id="lane_office" name="巡察办">{lanes}</bpmn:lane></bpmn:laneSet>
      <bpmn:startEvent id="start" name="收到问题"><bpmn:messageEventDefinition id="md" messageRef="m_case"/></bpmn:startEvent>
      <bpmn:scriptTask id="register" name="登记" scriptFormat="python">
        <bpmn:script>problems_found = case_reported['problems_found']
category = case_reported['category']</bpmn:script></bpmn:scriptTask>
      <bpmn:businessRuleTask id="decide" name="分流" camunda:decisionRef="{decision}"/>
      <bpmn:exclusiveGateway id="gw" name="按路径" default="f_normal"/>
      <bpmn:endEvent id="end" name="结束"/>
      {B.flow("f1", "start", "register")}{B.flow("f2", "register", "decide")}{B.flow("f3", "decide", "gw")}{tasks}"""
    return B.doc(pid, body, extra='<bpmn:message id="m_case" name="case_reported"/>', name="分流整改")


def deploy(user, path: str, xml: bytes, expect: int = 201) -> dict:
    r = user.post(path, data=xml, content_type="application/xml")
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def start(office, n: int, problems: int, category: str = "一般") -> int:
    r = office.post("/messages", json={"name": "case_reported", "business_key": f"case:{n}",
                                       "data": {"problems_found": problems, "category": category}})
    assert r.status_code == 200, r.get_json()
    (instance_id,) = r.get_json()["instances"]
    return instance_id


def step(ctx, instance_id: int) -> str:
    with ctx.db.read() as s:
        (bpmn_id,) = s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id,
                                                               HumanTask.state == "open"))
    return bpmn_id


@pytest.fixture
def designer(api, district):
    return api.as_("designer1")


@pytest.fixture
def office(api, district):
    return api.as_("office1")


def test_each_case_takes_the_route_the_decision_table_decides(ctx, designer, office):
    assert deploy(designer, "/decisions", CASE_ROUTE) == {"key": "case_route", "name": "整改分流", "version": 1,
                                                          "created": True, "process_models": []}
    deploy(designer, "/process-models", routed())
    cases = {start(office, 1, 1): "do_fast", start(office, 2, 5): "do_normal", start(office, 3, 40): "do_escalate",
             start(office, 4, 0, "重大"): "do_escalate"}  # FIRST: the 重大 rule comes before the count rules
    assert {i: step(ctx, i) for i in cases} == cases
    [listed] = designer.get("/decisions").get_json()["items"]
    assert listed == {"key": "case_route", "name": "整改分流", "current_version": 1, "latest_version": 1}
    assert designer.get("/decisions/case_route/versions/1/dmn").data == CASE_ROUTE
    assert deploy(designer, "/decisions", CASE_ROUTE, 200)["created"] is False


def test_a_new_decision_version_reaches_new_instances_and_never_running_ones(ctx, designer, office):
    deploy(designer, "/decisions", CASE_ROUTE)
    deploy(designer, "/process-models", routed())
    running = start(office, 1, 1)
    ctx.engine.registry._cache.clear()  # as after a restart: specs are parsed again from what was pinned
    stricter = (CASE_ROUTE.replace(b"&lt;= 2</text>", b"&lt;= 0</text>")  # one problem is no longer fast
                .replace(b"2 &lt; ? &lt;= 10", b"0 &lt; ? &lt;= 10"))
    assert deploy(designer, "/decisions", stricter) == {"key": "case_route", "name": "整改分流", "version": 2,
                                                        "created": True,
                                                        "process_models": [{"key": "routed_case", "version": 2}]}
    later = start(office, 2, 1)
    assert step(ctx, later) == "do_normal"
    assert step(ctx, running) == "do_fast"
    versions = designer.get("/process-models/routed_case/versions").get_json()["items"]
    assert [(v["version"], v["current"]) for v in versions] == [(1, False), (2, True)]
    [task] = [t for t in office.tasks(process_model="routed_case") if t["bpmn_id"] == "do_fast"]
    office.complete(task["id"], {})  # the running instance goes on on its own version
    assert deploy(designer, "/decisions", CASE_ROUTE, 200)["version"] == 1  # taking the change back
    assert step(ctx, start(office, 3, 1)) == "do_fast"
    assert [d["current_version"] for d in designer.get("/decisions").get_json()["items"]] == [1]


def test_a_business_rule_task_without_its_decision_is_refused(designer):
    body = deploy(designer, "/process-models", routed(decision="no_such_decision"), 422)
    assert {(e["code"], e["element_id"], e.get("decision")) for e in body["errors"]} == {
        ("decision_missing", "decide", "no_such_decision")}
    body = deploy(designer, "/process-models", CASE_ROUTE, 422)
    assert [e["code"] for e in body["errors"]] == ["dmn_not_process"]


@pytest.mark.parametrize(("change", "code", "element"), [
    ((b"problems_found</text>", b"__import__('os').getcwd()</text>"), "expression_refused", "Input_problems"),
    ((b"&gt; 10</text>", b"[1..5]</text>"), "expression_refused", "Entry_many_problems"),
    ((b'"fast"</text>', b"open('x')</text>"), "expression_refused", "Out_fast"),
    ((b'hitPolicy="FIRST"', b'hitPolicy="PRIORITY"'), "dmn_hit_policy_unsupported", "DecisionTable_route"),
    ((b'hitPolicy="FIRST"', b'hitPolicy="COLLECT" aggregation="SUM"'), "dmn_aggregation_unsupported",
     "DecisionTable_route"),
    ((b"<rule ", b"<bogus/><rule "), "dmn_schema", None),
    ((b"20191111/MODEL/", b"20230324/MODEL/"), "dmn_version_unsupported", "Definitions_case_route"),
    ((b'<decision id="case_route"', b'<decision id="other" name="x"><decisionTable id="t2"><output id="o2"/>'
      b'</decisionTable></decision><decision id="case_route"'), "dmn_decision_count", "Definitions_case_route"),
])
def test_what_the_engine_cannot_run_is_refused_with_a_code(designer, change, code, element):
    body = deploy(designer, "/decisions", CASE_ROUTE.replace(*change, 1), 422)
    assert body["code"] == "deploy_refused"
    assert {(e["code"], e["element_id"]) for e in body["errors"]} == {(code, element)}
    assert designer.get("/decisions").get_json()["items"] == []


def test_only_designers_deploy_decisions(api, office):
    assert office.post("/decisions", data=CASE_ROUTE, content_type="application/xml").status_code == 403
    assert office.get("/decisions").status_code == 200
    assert api.as_("designer1").post("/decisions", data=B.one_task(), content_type="application/xml"
                                     ).get_json()["errors"][0]["code"] == "dmn_required"
