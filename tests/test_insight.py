"""Insight: suggested common problems recover the office's own grouping, earlier common problems
like a title are found with their outcome, and a problem that comes back (问题反弹) is flagged."""
from __future__ import annotations

from sklearn.metrics import adjusted_rand_score
from support import insight as fixture
from support.api import publish_round
from support.followups import case_of, close_with_measures
from support.pages import session_login


def _labels(clusters: list[dict], problem_ids: list[int]) -> list[int]:
    """A label per problem: its suggestion's number, or one of its own when no suggestion holds it."""
    label = {pid: n for n, c in enumerate(clusters) for pid in c["problem_ids"]}
    return [label.get(pid, len(clusters) + i) for i, pid in enumerate(problem_ids)]


def test_suggestions_recover_the_hand_made_grouping_of_three_rounds(ctx, api, district, capsys):
    data = fixture.load()
    assert len(data["problems"]) >= 120 and len({p["round"] for p in data["problems"]}) == 3
    ids = fixture.add_units(ctx, data)
    rounds, groups = fixture.record_rounds(api, ctx, district, data, ids)
    office = api.as_("office1")

    r = office.get(f"/rounds/{rounds[-1]}/suggestions", query_string={"include_earlier": "true"})
    assert r.status_code == 200, r.get_json()
    clusters = r.get_json()["clusters"]
    problem_ids = sorted(groups)
    score = adjusted_rand_score([groups[pid] for pid in problem_ids], _labels(clusters, problem_ids))
    with capsys.disabled():
        print(f"\nadjusted Rand index of the suggestions against the hand-made grouping: {score:.3f} "
              f"({len(clusters)} suggestions, {len(problem_ids)} problems, {len(set(groups.values()))} groups)")
    assert score >= 0.6

    # deterministic: the same data gives the same suggestions
    again = office.get(f"/rounds/{rounds[-1]}/suggestions", query_string={"include_earlier": "true"}).get_json()
    assert again["clusters"] == clusters

    # each suggestion names its units, their industries, a title of its own terms and a department
    units = {u["id"]: u for u in office.get("/units", query_string={"limit": 500}).get_json()["items"]}
    service = max(clusters, key=lambda c: sum(groups[p] == "service" for p in c["problem_ids"]))
    assert "服务" in service["title"]
    assert set(service["industries"]) == {units[u]["industry"] for u in service["unit_ids"]}

    # this round's problems alone: only problems of the round are suggested
    own = office.get(f"/rounds/{rounds[-1]}/suggestions").get_json()["clusters"]
    third = {pid for pid in groups if office.get(f"/problems/{pid}").get_json()["round_id"] == rounds[-1]}
    assert own and all(set(c["problem_ids"]) <= third for c in own)

    # the leading group reads them; a unit does not
    assert api.as_("leading1").get(f"/rounds/{rounds[-1]}/suggestions").status_code == 200
    unit = api.as_(f"{district.codes[district.units[2]].lower()}_liaison")
    assert unit.get(f"/rounds/{rounds[-1]}/suggestions").get_json()["code"] == "role_required"


def test_earlier_common_problems_propose_the_department_and_show_their_outcome(ctx, api, district):
    data = fixture.load()
    ids = fixture.add_units(ctx, data)
    rounds, groups = fixture.record_rounds(api, ctx, district, data, ids)
    office = api.as_("office1")
    # the first round's list: the office grouped its car problems under the department for official cars
    first = [pid for pid in groups if office.get(f"/problems/{pid}").get_json()["round_id"] == rounds[0]]
    cars = [pid for pid in first if groups[pid] == "car"]
    r = office.post(f"/rounds/{rounds[0]}/common-problems", json={
        "title": "公务用车管理不规范", "category": "机关事务", "responsible_department_id": ids["D04"],
        "problem_ids": cars})
    assert r.status_code == 201, r.get_json()
    common_id = r.get_json()["id"]

    clusters = office.get(f"/rounds/{rounds[1]}/suggestions").get_json()["clusters"]
    car = max(clusters, key=lambda c: sum(groups[p] == "car" for p in c["problem_ids"]))
    assert car["department_id"] == ids["D04"]
    assert common_id in car["similar_common_problem_ids"]

    found = office.get(f"/rounds/{rounds[2]}/similar-common-problems", query_string={"title": "公车私用管理不严"})
    items = found.get_json()["items"]
    assert items[0]["id"] == common_id and items[0]["title"] == "公务用车管理不规范"
    assert {"units", "units_closed", "measures", "institutions", "closed"} <= set(items[0])
    assert office.get(f"/rounds/{rounds[2]}/similar-common-problems",
                      query_string={"title": "党费收缴"}).get_json()["items"] == []


def test_a_problem_like_one_its_unit_closed_recurs_with_the_earlier_case_linked(ctx, api, district, client):
    office, inspector = api.as_("office1"), api.as_("inspector0")
    first = publish_round(api, district)
    earlier = close_with_measures(api, district, first, 0, [("建立合同法律审核制度", "2026-12-31")])
    assert case_of(api, district, first, 0)["status"] == "closed"
    first_problem = office.get(f"/rounds/{first}").get_json()["problems"][0]["id"]

    second = office.post("/rounds", json={"name": "第二轮", "inspected_unit_ids": district.units[:2],
                                          "inspector_ids": district.inspectors[:1]}).get_json()["id"]

    def record(unit_index, text):
        r = inspector.post(f"/rounds/{second}/problems", json={"unit_id": district.units[unit_index],
                                                                "description": text, "category": "合同"})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    again = record(0, "合同签订前仍未经法律审核")
    other = record(0, "公务用车私用，派车登记不全")
    elsewhere = record(1, "合同签订前仍未经法律审核")  # a unit that closed nothing before
    assert again["recurring_of"] == earlier["id"] and again["recurrence"] == "similar"
    shown = office.get(f"/problems/{again['id']}").get_json()
    assert shown["recurring_of"] == earlier["id"]
    assert office.get(f"/problems/{other['id']}").get_json()["recurring_of"] is None
    assert office.get(f"/problems/{elsewhere['id']}").get_json()["recurring_of"] is None
    # the findings page marks it and links the earlier case
    session_login(client, ctx, "office1")
    html = client.get(f"/rounds/{second}/findings").get_data(as_text=True)
    assert html.count("tag-recurring") == 1 and f'href="/cases/{earlier["id"]}"' in html

    # by hand: 4 problems in all (1 in the first round, 3 in the second), 1 of them recurs
    assert office.get("/stats", query_string={"round_id": second}).get_json()["recurrence_rate"] == round(1 / 3, 4)
    assert office.get("/stats").get_json()["recurrence_rate"] == 0.25
    assert office.get("/stats", query_string={"round_id": first}).get_json()["recurrence_rate"] == 0.0

    # a follow-up re-check (回头看) finds the first round's problem again: it recurs, its case linked
    assert office.post(f"/cases/{earlier['id']}/recheck", json={"comment": "回头看发现合同仍未审核"}).status_code \
        in (200, 201)
    rechecked = office.get(f"/problems/{first_problem}").get_json()
    assert rechecked["recurring_of"] == earlier["id"] and rechecked["recurrence"] == "recheck"
    assert office.get("/stats").get_json()["recurrence_rate"] == 0.5

    # the dashboard: recurrence per round and unit, and per industry and department the root causes
    board = client.get("/dashboard/data.json", query_string={"round_id": ""}).get_json()
    by_round = {row["key"]: (row["problems"], row["recurring"]) for row in board["recurrence"]["by_round"]}
    assert by_round == {first: (1, 1), second: (3, 1)}
    by_unit = {row["key"]: (row["problems"], row["recurring"]) for row in board["recurrence"]["by_unit"]}
    assert by_unit == {district.units[0]: (3, 2), district.units[1]: (1, 0)}
    industries = {row["name"]: row for row in board["root_causes"]["industries"]}
    unit0_industry = "行业0"  # units 0 and 3 (support.district): unit 0's three problems, two recurring
    assert industries[unit0_industry]["common_problems"] == ["共性问题0"]
    assert industries[unit0_industry]["recurrence_rate"] == round(2 / 3, 4)
    assert industries[unit0_industry]["overdue_share"] == 0.0
    departments = {row["key"]: row for row in board["root_causes"]["departments"]}
    # the department leads 共性问题0, whose one problem a 回头看 found again
    assert departments[district.departments[0]]["recurrence_rate"] == 1.0
    assert departments[district.departments[0]]["units"] == len(district.units)

    # the rectification list marks the unit's row recurring
    rows = office.get("/lists/rectifications", query_string={"round_id": first}).get_json()["items"]
    mine = [row for row in rows if row["case_id"] == earlier["id"]]
    assert mine and all(row["recurring"] == "recurring" for row in mine)
    assert all(row["recurring"] == "" for row in rows if row["case_id"] != earlier["id"])

    # a unit reads its own problem's flag, not another unit's problem
    unit = api.as_(f"{district.codes[district.units[1]].lower()}_liaison")
    assert unit.get(f"/problems/{again['id']}").status_code == 404
