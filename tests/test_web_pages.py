"""The web pages through Flask's test client: login, CSRF, lockout, inbox scoping, task forms."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from support.district import PASSWORD
from support.pages import Pages, csrf_token
from support.rounds import (
    as_user,
    case_of,
    complete,
    open_task_id,
    principal,
    publish_round,
    record_problems,
    start_round,
)

from service import designs, jobs, tasks
from service.context import BPMN_DIR
from service.models import (
    Clue,
    CommonProblem,
    Evidence,
    Measure,
    Problem,
    RectificationItem,
    SelfCheckItem,
)


@pytest.fixture
def pages(client):
    return Pages(client)


def _liaison(d, i=2):
    return f"{d.codes[d.units[i]].lower()}_liaison"


def _head(d, i=2):
    return f"{d.codes[d.units[i]].lower()}_head"


# ------------------------------------------------------------------ login, session, CSRF
def test_login_page_is_chinese_and_login_sets_a_safe_cookie(pages, district):
    html = pages.text("/login")
    assert '<html lang="zh-CN">' in html and "登录巡察整改系统" in html
    assert 'for="username"' in html and 'for="password"' in html
    r = pages.login("office1")
    assert r.status_code == 302 and r.headers["Location"].endswith("/inbox")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "巡察办" in pages.text("/inbox")


def test_what_a_page_fetches_beside_a_post_does_not_undo_the_posts_session(pages, app, district):
    """A page's own requests (htmx fragments, scripts' fetches, files) run beside its form posts: one
    that answered after a post with the session as it was before would wipe the post's flash
    message. Only a page the browser opens pushes the session's expiry on."""
    client = pages.client
    pages.login("auditor1")
    assert _session_cookies(client.get("/inbox")), "opening a page pushes the session's expiry on"
    before = client.get_cookie("session").value  # as the page's own requests send it
    r = pages.post("/audit/verify", token_from="/audit/")
    assert r.status_code == 302 and client.get_cookie("session").value != before  # the flash is in it
    late = app.test_client()  # a fragment asked for with the cookie from before the post
    late.set_cookie("session", before)
    for headers in ({"HX-Request": "true"}, {"Sec-Fetch-Mode": "cors"}, {"Sec-Fetch-Mode": "no-cors"}):
        answer = late.get("/inbox", headers=headers)
        assert answer.status_code == 200 and _session_cookies(answer) == [], headers
    assert "审计日志完整" in pages.text(r.headers["Location"])  # the post's message is shown


def _session_cookies(response) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]


def test_pages_need_a_login_and_return_to_where_you_were(pages, district):
    r = pages.get("/done")
    assert r.status_code == 302 and "/login?next=/done" in r.headers["Location"]
    token = csrf_token(pages.text("/login"))
    r = pages.client.post("/login", data={"username": "office1", "password": PASSWORD, "csrf_token": token,
                                          "next": "/done"})
    assert r.headers["Location"].endswith("/done")
    # an absolute URL as `next` is ignored: no bouncing to another site after login
    pages.client.post("/logout", data={"csrf_token": pages.token()})
    token = csrf_token(pages.text("/login"))
    r = pages.client.post("/login", data={"username": "office1", "password": PASSWORD, "csrf_token": token,
                                          "next": "https://evil.example/"})
    assert r.headers["Location"].endswith("/inbox")


def test_wrong_password_and_lockout(pages, district, ctx):
    r = pages.login("office1", "wrong")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    for _ in range(ctx.settings.login_attempts - 2):
        pages.login("office1", "wrong")
    r = pages.login("office1", "wrong")  # the attempt that locks the account says so
    assert "账号已锁定" in r.get_data(as_text=True)
    r = pages.login("office1")  # even the right password waits for the lockout to end
    assert r.status_code == 401 and "账号已锁定" in r.get_data(as_text=True)
    assert pages.get("/inbox").status_code == 302


def test_forms_without_the_csrf_token_are_refused(pages, district, client):
    r = client.post("/login", data={"username": "office1", "password": PASSWORD})
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)
    pages.login("office1")
    r = client.post("/logout", data={})
    assert r.status_code == 400
    assert pages.get("/inbox").status_code == 200, "a refused logout leaves the session as it was"
    r = client.post("/logout", data={"csrf_token": "forged"})
    assert r.status_code == 400
    # the token-authenticated API needs no CSRF token
    r = client.post("/api/v1/auth/token", json={"username": "office1", "password": PASSWORD})
    assert r.status_code == 200


def test_logout_ends_the_session(pages, district):
    pages.login("office1")
    r = pages.post("/logout")
    assert r.status_code == 302
    assert "您已退出登录" in pages.text("/login")
    assert pages.get("/inbox").status_code == 302


def test_language_switch_is_kept_in_the_session(pages, district, ctx):
    pages.login("office1")
    r = pages.post("/lang", {"lang": "en", "next": "/done"})
    assert r.headers["Location"].endswith("/done")
    html = pages.text("/inbox")
    assert '<html lang="en">' in html and "Inbox" in html and "Log out" in html
    assert "待办事项" not in html
    pages.post("/lang", {"lang": "zh"})
    assert "待办事项" in pages.text("/inbox")


def test_unknown_pages_are_html_and_the_api_stays_json(pages, district):
    pages.login("office1")
    r = pages.get("/no-such-page")
    assert r.status_code == 404 and r.mimetype == "text/html" and "找不到" in r.get_data(as_text=True)
    r = pages.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


# ------------------------------------------------------------------ inbox
def test_inbox_shows_only_the_users_own_tasks(pages, ctx, district):
    d = district
    publish_round(ctx, d)
    pages.login(_liaison(d, 2))
    html = pages.text("/inbox")
    mine, other = "单位2", "单位3"
    assert "对照自查" in html and mine in html and other not in html
    assert html.count('class="task-link"') == 1
    # another unit's task is not even visible
    other_task = open_task_id(ctx, _liaison(d, 3), "self_check")
    assert pages.get(f"/tasks/{other_task}").status_code == 404
    # the office does not see units' self-checks; the head waits for the filing step
    pages.post("/logout")
    pages.login("office1")
    assert "对照自查" not in pages.text("/inbox")
    pages.post("/logout")
    pages.login(_head(d, 2))
    assert "没有待办事项" in pages.text("/inbox")


def test_inbox_counts_filters_warnings_and_order(pages, ctx, district):
    d = district
    publish_round(ctx, d)
    from datetime import timedelta

    from service.models import Case
    from workflows.tables import HumanTask

    def work(s):  # make one unit's case red and overdue, another due soon
        tasks = {t.unit_id: t for t in s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "self_check"))}
        tasks[d.units[0]].due_at = ctx.now() - timedelta(days=3)
        tasks[d.units[1]].due_at = ctx.now() + timedelta(days=2)
        s.scalar(select(Case).where(Case.unit_id == d.units[0])).warning = "red"
    ctx.db.transaction(work)
    # a leader in charge sees... nothing to do (leaders act on leader tasks), the office sees reviews later;
    # the department liaison of unit 0 holds both liaison and department roles
    pages.login(_liaison(d, 0))
    html = pages.text("/inbox")
    assert "已逾期 3 天" in html and "红色预警" in html
    counts = re.findall(r'<span class="count-n">(\d+)</span>', html)
    assert counts[:2] == ["2", "1"], counts  # self-check + the recommendation letter; one overdue
    # filters narrow the list and keep the counts of every choice
    html = pages.text("/inbox?task=self_check")
    assert html.count('class="task-link"') == 1 and "对照自查（1）" in html
    # htmx asks for the results only
    fragment = pages.get("/inbox?task=self_check", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'class="task-link"' in fragment
    # sorted by due date: the overdue self-check before the letter's plan
    table = pages.text("/inbox").split("<tbody>", 1)[1]
    assert table.index("对照自查") < table.index("制定专项治理方案")


def test_done_list_reads_the_history(pages, ctx, district):
    d = district
    publish_round(ctx, d)
    pages.login("inspector0")
    html = pages.text("/done")
    assert "记录巡察发现" in html and "巡察轮次" in html


# ------------------------------------------------------------------ task forms
def _self_check_form(cps, **overrides):
    data = {}
    for i, cp in enumerate(cps):
        data.update({f"items.{i}.__row": "1", f"items.{i}.common_problem_id": str(cp),
                     f"items.{i}.applicable": "true", f"items.{i}.problems_found": str(i + 1),
                     f"items.{i}.findings": f"发现问题{i}"})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_self_check_form_round_trip(pages, ctx, district):
    d = district
    round_id, cps = publish_round(ctx, d)
    pages.login(_liaison(d))
    task_id = open_task_id(ctx, _liaison(d), "self_check")
    html = pages.text(f"/tasks/{task_id}")
    # one row per common problem, its title shown, its id carried
    assert "工程项目建设监管不严" in html and "政府合同管理不规范" in html
    assert f'name="items.0.common_problem_id" value="{cps[0]}"' in html
    assert 'for="f-items-1-problems_found"' in html
    # a missing answer and a negative count: messages beside the fields, what was typed kept
    r = pages.post(f"/tasks/{task_id}", _self_check_form(cps, **{"items.0.applicable": None,
                                                                  "items.1.problems_found": "-2",
                                                                  "items.1.findings": "已经填写的内容"}))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert re.search(r'id="f-items-0-applicable".*?此项必填', html, re.DOTALL)
    assert re.search(r'id="f-items-1-problems_found"[^>]*value="-2".*?不能小于 0', html, re.DOTALL)
    assert "已经填写的内容" in html and "提交内容有 2 处需要修改" in html
    assert "工程项目建设监管不严 · 是否适用本单位：此项必填" in html  # the summary says where
    assert case_of(ctx, round_id, d.units[2]).status == "self_check"
    # corrected: completes through the service, the records follow
    r = pages.post(f"/tasks/{task_id}", _self_check_form(cps))
    assert r.status_code == 302 and r.headers["Location"].endswith("/inbox")
    assert "已办结：对照自查" in pages.text("/inbox")
    case = case_of(ctx, round_id, d.units[2])
    assert case.status == "rectifying"
    with ctx.db.read() as s:
        items = s.scalars(select(SelfCheckItem).where(SelfCheckItem.case_id == case.id)
                          .order_by(SelfCheckItem.common_problem_id)).all()
    assert [(i.applicable, i.problems_found, i.findings) for i in items] == [(True, 1, "发现问题0"), (True, 2, "发现问题1")]


def test_submitting_twice_completes_once(pages, ctx, district):
    d = district
    _, cps = publish_round(ctx, d)
    pages.login(_liaison(d))
    task_id = open_task_id(ctx, _liaison(d), "self_check")
    form = _self_check_form(cps)
    token = pages.token(f"/tasks/{task_id}")
    first = pages.client.post(f"/tasks/{task_id}", data={**form, "csrf_token": token})
    second = pages.client.post(f"/tasks/{task_id}", data={**form, "csrf_token": token})
    assert first.status_code == 302 and second.status_code == 302
    assert "已经办结，无需重复提交" in pages.text("/inbox")
    from workflows.tables import HistoryEntry

    with ctx.db.read() as s:
        done = s.scalars(select(HistoryEntry).where(HistoryEntry.task_id == task_id,
                                                    HistoryEntry.event == "task_completed")).all()
    assert len(done) == 1
    # the finished task's page says so instead of offering the form again
    html = pages.text(f"/tasks/{task_id}")
    assert "已办结或已取消" in html and "提交并办结" not in html


def test_rectify_rows_added_and_removed_in_place(pages, ctx, district):
    d = district
    round_id, cps = publish_round(ctx, d)
    complete(ctx, _liaison(d), "self_check", {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "x"} for cp in cps]})
    task_id = open_task_id(ctx, _liaison(d), "rectify")
    pages.login(_liaison(d))
    html = pages.text(f"/tasks/{task_id}")
    # each row starts with one measure; the templates for new rows carry an index placeholder
    assert 'name="items.0.measures.0.description"' in html
    assert 'data-token="__i1__"' in html and 'name="items.0.measures.__i1__.description"' in html
    assert 'name="items.1.institutions.__i1__.title"' in html
    # the browser added measures 1 and 2 and removed 1: indexes 0 and 2 arrive, with a gap
    form = {"items.0.__row": "1", "items.0.common_problem_id": str(cps[0]), "items.0.status": "done",
            "items.0.measures.0.__row": "1", "items.0.measures.0.description": "重新招标",
            "items.0.measures.0.deadline": "2027-01-31",
            "items.0.measures.2.__row": "1", "items.0.measures.2.description": "约谈项目负责人",
            "items.0.measures.2.deadline": "",
            "items.0.institutions.0.__row": "1", "items.0.institutions.0.title": "《工程项目监管办法》",
            "items.1.__row": "1", "items.1.common_problem_id": str(cps[1]), "items.1.status": "ongoing",
            "items.1.measures.0.__row": "1", "items.1.measures.0.description": "合同逐份审核",
            "items.1.measures.0.deadline": "2027-03-31"}
    r = pages.post(f"/tasks/{task_id}", form)
    assert r.status_code == 422  # the second measure has no deadline: renumbered, the message is beside it
    html = r.get_data(as_text=True)
    assert re.search(r'id="f-items-0-measures-1-deadline".*?请输入有效日期', html, re.DOTALL)
    assert 'value="约谈项目负责人"' in html or "约谈项目负责人</textarea>" in html
    form["items.0.measures.2.deadline"] = "2027-02-28"
    r = pages.post(f"/tasks/{task_id}", form)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    with ctx.db.read() as s:
        items = s.scalars(select(RectificationItem).where(
            RectificationItem.case_id == case_of(ctx, round_id, d.units[2]).id).order_by(RectificationItem.id)).all()
        assert [(i.status, [m.description for m in i.measures], [x.title for x in i.institutions]) for i in items] == [
            ("done", ["重新招标", "约谈项目负责人"], ["《工程项目监管办法》"]), ("ongoing", ["合同逐份审核"], [])]
        assert s.scalar(select(Measure.deadline).where(Measure.description == "约谈项目负责人")).isoformat() == "2027-02-28"


def test_evidence_upload_and_attest(pages, ctx, district):
    d = district
    round_id, cps = publish_round(ctx, d)
    complete(ctx, _liaison(d), "self_check", {"items": [
        {"common_problem_id": cps[0], "applicable": True, "problems_found": 1, "findings": "x"},
        {"common_problem_id": cps[1], "applicable": False, "reason": "无此业务", "problems_found": 0, "findings": "x"}]})
    case = case_of(ctx, round_id, d.units[2])
    pages.login(_liaison(d))
    rectify = open_task_id(ctx, _liaison(d), "rectify")
    html = pages.text(f"/tasks/{rectify}")
    assert "上传佐证材料" in html and 'data-upload' in html
    token = pages.token(f"/tasks/{rectify}")
    xhr = {"X-Requested-With": "XMLHttpRequest", "X-CSRFToken": token}
    r = pages.client.post(f"/cases/{case.id}/evidence", headers=xhr, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(b"%PDF-1.4 report"), "整改报告.pdf")})
    assert r.status_code == 201, r.get_data(as_text=True)
    fragment = r.get_data(as_text=True)
    import hashlib

    assert hashlib.sha256(b"%PDF-1.4 report").hexdigest() in fragment and "整改报告.pdf" in fragment
    r = pages.client.post(f"/cases/{case.id}/evidence", headers=xhr, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(b"MZ not a pdf"), "x.exe")})
    assert r.status_code == 422 and "不接受此类型的文件" in r.get_data(as_text=True)
    r = pages.client.post(f"/cases/{case.id}/evidence", headers={"X-Requested-With": "XMLHttpRequest"},
                          content_type="multipart/form-data", data={"file": (io.BytesIO(b"%PDF-"), "a.pdf")})
    assert r.status_code == 400, "an upload without the CSRF header is refused"
    # without script the same endpoint takes a plain post and returns to the page
    r = pages.post(f"/cases/{case.id}/evidence", {"file": (io.BytesIO(b"\x89PNG\r\n\x1a\nimg"), "现场照片.png"),
                                                 "next": f"/tasks/{rectify}"}, content_type="multipart/form-data")
    # ... at the new file's row, which takes the focus
    assert r.status_code == 302 and re.search(rf"/tasks/{rectify}#evidence-file-\d+$", r.headers["Location"])
    html = pages.text(f"/tasks/{rectify}")
    assert "现场照片.png" in html and "已上传：现场照片.png" in html
    assert f'id="{r.headers["Location"].split("#")[1]}"' in html
    with ctx.db.read() as s:
        files = s.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)).all()
        assert len(files) == 2
    download = pages.get(f"/evidence/{files[0].id}")
    assert download.data == b"%PDF-1.4 report" and download.headers["Content-Disposition"].startswith("attachment")
    assert f"/evidence/{files[0].id}" in html, "the list links each file for download"
    complete(ctx, _liaison(d), "rectify", {"items": [
        {"common_problem_id": cps[0], "status": "done", "institutions": [],
         "measures": [{"description": "重新招标", "deadline": "2027-01-31"}]}]})

    # another unit cannot fetch the file
    pages.post("/logout")
    pages.login(f"{d.codes[d.units[3]].lower()}_liaison")
    assert pages.get(f"/evidence/{files[0].id}").status_code == 404
    # the head attests: the box must be ticked
    pages.post("/logout")
    pages.login(_head(d))
    attest = open_task_id(ctx, _head(d), "attest_and_file")
    html = pages.text(f"/tasks/{attest}")
    assert "整改报告.pdf" in html and "本人承诺" in html  # the case so far, beside the form
    r = pages.post(f"/tasks/{attest}", {"comment": "请审核"})
    assert r.status_code == 422 and re.search(r'id="f-attest".*?请勾选此项', r.get_data(as_text=True), re.DOTALL)
    assert "请审核" in r.get_data(as_text=True)
    r = pages.post(f"/tasks/{attest}", {"attest": "true", "comment": "请审核"})
    assert r.status_code == 302
    assert case_of(ctx, round_id, d.units[2]).status == "filed"

    # the office reviews with a yes/no choice and closes the case
    pages.post("/logout")
    pages.login("office1")
    review = open_task_id(ctx, "office1", "review_filing", d.units[2])
    html = pages.text(f"/tasks/{review}")
    assert 'name="accepted" value="true"' in html and "审核通过（销号）" in html
    r = pages.post(f"/tasks/{review}", {"accepted": "true", "comment": "同意销号", "confirmed": "true"})
    assert r.status_code == 302
    assert case_of(ctx, round_id, d.units[2]).status == "closed"
    html = pages.text(f"/cases/{case.id}")
    assert "已销号" in html and "同意销号" in html


def _deploy_renamed(ctx, key: str, renames: dict[str, str]) -> None:
    """A designer's new version of a shipped model whose elements have new ids (steps unchanged)."""
    xml = (BPMN_DIR / f"{key}.bpmn").read_text(encoding="utf-8")
    for old, new in renames.items():
        xml = re.sub(rf'\b(id|sourceRef|targetRef|attachedToRef|bpmnElement)="{old}"', rf'\1="{new}"', xml)
        xml = xml.replace(f">{old}<", f">{new}<")
    as_user(ctx, "designer1", lambda s, p: designs.deploy(ctx, s, p, xml.encode())[:2])


def _task_of_step(ctx, username: str, step: str) -> str:
    p = principal(ctx, username)
    with ctx.db.read() as s:
        rows, _ = tasks.list_open(s, p, step=step)
    assert rows and rows[0].bpmn_id.startswith("renamed_"), [r.bpmn_id for r in rows]
    return rows[0].id


def test_pages_follow_the_declared_step_not_the_element_id(pages, ctx, district):
    """The pre-filled rows, the evidence upload and the round's own pages go by the step a task's
    element declares, so a designer's renamed element keeps its page."""
    d = district
    _deploy_renamed(ctx, "unit_rectification", {"self_check": "renamed_self_check", "rectify": "renamed_rectify"})
    _, cps = publish_round(ctx, d)
    pages.login(_liaison(d))
    self_check = _task_of_step(ctx, _liaison(d), "self_check")
    html = pages.text(f"/tasks/{self_check}")
    assert f'name="items.1.common_problem_id" value="{cps[1]}"' in html
    as_user(ctx, _liaison(d), lambda s, p: tasks.complete(ctx, s, p, self_check, {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "x"} for cp in cps]}))
    html = pages.text(f"/tasks/{_task_of_step(ctx, _liaison(d), 'rectify')}")
    assert 'name="items.1.measures.0.description"' in html
    assert "上传佐证材料" in html and "data-upload" in html
    pages.post("/logout")

    _deploy_renamed(ctx, "inspection_round", {"record_findings": "renamed_record_findings"})
    round_id = start_round(ctx, d, "区委第二轮巡察")
    findings = _task_of_step(ctx, "inspector0", "record_findings")
    pages.login("inspector0")
    assert f"/rounds/{round_id}/findings" in pages.text("/inbox")
    assert pages.get(f"/tasks/{findings}").headers["Location"].endswith(f"/rounds/{round_id}/findings")
    assert f"/tasks/{findings}" in pages.text(f"/rounds/{round_id}/findings")  # its finish button


def test_task_forms_in_english(pages, ctx, district):
    d = district
    publish_round(ctx, d)
    pages.login(_liaison(d))
    pages.post("/lang", {"lang": "en"})
    html = pages.text(f"/tasks/{open_task_id(ctx, _liaison(d), 'self_check')}")
    assert "Applies to this unit" in html and "Problems found" in html and "Submit and complete" in html


def test_someone_elses_task_is_view_only_and_cannot_be_completed(pages, ctx, district):
    d = district
    publish_round(ctx, d)
    task_id = open_task_id(ctx, _liaison(d), "self_check")
    pages.login("office1")  # the office sees every unit's task but does not do the unit's work
    html = pages.text(f"/tasks/{task_id}")
    assert "不由您办理" in html and "提交并办结" not in html
    r = pages.post(f"/tasks/{task_id}", {})
    assert r.status_code == 403 and "没有权限" in r.get_data(as_text=True)


# ------------------------------------------------------------------ the round's own pages
def test_findings_page_records_problems_and_clues_then_finishes(pages, ctx, district):
    d = district
    round_id = start_round(ctx, d)
    pages.login("inspector0")
    html = pages.text("/inbox")
    assert f"/rounds/{round_id}/findings" in html  # the inbox links to the page made for the work
    html = pages.text(f"/rounds/{round_id}/findings")
    assert "记录问题" in html and "登记问题线索" in html and "完成记录" in html
    r = pages.post(f"/rounds/{round_id}/problems", {"unit_id": str(d.units[0]), "category": "",
                                                    "source": "audit", "description": "审计发现资金挪用"})
    assert r.status_code == 422 and "此项必填" in r.get_data(as_text=True)
    assert "审计发现资金挪用" in r.get_data(as_text=True)
    r = pages.post(f"/rounds/{round_id}/problems", {"unit_id": str(d.units[0]), "category": "财务管理",
                                                    "source": "audit", "description": "审计发现资金挪用"})
    assert r.status_code == 302
    r = pages.post(f"/rounds/{round_id}/clues", {"unit_id": str(d.units[1]), "summary": "干部收受礼金",
                                                 "content": "群众举报某干部收受礼金"})
    assert r.status_code == 302
    html = pages.text(f"/rounds/{round_id}/findings")
    assert "审计发现资金挪用" in html and "群众举报某干部收受礼金" in html, "the registering inspector reads it"
    pages.post("/logout")
    pages.login("office1")
    html = pages.text(f"/rounds/{round_id}/findings")
    assert "干部收受礼金" in html, "the office sees the clue's summary"
    assert "群众举报某干部收受礼金" not in html, "a clue's content is not for the office"
    pages.post("/logout")
    pages.login("inspector0")
    with ctx.db.read() as s:
        assert s.scalar(select(Problem.source).where(Problem.round_id == round_id)) == "audit"
        assert s.scalar(select(Clue.content).where(Clue.round_id == round_id)) == "群众举报某干部收受礼金"
    task_id = open_task_id(ctx, "inspector0", "record_findings")
    assert pages.get(f"/tasks/{task_id}").headers["Location"].endswith(f"/rounds/{round_id}/findings")
    r = pages.post(f"/tasks/{task_id}", {})
    assert r.status_code == 302
    html = pages.text(f"/rounds/{round_id}/findings")
    assert "当前没有由您办理" in html
    # an inspector of another round is not shown this one
    pages.post("/logout")
    pages.login("inspector1")
    assert pages.get(f"/rounds/{round_id}/findings").status_code == 404


def test_distillation_page_groups_problems_and_previews_recipients(pages, ctx, district):
    d = district
    round_id = start_round(ctx, d)
    problems = record_problems(ctx, d, round_id)
    complete(ctx, "inspector0", "record_findings", {})
    pages.login("office1")
    html = pages.text(f"/rounds/{round_id}/distill")
    assert "待归并的问题（3）" in html and "工程项目未按规定公开招标" in html
    assert "6 个单位对照自查" in html and "2 位分管区领导" in html and "0 个职能部门收到巡察建议书" in html
    # choosing a department refreshes the preview (htmx)
    fragment = pages.get(f"/rounds/{round_id}/distill/preview?responsible_department_id={d.departments[1]}",
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "1 个职能部门收到巡察建议书" in fragment and "单位1" in fragment and "（新增）" in fragment
    # finishing with an empty list is refused with the reason, on the page
    task_id = open_task_id(ctx, "office1", "distill_list")
    r = pages.post(f"/tasks/{task_id}", {}, follow_redirects=True)
    assert "请至少提炼一个共性问题后再办结" in r.get_data(as_text=True)
    r = pages.post(f"/rounds/{round_id}/common-problems", [
        ("title", "工程项目建设监管不严"), ("category", "工程建设"), ("description", "招标不规范"),
        ("responsible_department_id", str(d.departments[0])),
        ("problem_ids", str(problems[0])), ("problem_ids", str(problems[2]))])
    assert r.status_code == 302
    with ctx.db.read() as s:
        cp = s.scalar(select(CommonProblem).where(CommonProblem.round_id == round_id))
        grouped = s.scalars(select(Problem.id).where(Problem.common_problem_id == cp.id).order_by(Problem.id)).all()
    assert cp.responsible_department_id == d.departments[0] and grouped == [problems[0], problems[2]]
    html = pages.text(f"/rounds/{round_id}/distill")
    assert "待归并的问题（1）" in html and "1 个职能部门收到巡察建议书" in html
    r = pages.post(f"/rounds/{round_id}/common-problems", {"title": "", "category": "x",
                                                           "responsible_department_id": str(d.units[4])})
    assert r.status_code == 422
    r = pages.post(f"/tasks/{task_id}", {})
    assert r.status_code == 302
    # the leading group approves on a generated form, with the list beside it
    pages.post("/logout")
    pages.login("leading1")
    approve = open_task_id(ctx, "leading1", "approve_list")
    html = pages.text(f"/tasks/{approve}")
    assert "批准清单" in html and "工程项目建设监管不严" in html
    assert pages.post(f"/tasks/{approve}", {"approved": "true", "confirmed": "true"}).status_code == 302
    jobs.run_pending(ctx)
    assert case_of(ctx, round_id, d.units[0]) is not None


def test_rounds_list(pages, ctx, district):
    round_id = start_round(ctx, district)
    pages.login("office1")
    html = pages.text("/rounds")
    assert "区委第一轮巡察" in html and f"/rounds/{round_id}/distill" in html
    pages.post("/logout")
    pages.login(_liaison(district))
    assert pages.get("/rounds").status_code == 403
    assert pages.get(f"/rounds/{round_id}/distill").status_code == 403
