"""What a deploy refuses and what it warns about, so a designer hears it before a diagram runs:
service tasks with nothing to run, calls to undeployed models, disconnected, unnamed and
unassigned elements, gateways without a default flow; and what changes against the current version."""
from __future__ import annotations

import bpmn_snippets as B
from sqlalchemy import select
from support.pages import session_login

from workflows.tables import ProcessInstance

LANE = "巡察办"


def laned(pid: str, body: str, nodes: list[str], name: str = "") -> bytes:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    return B.doc(pid, f'<bpmn:laneSet id="ls_{pid}"><bpmn:lane id="lane_{pid}" name="{LANE}">{refs}</bpmn:lane>'
                      f'</bpmn:laneSet>{body}', name=name or pid)


def child() -> bytes:
    body = ('<bpmn:startEvent id="c_start" name="开始"/><bpmn:userTask id="c_check" name="核查"/>'
            '<bpmn:scriptTask id="c_mark" name="标记" scriptFormat="python"><bpmn:script>checked = True</bpmn:script>'
            '</bpmn:scriptTask><bpmn:endEvent id="c_end" name="结束"/>'
            + B.flow("c1", "c_start", "c_check") + B.flow("c2", "c_check", "c_mark") + B.flow("c3", "c_mark", "c_end"))
    return laned("child_check", body, ["c_start", "c_check", "c_mark", "c_end"], name="核查子流程")


def parent() -> bytes:
    body = ('<bpmn:startEvent id="p_start" name="开始"/>'
            '<bpmn:callActivity id="call" name="调用核查" calledElement="child_check"/>'
            '<bpmn:userTask id="after" name="复核"/><bpmn:endEvent id="p_end" name="结束"/>'
            + B.flow("p1", "p_start", "call") + B.flow("p2", "call", "after") + B.flow("p3", "after", "p_end"))
    return laned("parent_flow", body, ["p_start", "call", "after", "p_end"], name="主流程")


def deploy(user, xml: bytes):
    return user.post("/process-models", data=xml, content_type="application/xml")


def codes(body: dict, key: str = "errors") -> set[tuple[str, str]]:
    return {(e["code"], e["element_id"]) for e in body[key]}


def simple(pid: str, middle: str, flows: str, nodes: list[str]) -> bytes:
    body = f'<bpmn:startEvent id="start" name="开始"/>{middle}<bpmn:endEvent id="end" name="结束"/>{flows}'
    return laned(pid, body, ["start", "end", *nodes])


# ---------------------------------------------------------------- call activities
def test_a_call_activity_runs_the_deployed_model_to_completion(api, ctx, district):
    designer, office = api.as_("designer1"), api.as_("office1")
    refused = deploy(designer, parent())
    assert refused.status_code == 422
    assert codes(refused.get_json()) == {("called_model_missing", "call")}
    assert deploy(designer, child()).status_code == 201
    assert deploy(designer, parent()).status_code == 201
    instance_id = ctx.db.transaction(lambda s: ctx.engine.start(s, "parent_flow", {"case": 7}).instance.id)
    [task] = office.tasks(process_model="parent_flow")
    assert task["bpmn_id"] == "c_check" and task["name"] == "核查"
    office.complete(task["id"], {})
    [after] = office.tasks(process_model="parent_flow")
    assert after["bpmn_id"] == "after"
    office.complete(after["id"], {})
    with ctx.db.read() as s:
        instance = s.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id))
        assert instance.status == "completed"
        assert ctx.engine.instance_data(s, instance)["checked"] is True  # the called model's data came back


def test_a_running_call_keeps_the_called_version_it_was_deployed_with(api, ctx, district):
    designer, office = api.as_("designer1"), api.as_("office1")
    deploy(designer, child())
    deploy(designer, parent())
    ctx.db.transaction(lambda s: ctx.engine.start(s, "parent_flow", {}))
    assert deploy(designer, child().replace("核查".encode(), "再核查".encode())).status_code == 201
    ctx.engine.registry._cache.clear()  # as after a restart: the caller's spec is read again
    [task] = office.tasks(process_model="parent_flow")
    assert task["name"] == "核查"
    office.complete(task["id"], {})
    assert [t["bpmn_id"] for t in office.tasks(process_model="parent_flow")] == ["after"]


# ---------------------------------------------------------------- service tasks
def test_a_service_task_is_refused_with_what_to_use_instead(api, district):
    designer = api.as_("designer1")
    plain = simple("service_model", '<bpmn:serviceTask id="svc" name="发通知"/>',
                   B.flow("f1", "start", "svc") + B.flow("f2", "svc", "end"), ["svc"])
    r = deploy(designer, plain)
    assert r.status_code == 422 and codes(r.get_json()) == {("service_task_unimplemented", "svc")}
    assert "user task" in r.get_json()["errors"][0]["message"]
    java = plain.replace(b'name="\xe5\x8f\x91\xe9\x80\x9a\xe7\x9f\xa5"', b'name="x" camunda:class="org.example.Send"')
    r = deploy(designer, java)
    assert r.status_code == 422 and codes(r.get_json()) == {("service_task_unsupported", "svc")}


# ---------------------------------------------------------------- connections, names, lanes, gateways
def test_an_element_no_flow_reaches_is_refused(api, district):
    xml = simple("lonely", '<bpmn:userTask id="a" name="甲"/><bpmn:userTask id="b" name="乙"/>',
                 B.flow("f1", "start", "a") + B.flow("f2", "a", "end") + B.flow("f3", "b", "end"), ["a", "b"])
    r = deploy(api.as_("designer1"), xml)
    assert r.status_code == 422 and codes(r.get_json()) == {("element_unreachable", "b")}


def test_warnings_are_returned_with_the_deployment(api, district):
    middle = ('<bpmn:userTask id="a" name="甲"/><bpmn:userTask id="dead" name="无出口"/>'
              '<bpmn:userTask id="nameless"/><bpmn:exclusiveGateway id="gw" name="分支"/>')
    flows = (B.flow("f1", "start", "gw") + B.flow("f2", "gw", "a", "x == 1") + B.flow("f3", "gw", "dead", "x == 2")
             + B.flow("f4", "gw", "nameless", "x == 3") + B.flow("f6", "nameless", "end"))
    xml = simple("warned", middle, flows, ["a", "dead", "nameless", "gw"])
    xml = xml.replace(b'<bpmn:endEvent id="end"', b'<bpmn:userTask id="outside" name="\xe6\x97\xa0\xe6\xb3\xb3\xe9\x81\x93"/>'
                      b'<bpmn:sequenceFlow id="f7" sourceRef="a" targetRef="outside"/>'
                      b'<bpmn:sequenceFlow id="f8" sourceRef="outside" targetRef="end"/><bpmn:endEvent id="end"')
    r = deploy(api.as_("designer1"), xml)
    assert r.status_code == 201
    assert codes(r.get_json(), "warnings") == {
        ("element_dead_end", "dead"), ("task_unnamed", "nameless"), ("gateway_without_default", "gw"),
        ("user_task_unassigned", "outside")}


def test_a_default_flow_an_assignee_and_names_leave_nothing_to_warn_about(api, district):
    middle = ('<bpmn:exclusiveGateway id="gw" name="分支" default="f3"/><bpmn:userTask id="a" name="甲"/>'
              '<bpmn:userTask id="outside" name="指定" camunda:assignee="office1"/>')
    flows = (B.flow("f1", "start", "gw") + B.flow("f2", "gw", "a", "x == 1") + B.flow("f3", "gw", "outside")
             + B.flow("f4", "a", "end") + B.flow("f5", "outside", "end"))
    r = deploy(api.as_("designer1"), simple("clean", middle, flows, ["gw", "a"]))
    assert r.status_code == 201 and r.get_json()["warnings"] == []


def test_unsafe_or_malformed_assignments_are_refused(api, district):
    middle = ('<bpmn:userTask id="a" name="甲" camunda:assignee="${__import__(\'os\').getcwd()}"/>'
              '<bpmn:userTask id="b" name="乙" camunda:priority="high"/>')
    flows = B.flow("f1", "start", "a") + B.flow("f2", "a", "b") + B.flow("f3", "b", "end")
    r = deploy(api.as_("designer1"), simple("unsafe_assign", middle, flows, ["a", "b"]))
    assert r.status_code == 422
    assert codes(r.get_json()) == {("assignment_refused", "a"), ("priority_invalid", "b")}


# ---------------------------------------------------------------- the designer page's check
def test_the_designer_sees_warnings_in_chinese_and_what_changes(client, api, ctx, district):
    designer = api.as_("designer1")
    v1 = simple("changing", '<bpmn:userTask id="a" name="甲"/><bpmn:userTask id="b" name="乙"/>',
                B.flow("f1", "start", "a") + B.flow("f2", "a", "b") + B.flow("f3", "b", "end"), ["a", "b"])
    assert deploy(designer, v1).status_code == 201
    v2 = simple("changing", '<bpmn:userTask id="a" name="甲改"/><bpmn:userTask id="c"/>',
                B.flow("f1", "start", "a") + B.flow("f2", "a", "c") + B.flow("f3", "c", "end"), ["a", "c"])
    token = session_login(client, ctx, "designer1")
    r = client.post("/designer/validate", data=v2, content_type="application/xml", headers={"X-CSRFToken": token})
    body = r.get_json()
    assert body["errors"] == [] and body["current_version"] == 1
    assert body["changes"]["added"] == [{"element_id": "c", "kind": "userTask", "name": ""}]
    assert body["changes"]["removed"] == [{"element_id": "b", "kind": "userTask", "name": "乙"}]
    assert body["changes"]["renamed"] == [{"element_id": "a", "kind": "userTask", "from": "甲", "to": "甲改"}]
    [warning] = body["warnings"]
    assert warning["code"] == "task_unnamed" and "名称" in warning["message"]


def test_api_clients_check_a_diagram_without_deploying_it(api, district):
    designer = api.as_("designer1")
    xml = simple("checked_api", '<bpmn:userTask id="a"/>', B.flow("f1", "start", "a") + B.flow("f2", "a", "end"), ["a"])
    body = designer.post("/process-models/checks", data=xml, content_type="application/xml").get_json()
    assert body["errors"] == [] and codes(body, "warnings") == {("task_unnamed", "a")}
    assert body["current_version"] is None and {c["element_id"] for c in body["changes"]["added"]} >= {"a"}
    assert designer.get("/process-models/checked_api/versions").status_code == 404  # nothing was deployed
    refused = simple("checked_api", '<bpmn:serviceTask id="s" name="调用"/>',
                     B.flow("f1", "start", "s") + B.flow("f2", "s", "end"), ["s"])
    body = designer.post("/process-models/checks", data=refused, content_type="application/xml").get_json()
    assert codes(body) == {("service_task_unimplemented", "s")}
    assert api.as_("office1").post("/process-models/checks", data=xml,
                                   content_type="application/xml").status_code == 403


def test_the_designer_is_warned_of_a_candidate_group_that_names_no_role(client, ctx, district):
    xml = simple("groups", '<bpmn:userTask id="a" name="甲" camunda:candidateGroups="巡察办,外包公司"/>',
                 B.flow("f1", "start", "a") + B.flow("f2", "a", "end"), ["a"])
    token = session_login(client, ctx, "designer1")
    body = client.post("/designer/validate", data=xml, content_type="application/xml",
                       headers={"X-CSRFToken": token}).get_json()
    assert [(w["element_id"], "外包公司" in w["message"]) for w in body["warnings"]] == [("a", True)]
