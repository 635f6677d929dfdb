"""The Camunda Modeler interchange samples (OMG MIWG suite) that are executable processes: each one
deploys, or is refused naming the element this engine cannot run; never a 500 or a silent stall."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "bpmn-samples" / "miwg-camunda-modeler"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def executable(path: Path) -> bool:
    root = etree.parse(str(path)).getroot()
    return any(p.get("isExecutable") == "true" for p in root.iter(f"{{{BPMN}}}process"))


SAMPLE_FILES = sorted(p for p in SAMPLES.glob("*.bpmn") if executable(p)) if SAMPLES.exists() else []
# What each sample meets: "deployed", or the elements its refusal names (the codes in the comment).
EXPECTED: dict[str, object] = {
    # expression_refused
    "A.2.1-export.bpmn": {'Flow_01ckxme', 'Flow_0zwjy3h'},
    # unrunnable
    "A.3.0-export.bpmn": {'Activity_1j4b29j'},
    "A.4.0-export.bpmn": "deployed",
    "A.4.1-export.bpmn": "deployed",
    # call_target_missing, service_task_unimplemented
    "B.1.0-export.bpmn": {'Activity_00ifb1p', 'Activity_0349q9v', 'Activity_0wox4hb', 'Activity_0yyznkb'},
    # call_target_missing, element_unreachable, service_task_unimplemented
    "B.2.0-export.bpmn": {
        'Activity_00kk0w1', 'Activity_0pyeguq', 'Activity_0qnc8vy', 'Activity_0wxomwg', 'Activity_1k00lfn',
        'Activity_1qy7xgp', 'Event_1wq0sy2',
    },
    # service_task_unimplemented
    "C.1.0-export.bpmn": {'Activity_0abfolp'},
    # expression_refused, service_task_unimplemented
    "C.1.0-roundtrip.bpmn": {'archiveInvoice', 'sid-d4f3f0f7-79c3-4b1c-817e-13d9bdd96666'},
    # service_task_unimplemented
    "C.1.1-export.bpmn": {'Activity_1f1t5k9'},
    # expression_refused, service_task_unimplemented
    "C.1.1-roundtrip.bpmn": {
        'archiveInvoice', 'sid-0ed8a0cb-f28a-4689-bbd8-77dafd0ccfa0', 'sid-628a2fdc-7654-4273-930d-8e3127b9e8b2',
        'sid-d4f3f0f7-79c3-4b1c-817e-13d9bdd96666', 'sid-e669aead-8bad-4dbb-b282-e9f811e02f77',
    },
    "C.2.0-export.bpmn": "deployed",
    # unrunnable
    "C.3.0-export.bpmn": {'Activity_14jt63w'},
    # expression_refused
    "C.3.0-roundtrip.bpmn": {'Bpmn_FormalExpression_ipW2kBqIEeWDuOtG0oS24A'},
    # call_target_missing
    "C.5.0-export.bpmn": {'Activity_10xe0k2'},
    # service_task_unimplemented
    "C.6.0-export.bpmn": {
        'Activity_039ic8d', 'Activity_084p2mw', 'Activity_0hgj2bs', 'Activity_0qz49yv', 'Activity_13sg203',
        'Activity_1n0lwxw',
    },
    # decision_missing, service_task_unimplemented
    "C.7.0-export.bpmn": {'Activity_05ada8y', 'Activity_0rnylu0', 'Activity_1qw4rcj'},
    # decision_missing, expression_refused, service_task_unimplemented
    "C.8.1-roundtrip.bpmn": {
        '_0a1c4f20-509f-4aeb-baf9-acc762f4fdf9', '_1a818a94-ba6f-413b-a7e8-6f8fd2a11e32', '_2b960d84-feb1-46a9-a1a1-c300dd996b99',
        '_325973e7-0bc8-4136-b6df-be1e681d8608', '_4b72053b-8ebb-4ae6-99c6-7c93cf1c1d1b',
        '_5e16a4e0-0f23-482a-be47-d3edbc5741ba', '_f2b0da63-d841-4457-ad85-7d86c8b5c1d2',
    },
    # call_target_missing, decision_missing, service_task_unimplemented
    "C.9.0-export.bpmn": {
        'Activity_0166xsu', 'Activity_0jbbqjd', 'Activity_072ks66', 'Activity_0qkttwr', 'Activity_0r5vs4p', 'Activity_0zdpcxw',
        'Activity_1qkz6hb', 'Activity_1ya8skw',
    },
    # called_model_missing, decision_missing, expression_refused, service_task_unimplemented
    "C.9.0-roundtrip.bpmn": {
        'Activity_ManualCheck', 'BusinessRuleTask_CheckApplicationAutomatically', 'SendTask_SendPolicy', 'SendTask_SendRejection',
        'SequenceFlow_ApplicationAccepted', 'SequenceFlow_ApplicationDeclined', 'SequenceFlow_Red',
        'SequenceFlow_Yellow', 'ServiceTask_CancelApplication', 'ServiceTask_DeliverPolicy',
        'ServiceTask_GetCreditScore', 'ServiceTask_RejectPolicy',
    },
    # unrunnable
    "C.9.1-export.bpmn": {'Event_0r6z74c'},
    "C.9.1-roundtrip.bpmn": "deployed",
    # call_target_missing
    "C.9.2-export.bpmn": {'Activity_0ikw23h'},
    # called_model_missing, expression_refused
    "C.9.2-roundtrip.bpmn": {'CallActivity_RequestDocument', 'SequenceFlow_Yes'},
}


@pytest.mark.skipif(not SAMPLE_FILES, reason="the shared Camunda Modeler samples are not beside the checkout")
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_each_executable_sample_deploys_or_is_refused_naming_the_element(api, ctx, district, path):
    xml = path.read_bytes()
    r = api.as_("designer1").post("/process-models", data=xml, content_type="application/xml")
    assert r.status_code in (200, 201, 422), r.get_data(as_text=True)[:300]
    root = etree.fromstring(xml)
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    if r.status_code == 422:
        errors = r.get_json()["errors"]
        assert errors and all(e["message"] and e["code"] for e in errors)
        named = [e for e in errors if e["element_id"] in ids]
        assert named, errors  # the designer is told which element to change
        assert {e["element_id"] for e in named} == EXPECTED[path.name]
    else:
        assert EXPECTED[path.name] == "deployed"
        # what deploys also runs: it reaches its end or waits for someone, a timer or a message
        key = r.get_json()["key"]
        instance = ctx.db.transaction(lambda s: ctx.engine.start(s, key, {}).instance)
        assert instance.status in ("running", "completed")


def test_every_executable_sample_is_accounted_for():
    assert {p.name for p in SAMPLE_FILES} == set(EXPECTED) or not SAMPLE_FILES
