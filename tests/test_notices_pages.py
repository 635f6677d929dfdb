"""The pages of the message centre, the leaders' notices, the departments' cases, and 催办 and
回头看 on the case page, through the test client as each role."""
from __future__ import annotations

import re

from sqlalchemy import select
from support.api import liaison, publish_round
from support.notices import govern, kinds, notices, pages_as, unread

from service import notices as message_centre
from service.models import Case, CaseStatus, LeaderNotification


def _badge(html: str) -> str:
    match = re.search(r'class="notices-link"[^>]*aria-label="([^"]+)"', html)
    assert match, "the top bar links to the messages"
    return match.group(1)


def test_the_top_bar_counts_unread_messages_and_the_page_lists_and_reads_them(app, api, district):
    pages = pages_as(app, "u002_liaison")
    assert _badge(pages.text("/inbox")) == "消息，没有未读"
    publish_round(api, district)
    html = pages.text("/inbox")
    assert _badge(html) == "消息，2 条未读" and 'id="unread-notices"' in html

    html = pages.text("/notices")
    assert "新待办" in html and "清单已发布" in html and "全部标为已读" in html
    first = notices(liaison(api, district, 2))[0]
    r = pages.get(f"/notices/{first['id']}/open")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/cases/{first['case_id']}")
    assert _badge(pages.text("/inbox")) == "消息，1 条未读"
    r = pages.post("/notices/read-all", token_from="/notices")
    assert r.status_code == 302
    assert _badge(pages.text("/notices")) == "消息，没有未读" and "全部标为已读" not in pages.text("/notices")
    assert pages.get("/notices/999999/open").status_code == 404


def test_a_leader_signs_for_a_notice_with_an_instruction_that_the_office_and_unit_read(ctx, app, api, district):
    publish_round(api, district)
    with ctx.db.read() as s:
        case = s.scalar(select(Case).where(Case.unit_id == district.units[2]))
    # a red warning as the timers leave it (tests/test_notices.py moves the clock for real)
    ctx.db.transaction(lambda s: message_centre.on_warning(ctx, s, s.get(Case, case.id), "red"))
    with ctx.db.read() as s:
        red = s.scalar(select(LeaderNotification).where(LeaderNotification.kind == "red_warning"))
    pages = pages_as(app, "leader0")
    html = pages.text("/notifications")
    assert "分管单位通知" in html and "红色预警" in html and "清单已发布" in html and "签收" in html
    assert 'href="/dashboard/"' in html or "分管单位整改进度" in html
    r = pages.post(f"/notifications/{red.id}/acknowledge", {"instruction": "请主要负责人亲自督办。"},
                   token_from="/notifications")
    assert r.status_code == 302
    html = pages.text("/notifications")
    assert "已于" in html and "请主要负责人亲自督办。" in html
    r = pages.post(f"/notifications/{red.id}/acknowledge", {"instruction": "再签"}, token_from="/notifications")
    assert r.status_code == 302 and "已签收过" in pages.text("/notifications")

    for who in ("office1", "u002_liaison"):
        pages = pages_as(app, who)
        html = pages.text(f"/cases/{case.id}")
        assert "领导批示" in html and "请主要负责人亲自督办。" in html, who
    pages = pages_as(app, "u004_liaison")
    assert pages.get("/notifications").status_code == 403
    pages = pages_as(app, "office1")
    assert pages.get("/notifications").status_code == 200, "the office follows the leaders' notices"


def test_the_office_urges_from_the_case_page_and_rechecks_a_closed_case_after_confirming(ctx, app, api, district):
    publish_round(api, district)
    with ctx.db.read() as s:
        case = s.scalar(select(Case).where(Case.unit_id == district.units[2]))
    pages = pages_as(app, "office1")
    html = pages.text(f"/cases/{case.id}")
    assert "督办记录" in html and "催办单位" in html and "回头看…" not in html
    r = pages.post(f"/cases/{case.id}/urge", {"comment": " "}, token_from=f"/cases/{case.id}")
    assert r.status_code == 422 and "请填写内容" in r.get_data(as_text=True) and 'id="form-errors"' in r.get_data(as_text=True)
    r = pages.post(f"/cases/{case.id}/urge", {"comment": "请加快自查进度。"}, token_from=f"/cases/{case.id}")
    assert r.status_code == 302
    assert "请加快自查进度。" in pages.text(f"/cases/{case.id}")
    assert "urge" in kinds(liaison(api, district, 2)) and unread(api.as_("u002_head")) == 2

    # the unit sees the urge on its page, and has no urge button
    pages = pages_as(app, "u002_liaison")
    html = pages.text(f"/cases/{case.id}")
    assert "请加快自查进度。" in html and 'action="/cases/%d/urge"' % case.id not in html
    assert pages.post(f"/cases/{case.id}/urge", {"comment": "x"}, token_from=f"/cases/{case.id}").status_code == 403

    # 回头看 of a closed case, after a confirmation
    ctx.db.transaction(lambda s: setattr(s.get(Case, case.id), "status", CaseStatus.CLOSED))
    pages = pages_as(app, "office1")
    html = pages.text(f"/cases/{case.id}")
    assert "回头看…" in html and "催办单位" not in html
    html = pages.text(f"/cases/{case.id}/recheck")
    assert "启动回头看" in html and "取消" in html
    r = pages.post(f"/cases/{case.id}/recheck", {"comment": ""}, token_from=f"/cases/{case.id}/recheck")
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = pages.post(f"/cases/{case.id}/recheck", {"comment": "群众反映问题反弹"}, token_from=f"/cases/{case.id}/recheck")
    assert r.status_code == 302
    with ctx.db.read() as s:
        assert s.get(Case, case.id).status == CaseStatus.RECTIFYING
    assert "群众反映问题反弹" in pages.text(f"/cases/{case.id}")


def test_a_department_lists_the_cases_it_governs_and_comments_for_the_unit(ctx, app, api, district):
    d = district
    govern(ctx, d.departments[0], [d.units[2], d.units[3]])
    publish_round(api, d)
    with ctx.db.read() as s:
        ids = {c.unit_id: c.id for c in s.scalars(select(Case))}
    pages = pages_as(app, "u000_liaison")
    html = pages.text("/inbox")
    assert 'href="/governed-cases"' in html, "the department's nav links to its cases"
    html = pages.text("/governed-cases")
    assert "单位2" in html and "单位3" in html and "单位4" not in html
    assert pages.get(f"/cases/{ids[d.units[4]]}").status_code == 403
    r = pages.post(f"/cases/{ids[d.units[2]]}/comments", {"comment": ""}, token_from=f"/cases/{ids[d.units[2]]}")
    assert r.status_code == 422
    r = pages.post(f"/cases/{ids[d.units[2]]}/comments", {"comment": "请对照行业规范整改。"},
                   token_from=f"/cases/{ids[d.units[2]]}")
    assert r.status_code == 302
    pages = pages_as(app, "u002_liaison")
    html = pages.text(f"/cases/{ids[d.units[2]]}")
    assert "职能部门意见" in html and "请对照行业规范整改。" in html and 'name="comment"' not in html
    assert pages.get("/governed-cases").status_code == 403
    assert 'href="/governed-cases"' not in pages.text("/inbox")
