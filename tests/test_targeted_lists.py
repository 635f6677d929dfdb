"""Targeted lists (定向下发) and shared responsibility (协同责任部门): a common problem goes to every
unit or to the kinds, industries, streets or units the office chose; a unit's case exists only when
it receives something, and it self-checks and files exactly what it received; every department that
leads or shares a common problem gets its recommendation letter and reads the governed cases."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from support.api import publish_round, run_jobs
from support.notices import govern
from support.pages import Pages
from support.schema import made_before_migrations

from service.db import create_schema
from service.models import Unit


def _round_with_problem(api, d) -> tuple[int, int]:
    office = api.as_("office1")
    round_id = office.post("/rounds", json={"name": "定向轮次", "inspected_unit_ids": d.units[:2],
                                            "inspector_ids": d.inspectors[:1]}).get_json()["id"]
    inspector = api.as_("inspector0")
    pid = inspector.post(f"/rounds/{round_id}/problems", json={
        "unit_id": d.units[2], "description": "工程项目监管不严", "category": "工程"}).get_json()["id"]
    inspector.complete(inspector.tasks(bpmn_id="record_findings")[0]["id"], {})
    return round_id, pid


def _common(office, round_id, title, department, **extra) -> dict:
    r = office.post(f"/rounds/{round_id}/common-problems", json={
        "title": title, "category": "工程", "responsible_department_id": department, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _approve(api, round_id) -> None:
    office, leading = api.as_("office1"), api.as_("leading1")
    office.complete(office.tasks(bpmn_id="distill_list")[0]["id"], {})
    leading.complete(leading.tasks(bpmn_id="approve_list")[0]["id"], {"approved": True})
    run_jobs(api)


def _cases(api, round_id) -> dict[int, int]:
    items = api.as_("office1").get("/cases", query_string={"round_id": round_id, "limit": 500}).get_json()["items"]
    return {c["unit_id"]: c["id"] for c in items}


def _liaison(api, d, unit_id):
    return api.as_(f"{d.codes[unit_id].lower()}_liaison")


def _self_check(liaison, commons, expect=200):
    task = liaison.tasks(bpmn_id="self_check")[0]["id"]
    return liaison.post(f"/tasks/{task}/complete", json={"data": {"items": [
        {"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "发现问题"}
        for c in commons]}})


@pytest.fixture
def targeted(ctx, api, district):
    """Unit 4 sits under street 3. Common problem A goes to the streets, B to unit 2 alone (department 0
    leads, department 1 shares), C to street 3 and the units under it, D to the industry 行业1."""
    d = district
    ctx.db.transaction(lambda s: s.get(Unit, d.units[4]).__setattr__("parent_id", d.units[3]))
    govern(ctx, d.departments[1], [d.units[2], d.units[3]])
    office = api.as_("office1")
    round_id, pid = _round_with_problem(api, d)
    a = _common(office, round_id, "甲：街道", d.departments[0], targets={"kinds": ["street"]})
    b = _common(office, round_id, "乙：单位2", d.departments[0], targets={"unit_ids": [d.units[2]]},
                co_department_ids=[d.departments[1]], problem_ids=[pid])
    c = _common(office, round_id, "丙：街道3及下属", d.departments[0], targets={"parent_ids": [d.units[3]]})
    dd = _common(office, round_id, "丁：行业1", d.departments[0],
                 targets={"industries": ["行业1"], "kinds": [], "parent_ids": [], "unit_ids": []})
    return {"round": round_id, "a": a["id"], "b": b["id"], "c": c["id"], "d": dd["id"]}


def test_the_preview_says_who_receives_what_before_approval(api, district, targeted):
    d, t = district, targeted
    office = api.as_("office1")
    preview = office.get(f"/rounds/{t['round']}/recipients").get_json()
    per_problem = {row["id"]: sorted(row["unit_ids"]) for row in preview["common_problems"]}
    streets = [u for i, u in enumerate(d.units) if i >= 2 and i % 2]      # units 3 and 5
    assert per_problem == {t["a"]: sorted(streets), t["b"]: [d.units[2]], t["c"]: [d.units[3], d.units[4]],
                           t["d"]: [d.units[1], d.units[4]]}
    assert {r["id"]: r["units"] for r in preview["common_problems"]}[t["a"]] == 2
    per_unit = {row["unit_id"]: row["common_problem_ids"] for row in preview["per_unit"]}
    assert per_unit == {d.units[1]: [t["d"]], d.units[2]: [t["b"]], d.units[3]: [t["a"], t["c"]],
                        d.units[4]: [t["c"], t["d"]], d.units[5]: [t["a"]]}
    assert preview["units"] == 5
    departments = {r["department_id"]: r for r in preview["departments"]}
    assert departments[d.departments[1]]["common_problem_ids"] == [t["b"]]
    assert departments[d.departments[1]]["leads"] == [], "department 1 shares B, it does not lead it"
    assert api.as_("leading1").get(f"/rounds/{t['round']}/recipients").status_code == 200
    assert _liaison(api, d, d.units[2]).get(f"/rounds/{t['round']}/recipients").status_code == 403
    # the round itself names each common problem's targets and co-responsible departments
    body = office.get(f"/rounds/{t['round']}").get_json()
    b = next(cp for cp in body["common_problems"] if cp["id"] == t["b"])
    assert b["co_department_ids"] == [d.departments[1]] and b["targets"]["unit_ids"] == [d.units[2]]


def test_a_targeted_list_reaches_exactly_the_chosen_units_with_exactly_their_problems(api, district, targeted):
    d, t = district, targeted
    _approve(api, t["round"])
    cases = _cases(api, t["round"])
    assert sorted(cases) == sorted([d.units[1], d.units[2], d.units[3], d.units[4], d.units[5]])
    assert d.units[0] not in cases, "department 0 receives none of the common problems: no case"
    expected = {d.units[1]: [t["d"]], d.units[2]: [t["b"]], d.units[3]: [t["a"], t["c"]],
                d.units[4]: [t["c"], t["d"]], d.units[5]: [t["a"]]}
    # a problem not sent to the unit is refused, and one sent is required
    unit2 = _liaison(api, d, d.units[2])
    r = _self_check(unit2, [t["b"], t["a"]], expect=422)
    assert r.status_code == 422 and {"item_unknown"} <= {e["code"] for e in r.get_json()["errors"]}
    r = _self_check(_liaison(api, d, d.units[3]), [t["a"]])
    assert r.status_code == 422 and {"item_missing"} <= {e["code"] for e in r.get_json()["errors"]}
    for unit_id, commons in expected.items():
        r = _self_check(_liaison(api, d, unit_id), commons)
        assert r.status_code == 200, (unit_id, r.get_json())


def test_the_task_page_offers_a_row_for_each_problem_sent_and_no_other(client, api, district, targeted):
    d, t = district, targeted
    _approve(api, t["round"])
    task = _liaison(api, d, d.units[3]).tasks(bpmn_id="self_check")[0]["id"]
    pages = Pages(client)
    pages.login(f"{d.codes[d.units[3]].lower()}_liaison")
    html = pages.text(f"/tasks/{task}")
    assert "甲：街道" in html and "丙：街道3及下属" in html
    assert "乙：单位2" not in html and "丁：行业1" not in html


def test_a_co_responsible_department_gets_its_letter_and_reads_the_governed_case(client, api, district, targeted):
    d, t = district, targeted
    _approve(api, t["round"])
    cases = _cases(api, t["round"])
    sharing = api.as_(f"{d.codes[d.departments[1]].lower()}_liaison")   # department 1's liaison holds the role
    letters = sharing.get("/letters", query_string={"round_id": t["round"]}).get_json()["items"]
    assert [(lt["department_id"], lt["common_problem_ids"], lt["co_common_problem_ids"]) for lt in letters] == \
        [(d.departments[1], [t["b"]], [t["b"]])]
    lead = api.as_("office1").get("/letters", query_string={"round_id": t["round"]}).get_json()["items"]
    assert {lt["department_id"] for lt in lead} == {d.departments[0], d.departments[1]}
    # it reads and comments on the case of unit 2 (its industry, sent B) like the lead would
    assert sharing.get(f"/cases/{cases[d.units[2]]}").status_code == 200
    r = sharing.post(f"/cases/{cases[d.units[2]]}/comments", json={"comment": "请加强工程监管。"})
    assert r.status_code == 201, r.get_json()
    # unit 3 is of its industry too, but received nothing department 1 leads or shares
    r = sharing.get(f"/cases/{cases[d.units[3]]}")
    assert r.status_code == 403 and r.get_json()["code"] == "case_not_governed"
    # its recommendation-letter task names B as shared, with the lead department
    task = sharing.tasks(process_model="recommendation_letter")
    assert task, "the co-responsible department works its letter"
    pages = Pages(client)
    pages.login(f"{d.codes[d.departments[1]].lower()}_liaison")
    html = pages.text(f"/tasks/{task[0]['id']}")
    assert "作为协同责任部门参与" in html and "乙：单位2" in html and "牵头部门：单位0" in html


def test_an_untargeted_list_still_reaches_every_unit_with_the_whole_list(api, district):
    d = district
    round_id = publish_round(api, d, n_common=2)
    cases = _cases(api, round_id)
    assert sorted(cases) == sorted(d.units)
    commons = [c["id"] for c in api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"]]
    for unit_id in (d.units[0], d.units[4]):
        assert _self_check(_liaison(api, d, unit_id), commons).status_code == 200


def test_targets_and_co_departments_are_checked_and_corrected_until_approval(api, district):
    d = district
    office = api.as_("office1")
    round_id, _ = _round_with_problem(api, d)
    base = {"title": "共性", "category": "工程", "responsible_department_id": d.departments[0]}
    path = f"/rounds/{round_id}/common-problems"
    r = office.post(path, json={**base, "targets": {"kinds": ["office"]}})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"].startswith("targets.kinds")
    r = office.post(path, json={**base, "targets": {"unit_ids": [999999]}})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "targets.unit_ids"
    r = office.post(path, json={**base, "targets": {"industries": ["没有这个行业"]}})
    assert r.status_code == 422 and r.get_json()["code"] == "targets_reach_no_unit"
    r = office.post(path, json={**base, "co_department_ids": [d.units[2]]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "co_department_ids"
    created = _common(office, round_id, "共性", d.departments[0], co_department_ids=[d.departments[0]])
    assert created["co_department_ids"] == [] and created["targets"]["kinds"] == [], "the lead is not its own co"
    r = office.patch(f"{path}/{created['id']}", json={"targets": {"kinds": ["company"]},
                                                      "co_department_ids": [d.departments[1]]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["targets"]["kinds"] == ["company"] and r.get_json()["co_department_ids"] == [d.departments[1]]
    r = office.patch(f"{path}/{created['id']}", json={"targets": None})
    assert r.get_json()["targets"] == {"kinds": [], "industries": [], "parent_ids": [], "unit_ids": []}


def test_the_office_chooses_recipients_and_co_departments_on_the_distillation_page(client, api, district):
    d = district
    round_id, pid = _round_with_problem(api, d)
    pages = Pages(client)
    pages.login("office1")
    html = pages.text(f"/rounds/{round_id}/distill")
    assert "下发对象" in html and "协同责任部门" in html and 'name="target_kinds"' in html
    # the preview counts what is being written, before it is saved
    fragment = pages.text(f"/rounds/{round_id}/distill/preview?responsible_department_id={d.departments[0]}"
                          f"&target_kinds=street&co_department_ids={d.departments[1]}")
    assert "正在填写的共性问题将下发给 2 个单位" in fragment and "2 个职能部门收到巡察建议书" in fragment
    r = pages.post(f"/rounds/{round_id}/common-problems", [
        ("title", "工程项目建设监管不严"), ("category", "工程建设"), ("responsible_department_id", str(d.departments[0])),
        ("co_department_ids", str(d.departments[1])), ("target_kinds", "street"), ("problem_ids", str(pid))])
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    html = pages.text(f"/rounds/{round_id}/distill")
    assert "定向下发给 2 个单位" in html and "协同责任部门：单位1" in html
    assert "各共性问题的下发对象" in html and "单位3、单位5" in html
    # a choice that reaches nobody is refused beside the recipients, in Chinese
    r = pages.post(f"/rounds/{round_id}/common-problems", [
        ("title", "无人"), ("category", "工程建设"), ("responsible_department_id", str(d.departments[0])),
        ("target_industries", "没有这个行业")])
    assert r.status_code == 422 and "所选下发对象不包含任何整改单位" in r.get_data(as_text=True)
    # the correction page shows the choices ticked and changes them
    common = api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"][0]
    edit = pages.text(f"/rounds/{round_id}/common-problems/{common['id']}")
    assert 'name="target_kinds" value="street" checked' in edit
    assert f'name="co_department_ids" value="{d.departments[1]}" checked' in edit
    r = pages.post(f"/rounds/{round_id}/common-problems/{common['id']}", [
        ("title", common["title"]), ("category", common["category"]),
        ("responsible_department_id", str(d.departments[0])), ("target_unit_ids", str(d.units[2])),
        ("problem_ids", str(pid))])
    assert r.status_code == 302
    changed = api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"][0]
    assert changed["targets"]["unit_ids"] == [d.units[2]] and changed["targets"]["kinds"] == []
    assert changed["co_department_ids"] == [], "unticked, the co-responsible department is taken off"


def test_the_case_page_names_the_lead_and_co_responsible_departments(client, api, district, targeted):
    d, t = district, targeted
    _approve(api, t["round"])
    case_id = _cases(api, t["round"])[d.units[2]]
    pages = Pages(client)
    pages.login(f"{d.codes[d.units[2]].lower()}_liaison")
    html = pages.text(f"/cases/{case_id}")
    assert "下发给本单位的共性问题" in html and "乙：单位2" in html and "甲：街道" not in html
    assert "负责部门" in html and "协同责任部门：单位1" in html


def test_a_database_of_an_earlier_release_gains_targets_and_its_cases_keep_the_whole_list(ctx, api, district):
    d = district
    round_id = publish_round(api, d, n_common=2)
    commons = [c["id"] for c in api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"]]
    # as an earlier release left it: no targets, no co-responsible departments, nothing recorded per case
    with ctx.db.engine.begin() as conn:
        made_before_migrations(conn)
        conn.execute(text("DROP TABLE case_common_problem"))
        conn.execute(text("DROP TABLE common_problem_co_department"))
        conn.execute(text("ALTER TABLE common_problem DROP COLUMN targets"))
        conn.execute(text("ALTER TABLE rectification_item DROP COLUMN reason"))
    create_schema(ctx.db.engine)
    schema = inspect(ctx.db.engine)
    assert "reason" in {c["name"] for c in schema.get_columns("rectification_item")}
    assert "targets" in {c["name"] for c in schema.get_columns("common_problem")}
    assert {"case_common_problem", "common_problem_co_department"} <= set(schema.get_table_names())
    assert _self_check(_liaison(api, d, d.units[3]), commons).status_code == 200, "a case of then had the whole list"
