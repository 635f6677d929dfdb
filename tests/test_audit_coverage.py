"""What the audit log records beside logins and task completions: every change people make to the
district's data (units, rounds, problems, the list, clues, pools, audit findings) and
every evidence download — who, what, and never a clue's content."""
from __future__ import annotations

import io

from sqlalchemy import select
from support.api import liaison, publish_round
from support.pages import Pages

from service.models import AuditEntry, Case, Problem

EVIDENCE = b"%PDF-1.4\n% audit coverage\n" + b"0" * 200


def log(ctx, since: int = 0) -> list[tuple[str, str, str]]:
    with ctx.db.read() as s:
        return [(e.action, e.actor, e.target) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.id > since).order_by(AuditEntry.id))]


def last_id(ctx) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0


def test_changes_to_the_districts_data_are_recorded_with_who_and_what(api, ctx, district):
    d = district
    admin, office, inspector = api.as_("admin"), api.as_("office1"), api.as_("inspector0")
    unit = admin.post("/units", json={"code": "N01", "name": "新设单位", "kind": "company"}).get_json()
    round_id = office.post("/rounds", json={"name": "专项巡察", "inspected_unit_ids": d.units[:2],
                                            "inspector_ids": d.inspectors[:1]}).get_json()["id"]
    problem = inspector.post(f"/rounds/{round_id}/problems", json={
        "unit_id": d.units[0], "description": "合同未经法律审核", "category": "合同"}).get_json()["id"]
    clue = inspector.post(f"/rounds/{round_id}/clues", json={
        "unit_id": d.units[0], "summary": "涉嫌违规", "content": "某某收受礼金的具体情况"}).get_json()["id"]
    common = office.post(f"/rounds/{round_id}/common-problems", json={
        "title": "合同管理不规范", "category": "合同", "responsible_department_id": d.departments[0],
        "problem_ids": [problem]}).get_json()["id"]
    assert office.put(f"/pools/inspectors/{d.inspectors[1]}", json={"conflict_unit_ids": [d.units[1]]}
                      ).status_code == 200
    expert = office.post("/pools/experts", json={"name": "王审计", "organisation": "区审计局"}).get_json()["id"]
    finding = office.post("/audit-findings", json={"unit_id": d.units[0], "title": "专项资金未专款专用",
                                                   "problem_id": problem}).get_json()["id"]

    assert log(ctx) == [
        ("unit_created", "admin", "unit:N01"),
        ("round_created", "office1", f"round:{round_id}"),
        ("problem_recorded", "inspector0", f"problem:{problem}"),
        ("clue_registered", "inspector0", f"clue:{clue}"),
        ("common_problem_added", "office1", f"common_problem:{common}"),
        ("inspector_profile_changed", "office1", "user:inspector1"),
        ("expert_added", "office1", f"expert:{expert}"),
        ("audit_finding_added", "office1", f"audit_finding:{finding}"),
        ("audit_finding_linked", "office1", f"audit_finding:{finding}"),
    ]
    assert unit["code"] == "N01"
    with ctx.db.read() as s:
        details = [e.detail for e in s.scalars(select(AuditEntry))]
        assert s.get(Problem, problem).round_id == round_id
    assert "收受礼金" not in repr(details), "a clue's content never goes on the log"


def test_an_evidence_download_is_recorded_and_a_refused_one_is_not(api, ctx, district):
    d = district
    publish_round(api, d)
    unit = liaison(api, d, 2)
    with ctx.db.read() as s:
        case_id = s.scalar(select(Case.id).where(Case.unit_id == d.units[2]))
    round_id = unit.get("/cases").get_json()["items"][0]["round_id"]
    unit.complete(unit.tasks(step="self_check")[0]["id"], {"items": [
        {"common_problem_id": c["id"], "applicable": False, "reason": "本单位不涉及", "problems_found": 0, "findings": "不涉及"}
        for c in unit.get(f"/rounds/{round_id}").get_json()["common_problems"]]})
    uploaded = unit.post(f"/cases/{case_id}/evidence", data={"file": (io.BytesIO(EVIDENCE), "r.pdf")},
                         content_type="multipart/form-data").get_json()
    before = last_id(ctx)
    assert api.as_("office1").get(f"/evidence/{uploaded['id']}/content").data == EVIDENCE
    assert unit.get(f"/evidence/{uploaded['id']}/content").status_code == 200
    assert liaison(api, d, 3).get(f"/evidence/{uploaded['id']}/content").status_code == 404
    assert log(ctx, before) == [("evidence_downloaded", "office1", f"evidence:{uploaded['id']}"),
                                ("evidence_downloaded", f"{d.codes[d.units[2]].lower()}_liaison",
                                 f"evidence:{uploaded['id']}")], "a refused download leaves no entry"


def test_an_attempt_to_read_the_audit_log_without_the_role_is_recorded(api, app, ctx, district):
    pages = Pages(app.test_client())
    pages.login("security1")
    assert api.as_("admin").get("/audit-log").status_code == 403
    assert pages.get("/audit/").status_code == 403
    assert log(ctx)[-2:] == [("audit_log_refused", "admin", "audit-log"),
                             ("audit_log_refused", "security1", "audit-log")]
    assert api.as_("auditor1").get("/audit-log").status_code == 200
    assert log(ctx)[-1][0] == "audit_log_refused", "reading it with the role is not an event"
