"""The office sends a message or a signal from the page beside the operators' list: it sees the names
that would reach a process now, what it sent reached, and a form that does not fit is shown again
with the problem beside its field, nothing sent. Units may not send."""
from __future__ import annotations

import re

import bpmn_snippets as B
from sqlalchemy import func, select
from support.pages import Pages

from service.models import AuditEntry
from workflows.tables import ProcessInstance


def _deploy(api, *models):
    for xml in models:
        r = api.as_("designer1").post("/process-models", data=xml, content_type="application/xml")
        assert r.status_code == 201, r.get_json()


def _instances(ctx) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(func.count(ProcessInstance.id)))


def _sent(ctx) -> list[tuple]:
    with ctx.db.read() as s:
        return [(e.actor, e.target, e.detail) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("message_sent", "signal_sent")), AuditEntry.outcome == "ok")
            .order_by(AuditEntry.id))]


def _form(name: str, **fields) -> list[tuple[str, str]]:
    rows = fields.pop("rows", [])
    return [("name", name), *fields.items(), *[(k, v) for key, value in rows
                                               for k, v in (("data_key", key), ("data_value", value))]]


def test_the_office_sends_a_message_and_a_signal_from_the_page_and_sees_what_they_reached(ctx, api, district):
    _deploy(api, B.reported(), B.watched(), B.alarmed())
    pages = Pages(api.client)
    pages.login("office1")
    assert 'href="/instances/events"' in pages.text("/instances/"), "the operators' page links the sending page"

    html = pages.text("/instances/events")
    for name in ("report_received", "watch_started", "flood_warning"):  # what the current models start with
        assert f"<code>{name}</code>" in html
    assert "evidence_received" not in html, "no instance waits for it yet"

    r = pages.post("/instances/events/message", _form("report_received", business_key="hotline:1",
                                                      rows=[("case_no", "A-1"), ("", "")]),
                   token_from="/instances/events", follow_redirects=True)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    (started,) = [int(i) for i in re.findall(r'href="/instances/(\d+)"', html)]
    assert "消息 report_received 已发送" in html and "送达 1 个流程实例" in html
    with ctx.db.read() as s:
        instance = s.get_one(ProcessInstance, started)
        assert instance.model_key == "outside_report" and instance.business_key == "hotline:1"
        assert ctx.engine.instance_data(s, instance)["report_received"] == {"case_no": "A-1"}
    # the result is shown once, and the receive task's message is now listed as awaited by one instance
    html = pages.text("/instances/events")
    assert "已发送" not in html
    assert re.search(r"<code>evidence_received</code></td>\s*<td[^>]*>1</td>", html)
    assert 'href="/instances/events?kind=message&amp;name=evidence_received#message-name"' in html
    assert 'value="evidence_received"' in pages.text("/instances/events?kind=message&name=evidence_received")

    # by the correlation key the receive task declares
    r = pages.post("/instances/events/message", _form("evidence_received", correlation_key="A-1"),
                   token_from="/instances/events", follow_redirects=True)
    assert f'href="/instances/{started}"' in r.get_data(as_text=True)

    r = pages.post("/instances/events/signal", _form("flood_warning", rows=[("level", "red")]),
                   token_from="/instances/events", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "信号 flood_warning 已发送" in html and "送达 1 个流程实例" in html  # it starts an assessment
    assert _sent(ctx) == [
        ("office1", "message:report_received", {"business_key": "hotline:1", "instances": [started]}),
        ("office1", "message:evidence_received", {"correlation_key": "A-1", "instances": [started]}),
        ("office1", "signal:flood_warning", {"instances": [started + 1]})]

    r = pages.post("/instances/events/signal", _form("nobody_listens"), token_from="/instances/events",
                   follow_redirects=True)
    assert "没有送达任何流程" in r.get_data(as_text=True)


def test_a_form_that_does_not_fit_or_reaches_nothing_is_shown_again_and_units_may_not_send(ctx, api, district):
    _deploy(api, B.reported())
    pages = Pages(api.client)
    pages.login("office1")
    before = _instances(ctx)
    cases = [
        (_form("", business_key="hotline:1"), "name", "必填"),
        (_form("report_received", business_key="x" * 201), "business_key", "200"),
        (_form("report_received", rows=[("", "A-1")]), "data.0", "请填写这个值所属的字段名"),
        (_form("report_received", rows=[("case_no", "A-1"), ("case_no", "A-2")]), "data.1", "字段名重复"),
        (_form("report_received", rows=[("case_no", "长" * 2001)]), "data.0", "2000"),
        (_form("evidence_received", business_key="hotline:9"), "name", "没有等待此消息的流程实例"),
    ]
    for form, field, words in cases:
        r = pages.post("/instances/events/message", form, token_from="/instances/events")
        html = r.get_data(as_text=True)
        assert r.status_code == 422, (form, r.status_code)
        error = re.search(rf'id="message-{re.escape(field)}-error">(.*?)</ul>', html, re.S)
        assert error and words in error.group(1), (form, field, html[:3000])
        link = re.search(r'class="error-summary".*?href="#([^"]+)"', html, re.S)
        assert link and f'id="{link.group(1)}"' in html, "the problems are listed above the forms, linked to their fields"
        if form[0][1]:
            assert f'value="{form[0][1]}"' in html, "what was typed is kept"
    assert _instances(ctx) == before
    assert _sent(ctx) == [("office1", "message:evidence_received", {"business_key": "hotline:9", "instances": []})], \
        "only the form that fitted was sent; it is recorded as reaching nothing"

    unit = Pages(api.client.application.test_client())
    unit.login(f"{district.codes[district.units[0]].lower()}_liaison")
    assert unit.get("/instances/events").status_code == 403
    r = unit.post("/instances/events/message", _form("report_received", business_key="hotline:1"),
                  token_from="/inbox")
    assert r.status_code == 403 and _instances(ctx) == before


def test_designers_and_the_administrator_reach_the_page_and_the_discipline_commission_does_not(api, district):
    for username, may in (("designer1", True), ("admin", True), ("discipline1", False)):
        pages = Pages(api.client.application.test_client())
        pages.login(username)
        linked = 'href="/instances/events"' in pages.text("/instances/")
        assert linked == may, username
        assert pages.get("/instances/events").status_code == (200 if may else 403), username
