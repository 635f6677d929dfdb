"""Changes that race a step of the mechanism: each one either happens before the step, and the
step takes it along, or is refused after it, and nothing is stored that the step left out."""
from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import event
from support.api import liaison, publish_round, round_awaiting_approval, run_jobs
from support.concurrency import Call, hold


@pytest.mark.parametrize("held, statement, outcome", [
    # the office's request has checked the round and not yet stored: the publication waits, takes it along
    ("adding", "INSERT INTO common_problem", 201),
    # the publication has read the list and not yet queued it: the office's request waits, is refused
    ("approving", "INSERT INTO job", 422),
])
def test_a_common_problem_added_while_the_list_is_approved_is_published_or_refused(app, ctx, api, district,
                                                                                   held, statement, outcome):
    d = district
    round_id = round_awaiting_approval(api, d)
    approve = api.as_("leading1").tasks(bpmn_id="approve_list")[0]["id"]
    adding = Call(app, api, "office1", "post", f"/rounds/{round_id}/common-problems", json={
        "title": "工程项目监管不严", "category": "工程", "responsible_department_id": d.departments[1]})
    approving = Call(app, api, "leading1", "post", f"/tasks/{approve}/complete", json={"data": {"approved": True}})
    first, second = (adding, approving) if held == "adding" else (approving, adding)
    # one request is held at a statement while the other runs; it goes on once the other is
    # through, or after a few seconds if the other has to wait for it
    with hold(ctx.db.engine, statement, thread=first) as (reached, release):
        first.start()
        assert reached.wait(30), f"{held} never reached {statement}"
        second.start()
        second.join(1.0)
        if not second.is_alive():
            release.set()
        first.join(60)
    added = adding.result()
    approved = approving.result()
    assert approved[0] == 200, approved
    run_jobs(api)  # the publication's cases and letters, in the background

    office = api.as_("office1")
    listed = {c["title"]: c["id"] for c in office.get(f"/rounds/{round_id}").get_json()["common_problems"]}
    letters = office.get("/letters", query_string={"round_id": round_id}).get_json()["items"]
    sent = {cp for letter in letters for cp in letter["common_problem_ids"]}
    assert added[0] == outcome, added
    if added[0] == 201:
        # part of the publication: in the list, and in the letter to its department
        assert added[1]["id"] in listed.values() and added[1]["id"] in sent, (listed, letters)
        assert {letter["department_id"] for letter in letters} == set(d.departments[:2])
    else:
        assert added[0] == 422 and added[1]["code"] == "list_published", added
        assert "工程项目监管不严" not in listed
    assert set(listed.values()) == sent, "every common problem of the published list went out"
    # every unit has its case and is asked to self-check every listed common problem
    unit = liaison(api, d, 3)
    task = unit.get(f"/tasks/{unit.tasks(bpmn_id='self_check')[0]['id']}").get_json()
    assert task["form"]
    done = unit.post(f"/tasks/{task['id']}/complete", json={"data": {"items": [
        {"common_problem_id": cp, "applicable": False, "reason": "无", "problems_found": 0, "findings": "无"}
        for cp in listed.values()]}})
    assert done.status_code == 200, done.get_json()


def test_evidence_sent_while_the_head_files_is_refused_once_the_case_is_filed(app, ctx, api, district):
    d = district
    round_id = publish_round(api, d)
    office, unit = api.as_("office1"), liaison(api, d, 2)
    head = api.as_(f"{d.codes[d.units[2]].lower()}_head")
    case = [c for c in office.get("/cases", query_string={"round_id": round_id}).get_json()["items"]
            if c["unit_id"] == d.units[2]][0]
    cp = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": [
        {"common_problem_id": cp, "status": "done", "measures": [{"description": "补充法律审核", "deadline": "2027-01-31"}],
         "institutions": []}]})
    report = head.attach_evidence(case["id"], "整改报告.pdf")  # what the head files with
    filing = Call(app, api, f"{d.codes[d.units[2]].lower()}_head", "post",
                  f"/tasks/{head.tasks(bpmn_id='attest_and_file')[0]['id']}/complete", json={"data": {"attest": True}})
    upload = Call(app, api, f"{d.codes[d.units[2]].lower()}_liaison", "post", f"/cases/{case['id']}/evidence",
                  data={"file": (io.BytesIO(b"%PDF-1.4 late"), "补充材料.pdf")}, content_type="multipart/form-data")
    # the head's filing is held just before it is stored, with the attest step already completed,
    # while the liaison sends a file
    with hold(ctx.db.engine, "INSERT INTO filing", thread=filing) as (reached, release):
        filing.start()
        assert reached.wait(30), "the filing was never stored"
        upload.start()
        upload.join(1.0)
        if not upload.is_alive():
            release.set()
        filing.join(60)
    assert filing.result()[0] == 200, filing.result()
    status, body = upload.result()
    assert (status, body.get("code")) == (422, "evidence_not_open"), body
    filed = office.get(f"/cases/{case['id']}").get_json()
    assert filed["status"] == "filed"
    assert [e["id"] for e in office.get(f"/cases/{case['id']}/evidence").get_json()["items"]] == [report["id"]], \
        "nothing was added to the case after its head attested and filed it"


def test_a_leader_notice_acknowledged_ten_times_at_once_is_acknowledged_once_at_the_first_time(app, ctx, api, district):
    d = district
    publish_round(api, d)
    leader = api.as_("leader0")
    note = leader.get("/notifications", query_string={"pending": "true"}).get_json()["items"][0]
    calls = [Call(app, api, "leader0", "post", f"/notifications/{note['id']}/acknowledge") for _ in range(10)]
    # each request is held just before it writes the acknowledgement, until all ten have got there
    # (or a few seconds have passed, when the others have to wait for the first)
    arrived = threading.Barrier(len(calls))

    def together(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE LEADER_NOTIFICATION"):
            try:
                arrived.wait(3)
            except threading.BrokenBarrierError:
                pass

    event.listen(ctx.db.engine, "before_cursor_execute", together)
    try:
        for call in calls:
            call.start()
        results = [call.result() for call in calls]
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", together)
    succeeded = [body for status, body in results if status == 200]
    assert len(succeeded) == 1, results
    assert sorted((status, body.get("code")) for status, body in results if status != 200) == \
        [(409, "already_acknowledged")] * 9
    kept = api.as_("office1").get("/notifications", query_string={"limit": 100}).get_json()["items"]
    assert [n["acknowledged_at"] for n in kept if n["id"] == note["id"]] == [succeeded[0]["acknowledged_at"]]
