"""Messages and signals from outside systems, over the API: a message reaches the instances waiting
for it by business key or by the correlation key their waiting element declares, or starts one
through a message start event; a signal reaches every waiting instance and starts instances
through signal start events. Who may send is decided by role, and every call is on the audit log."""
from __future__ import annotations

import bpmn_snippets as B
import pytest
from sqlalchemy import select
from support.api import publish_round

from service.models import AuditEntry
from workflows.tables import HumanTask, MessageSubscription, ProcessInstance


@pytest.fixture
def office(api, district):
    return api.as_("office1")


def deploy(api, xml):
    r = api.as_("designer1").post("/process-models", data=xml, content_type="application/xml")
    assert r.status_code == 201, r.get_json()


def send(user, name, expect=200, **body):
    r = user.post("/messages", json={"name": name, **body})
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def open_steps(ctx, instance_id) -> list[str]:
    with ctx.db.read() as s:
        return sorted(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.state == "open")))


def instance(ctx, instance_id) -> ProcessInstance:
    with ctx.db.read() as s:
        return s.get(ProcessInstance, instance_id)


def test_a_message_starts_an_instance_and_later_ones_reach_it_by_business_key_or_correlation_key(ctx, api, office):
    deploy(api, B.reported())
    (first,) = send(office, "report_received", business_key="hotline:1", data={"case_no": "A-1"})["instances"]
    (second,) = send(office, "report_received", business_key="hotline:2", data={"case_no": "A-2"})["instances"]
    assert instance(ctx, first).business_key == "hotline:1" and instance(ctx, first).model_key == "outside_report"
    assert open_steps(ctx, first) == open_steps(ctx, second) == [], "both wait at the receive task"

    # by business key: only the second instance moves on
    assert send(office, "evidence_received", business_key="hotline:2", data={"pages": 3}) == {"instances": [second]}
    assert open_steps(ctx, second) == ["review"] and open_steps(ctx, first) == []
    with ctx.db.read() as s:
        data = ctx.engine.instance_data(s, instance(ctx, second))
    assert data["evidence_received"] == {"pages": 3} and data["report_received"] == {"case_no": "A-2"}

    # by the correlation key the receive task declares (the case number the first message carried)
    assert send(office, "evidence_received", correlation_key="A-1") == {"instances": [first]}
    assert open_steps(ctx, first) == ["review"]

    # a boundary message on the review ends it
    assert send(office, "report_withdrawn", business_key="hotline:1") == {"instances": [first]}
    assert open_steps(ctx, first) == [] and instance(ctx, first).status == "completed"
    assert open_steps(ctx, second) == ["review"]


def test_a_message_that_reaches_nothing_is_a_404_with_a_code(ctx, api, office):
    deploy(api, B.reported())
    (only,) = send(office, "report_received", business_key="hotline:1", data={"case_no": "A-1"})["instances"]
    for body in ({"business_key": "hotline:9"}, {"correlation_key": "A-9"},
                 {"business_key": "hotline:1", "correlation_key": "A-2"}):  # both keys must match
        problem = send(office, "evidence_received", 404, **body)
        assert problem["code"] == "message_not_correlated"
    assert send(office, "no_such_message", 404)["code"] == "message_not_correlated"
    assert open_steps(ctx, only) == []
    assert send(office, "evidence_received", business_key="hotline:1", correlation_key="A-1") == {"instances": [only]}
    assert send(office, "evidence_received", 404, business_key="hotline:1")["code"] == "message_not_correlated", \
        "delivered once: the instance no longer waits for it"


def test_a_signal_reaches_every_waiting_instance_and_starts_those_a_signal_start_event_begins(ctx, api, office):
    deploy(api, B.watched())
    deploy(api, B.alarmed())
    watching = [send(office, "watch_started", business_key=f"watch:{n}")["instances"][0] for n in range(3)]
    r = api.as_("designer1").post("/signals", json={"name": "flood_warning", "data": {"level": "red"}})
    assert r.status_code == 200, r.get_json()
    reached = r.get_json()["instances"]
    assert reached[:3] == watching and len(reached) == 4
    assessment = instance(ctx, reached[3])
    assert assessment.model_key == "flood_assessment" and open_steps(ctx, assessment.id) == ["assess"]
    for instance_id in watching:
        assert open_steps(ctx, instance_id) == ["respond"]
        with ctx.db.read() as s:
            data = ctx.engine.instance_data(s, instance(ctx, instance_id))
        assert data["flood_warning"] == {"level": "red"} and "level" not in data, "it overwrites none of the data"
    # the watchers no longer wait: the next signal only starts another assessment
    again = api.as_("admin").post("/signals", json={"name": "flood_warning"}).get_json()["instances"]
    assert len(again) == 1 and instance(ctx, again[0]).model_key == "flood_assessment"
    assert api.as_("office1").post("/signals", json={"name": "nobody_listens"}).get_json() == {"instances": []}


def test_who_may_send_is_decided_by_role_and_every_call_is_on_the_audit_log(ctx, api, district, office):
    deploy(api, B.reported())
    inspector = api.as_("inspector0")
    r = inspector.post("/messages", json={"name": "report_received", "business_key": "hotline:1"})
    assert r.status_code == 403
    assert inspector.post("/signals", json={"name": "flood_warning"}).status_code == 403
    (started,) = send(office, "report_received", business_key="hotline:1", data={"case_no": "A-1"})["instances"]
    send(office, "evidence_received", 404, business_key="hotline:7")
    assert office.post("/messages", json={"name": ""}).status_code == 422
    assert office.post("/messages", json={"name": "x", "data": [1]}).status_code == 422
    with ctx.db.read() as s:
        entries = [(e.action, e.actor, e.target, e.outcome, e.detail) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("message_sent", "signal_sent"))).order_by(AuditEntry.id))]
    refused = [e for e in entries if e[3] == "refused"]
    assert [(e[0], e[2]) for e in refused] == [("message_sent", "message:report_received"),
                                              ("signal_sent", "signal:flood_warning")]
    sent = [e for e in entries if e[3] == "ok"]
    assert [(e[1], e[2], e[4]) for e in sent] == [
        ("office1", "message:report_received", {"business_key": "hotline:1", "instances": [started]}),
        ("office1", "message:evidence_received", {"business_key": "hotline:7", "instances": []}),
    ]



def test_a_correlation_key_that_is_no_safe_expression_is_refused_at_deploy_naming_the_element(api, district):
    xml = B.reported().replace(b"report_received['case_no']", b"__import__('os').getcwd()")
    r = api.as_("designer1").post("/process-models", data=xml, content_type="application/xml")
    assert r.status_code == 422, r.get_json()
    assert {(e["element_id"], e["code"]) for e in r.get_json()["errors"]} == {("await_evidence", "expression_refused")}


def test_a_signal_a_model_throws_to_itself_does_not_reach_its_instances_from_outside(ctx, api, district, office):
    """A case's own signals (its deadline passed, its review sent it back) stay the case's: sent from
    outside they would act in every unit's case at once."""
    publish_round(api, district)
    with ctx.db.read() as s:
        waiting = set(s.execute(select(MessageSubscription.name, MessageSubscription.instance_id)
                                .where(MessageSubscription.kind == "signal")))
    names = {name for name, _ in waiting}
    assert names and names <= {"case_overdue", "case_talk_due", "case_sent_back"}
    for name in sorted(names):
        assert office.post("/signals", json={"name": name}).get_json() == {"instances": []}
    with ctx.db.read() as s:
        assert set(s.execute(select(MessageSubscription.name, MessageSubscription.instance_id)
                             .where(MessageSubscription.kind == "signal"))) == waiting
