"""A publication that stopped, in Chromium: the office reads why on the round's publication page,
puts the cause right, takes it up again from there, and sees every unit get its case."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select
from support.browser import PHONE, assert_translated
from support.diagrams import with_script
from support.rounds import publish_round

from service import jobs
from service.models import Case, Job


def test_the_office_takes_a_stopped_publication_up_again(live_app, live_server, new_context, guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    broken = with_script("unit_rectification", "init_case", "x = 1 / 0")
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, broken, deployed_by="designer1"))
    round_id, _ = publish_round(ctx, d)  # the job runs, and stops at every attempt
    with ctx.db.read() as s:
        assert s.scalar(select(Job.state).where(Job.round_id == round_id)) == "failed"
        assert s.scalar(select(func.count()).select_from(Case).where(Case.round_id == round_id)) == 0

    page = guard.watch(new_context().new_page())
    sign_in(page, "office1")
    page.goto(f"{live_server}/rounds/{round_id}/publication")
    expect(page.locator(".publication-state")).to_contain_text("发布中断")
    expect(page.get_by_text("division by zero")).to_be_hidden()  # the engine's words, folded away
    retry = page.get_by_role("button", name="重新启动发布")
    expect(retry).to_be_visible()
    assert_translated(page)
    shoot(page, "publication-stopped", full_page=True)

    # the designer puts the model right (a new version); the office takes the publication up again
    fixed = with_script("unit_rectification", "init_case", "self_checked = recheck\naccepted = False\nwarned = {}\n# 修正")
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, fixed, deployed_by="designer1"))
    retry.click()
    expect(page.get_by_text("发布继续进行")).to_be_visible()
    jobs.run_pending(ctx)  # what the service's background thread does
    page.reload()
    expect(page.locator(".publication-state")).to_contain_text("每个单位均已开启整改")
    expect(page.get_by_role("button", name="重新启动发布")).to_have_count(0)
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.round_id == round_id)) == len(d.units)

    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, "office1")
    phone.goto(f"{live_server}/rounds/{round_id}/publication")
    expect(phone.locator("#publication-bar")).to_be_visible()
    shoot(phone, "publication-taken-up-phone", full_page=True)
