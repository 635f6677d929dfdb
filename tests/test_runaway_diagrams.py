"""Diagrams that would never stop: refused at deploy when their timers say so, and otherwise
stopped by the engine's step limit within seconds, without holding up anyone else's writes."""
from __future__ import annotations

import threading
import time

import pytest
from bpmn_snippets import doc, flow
from sqlalchemy import func, select
from support.api import Api
from support.diagrams import round_with_timer

from service.models import Round


def _ticking(kind: str, value: str, pid: str = "ticking", script: str = "pause = 0") -> bytes:
    """A user task with a non-interrupting timer on its edge, as Camunda Modeler draws one."""
    body = f"""
      <bpmn:laneSet id="ls"><bpmn:lane id="lane_office" name="巡察办">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>prepare</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>record_findings</bpmn:flowNodeRef><bpmn:flowNodeRef>remind</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>note</bpmn:flowNodeRef><bpmn:flowNodeRef>noted</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
      <bpmn:startEvent id="start"/>
      <bpmn:scriptTask id="prepare" scriptFormat="python"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
      <bpmn:userTask id="record_findings" name="记录巡察发现"/>
      <bpmn:boundaryEvent id="remind" name="催办" cancelActivity="false" attachedToRef="record_findings">
        <bpmn:timerEventDefinition id="remind_timer"><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{kind}></bpmn:timerEventDefinition>
      </bpmn:boundaryEvent>
      <bpmn:scriptTask id="note" scriptFormat="python"><bpmn:script>reminded = True</bpmn:script></bpmn:scriptTask>
      <bpmn:endEvent id="noted"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "prepare")}{flow("f2", "prepare", "record_findings")}{flow("f3", "record_findings", "end")}
      {flow("f4", "remind", "note")}{flow("f5", "note", "noted")}"""
    return doc(pid, body, name="巡察轮次")


@pytest.mark.parametrize("kind, value", [
    ("timeCycle", '"R/PT0S"'),                       # quoted, as an expression
    ("timeCycle", "R/PT0S"),                         # bare, as Camunda Modeler writes it
    ("timeDuration", "PT0S"),
    ("timeDuration", '"P0D"'),
    ("timeCycle", '"R5000/PT1H"'),                   # more repetitions than the limit
    ("timeCycle", '"R/2020-01-01T00:00:00Z/PT1M"'),  # a start long past: thousands at once
])
def test_timers_that_would_fire_without_end_are_refused_at_deploy_naming_the_timer(api, district, kind, value):
    r = api.as_("designer1").post("/process-models", data=_ticking(kind, value), content_type="application/xml")
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert [e["element_id"] for e in errors] == ["remind"]
    assert value.strip('"') in errors[0]["message"]


@pytest.mark.parametrize("kind, value", [("timeCycle", '"R3/PT1H"'), ("timeDuration", '"PT1H"'),
                                         ("timeCycle", '"R/PT" + str(pause + 60) + "S"')])
def test_ordinary_timers_still_deploy(api, district, kind, value):
    r = api.as_("designer1").post("/process-models", data=_ticking(kind, value, pid=f"fine_{kind}"),
                                  content_type="application/xml")
    assert r.status_code == 201, r.get_json()


def test_a_diagram_that_never_waits_fails_its_request_within_seconds_and_other_writes_go_on(app, ctx, api, district,
                                                                                             monkeypatch):
    # the engine's time budget per request, shortened from its default so the test does not spin for it
    monkeypatch.setattr(ctx.engine, "max_seconds", 1.0)
    d = district
    office = api.as_("office1")
    earlier = office.post("/rounds", json={"name": "在办轮次", "inspected_unit_ids": d.units[:1],
                                           "inspector_ids": d.inspectors[:1]}).get_json()["id"]
    # a new version of the round with a reminder on record_findings whose cycle is computed, so no
    # deploy check can see that it is zero
    r = api.as_("designer1").post("/process-models", data=round_with_timer("timeCycle", '"R/PT" + str(round_id * 0) + "S"'),
                                  content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    tokens = {name: api.token(name) for name in ("office1", "inspector0")}
    results: dict[str, tuple] = {}

    def call(name, username, path, body):
        client = Api(app.test_client())
        client.tokens[username] = tokens[username]
        started = time.monotonic()
        response = client.as_(username).post(path, json=body)
        results[name] = (response.status_code, response.get_json(), time.monotonic() - started)

    runaway = threading.Thread(target=call, args=("runaway", "office1", "/rounds", {
        "name": "新轮次", "inspected_unit_ids": d.units[:1], "inspector_ids": d.inspectors[:1]}))
    runaway.start()
    time.sleep(0.3)
    other = threading.Thread(target=call, args=("other", "inspector0", f"/rounds/{earlier}/problems", {
        "unit_id": d.units[0], "description": "合同未经法律审核", "category": "合同"}))
    other.start()
    runaway.join(30)
    other.join(30)
    assert not runaway.is_alive() and not other.is_alive()

    status, body, took = results["runaway"]
    assert status == 422, body
    assert took < 10, f"the runaway request took {took:.1f} s"
    # the computed cycle is refused as its timer starts waiting, as deploy refuses a written one
    assert body["code"] == "timer_invalid" and body["errors"][0]["element_id"] == "remind", body
    assert results["other"][0] == 201, results["other"][1]
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Round).where(Round.name == "新轮次")) == 0, \
            "nothing of the failed request stays behind"
