"""The inbox, done list, task and case pages as a unit works from them: the round on every row, a
returned task marked and its reason at the top, what was submitted, the common problem's
explanation, drafts (暂存), evidence labelled, previewed and taken back until filed, and the
process diagram linked with its history in words."""
from __future__ import annotations

import io
import re

from sqlalchemy import update
from support.pages import session_login
from support.returns import OPINION, PDF, PNG, file_case, rectify, returned_case, self_check, unit_case

from service.models import CommonProblem

ROUND = "轮次"  # the name support.api.publish_round gives its round


def _task_id(api, username, bpmn_id):
    return api.as_(username).tasks(bpmn_id=bpmn_id)[0]["id"]


def _text(client, path, status=200):
    r = client.get(path)
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:1500])
    return r.get_data(as_text=True)


def _evidence(page, name):
    """The case file's list entry of one file."""
    for li in page.split('<li class="evidence-item"')[1:]:
        if name in li.split("</li>")[0]:
            return li.split("</li>")[0]
    raise AssertionError(f"{name} is not listed")


def _upload(api, username, case_id, content=PDF, name="台账.pdf"):
    r = api.as_(username).post(f"/cases/{case_id}/evidence", data={"file": (io.BytesIO(content), name)},
                               content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_returned_task_is_marked_in_the_inbox_and_says_why_at_the_top(client, ctx, api, district):
    uc = returned_case(api, district)
    session_login(client, ctx, uc.liaison)
    inbox = _text(client, "/inbox")
    row = inbox[inbox.index('class="inbox-row'):]
    assert "退回" in row and ROUND in row and "整改落实" in row
    task_id = _task_id(api, uc.liaison, "rectify")
    assert "/instances/" in row

    page = _text(client, f"/tasks/{task_id}")
    assert OPINION in page
    # the reason stands above the form and the side panel, right under the page's title
    assert page.index(OPINION) < page.index('class="task-layout"')
    assert "退回原因" in page and "巡察办" in page
    # an office's own tasks are never marked
    session_login(client, ctx, "office1")
    assert 'badge-returned' not in _text(client, "/inbox")


def test_a_list_sent_back_by_the_leading_group_is_marked_for_the_office(client, ctx, api, district):
    from support.api import round_awaiting_approval

    round_id = round_awaiting_approval(api, district)
    leading = api.as_("leading1")
    leading.complete(leading.tasks(bpmn_id="approve_list")[0]["id"], {"approved": False, "comment": "请合并相近问题"})
    session_login(client, ctx, "office1")
    inbox = _text(client, "/inbox")
    assert "badge-returned" in inbox and ROUND in inbox
    body = api.as_("office1").get(f"/tasks/{_task_id(api, 'office1', 'distill_list')}").get_json()
    assert body["returned"]["opinion"] == "请合并相近问题"
    # the list is worked on its own page: the reason stands at its top
    page = _text(client, f"/rounds/{round_id}/distill")
    assert page.index("请合并相近问题") < page.index('class="two-col')
    # the rounds list and the dashboard's lists link to the process diagrams
    assert "/instances/" in _text(client, "/rounds")


def test_the_done_list_names_the_round_and_what_was_submitted(client, ctx, api, district):
    uc = returned_case(api, district)
    session_login(client, ctx, "office1")
    done = _text(client, "/done")
    assert ROUND in done and "审核通过（销号）" in done and "否" in done and OPINION in done
    assert "accepted" not in done
    session_login(client, ctx, uc.liaison)
    done = _text(client, "/done")
    assert "对照自查" in done and "自查情况" in done and "共 1 项" in done and "自查发现问题数合计 1" in done
    assert "/instances/" in done


def test_the_self_check_form_explains_each_common_problem(client, ctx, api, district):
    uc = unit_case(api, district)
    ctx.db.transaction(lambda s: s.execute(update(CommonProblem).where(CommonProblem.id == uc.commons[0])
                                            .values(description="合同签订前未经法律顾问审核，或审核流于形式。")))
    session_login(client, ctx, uc.liaison)
    page = _text(client, f"/tasks/{_task_id(api, uc.liaison, 'self_check')}")
    title = page.index("共性问题0")
    about = page.index("合同签订前未经法律顾问审核")
    assert title < about < page.index('name="items.0.applicable"')


def test_a_draft_is_saved_from_the_form_restored_and_dropped_on_completion(client, ctx, api, district):
    uc = unit_case(api, district)
    token = session_login(client, ctx, uc.liaison)
    task_id = _task_id(api, uc.liaison, "self_check")
    # half filled: no answer to "applies", which completing would refuse; the draft keeps it as is
    r = client.post(f"/tasks/{task_id}/draft", data={
        "csrf_token": token, "items.0.__row": "1", "items.0.common_problem_id": str(uc.commons[0]),
        "items.0.findings": "合同审核台账尚在整理"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tasks/{task_id}")
    page = _text(client, f"/tasks/{task_id}")
    assert "已暂存" in page and "已填入您于" in page and "合同审核台账尚在整理" in page
    assert "暂存" in page and f'formaction="/tasks/{task_id}/draft"' in page
    # another user of the unit sees the plain form
    session_login(client, ctx, uc.head)
    assert "合同审核台账尚在整理" not in _text(client, f"/tasks/{task_id}")

    self_check(api, uc)
    assert api.as_(uc.liaison).get(f"/tasks/{task_id}/draft").status_code == 404


def test_a_draft_may_be_discarded(client, ctx, api, district):
    uc = unit_case(api, district)
    token = session_login(client, ctx, uc.liaison)
    task_id = _task_id(api, uc.liaison, "self_check")
    client.post(f"/tasks/{task_id}/draft", data={"csrf_token": token, "items.0.__row": "1",
                                                  "items.0.findings": "草稿内容"})
    r = client.post(f"/tasks/{task_id}/draft/delete", data={"csrf_token": token})
    assert r.status_code == 302
    assert "草稿内容" not in _text(client, f"/tasks/{task_id}")


def test_evidence_is_labelled_previewed_and_taken_back_until_filed(client, ctx, api, district):
    uc = unit_case(api, district)
    self_check(api, uc)
    token = session_login(client, ctx, uc.liaison)
    # while the unit first rectifies there are no items yet: the file names its common problem
    page = _text(client, f"/tasks/{_task_id(api, uc.liaison, 'rectify')}")
    assert 'name="common_problem_id"' in page and "共性问题0</option>" in page
    r = client.post(f"/cases/{uc.case_id}/evidence", data={
        "csrf_token": token, "file": (io.BytesIO(PNG), "现场照片.png"), "common_problem_id": str(uc.commons[0])},
        content_type="multipart/form-data")
    assert r.status_code == 302
    wrong = _upload(api, uc.head, uc.case_id, name="错传.pdf")
    page = _text(client, f"/cases/{uc.case_id}")
    assert "共性问题0" in _evidence(page, "现场照片.png")  # labelled with its common problem
    assert "（整体材料）" in _evidence(page, "错传.pdf")
    assert "预览" in page and "<img" in page and "<iframe" in page
    assert page.count(">删除<") == 2 and page.count(">替换<") >= 2
    assert "/instances/" in page

    preview = re.search(r'<img src="([^"]+)"', page).group(1)
    r = client.get(preview)
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in r.headers["Content-Security-Policy"] and r.headers["X-Content-Type-Options"] == "nosniff"

    r = client.post(f"/evidence/{wrong['id']}/delete", data={"csrf_token": token, "next": f"/cases/{uc.case_id}"})
    assert r.status_code == 302
    page = _text(client, f"/cases/{uc.case_id}")
    assert 'href="/evidence/%d"' % wrong["id"] not in page and "已删除：错传.pdf" in page

    photo_id = int(re.search(r'data-evidence-id="(\d+)"', page).group(1))
    r = client.post(f"/evidence/{photo_id}/replace", data={
        "csrf_token": token, "next": f"/cases/{uc.case_id}", "file": (io.BytesIO(PDF), "整改照片说明.pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    page = _text(client, f"/cases/{uc.case_id}")
    assert f'data-evidence-id="{photo_id}"' not in page and "已替换为：整改照片说明.pdf" in page
    assert "共性问题0" in _evidence(page, "整改照片说明.pdf")  # the replacement keeps the label

    rectify(api, uc)
    file_case(api, uc)
    page = _text(client, f"/cases/{uc.case_id}")
    assert ">删除<" not in page and ">替换<" not in page
    new_id = int(re.search(r'data-evidence-id="(\d+)"', page).group(1))
    r = client.post(f"/evidence/{new_id}/delete", data={"csrf_token": token, "next": f"/cases/{uc.case_id}"},
                    follow_redirects=True)
    assert "已备案的佐证材料不能再删除或替换" in r.get_data(as_text=True)
    assert "整改照片说明.pdf" in _text(client, f"/cases/{uc.case_id}")


def test_only_images_and_pdfs_are_previewed_and_only_for_readers_of_the_case(client, ctx, api, district):
    uc = unit_case(api, district)
    self_check(api, uc)
    pdf = _upload(api, uc.liaison, uc.case_id)
    text = _upload(api, uc.liaison, uc.case_id, "整改说明".encode(), "说明.txt")
    session_login(client, ctx, uc.liaison)
    r = client.get(f"/evidence/{pdf['id']}/preview")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Content-Security-Policy"].startswith("sandbox")
    assert client.get(f"/evidence/{text['id']}/preview").status_code == 422
    session_login(client, ctx, "u003_liaison")  # another unit
    assert client.get(f"/evidence/{pdf['id']}/preview").status_code == 404


def test_the_instance_history_shows_labels_and_words_not_keys(client, ctx, api, district):
    uc = returned_case(api, district)
    session_login(client, ctx, "office1")
    case = api.as_("office1").get(f"/cases/{uc.case_id}").get_json()
    page = _text(client, f"/instances/{case['process_instance_id']}")
    history = page[page.index("rf-history"):page.index("rf-instance-config")]
    for words in ("自查情况", "共性问题0", "是否适用本单位", "整改状态", "已完成", "审核通过（销号）", OPINION):
        assert words in history, words
    for key in ("common_problem_id", "problems_found", ">items<", "status: ", "done", "accepted"):
        assert key not in history, key


def test_rows_link_only_to_diagrams_the_viewer_may_open(client, ctx, api, district):
    office = api.as_("office1")
    round_id = office.post("/rounds", json={"name": "线索轮次", "inspected_unit_ids": district.units[:2],
                                            "inspector_ids": district.inspectors[:1]}).get_json()["id"]
    r = api.as_("inspector0").post(f"/rounds/{round_id}/clues", json={
        "unit_id": district.units[0], "summary": "涉嫌收受好处费", "content": "群众来信反映"})
    assert r.status_code == 201, r.get_json()
    handover = office.tasks(bpmn_id="approve_handover")[0]
    session_login(client, ctx, "office1")
    inbox = _text(client, "/inbox")
    row = inbox[inbox.index(f'id="task-{handover["id"]}"') - 400:][:1200]
    assert "线索轮次" in row
    assert f'/instances/{handover["process_instance_id"]}"' not in inbox  # the hand-over is the commission's
    page = _text(client, f"/tasks/{handover['id']}")
    assert f'/instances/{handover["process_instance_id"]}"' not in page
    assert client.get(f"/instances/{handover['process_instance_id']}").status_code == 404
