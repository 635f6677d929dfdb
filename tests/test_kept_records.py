"""Nothing a person recorded disappears when someone records again: every evidence review, every
version of an inspector's declarations, and the measures and filing of a case's first pass after a
follow-up re-check (回头看) are kept beside what came after them."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select, text
from support.api import liaison, publish_round
from support.district import user_id
from support.pages import Pages
from support.schema import made_before_migrations

from service.db import create_schema
from service.models import Measure


def _case(api, d, round_id, index):
    office = api.as_("office1")
    return [c for c in office.get("/cases", query_string={"round_id": round_id}).get_json()["items"]
            if c["unit_id"] == d.units[index]][0]


def _file_case(api, d, round_id, index, measures, institutions=()):
    """Self-check (first pass only), rectify with `measures`, attest and file."""
    unit, code = liaison(api, d, index), d.codes[d.units[index]].lower()
    cp = api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    checks = unit.tasks(bpmn_id="self_check")
    if checks:
        unit.complete(checks[0]["id"], {"items": [
            {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": [{
        "common_problem_id": cp, "status": "done", "measures": [{"description": m, "deadline": "2027-01-31"}
                                                                for m in measures],
        "institutions": [{"title": t} for t in institutions]}]})
    head = api.as_(f"{code}_head")
    head.attach_evidence(_case(api, d, round_id, index)["id"])
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True, "comment": "属实"})


def test_a_second_evidence_review_is_added_and_the_first_kept(ctx, api, district):
    d = district
    round_id = publish_round(api, d)
    case = _case(api, d, round_id, 2)
    unit = liaison(api, d, 2)
    cp = api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    uploaded = unit.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 report"), "报告.pdf")},
                         content_type="multipart/form-data").get_json()
    office = api.as_("office1")
    first = office.post(f"/evidence/{uploaded['id']}/review", json={"result": "rejected", "comment": "材料不清晰"})
    second = office.post(f"/evidence/{uploaded['id']}/review", json={"result": "accepted", "comment": "补正后清晰"})
    assert first.status_code == second.status_code == 200
    listed = office.get(f"/cases/{case['id']}/evidence").get_json()["items"][0]
    # the latest review is the current one, in the fields clients read already
    assert (listed["review"], listed["review_comment"]) == ("accepted", "补正后清晰")
    # and every review is on record: who, when, verdict, comment
    office_id = user_id(ctx, "office1")
    assert [(r["result"], r["comment"], r["reviewed_by"]) for r in listed["reviews"]] == [
        ("rejected", "材料不清晰", office_id), ("accepted", "补正后清晰", office_id)]
    assert all(r["reviewed_at"] for r in listed["reviews"])
    assert listed["reviews"][0]["reviewed_at"] <= listed["reviews"][1]["reviewed_at"] == listed["reviewed_at"]
    assert second.get_json()["reviews"] == listed["reviews"]


def test_a_cleared_conflict_of_interest_stays_on_record_and_still_bars_the_inspector(ctx, api, district):
    d = district
    office = api.as_("office1")
    inspector, unit = d.inspectors[0], d.units[3]
    declared = office.put(f"/pools/inspectors/{inspector}", json={"conflict_unit_ids": [unit], "note": "配偶任职"})
    assert declared.status_code == 200, declared.get_json()
    cleared = office.put(f"/pools/inspectors/{inspector}", json={"conflict_unit_ids": [], "note": None})
    assert cleared.status_code == 200 and cleared.get_json()["conflict_unit_ids"] == []
    # the conflict once declared still keeps the inspector from inspecting that unit
    r = office.post("/rounds", json={"name": "轮次", "inspected_unit_ids": [unit], "inspector_ids": [inspector]})
    assert r.status_code == 422 and r.get_json()["code"] == "conflict_of_interest", r.get_json()
    entry = [i for i in office.get("/pools/inspectors").get_json()["items"] if i["user_id"] == inspector][0]
    assert entry["conflict_unit_ids"] == [], "the current declaration is as last set"
    office_id = user_id(ctx, "office1")
    assert [(h["changed_by"], h["conflict_unit_ids"], h["conflicts_added"], h["conflicts_removed"], h["note"])
            for h in entry["history"]] == [(office_id, [unit], [unit], [], "配偶任职"), (office_id, [], [], [unit], None)]
    assert all(h["changed_at"] for h in entry["history"])
    assert office.post("/rounds", json={"name": "轮次", "inspected_unit_ids": [d.units[4]],
                                        "inspector_ids": [inspector]}).status_code == 201


def test_a_follow_up_recheck_keeps_the_first_pass_measures_and_filing(app, ctx, api, district):
    d = district
    round_id = publish_round(api, d)
    case = _case(api, d, round_id, 2)
    office = api.as_("office1")
    _file_case(api, d, round_id, 2, ["重新招标", "约谈项目负责人"], ["《工程项目监管办法》"])
    office.complete(office.tasks(bpmn_id="review_filing", unit_id=d.units[2])[0]["id"], {"accepted": True})
    r = office.post(f"/cases/{case['id']}/recheck", json={"comment": "回头看抽查"})
    assert r.status_code == 200 and r.get_json()["status"] == "rectifying", r.get_json()
    _file_case(api, d, round_id, 2, ["整改回头看：建立台账"])

    # the case file shows both passes' measures and both filings
    pages = Pages(app.test_client())
    pages.login("office1")
    html = pages.text(f"/cases/{case['id']}")
    for recorded in ("重新招标", "约谈项目负责人", "《工程项目监管办法》", "整改回头看：建立台账"):
        assert recorded in html, recorded
    assert html.count("属实") == 2, "both filings, with the head's attestation"
    # the rectification list: the re-check's own measures, and the first pass's marked as such
    rows = office.get("/lists/rectifications", query_string={"round_id": round_id, "unit_id": d.units[2]}).get_json()
    [row] = rows["items"]
    assert row["measures"] == "整改回头看：建立台账" and row["institutions"] == ""
    assert row["earlier_measures"] == "【首次整改】重新招标；【首次整改】约谈项目负责人"
    assert row["earlier_institutions"] == "【首次整改】《工程项目监管办法》"
    assert office.get("/stats", query_string={"round_id": round_id}).get_json()["measures"] == 3


def test_a_follow_up_recheck_is_filed_only_with_evidence_of_its_own(api, district, clock):
    """The first pass's files stay on record, but they are not the re-check's: its filing needs one more."""
    d = district
    round_id = publish_round(api, d)
    case = _case(api, d, round_id, 2)
    office = api.as_("office1")
    _file_case(api, d, round_id, 2, ["重新招标"])
    office.complete(office.tasks(bpmn_id="review_filing", unit_id=d.units[2])[0]["id"], {"accepted": True})
    clock.advance(timedelta(minutes=1))
    office.post(f"/cases/{case['id']}/recheck", json={"comment": "回头看"})
    unit, head = liaison(api, d, 2), api.as_(f"{d.codes[d.units[2]].lower()}_head")
    cp = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": [{
        "common_problem_id": cp, "status": "done", "institutions": [],
        "measures": [{"description": "建立台账", "deadline": "2027-01-31"}]}]})
    attest = head.tasks(bpmn_id="attest_and_file")[0]["id"]
    r = head.post(f"/tasks/{attest}/complete", json={"data": {"attest": True, "comment": "属实"}})
    assert r.status_code == 422 and r.get_json()["code"] == "evidence_required", r.get_json()
    assert len(office.get(f"/cases/{case['id']}/evidence").get_json()["items"]) == 1, "the first pass's file is kept"
    head.attach_evidence(case["id"])
    head.complete(attest, {"attest": True, "comment": "属实"})
    assert office.get(f"/cases/{case['id']}").get_json()["status"] == "filed"


def test_records_of_an_earlier_release_are_kept_as_the_first_version(ctx, api, district):
    """A database written before reviews, declarations and passes were kept: its single review, its
    pool entry and its measures become the first of each, and the next change is added after them."""
    d = district
    round_id = publish_round(api, d)
    case = _case(api, d, round_id, 2)
    office = api.as_("office1")
    _file_case(api, d, round_id, 2, ["重新招标"])
    office.complete(office.tasks(bpmn_id="review_filing", unit_id=d.units[2])[0]["id"], {"accepted": True})
    inspector = d.inspectors[0]
    office.put(f"/pools/inspectors/{inspector}", json={"conflict_unit_ids": [d.units[3]]})
    with ctx.db.engine.begin() as conn:
        conn.execute(text("INSERT INTO evidence_blob (sha256, size, content) VALUES ('0', 1, :c)"), {"c": b"x"})
        conn.execute(text("INSERT INTO evidence (case_id, filename, content_type, size, sha256, uploaded_by, "
                          "uploaded_at, review, review_comment, reviewed_by, reviewed_at) VALUES "
                          "(:case, 'old.pdf', 'application/pdf', 1, '0', :by, :at, 'rejected', '旧意见', :by, :at)"),
                     {"case": case["id"], "by": user_id(ctx, "office1"), "at": ctx.now()})
        made_before_migrations(conn)
        for table in ("evidence_review", "inspector_declaration"):
            conn.execute(text(f"DROP TABLE {table}"))
        for table in ("measure", "institution", "filing"):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN pass_number"))
    create_schema(ctx.db.engine)
    with ctx.db.read() as s:
        assert s.scalar(select(Measure.pass_number)) == 1

    old = next(e for e in office.get(f"/cases/{case['id']}/evidence").get_json()["items"] if e["filename"] == "old.pdf")
    assert (old["review"], old["reviews"]) == ("rejected", [])
    reviewed = office.post(f"/evidence/{old['id']}/review", json={"result": "accepted"}).get_json()
    assert [r["result"] for r in reviewed["reviews"]] == ["rejected", "accepted"]
    office.put(f"/pools/inspectors/{inspector}", json={"conflict_unit_ids": []})
    entry = [i for i in office.get("/pools/inspectors").get_json()["items"] if i["user_id"] == inspector][0]
    assert [(h["changed_by"], h["conflict_unit_ids"]) for h in entry["history"]] == [
        (None, [d.units[3]]), (user_id(ctx, "office1"), [])]
    r = office.post("/rounds", json={"name": "轮次", "inspected_unit_ids": [d.units[3]], "inspector_ids": [inspector]})
    assert r.status_code == 422 and r.get_json()["code"] == "conflict_of_interest"
    office.post(f"/cases/{case['id']}/recheck", json={"comment": "回头看"})
    _file_case(api, d, round_id, 2, ["建立台账"])
    [row] = office.get("/lists/rectifications", query_string={"round_id": round_id, "unit_id": d.units[2]}
                       ).get_json()["items"]
    assert (row["measures"], row["earlier_measures"]) == ("建立台账", "【首次整改】重新招标")
