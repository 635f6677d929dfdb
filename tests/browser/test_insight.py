"""The office distils a list with the suggested groupings, in Chromium: it takes one suggestion up as
it is and merges two others, and each common problem added carries the problems it chose; the page
and the dashboard's recurrence and root causes are looked at on a desktop and on a phone."""
from __future__ import annotations

from playwright.sync_api import expect
from support.api import Api, publish_round
from support.browser import DESKTOP, PHONE, assert_translated

CARS = ("公务用车管理不规范，派车登记不全，存在公车私用的情况", "公车使用审批流于形式，公务用车派车登记缺失",
        "公务用车出车登记和行车记录不完整，公车私用时有发生")
CONTRACTS = ("政府合同管理不规范，部分合同未经法律顾问审核即签订", "合同签订前未经法律顾问审核，合同条款约定不明确",
             "合同审查把关不严，合同未经法律顾问审核")
SALVAGE = ("土地整备清拆残值处置不规范，残值物品未经评估即自行处置", "清拆残值处置未公开竞价，残值收入未入账",
           "清拆残值未登记造册，残值处置收入去向不明")


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "nothing wider than the screen"


def _round_with_problems(office, d, name) -> tuple[int, dict[str, list[int]]]:
    round_id = office.post("/rounds", json={"name": name, "inspected_unit_ids": d.units[:3],
                                            "inspector_ids": d.inspectors[:1]}).get_json()["id"]
    made: dict[str, list[int]] = {}
    for kind, texts in (("cars", CARS), ("contracts", CONTRACTS), ("salvage", SALVAGE)):
        for i, text in enumerate(texts):
            r = office.post(f"/rounds/{round_id}/problems", json={"unit_id": d.units[i], "description": text,
                                                                  "category": "巡察发现"})
            assert r.status_code == 201, r.get_json()
            made.setdefault(kind, []).append(r.get_json()["id"])
    return round_id, made


def test_the_office_accepts_one_suggestion_and_merges_two(live_app, live_server, new_context, guard, sign_in, shoot):
    d = live_app.district
    office = Api(live_app.test_client()).as_("office1")
    round_id, made = _round_with_problems(office, d, "建议归并轮次")
    page = guard.watch(new_context(viewport=DESKTOP).new_page())
    sign_in(page, "office1", f"/rounds/{round_id}/distill")
    suggestions = page.locator("#suggestions li.suggestion")
    expect(suggestions).to_have_count(3)
    assert_translated(page)
    shoot(page, "distill-suggestions-desktop", full_page=True)

    # take the suggestion of the car problems up as it is
    cars = suggestions.filter(has_text="公务用车").first
    cars.get_by_role("link", name="采用此建议").click()
    form = page.locator("form[aria-labelledby=cp-form-title]")
    expect(form.locator(".notice")).to_contain_text("已采用建议：勾选了 3 个问题")
    for pid in made["cars"]:
        expect(form.locator(f"input[name=problem_ids][value='{pid}']")).to_be_checked()
    expect(form.locator("#cp-title")).not_to_have_value("")
    expect(form.locator("#cp-category")).to_have_value("巡察发现")
    form.locator("#cp-responsible_department_id").select_option(str(d.departments[0]))
    form.locator("#cp-title").fill("公务用车管理不规范")
    form.get_by_role("button", name="加入清单").click()
    expect(page.locator("#list-title")).to_have_text("共性问题清单（1）")
    expect(page.locator("#suggestions li.suggestion")).to_have_count(2)  # the one taken up is grouped now

    # merge the other two into one common problem
    for kind in ("合同", "残值"):
        page.locator("#suggestions li.suggestion").filter(has_text=kind).first.get_by_role("checkbox").check()
    page.get_by_role("button", name="合并所勾选的建议").click()
    expect(form.locator(".notice")).to_contain_text("已合并建议：勾选了 6 个问题")
    form.locator("#cp-title").fill("合同和清拆残值管理不规范")
    form.locator("#cp-responsible_department_id").select_option(str(d.departments[1]))
    shoot(page, "distill-merged-desktop", full_page=True)
    form.get_by_role("button", name="加入清单").click()
    expect(page.locator("#list-title")).to_have_text("共性问题清单（2）")
    expect(page.locator("#suggestions")).to_contain_text("暂无建议")

    listed = {c["title"]: sorted(c["problem_ids"]) for c in office.get(f"/rounds/{round_id}").get_json()["common_problems"]}
    assert listed == {"公务用车管理不规范": sorted(made["cars"]),
                      "合同和清拆残值管理不规范": sorted(made["contracts"] + made["salvage"])}


def test_the_suggestions_and_the_dashboard_read_on_a_phone(live_app, live_server, new_context, guard, sign_in, shoot):
    d = live_app.district
    office = Api(live_app.test_client()).as_("office1")
    publish_round(Api(live_app.test_client()), d)  # a published list: the root causes have rows
    round_id, _made = _round_with_problems(office, d, "手机上的建议归并")
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = guard.watch(new_context(viewport=viewport).new_page())
        sign_in(page, "office1", f"/rounds/{round_id}/distill")
        expect(page.locator("#suggestions li.suggestion")).to_have_count(3)
        # the title typed finds no similar earlier common problem in a district without any
        page.locator("#cp-title").fill("公务用车管理")
        expect(page.locator("#cp-similar")).to_contain_text("往轮没有相似的共性问题")
        _fits(page, viewport["width"])
        shoot(page, f"distill-suggestions-{size}", full_page=True)
        page.goto(f"{live_server}/dashboard/?round_id=")
        expect(page.locator("#rf-h-recurrence")).to_be_visible()
        expect(page.locator("#rf-data-recurrence")).to_be_attached()
        expect(page.locator("#rf-causes-industry")).to_be_visible()
        _fits(page, viewport["width"])
        assert_translated(page)
        shoot(page, f"dashboard-insight-{size}", full_page=True)
