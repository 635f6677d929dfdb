"""Every camunda:formData constraint is enforced when a task is completed (422 naming the field with a
stable code) and shown on the task page as the matching HTML attribute."""
from __future__ import annotations

import bpmn_snippets as B
import pytest
from support.pages import session_login

from service.context import BPMN_DIR
from service.web.problems import field_text

# One field per constraint kind, written as Camunda Modeler writes them (`required` has no config).
FIELDS = """
  <camunda:formField id="title" label="名称" type="string">
    <camunda:validation><camunda:constraint name="required"/>
      <camunda:constraint name="minlength" config="2"/><camunda:constraint name="maxlength" config="10"/>
    </camunda:validation>
  </camunda:formField>
  <camunda:formField id="doc_no" label="文号" type="string">
    <camunda:validation><camunda:constraint name="pattern" config="[A-Z]{2}-[0-9]{3}"/></camunda:validation>
  </camunda:formField>
  <camunda:formField id="measures" label="措施（项）" type="long">
    <camunda:validation><camunda:constraint name="min" config="1"/><camunda:constraint name="max" config="100"/>
    </camunda:validation>
  </camunda:formField>
  <camunda:formField id="source" label="来源" type="string" defaultValue="巡察">
    <camunda:validation><camunda:constraint name="readonly"/></camunda:validation>
  </camunda:formField>
  <camunda:formField id="decision" label="是否同意" type="enum">
    <camunda:validation><camunda:constraint name="required"/></camunda:validation>
    <camunda:value id="yes" name="是"/><camunda:value id="no" name="否"/>
  </camunda:formField>
  <camunda:formField id="approved" label="批准" type="boolean">
    <camunda:validation><camunda:constraint name="required"/></camunda:validation>
  </camunda:formField>
"""
VALID = {"title": "整改方案", "doc_no": "GM-001", "measures": 3, "source": "巡察", "decision": "yes", "approved": True}


def _without(key):
    return {k: v for k, v in VALID.items() if k != key}


CASES = [
    ("required text missing", _without("title"), "title", "required"),
    ("required text empty", dict(VALID, title=""), "title", "min_length"),
    ("required text only spaces", dict(VALID, title="   "), "title", "required"),
    ("minlength", dict(VALID, title="案"), "title", "min_length"),
    ("maxlength", dict(VALID, title="很" * 11), "title", "max_length"),
    ("pattern", dict(VALID, doc_no="gm-1"), "doc_no", "pattern"),
    ("pattern matches the whole value", dict(VALID, doc_no="XGM-001X"), "doc_no", "pattern"),
    ("min", dict(VALID, measures=-5), "measures", "minimum"),
    ("max", dict(VALID, measures=101), "measures", "maximum"),
    ("readonly", dict(VALID, source="自查"), "source", "readonly"),
    ("required choice missing", _without("decision"), "decision", "required"),
    ("choice not offered", dict(VALID, decision="maybe"), "decision", "enum"),
    ("required decision missing", _without("approved"), "approved", "required"),
]


@pytest.fixture
def task_id(api, ctx, district):
    deployed = api.as_("designer1").post("/process-models", data=B.form_task(FIELDS), content_type="application/xml")
    assert deployed.status_code == 201, deployed.get_json()
    ctx.db.transaction(lambda s: ctx.engine.start(s, "constrained", {}, actor="office1"))
    return api.as_("office1").tasks(process_model="constrained")[0]["id"]


@pytest.mark.parametrize(("data", "field", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_constraint_kind_is_refused_naming_the_field(api, task_id, data, field, code):
    office = api.as_("office1")
    body = office.complete(task_id, data, expect=422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert body["errors"][0]["message"]
    assert any(t["id"] == task_id for t in office.tasks(process_model="constrained"))  # still open


def test_a_valid_submission_completes_and_a_readonly_field_may_be_left_out(api, task_id):
    office = api.as_("office1")
    office.complete(task_id, _without("source"))
    assert office.tasks(process_model="constrained") == []


def test_the_schema_carries_every_constraint(api, task_id):
    schema = api.as_("office1").get(f"/tasks/{task_id}").get_json()["form"]
    props = schema["properties"]
    assert set(schema["required"]) == {"title", "decision", "approved"}
    assert (props["title"]["minLength"], props["title"]["maxLength"]) == (2, 10)
    assert props["doc_no"]["pattern"] == "^(?:[A-Z]{2}-[0-9]{3})$"
    assert (props["measures"]["minimum"], props["measures"]["maximum"]) == (1, 100)
    assert props["source"]["readOnly"] is True and props["source"]["default"] == "巡察"


def test_the_task_page_gives_the_browser_the_same_limits(client, ctx, task_id):
    web = client
    token = session_login(web, ctx, "office1")
    html = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'name="title" value="" required minlength="2" maxlength="10"' in html
    assert 'pattern="[A-Z]{2}-[0-9]{3}"' in html
    assert 'min="1" max="100"' in html
    assert 'name="source" value="巡察" readonly' in html
    refused = web.post(f"/tasks/{task_id}", data=dict(VALID, title="案", measures="0", doc_no="x",
                                                        approved="true", csrf_token=token))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "至少 2 个字" in page and "格式不符合要求" in page and "不能小于 1" in page


@pytest.mark.parametrize("constraint", [
    '<camunda:constraint name="minlength" config="2"/>',       # a length on a number
    '<camunda:constraint name="min" config="abc"/>',           # a limit that is not a number
    '<camunda:constraint name="validator" config="x.Y"/>',     # a Java validator class
], ids=["length-on-number", "limit-not-a-number", "custom-validator"])
def test_a_constraint_that_cannot_be_enforced_is_refused_at_deploy(api, district, constraint):
    fields = (f'<camunda:formField id="n" label="数" type="long"><camunda:validation>{constraint}'
              '</camunda:validation></camunda:formField>')
    r = api.as_("designer1").post("/process-models", data=B.form_task(fields), content_type="application/xml")
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert [(e["element_id"], e["code"], e["field"]) for e in errors] == [("task", "form_constraint_invalid", "n")]


def test_a_longer_minimum_length_reads_as_a_length(app):
    with app.test_request_context("/inbox"):
        assert field_text({"code": "min_length", "limit": 1}) == "此项必填"
        assert field_text({"code": "min_length", "limit": 5}) == "至少 5 个字"
        assert field_text({"code": "readonly"}) == "此项不可修改"


def test_the_shipped_models_keep_their_constraints(ctx):
    """The mechanism's own diagrams: decisions are required, counts cannot go below zero."""
    seen = {}
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        _, _, _, spec, subprocesses = ctx.engine.registry.validate(path.read_bytes())
        for s in [spec, *subprocesses.values()]:
            for ts in s.task_specs.values():
                form = getattr(ts, "form", None)
                if form is not None and form.fields and not form.key:
                    seen[(path.stem, ts.bpmn_id)] = ctx.engine.forms.schema_for(ts)
    assert seen
    for (model, task), schema in seen.items():
        for name in schema["properties"]:
            if name in ("approved", "accepted", "received", "disposition", "plan", "report"):
                assert name in schema["required"], (model, task, name)
    measures = [sch["properties"]["measures"] for sch in seen.values() if "measures" in sch["properties"]]
    assert measures and all(m["minimum"] >= 0 for m in measures)


def test_a_readonly_choice_offers_only_its_own_value(app, client, ctx, api, district):
    fields = """<camunda:formField id="kind" label="类别" type="enum" defaultValue="b">
      <camunda:validation><camunda:constraint name="readonly"/></camunda:validation>
      <camunda:value id="a" name="甲"/><camunda:value id="b" name="乙"/></camunda:formField>"""
    assert api.as_("designer1").post("/process-models", data=B.form_task(fields, pid="fixed_choice"),
                                     content_type="application/xml").status_code == 201
    ctx.db.transaction(lambda s: ctx.engine.start(s, "fixed_choice", {}, actor="office1"))
    office = api.as_("office1")
    task = office.tasks(process_model="fixed_choice")[0]["id"]
    session_login(client, ctx, "office1")
    html = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'value="a" disabled' in html and 'value="b" checked>' in html
    assert office.complete(task, {"kind": "a"}, expect=422)["errors"][0]["code"] == "readonly"
    office.complete(task, {"kind": "b"})
