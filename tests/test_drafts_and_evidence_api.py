"""Drafts of task forms (暂存) and taking back evidence, through the API: who may, what is refused,
and that nothing filed can be removed or replaced."""
from __future__ import annotations

import io

import pytest
from support.returns import OPINION, PDF, PNG, file_case, rectify, returned_case, self_check, unit_case
from support.schema import made_before_migrations


@pytest.fixture
def uc(api, district):
    return unit_case(api, district)


def _task(api, username, bpmn_id):
    return api.as_(username).tasks(bpmn_id=bpmn_id)[0]["id"]


def _upload(api, username, case_id, content=PDF, name="台账.pdf", **form):
    return api.as_(username).post(f"/cases/{case_id}/evidence",
                                  data={"file": (io.BytesIO(content), name), **form},
                                  content_type="multipart/form-data")


# ------------------------------------------------------------------ drafts
def test_a_draft_is_saved_unchecked_read_back_by_its_author_and_dropped_on_completion(api, uc):
    liaison = api.as_(uc.liaison)
    task_id = _task(api, uc.liaison, "self_check")
    half = {"items": [{"common_problem_id": uc.commons[0], "findings": "尚未写完"}]}  # not valid to complete
    r = liaison.put(f"/tasks/{task_id}/draft", json={"data": half})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["data"] == half and r.get_json()["saved_at"]
    assert liaison.get(f"/tasks/{task_id}/draft").get_json()["data"] == half
    assert liaison.get(f"/tasks/{task_id}").get_json()["draft"]["data"] == half
    # a second save replaces the first
    liaison.put(f"/tasks/{task_id}/draft", json={"data": {"items": []}})
    assert liaison.get(f"/tasks/{task_id}/draft").get_json()["data"] == {"items": []}

    self_check(api, uc)
    r = liaison.get(f"/tasks/{task_id}/draft")
    assert r.status_code == 404 and r.get_json()["code"] == "draft_not_found"


def test_a_draft_is_the_authors_own(api, uc):
    task_id = _task(api, uc.liaison, "self_check")
    api.as_(uc.liaison).put(f"/tasks/{task_id}/draft", json={"data": {"items": []}})
    head = api.as_(uc.head)  # sees the unit's task, may not complete it
    r = head.put(f"/tasks/{task_id}/draft", json={"data": {}})
    assert r.status_code == 403
    r = head.get(f"/tasks/{task_id}/draft")
    assert r.status_code == 404 and r.get_json()["code"] == "draft_not_found"


@pytest.mark.parametrize("username", ["office1", "leading1", "inspector0", "leader0", "u003_liaison", "admin"])
def test_others_may_not_draft_a_units_task(api, uc, username):
    task_id = _task(api, uc.liaison, "self_check")
    r = api.as_(username).put(f"/tasks/{task_id}/draft", json={"data": {}})
    assert r.status_code in (403, 404), r.get_json()
    assert r.status_code != 404 or r.get_json()["code"] == "not_found"


def test_a_draft_refuses_bad_shapes_and_sizes(api, uc):
    liaison = api.as_(uc.liaison)
    task_id = _task(api, uc.liaison, "self_check")
    r = liaison.put(f"/tasks/{task_id}/draft", json={"data": "文本"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "data"
    r = liaison.put(f"/tasks/{task_id}/draft", json={})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "data"
    r = liaison.put(f"/tasks/{task_id}/draft", json={"data": {"findings": "很" * 100_000}})
    assert r.status_code == 413 and r.get_json()["code"] == "draft_too_large"


def test_a_completed_task_takes_no_draft(api, uc):
    task_id = _task(api, uc.liaison, "self_check")
    self_check(api, uc)
    r = api.as_(uc.liaison).put(f"/tasks/{task_id}/draft", json={"data": {}})
    assert r.status_code in (403, 409)


def test_discarding_a_draft(api, uc):
    liaison = api.as_(uc.liaison)
    task_id = _task(api, uc.liaison, "self_check")
    liaison.put(f"/tasks/{task_id}/draft", json={"data": {"items": []}})
    assert liaison.delete(f"/tasks/{task_id}/draft").status_code == 204
    assert liaison.get(f"/tasks/{task_id}/draft").status_code == 404


# ------------------------------------------------------------------ evidence
def test_evidence_is_removed_and_replaced_until_the_case_is_filed_never_after(api, uc):
    self_check(api, uc)
    liaison = api.as_(uc.liaison)
    wrong = _upload(api, uc.liaison, uc.case_id, name="错传.pdf").get_json()
    kept = _upload(api, uc.liaison, uc.case_id, PNG, "现场照片.png").get_json()
    assert liaison.delete(f"/evidence/{wrong['id']}").status_code == 204
    names = [e["filename"] for e in liaison.get(f"/cases/{uc.case_id}/evidence").get_json()["items"]]
    assert names == ["现场照片.png"]

    r = liaison.put(f"/evidence/{kept['id']}", data={"file": (io.BytesIO(PDF), "现场照片.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    new = r.get_json()
    names = [e["filename"] for e in liaison.get(f"/cases/{uc.case_id}/evidence").get_json()["items"]]
    assert names == ["现场照片.pdf"]

    rectify(api, uc)
    file_case(api, uc)
    r = liaison.delete(f"/evidence/{new['id']}")
    assert r.status_code == 409 and r.get_json()["code"] == "evidence_locked"
    r = liaison.put(f"/evidence/{new['id']}", data={"file": (io.BytesIO(PDF), "新.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 409 and r.get_json()["code"] == "evidence_locked"


def test_filed_evidence_stays_locked_after_a_return_while_new_files_can_go(api, district):
    uc = unit_case(api, district)
    self_check(api, uc)
    filed = _upload(api, uc.liaison, uc.case_id).get_json()
    rectify(api, uc)
    file_case(api, uc)
    office = api.as_("office1")
    review = [t for t in office.tasks(bpmn_id="review_filing") if t["unit_id"] == uc.unit_id][0]
    office.complete(review["id"], {"accepted": False, "comment": OPINION})
    liaison = api.as_(uc.liaison)
    assert liaison.delete(f"/evidence/{filed['id']}").get_json()["code"] == "evidence_locked"
    fresh = _upload(api, uc.liaison, uc.case_id, name="补充.pdf").get_json()
    assert liaison.delete(f"/evidence/{fresh['id']}").status_code == 204


@pytest.mark.parametrize("username,status", [("office1", 403), ("leading1", 403), ("u003_liaison", 404),
                                             ("leader0", 403), ("admin", 404)])
def test_only_the_units_own_people_remove_or_replace_evidence(api, uc, username, status):
    self_check(api, uc)
    e = _upload(api, uc.liaison, uc.case_id).get_json()
    who = api.as_(username)
    assert who.delete(f"/evidence/{e['id']}").status_code == status
    r = who.put(f"/evidence/{e['id']}", data={"file": (io.BytesIO(PDF), "x.pdf")}, content_type="multipart/form-data")
    assert r.status_code == status
    assert api.as_(uc.head).delete(f"/evidence/{e['id']}").status_code == 204  # the head may


def test_a_replacement_is_checked_as_an_upload_and_names_the_field(api, uc):
    self_check(api, uc)
    e = _upload(api, uc.liaison, uc.case_id).get_json()
    liaison = api.as_(uc.liaison)
    r = liaison.put(f"/evidence/{e['id']}", data={"file": (io.BytesIO(b"<html>"), "x.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "file"
    r = liaison.put(f"/evidence/{e['id']}", data={"file": (io.BytesIO(PDF), "x.pdf"), "item_id": "一"},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "item_id"
    r = liaison.put(f"/evidence/{e['id']}", data={"file": (io.BytesIO(PDF), "x.pdf"), "item_id": "999999"},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "item_id"
    r = liaison.put(f"/evidence/{e['id']}", data={"file": (io.BytesIO(PDF), "x.pdf"), "common_problem_id": "999999"},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "common_problem_id"
    assert [x["id"] for x in liaison.get(f"/cases/{uc.case_id}/evidence").get_json()["items"]] == [e["id"]]
    assert liaison.delete("/evidence/999999").status_code == 404


def test_a_file_names_its_common_problem_before_and_after_the_items_exist(api, uc, district):
    self_check(api, uc)
    early = _upload(api, uc.liaison, uc.case_id, common_problem_id=str(uc.commons[0])).get_json()
    assert early["common_problem_id"] == uc.commons[0] and early["item_id"] is None
    r = _upload(api, uc.liaison, uc.case_id, common_problem_id="一")
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "common_problem_id"
    other_round = unit_case(api, district)  # another round's list
    r = _upload(api, uc.liaison, uc.case_id, common_problem_id=str(other_round.commons[0]))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "common_problem_id"
    rectify(api, uc)
    item_id = api.as_(uc.liaison).get(f"/cases/{uc.case_id}").get_json()
    later = _upload(api, uc.liaison, uc.case_id, common_problem_id=str(uc.commons[0])).get_json()
    assert later["item_id"] is not None and later["common_problem_id"] == uc.commons[0], item_id
    # the replacement keeps the label
    r = api.as_(uc.liaison).put(f"/evidence/{early['id']}", data={"file": (io.BytesIO(PNG), "照片.png")},
                                content_type="multipart/form-data")
    assert r.get_json()["common_problem_id"] == uc.commons[0]


def test_a_returned_task_says_why_in_the_task_listing_of_the_api(api, district):
    uc = returned_case(api, district)
    task_id = _task(api, uc.liaison, "rectify")
    body = api.as_(uc.liaison).get(f"/tasks/{task_id}").get_json()
    assert body["returned"]["opinion"] == OPINION and body["returned"]["by"] == "巡察办"
    assert [t["returned"] for t in api.as_(uc.liaison).tasks()] == [True]
    office = api.as_("office1")
    assert all(office.get(f"/tasks/{t['id']}").get_json()["returned"] is None for t in office.tasks())
    assert not any(t["returned"] for t in office.tasks())


def test_an_earlier_database_gains_drafts_and_the_evidence_label(ctx, api, uc):
    from sqlalchemy import inspect, text

    from service.db import create_schema

    self_check(api, uc)
    kept = _upload(api, uc.liaison, uc.case_id).get_json()
    with ctx.db.engine.begin() as conn:
        made_before_migrations(conn)
        conn.execute(text("DROP TABLE task_draft"))
        conn.execute(text("ALTER TABLE evidence DROP COLUMN common_problem_id"))
    create_schema(ctx.db.engine)
    schema = inspect(ctx.db.engine)
    assert "task_draft" in schema.get_table_names()
    assert "common_problem_id" in {c["name"] for c in schema.get_columns("evidence")}
    items = api.as_(uc.liaison).get(f"/cases/{uc.case_id}/evidence").get_json()["items"]
    assert [(e["id"], e["common_problem_id"]) for e in items] == [(kept["id"], None)]


def test_drafts_of_tasks_the_process_cancelled_are_pruned(ctx, api, uc):
    from sqlalchemy import update

    from service import drafts
    from workflows.tables import HumanTask

    liaison = api.as_(uc.liaison)
    task_id = _task(api, uc.liaison, "self_check")
    liaison.put(f"/tasks/{task_id}/draft", json={"data": {"items": []}})
    assert drafts.prune_stale(ctx) == 0  # the task is open: its draft stays
    ctx.db.transaction(lambda s: s.execute(update(HumanTask).where(HumanTask.id == task_id).values(state="cancelled")))
    assert drafts.prune_stale(ctx) == 1
    assert liaison.get(f"/tasks/{task_id}/draft").status_code == 404
