"""Camunda Modeler's camunda:assignee, candidateUsers, candidateGroups and priority decide who sees
and completes a user task, and in which order the inbox lists it."""
from __future__ import annotations

import bpmn_snippets as B
from sqlalchemy import select

from service import inbox
from service.auth import principal_for
from service.models import User

OK = {"ok": True}


def _task(tid: str, name: str, attributes: str) -> str:
    return (f'<bpmn:userTask id="{tid}" name="{name}" {attributes}><bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="ok" label="通过" type="boolean"/></camunda:formData></bpmn:extensionElements>'
            '</bpmn:userTask>')


def assigned_model() -> bytes:
    """Four tasks at once, each given out another way; all in the office's lane."""
    tasks = {
        "by_assignee": _task("by_assignee", "指定办理", 'camunda:assignee="${reviewer}" camunda:priority="1"'),
        "by_users": _task("by_users", "候选人办理", 'camunda:candidateUsers="discipline1, inspector1" '
                                                    'camunda:priority="5"'),
        "by_groups": _task("by_groups", "候选组办理", 'camunda:candidateGroups="巡察工作领导小组,discipline" '
                                                      'camunda:priority="${urgency}"'),
        "by_unit_group": _task("by_unit_group", "单位办理", 'camunda:candidateGroups="unit_liaison"'),
    }
    lane = "".join(f"<bpmn:flowNodeRef>{t}</bpmn:flowNodeRef>" for t in ["start", "split", *tasks, "join", "end"])
    flows = "".join(B.flow(f"in_{t}", "split", t) + B.flow(f"out_{t}", t, "join") for t in tasks)
    body = (f'<bpmn:laneSet id="ls"><bpmn:lane id="lane_office" name="巡察办">{lane}</bpmn:lane></bpmn:laneSet>'
            '<bpmn:startEvent id="start" name="开始"/><bpmn:parallelGateway id="split" name="分派"/>'
            + "".join(tasks.values()) + '<bpmn:parallelGateway id="join" name="汇合"/><bpmn:endEvent id="end" name="结束"/>'
            + B.flow("f0", "start", "split") + flows + B.flow("f9", "join", "end"))
    return B.doc("assigned", body, name="分派")


def _start(api, ctx, unit_id: int) -> int:
    assert api.as_("designer1").post("/process-models", data=assigned_model(),
                                     content_type="application/xml").status_code == 201
    return ctx.db.transaction(lambda s: ctx.engine.start(s, "assigned", {"reviewer": "leading1", "urgency": 9},
                                                         unit_id=unit_id).instance.id)


def _open(user) -> dict[str, dict]:
    return {t["bpmn_id"]: t for t in user.tasks(process_model="assigned")}


def test_the_assignee_alone_works_the_task(api, ctx, district):
    _start(api, ctx, district.units[0])
    leading, office, liaison = api.as_("leading1"), api.as_("office1"), api.as_("u001_liaison")
    task = _open(leading)["by_assignee"]
    assert task["assignee"] == "leading1" and task["priority"] == 1
    assert "by_assignee" not in _open(office)  # the lane's role no longer works it
    office.complete(task["id"], OK, expect=403)  # the office reads the district, so: seen, not its own
    assert liaison.post(f"/tasks/{task['id']}/complete", json={"data": OK}).status_code == 404
    leading.complete(task["id"], OK)


def test_candidate_users_and_groups_work_the_task_instead_of_the_lane(api, ctx, district):
    _start(api, ctx, district.units[0])
    discipline, inspector0 = api.as_("discipline1"), api.as_("inspector0")
    assert set(_open(discipline)) == {"by_users", "by_groups"}
    assert set(_open(api.as_("inspector1"))) == {"by_users"}
    assert set(_open(api.as_("leading1"))) == {"by_assignee", "by_groups"}
    office = _open(api.as_("office1"))
    assert "by_users" not in office and "by_groups" not in office
    by_users = _open(discipline)["by_users"]["id"]
    assert inspector0.post(f"/tasks/{by_users}/complete", json={"data": OK}).status_code == 404
    api.as_("office1").complete(_open(discipline)["by_groups"]["id"], OK, expect=403)
    discipline.complete(by_users, OK)
    api.as_("leading1").complete(_open(discipline)["by_groups"]["id"], OK)


def test_a_unit_role_as_candidate_group_stays_in_the_instances_unit(api, ctx, district):
    _start(api, ctx, district.units[0])
    assert set(_open(api.as_("u000_liaison"))) == {"by_unit_group"}
    task_id = _open(api.as_("u000_liaison"))["by_unit_group"]["id"]
    other = api.as_("u001_liaison")
    assert _open(other) == {}
    assert other.post(f"/tasks/{task_id}/complete", json={"data": OK}).status_code == 404
    api.as_("u000_liaison").complete(task_id, OK)


def test_the_inbox_sorts_by_priority(api, ctx, district, client):
    _start(api, ctx, district.units[0])
    leading = api.as_("leading1")
    by_priority = leading.get("/tasks?process_model=assigned&sort=priority").get_json()["items"]
    assert [(t["bpmn_id"], t["priority"]) for t in by_priority] == [("by_groups", 9), ("by_assignee", 1)]
    assert leading.get("/tasks?sort=nonsense").status_code == 400
    discipline = api.as_("discipline1").get("/tasks?process_model=assigned&sort=priority").get_json()["items"]
    assert [t["bpmn_id"] for t in discipline] == ["by_groups", "by_users"]


def test_instances_started_together_give_out_their_tasks_the_same_way(api, ctx, district):
    """A list published to many units starts their instances in bulk: the offers are written with them."""
    body = ('<bpmn:startEvent id="start" name="开始"/>'
            + _task("check", "自查", 'camunda:candidateGroups="unit_liaison,unit_head" camunda:priority="3"')
            + '<bpmn:endEvent id="end" name="结束"/>' + B.flow("f1", "start", "check") + B.flow("f2", "check", "end"))
    xml = B.doc("bulk_offers", f'<bpmn:laneSet id="ls"><bpmn:lane id="l" name="巡察办"><bpmn:flowNodeRef>start'
                               f'</bpmn:flowNodeRef><bpmn:flowNodeRef>check</bpmn:flowNodeRef><bpmn:flowNodeRef>end'
                               f'</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>{body}', name="批量")
    assert api.as_("designer1").post("/process-models", data=xml, content_type="application/xml").status_code == 201
    units = district.units[:3]
    ctx.db.transaction(lambda s: ctx.engine.start_many(s, "bulk_offers", [{"n": i} for i in range(3)], unit_ids=units,
                                                       business_keys=[f"bulk:{u}" for u in units]))
    for code in ("u000", "u001", "u002"):
        [task] = api.as_(f"{code}_head").tasks(process_model="bulk_offers")
        assert task["priority"] == 3
        api.as_(f"{code}_liaison").complete(task["id"], OK)
    assert api.as_("office1").tasks(process_model="bulk_offers") == []


def test_the_inbox_page_shows_priority_and_orders_by_it(api, ctx, district, client):
    from support.pages import session_login

    _start(api, ctx, district.units[0])
    session_login(client, ctx, "leading1")
    page = client.get("/inbox?sort=priority").get_data(as_text=True)
    assert '<option value="priority" selected>按优先级</option>' in page
    table = page[page.index('<table class="inbox-table">'):]
    assert table.index("候选组办理") < table.index("指定办理")
    assert '<td data-label="优先级" class="cell-priority">9</td>' in table


def test_those_a_task_is_given_to_are_told_of_it(api, ctx, district):
    from service import workflow
    from service.models import BusinessKey, KeyKind

    assert api.as_("designer1").post("/process-models", data=assigned_model(),
                                     content_type="application/xml").status_code == 201
    ctx.db.transaction(lambda s: workflow.start(ctx, s, None, "assigned", {"reviewer": "leading1", "urgency": 9},
                                                BusinessKey(KeyKind.CASE, 1), unit_id=district.units[0]))

    def told(username: str) -> set[str]:
        tasks = {t["id"]: t["bpmn_id"] for t in api.as_("office1").get("/tasks?process_model=assigned&limit=50")
                 .get_json()["items"]}
        tasks |= {t["id"]: t["bpmn_id"] for t in api.as_(username).tasks(process_model="assigned")}
        return {tasks.get(n.get("task_id"), "?") for n in api.as_(username).get("/notices").get_json()["items"]
                if n.get("task_id")}

    assert told("leading1") == {"by_assignee", "by_groups"}
    assert told("discipline1") == {"by_users", "by_groups"}
    assert told("u000_liaison") == {"by_unit_group"}
    assert told("office1") == set()


def test_the_inbox_counts_what_it_lists_when_a_diagram_gives_a_lane_task_to_others(api, ctx, district):
    """The office's lane holds all four tasks, each given to someone else: its list and its filter
    counts leave them all out; those they are given to count and list them alike."""
    _start(api, ctx, district.units[0])
    for username, expected in (("office1", set()), ("leading1", {"by_assignee", "by_groups"}),
                               ("discipline1", {"by_users", "by_groups"}), ("u000_liaison", {"by_unit_group"})):
        listed = api.as_(username).get("/tasks?process_model=assigned").get_json()
        assert {t["bpmn_id"] for t in listed["items"]} == expected and listed["total"] == len(expected), username
        with ctx.db.read() as s:
            p = principal_for(s, s.scalar(select(User).where(User.username == username)))
            counted = inbox.facets(s, p, ctx.now())
        assert counted.processes.get("assigned", 0) == len(expected), username
        assert {b for b in counted.tasks if b in {"by_assignee", "by_users", "by_groups", "by_unit_group"}} == expected
