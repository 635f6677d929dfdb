"""The office sends a message and a signal by hand from the operators' page, in Chromium on a desktop
and a phone: it picks a name from those in use, types the key and the data, and follows what it
reached to the instance."""
from __future__ import annotations

import bpmn_snippets as B
from playwright.sync_api import expect
from support.axe import violations
from support.browser import PHONE, assert_translated

from workflows.tables import ProcessInstance


def test_the_office_sends_a_message_and_a_signal_by_hand(live_app, live_server, new_context, guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    for xml in (B.reported(), B.alarmed()):
        ctx.db.transaction(lambda s, xml=xml: ctx.engine.deploy(s, xml, deployed_by="designer1"))

    for n, (viewport, suffix) in enumerate(((None, "desktop"), (PHONE, "phone"))):
        page = guard.watch((new_context(viewport=viewport) if viewport else new_context()).new_page())
        sign_in(page, "office1")
        page.get_by_role("navigation").get_by_role("link", name="流程运行", exact=True).click()
        page.get_by_role("link", name="发送消息或信号").click()
        expect(page.get_by_role("heading", name="发送消息或信号", level=1)).to_be_visible()
        awaited = page.locator(".rf-awaited-table tbody tr")
        expect(awaited.filter(has_text="report_received")).to_contain_text("消息")
        expect(awaited.filter(has_text="flood_warning")).to_contain_text("信号")
        assert_translated(page)
        assert violations(page) == []
        shoot(page, f"events-{suffix}", full_page=True)

        # a name from the list fills in the form; the key and one field of data are typed
        awaited.filter(has_text="report_received").get_by_role("link", name="填入表单").click()
        form = page.locator("form").filter(has=page.get_by_role("button", name="发送这条消息"))
        expect(form.get_by_label("消息名称")).to_have_value("report_received")
        form.get_by_label("业务键").fill(f"hotline:{n}")
        form.get_by_label("字段名 1", exact=True).fill("case_no")
        form.get_by_label("值 1", exact=True).fill(f"A-{n}")
        form.get_by_role("button", name="发送这条消息").click()
        result = page.get_by_role("status").filter(has_text="已发送")
        expect(result).to_contain_text("消息 report_received 已发送")
        expect(result).to_contain_text("送达 1 个流程实例")
        assert violations(page) == []
        shoot(page, f"events-sent-{suffix}", full_page=True)
        result.get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("流程实例")
        instance_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        with ctx.db.read() as s:
            started = s.get_one(ProcessInstance, instance_id)
            assert (started.model_key, started.business_key) == ("outside_report", f"hotline:{n}")
            assert ctx.engine.instance_data(s, started)["report_received"] == {"case_no": f"A-{n}"}

    # a value without its field name is refused beside the row, nothing sent; then a signal goes out
    page.goto(live_server + "/instances/events")
    form = page.locator("form").filter(has=page.get_by_role("button", name="发送这个信号"))
    form.get_by_label("信号名称").fill("flood_warning")
    form.get_by_label("值 1", exact=True).fill("red")
    form.get_by_role("button", name="发送这个信号").click()
    expect(page.get_by_role("alert")).to_contain_text("请填写这个值所属的字段名")
    expect(page.get_by_label("信号名称")).to_have_value("flood_warning")
    assert violations(page) == []
    shoot(page, "events-refused-phone", full_page=True)
    page.get_by_label("字段名 1", exact=True).last.fill("level")
    page.get_by_role("button", name="发送这个信号").click()
    expect(page.get_by_role("status").filter(has_text="已发送")).to_contain_text("信号 flood_warning 已发送")
