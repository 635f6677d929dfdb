"""Load the demo district and drive one round to close-out through the real service functions.

Going through the same code as real users means the demo's figures and lists are what the
product would produce, not hand-made rows. Demo logins share one password and are for demos only.
"""
from __future__ import annotations

from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clues, evidence, jobs, pools, rounds, tasks
from . import demo_data as D
from .auth import Principal, hash_password, principal_for
from .context import Context
from .models import Case, Expert, InspectorProfile, Problem, Round, Unit, User


def seed_demo(ctx: Context) -> str:
    with ctx.db.read() as s:
        if s.scalar(select(Unit.id).limit(1)) is not None:
            return "the database already holds units; demo data not loaded"
    ctx.db.transaction(lambda s: _organisation(s, hash_password(ctx.settings.demo_password)))
    ctx.db.transaction(_pools)
    finished = _finished_round(ctx)
    current = _current_round(ctx)
    _clues(ctx, current)
    _audit_side(ctx, finished)
    return (f"demo district loaded: round {finished} closed out, round {current} in discovery; "
            f"log in as admin / office1 / {D.DEPARTMENTS[0]['code'].lower()}_liaison … "
            f"with the password from RECTIFLOW_DEMO_PASSWORD")


def _organisation(s: Session, password_hash: str) -> None:
    def user(username, name, roles, unit_id):
        s.add(User(username=username, name=name, password_hash=password_hash, roles=roles, unit_id=unit_id))

    special = {}
    for data, kind in ((D.OFFICE_UNIT, "office"), (D.LEADING_GROUP_UNIT, "leading_group"),
                       (D.DISCIPLINE_UNIT, "discipline")):
        unit = Unit(code=data["code"], name=data["name"], kind=kind, industry=data.get("industry"))
        s.add(unit)
        special[kind] = unit
    s.flush()
    leaders = {}
    for leader in D.LEADERS:
        u = User(username=leader["username"], name=f"{leader['name']}（{leader['title']}）",
                 password_hash=password_hash, roles=["leader"], unit_id=None)
        s.add(u)
        leaders[leader["username"]] = u
    s.flush()
    leader_of = {code: leaders[leader["username"]].id for leader in D.LEADERS for code in leader["portfolio"]}
    by_code: dict[str, Unit] = {}
    for data in D.DEPARTMENTS:
        by_code[data["code"]] = Unit(code=data["code"], name=data["name"], kind="department",
                                     industry=data["industry"], leader_id=leader_of.get(data["code"]))
    for data in D.STREETS:
        by_code[data["code"]] = Unit(code=data["code"], name=data["name"], kind="street",
                                     industry=data["industry"], leader_id=leader_of.get(data["code"]))
    s.add_all(by_code.values())
    s.flush()
    collective = next((u for u in by_code.values() if u.industry == "国资监管"), None)
    for data in D.COMPANIES:
        by_code[data["code"]] = Unit(code=data["code"], name=data["name"], kind="company",
                                     industry=data["industry"], parent_id=by_code[data["street"]].id,
                                     department_id=collective.id if collective else None,
                                     leader_id=leader_of.get(data["code"]))
        s.add(by_code[data["code"]])
    s.flush()
    office = special["office"].id
    # the three administration duties (三员分立), one account each
    user("admin", "系统管理员", ["admin"], office)
    user("security1", "安全管理员 吴工", ["security_admin"], office)
    user("auditor1", "审计管理员 郑工", ["audit_admin"], office)
    user("office1", "巡察办 张主任", ["office"], office)
    user("office2", "巡察办 李科长", ["office"], office)
    user("designer1", "流程设计 周工", ["designer"], office)
    user("leading1", "领导小组 成员", ["leading_group"], special["leading_group"].id)
    user("discipline1", "纪委监委 审查员", ["discipline"], special["discipline"].id)
    user("shenji1", "区审计局 钱审计师", ["auditor"], by_code[D.AUDIT_DEPARTMENT].id)  # 审计: 巡审结合
    for inspector in D.INSPECTORS:
        user(inspector["username"], inspector["name"], ["inspector"], by_code.get(inspector["home_unit"], special["office"]).id)
    for index, (code, unit) in enumerate(by_code.items()):
        for staff in D.UNIT_STAFF:
            roles = [staff["role"]]
            if unit.kind == "department" and staff["role"] == "unit_liaison":
                roles.append("department")  # the liaison also handles the department's letters
            user(f"{code.lower()}_{staff['username_suffix']}", D.person_name(index + staff["name_offset"]),
                 roles, unit.id)


def _pools(s: Session) -> None:
    units = {u.code: u.id for u in s.scalars(select(Unit))}
    for inspector in D.INSPECTORS:
        user = s.scalars(select(User).where(User.username == inspector["username"])).one()
        s.add(InspectorProfile(user_id=user.id, specialties=inspector["specialties"],
                               home_unit_id=units.get(inspector["home_unit"]), conflict_unit_ids=[]))
    s.add_all([Expert(name="陈会计师", organisation="区审计局协审组", specialties=["财务审计", "工程结算"]),
               Expert(name="林律师", organisation="区法律顾问团", specialties=["合同审查"]),
               Expert(name="赵工程师", organisation="区建设工程造价站", specialties=["工程造价"])])


def _clues(ctx: Context, round_id: int) -> None:
    """Two clues in the open round: one handed over and filed as a case, one awaiting the office."""
    inspector, office, discipline = _who(ctx, "inspector4"), _who(ctx, "office1"), _who(ctx, "discipline1")
    with ctx.db.read() as s:
        units = {u.code: u.id for u in s.scalars(select(Unit))}
    for unit, summary, content in (
        ("C12", "社区工程款支付异常", "群众反映某社区股份公司在道路工程中虚报工程量，多付工程款约30万元。"),
        ("S04", "公车私用问题线索", "反映某街道公务用车节假日长期停放在个人住处。"),
    ):
        def register(s: Session, unit: str = unit, summary: str = summary, content: str = content):
            return clues.register(ctx, s, inspector, round_id, units[unit], summary, content)
        ctx.db.transaction(register)
    with ctx.db.read() as s:
        first = tasks.list_open(s, office, bpmn_id="approve_handover", limit=1)[0][0].id
    ctx.db.transaction(lambda s: tasks.complete(ctx, s, office, first, {"approved": True, "comment": "同意移交"}))
    _complete_all(ctx, discipline, "receive_clue", lambda s, key: {"received": True})
    _complete_all(ctx, discipline, "dispose_clue", lambda s, key: {"disposition": "case_filed", "people_count": 1,
                                                                   "comment": "已立案审查"})


def _audit_side(ctx: Context, round_id: int) -> None:
    """巡审结合 in the closed round: an expert assigned to it, and two audit findings of an inspected
    unit, one linked to the inspection's problem it corroborates, one awaiting its link."""
    office, auditor = _who(ctx, "office1"), _who(ctx, "shenji1")
    with ctx.db.read() as s:
        expert = s.scalars(select(Expert).order_by(Expert.id)).first()
        problem = s.scalars(select(Problem).where(Problem.round_id == round_id).order_by(Problem.id)).first()
    if expert is None or problem is None:
        return
    ctx.db.transaction(lambda s: pools.assign_expert(ctx, s, office, round_id, expert.id))
    for title, description, link in (
        ("工程结算未经审核即支付尾款", "抽查3个工程项目，结算未经第三方审核即支付尾款合计约45万元。", True),
        ("合同台账登记不全", "部分采购合同未录入合同台账，合同履行情况无法追踪。", False),
    ):
        data = {"round_id": round_id, "unit_id": problem.unit_id, "title": title, "description": description,
                "audit_ref": "审计报告〔2026〕12号", "expert_id": expert.id,
                "problem_id": problem.id if link else None}

        def register(s: Session, data: dict = data):
            return pools.add_finding(ctx, s, auditor, data)
        ctx.db.transaction(register)


def _free_inspectors(s: Session, inspected: list[str], usernames: list[str]) -> list[int]:
    """The group's inspectors, less any whose home unit is inspected (the conflict rule refuses them)."""
    home = {i["username"]: i["home_unit"] for i in D.INSPECTORS}
    allowed = [u for u in usernames if home.get(u) not in inspected]
    return list(s.scalars(select(User.id).where(User.username.in_(allowed)).order_by(User.id)))


def _who(ctx: Context, username: str) -> Principal:
    with ctx.db.read() as s:
        return principal_for(s, s.scalar(select(User).where(User.username == username)))


def _complete_all(ctx: Context, p: Principal, bpmn_id: str, data_for) -> None:
    """Complete every open `bpmn_id` task `p` may do; `data_for(case_or_none)` builds the data."""
    with ctx.db.read() as s:
        rows, _ = tasks.list_open(s, p, bpmn_id=bpmn_id, limit=500)
        todo = [(r.id, r.business_key) for r in rows]
    for task_id, business_key in todo:
        def complete(s: Session, task_id: str = task_id, key: str | None = business_key):
            return tasks.complete(ctx, s, p, task_id, data_for(s, key))
        ctx.db.transaction(complete)


def _unit_user(ctx: Context, unit_id: int, suffix: str) -> Principal:
    with ctx.db.read() as s:
        code = s.get(Unit, unit_id).code
    return _who(ctx, f"{code.lower()}_{suffix}")


def _finished_round(ctx: Context) -> int:
    spec = D.FINISHED_ROUND
    office, leading = _who(ctx, "office1"), _who(ctx, "leading1")
    with ctx.db.read() as s:
        unit_id = {u.code: u.id for u in s.scalars(select(Unit))}
        inspector_ids = _free_inspectors(s, spec["inspected"], ["inspector1", "inspector2", "inspector3"])
    rnd = ctx.db.transaction(lambda s: rounds.create_round(
        ctx, s, office, spec["name"], [unit_id[c] for c in spec["inspected"]], inspector_ids))
    inspector = _who(ctx, "inspector1")
    problem_ids = []
    for pr in spec["problems"]:
        problem = ctx.db.transaction(partial(_add_problem, ctx, inspector, rnd.id, unit_id, pr))
        problem_ids.append(problem.id)
    _complete_all(ctx, inspector, "record_findings", lambda s, key: {})
    for cp in spec["common_problems"]:
        def distil(s: Session, cp: dict = cp):
            return rounds.add_common_problem(ctx, s, office, rnd.id, cp["title"], cp["description"], cp["category"],
                                             unit_id[cp["responsible_department"]],
                                             [problem_ids[i] for i in cp["problem_indexes"]])
        ctx.db.transaction(distil)
    _complete_all(ctx, office, "distill_list", lambda s, key: {})
    _complete_all(ctx, leading, "approve_list", lambda s, key: {"approved": True, "comment": "同意印发"})
    jobs.run_pending(ctx)  # the demo's publication opens its cases here, not in the background

    with ctx.db.read() as s:
        cases = s.scalars(select(Case).where(Case.round_id == rnd.id).order_by(Case.id)).all()
        commons = rounds.round_json(s, s.get(Round, rnd.id))["common_problems"]
    for n, case in enumerate(cases):
        liaison, head = _unit_user(ctx, case.unit_id, "liaison"), _unit_user(ctx, case.unit_id, "head")
        _complete_all(ctx, liaison, "self_check", lambda s, key, n=n: _self_check(commons, n))
        _complete_all(ctx, liaison, "rectify", lambda s, key, n=n: _rectify(commons, n))
        _attach_report(ctx, liaison, case.id)  # no filing without evidence
        _complete_all(ctx, head, "attest_and_file", lambda s, key: {"attest": True})
    returned = {cases[0].id}  # one filing goes back for rework, as in practice

    def review(s, key):
        return {"accepted": int(key.split(":")[1]) not in returned, "comment": "佐证材料齐全，同意销号"}

    _complete_all(ctx, office, "review_filing", review)
    for case in cases[:1]:
        _complete_all(ctx, _unit_user(ctx, case.unit_id, "liaison"), "rectify", lambda s, key: _rectify(commons, 1))
        _complete_all(ctx, _unit_user(ctx, case.unit_id, "head"), "attest_and_file", lambda s, key: {"attest": True})
    returned.clear()
    _complete_all(ctx, office, "review_filing", review)
    _complete_all(ctx, office, "round_summary", lambda s, key: {"summary": "本轮共性问题已全部整改销号。"})
    return rnd.id


def _attach_report(ctx: Context, liaison: Principal, case_id: int) -> None:
    ctx.db.transaction(lambda s: evidence.upload(ctx, s, liaison, case_id, "整改情况报告.pdf",
                                                 _pdf(f"Rectification report, case {case_id}"), None))


def _pdf(text: str) -> bytes:
    """A one-page PDF saying `text` (ASCII): enough for the demo's evidence to open and preview."""
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _self_check(commons: list[dict], n: int) -> dict:
    items = []
    for i, cp in enumerate(commons):
        sample = D.SELF_CHECK_SAMPLES.get(cp["title"], {"findings": ["经自查，未发现同类问题。"]})
        applicable = (n + i) % 3 != 0
        items.append({"common_problem_id": cp["id"], "applicable": applicable,
                      "problems_found": (n + i) % 4 if applicable else 0,
                      "findings": sample["findings"][(n + i) % len(sample["findings"])] if applicable
                      else "经对照自查，本单位不涉及该类业务。",
                      **({} if applicable else {"reason": "本单位无此类业务"})})
    return {"items": items}


def _rectify(commons: list[dict], n: int) -> dict:
    items = []
    for i, cp in enumerate(commons):
        sample = D.SELF_CHECK_SAMPLES.get(cp["title"])
        if sample is None or (n + i) % 3 == 0:
            continue
        measures = [{"description": sample["measures"][(n + i + k) % len(sample["measures"])],
                     "deadline": "2026-06-30"} for k in range(1 + (n + i) % 2)]
        institutions = [{"title": sample["institutions"][(n + i) % len(sample["institutions"])]}] if (n + i) % 2 else []
        items.append({"common_problem_id": cp["id"], "measures": measures, "institutions": institutions,
                      "status": "done"})
    return {"items": items}


def _current_round(ctx: Context) -> int:
    spec = D.CURRENT_ROUND
    office = _who(ctx, "office1")
    with ctx.db.read() as s:
        unit_id = {u.code: u.id for u in s.scalars(select(Unit))}
        inspector_ids = _free_inspectors(s, spec["inspected"], ["inspector4", "inspector5", "inspector6"])
    rnd = ctx.db.transaction(lambda s: rounds.create_round(
        ctx, s, office, spec["name"], [unit_id[c] for c in spec["inspected"]], inspector_ids))
    inspector = _who(ctx, "inspector4")
    for pr in spec["problems"]:
        ctx.db.transaction(partial(_add_problem, ctx, inspector, rnd.id, unit_id, pr))
    return rnd.id


def _add_problem(ctx: Context, inspector: Principal, round_id: int, unit_id: dict[str, int], pr: dict,
                 s: Session) -> Problem:
    return rounds.add_problem(ctx, s, inspector, round_id, unit_id[pr["unit"]], pr["description"], pr["category"],
                              pr["source"])
