"""Supervision of an overdue case in Chromium: the office chooses a tracking letter on its task page,
the unit head answers it on a phone, and the case page keeps both steps."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from support.browser import PHONE, assert_translated
from support.rounds import case_of, open_task_id, publish_round

from service.timers import run_due_timers


def test_the_office_sends_a_tracking_letter_and_the_head_answers_it_on_a_phone(
        live_app, live_server, new_context, guard, sign_in, shoot, clock):
    ctx, d = live_app.extensions["rectiflow"], live_app.district
    round_id, _ = publish_round(ctx, d)
    case = case_of(ctx, round_id, d.units[2])
    clock.move_to(case.due_at + timedelta(minutes=5))
    run_due_timers(ctx)
    head = f"{d.codes[d.units[2]].lower()}_head"

    page = guard.watch(new_context().new_page())
    sign_in(page, "office1", f"/tasks/{open_task_id(ctx, 'office1', 'track_supervision', d.units[2])}")
    page.get_by_label("跟踪督办函").check()
    page.get_by_role("button", name=re.compile("提交|完成")).click()
    expect(page.locator("body")).to_contain_text("请填写督办函的督办要求")
    shoot(page, "tracking-choice-refused", full_page=True)
    page.get_by_label("督办要求（督办函）").fill("五日内书面报告整改进展")
    page.get_by_role("button", name=re.compile("提交|完成")).click()
    expect(page.locator(".flash")).to_contain_text("跟踪督办")
    assert_translated(page)

    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, head)
    phone.get_by_role("link", name=re.compile("答复督办函")).first.click()
    expect(phone.locator("#evidence-file")).to_be_attached()
    phone.get_by_label(re.compile("答复内容")).fill("已完成制度修订，正在逐项整改")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
    shoot(phone, "tracking-reply-phone", full_page=True)
    phone.get_by_role("button", name=re.compile("提交|完成")).click()
    expect(phone.locator(".flash")).to_contain_text("答复督办函")

    sign_in(page, "office1", f"/cases/{case.id}")
    record = page.locator("#case-history").locator("xpath=..")
    expect(record).to_contain_text("跟踪督办函")
    expect(record).to_contain_text("已答复")
    expect(record).to_contain_text("督办函答复")
    shoot(page, "case-supervision-record", full_page=True)

    # the instance view draws the supervision cycle, the unit's answer done and the office's next choice open
    page.goto(f"{live_server}/instances/{case.process_instance_id}")
    expect(page.locator("#rf-instance")).to_have_attribute("data-ready", "true")
    expect(page.locator('.djs-element.rf-active[data-element-id="track_supervision"]')).to_have_count(1)
    shoot(page, "supervision-instance-view", full_page=True)
