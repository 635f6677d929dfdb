"""The clue library, the pools and the audit findings as pages: the discipline commission reads a
clue's content in the library and on its hand-over tasks, the office only that it exists; the office
keeps the pools; the auditor registers audit findings and links them to problems (巡审结合)."""
from __future__ import annotations

import pytest
from support.pages import Pages
from support.rounds import as_user, complete, open_task_id, publish_round, start_round

from service import clues

SECRET = "群众举报某干部在工程验收中收受礼金五万元"


@pytest.fixture
def pages(client):
    return Pages(client)


@pytest.fixture
def clue_id(ctx, district):
    round_id = start_round(ctx, district)
    clue = as_user(ctx, "inspector0", lambda s, p: clues.register(ctx, s, p, round_id, district.units[1],
                                                                  "工程验收问题线索", SECRET))
    return clue.id


def test_discipline_reads_the_content_in_the_library_and_on_the_hand_over_tasks(pages, ctx, district, clue_id):
    complete(ctx, "office1", "approve_handover", {"approved": True})
    pages.login("discipline1")
    inbox = pages.text("/inbox")
    assert "问题线索库" in inbox and "/clues" in inbox  # the nav leads there
    html = pages.text("/clues")
    assert "工程验收问题线索" in html and SECRET in html and "已移交" in html
    html = pages.text(f"/clues/{clue_id}")
    assert SECRET in html and "单位1" in html and "流程图" in html
    assert SECRET in pages.text("/clues?status=handed_over")
    assert "没有符合条件的问题线索" in pages.text("/clues?status=disposed")
    task_id = open_task_id(ctx, "discipline1", "receive_clue")
    html = pages.text(f"/tasks/{task_id}")
    assert "工程验收问题线索" in html and SECRET in html and "单位1" in html


def test_the_office_sees_that_a_clue_exists_never_its_content(pages, ctx, district, clue_id):
    pages.login("office1")
    task_id = open_task_id(ctx, "office1", "approve_handover")
    html = pages.text(f"/tasks/{task_id}")
    assert "工程验收问题线索" in html and "单位1" in html and "待审批移交" in html
    assert SECRET not in html and "线索内容仅纪委监委可见" in html
    for path in ("/clues", f"/clues/{clue_id}", "/inbox"):
        html = pages.text(path)
        assert SECRET not in html, path
    assert "工程验收问题线索" in pages.text("/clues")
    assert "流程图" not in pages.text(f"/clues/{clue_id}")  # the hand-over's diagram is the commission's
    r = pages.post(f"/tasks/{task_id}", {"approved": "true", "comment": "同意"})
    assert r.status_code == 302
    assert SECRET not in pages.text(f"/clues/{clue_id}") and "已移交" in pages.text(f"/clues/{clue_id}")


def test_the_clue_library_is_closed_to_everyone_else(pages, district, clue_id):
    for username in ("leading1", "u000_liaison", "admin", "shenji1", "auditor1"):
        pages.login(username)
        assert "问题线索库" not in pages.text("/inbox")
        assert pages.get("/clues").status_code == 403, username
        assert pages.get(f"/clues/{clue_id}").status_code in (403, 404), username
        pages.post("/logout")


def test_the_office_keeps_the_inspector_pool_and_its_conflicts(pages, ctx, district):
    pages.login("office1")
    inbox = pages.text("/inbox")
    assert "人才库" in inbox and "/pools/inspectors" in inbox
    html = pages.text("/pools/inspectors")
    assert "巡察员0" in html and "编辑回避单位" in html
    inspector = district.inspectors[0]
    assert "单位3" in pages.text(f"/pools/inspectors/{inspector}")
    r = pages.post(f"/pools/inspectors/{inspector}", [
        ("home_unit_id", str(district.units[0])), ("conflict_unit_ids", str(district.units[3])),
        ("specialties", "财务审计、工程"), ("note", "")])
    assert r.status_code == 302
    html = pages.text("/pools/inspectors")
    assert "单位0" in html and "单位3" in html and "财务审计" in html
    assert "新增回避单位：单位3" in pages.text(f"/pools/inspectors/{inspector}")
    r = pages.post(f"/pools/inspectors/{inspector}", [("conflict_unit_ids", "999999")])
    assert r.status_code == 422 and "未知的单位" in r.get_data(as_text=True)
    pages.post("/logout")
    for username in ("discipline1", "leading1", "inspector0", "shenji1"):
        pages.login(username)
        assert "/pools/inspectors" not in pages.text("/inbox")
        assert pages.get("/pools/inspectors").status_code == 403, username
        assert pages.get("/pools/experts").status_code == 403, username
        pages.post("/logout")


def test_the_office_adds_experts_and_assigns_them_to_a_round(pages, ctx, district):
    round_id, _ = publish_round(ctx, district)
    pages.login("office1")
    r = pages.post("/pools/experts", {"name": "", "organisation": "区审计局"})
    assert r.status_code == 422 and "此项必填" in r.get_data(as_text=True)
    r = pages.post("/pools/experts", {"name": "陈会计师", "organisation": "区审计局", "specialties": "财务审计，工程结算",
                                      "contact": ""})
    assert r.status_code == 302
    html = pages.text("/pools/experts")
    assert "陈会计师" in html and "工程结算" in html and "尚未分配" in html
    from service.models import Expert
    with ctx.db.read() as s:
        expert_id = s.query(Expert.id).filter_by(name="陈会计师").scalar()
    r = pages.post(f"/pools/experts/{expert_id}/rounds", {"round_id": str(round_id)}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "专家已分配到该巡察轮次" in html and "区委第一轮巡察" in html and "撤出" in html
    r = pages.post(f"/pools/experts/{expert_id}/rounds/{round_id}/remove", {}, follow_redirects=True)
    assert "专家已撤出该巡察轮次" in r.get_data(as_text=True)


def test_the_auditor_registers_a_finding_and_links_it_to_a_problem(pages, ctx, district):
    round_id, _ = publish_round(ctx, district)
    pages.login("shenji1")
    inbox = pages.text("/inbox")
    assert "审计发现" in inbox and "/audit-findings" in inbox
    html = pages.text("/audit-findings")
    assert "登记审计发现" in html and "区委第一轮巡察" in html
    r = pages.post("/audit-findings", {"round_id": str(round_id), "unit_id": "", "title": "结算多付款"})
    assert r.status_code == 422 and "此项必填" in r.get_data(as_text=True)
    r = pages.post("/audit-findings", {"round_id": str(round_id), "unit_id": str(district.units[0]),
                                       "title": "工程结算多付工程款", "description": "多付约30万元",
                                       "audit_ref": "审计报告〔2026〕3号"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "工程结算多付工程款" in html and "印证的问题" in html and "工程项目未按规定公开招标" in html
    from service.models import AuditFinding, Problem
    with ctx.db.read() as s:
        finding = s.query(AuditFinding).one()
        problem_id = s.query(Problem.id).filter_by(round_id=round_id, unit_id=district.units[0]).scalar()
    r = pages.post(f"/audit-findings/{finding.id}/link", {"problem_id": str(problem_id)}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "审计发现已关联到问题" in html and "已关联问题：工程项目未按规定公开招标" in html
    pages.post("/logout")
    pages.login("leading1")
    html = pages.text("/audit-findings")
    assert "工程结算多付工程款" in html and "add-finding-title" not in html
    pages.post("/logout")
    for username in ("discipline1", "u000_liaison", "inspector0", "admin"):
        pages.login(username)
        assert pages.get("/audit-findings").status_code == 403, username
        pages.post("/logout")
