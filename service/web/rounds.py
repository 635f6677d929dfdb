"""Pages made for the round's own work: the inspectors' findings and the office's distillation.

Problems and common problems go through `service.rounds` (`add_problem`,
`add_common_problem`) and clues through `service.clues.register`, the functions the API uses.
Each page ends its workflow step with a "finish" button
that posts to the task page, which completes the task like any other.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.tables import HumanTask

from .. import access, clues
from .. import rounds as inspection_rounds
from ..auth import Principal
from ..context import Context
from ..errors import Forbidden, Unprocessable
from ..models import (
    PROBLEM_SOURCES,
    RECTIFYING_KINDS,
    Clue,
    CommonProblem,
    Problem,
    Round,
    Unit,
    User,
)
from . import bp, ctx, fmt_time, principal, require_roles
from ..validation import bounded_int
from .problems import of_exception, place_errors
from .i18n import _

OPEN_FOR_FINDINGS = ("discovering", "listing")
SUGGESTED_CATEGORIES = ("工程建设", "便民服务", "合同管理", "财务管理", "资产管理", "选人用人", "作风建设", "基层党建")


@bp.get("/rounds")
def rounds():
    require_roles("office", "inspector", "leading_group")
    with ctx().db.read() as s:
        items = rounds_overview(s, principal())
    return render_template("rounds.html", rounds=items)


@bp.get("/rounds/<int:round_id>/findings")
def findings(round_id):
    c = ctx()
    with c.db.read() as s:
        view = findings_view(c, s, principal(), round_id)
    return render_template("findings.html", **view)


@bp.post("/rounds/<int:round_id>/problems")
def add_problem(round_id):
    form = request.form
    errors = _required(form, ("unit_id", "category", "description"))
    source = form.get("source") or "inspection"
    if source not in PROBLEM_SOURCES:
        errors["source"] = [_("Choose one option")]
    return _record_finding(round_id, "problem", errors, "description", lambda c, s, p: inspection_rounds.add_problem(
        c, s, p, round_id, _int(form.get("unit_id")), form["description"].strip(), form["category"].strip(), source))


@bp.post("/rounds/<int:round_id>/clues")
def add_clue_view(round_id):
    form = request.form
    errors = _required(form, ("unit_id", "summary", "content"))
    return _record_finding(round_id, "clue", errors, "summary", lambda c, s, p: clues.register(
        c, s, p, round_id, _int(form.get("unit_id")), form["summary"].strip(), form["content"].strip()))


def _record_finding(round_id: int, kind: str, errors: dict, main_field: str, save):
    """Save a problem or a clue; on any error show the findings page again with what was typed."""
    c, p = ctx(), principal()
    if not errors:
        try:
            c.db.transaction(lambda s: save(c, s, p))
        except Unprocessable as exc:
            errors = place_errors(exc.errors) or {main_field: [of_exception(exc)]}
    if errors:
        with c.db.read() as s:
            view = findings_view(c, s, p, round_id)
        view.update({f"{kind}_form": request.form.to_dict(), f"{kind}_errors": errors})
        return render_template("findings.html", **view), 422
    flash(_("Problem recorded.") if kind == "problem" else _("Clue registered."), "success")
    return redirect(url_for("web.findings", round_id=round_id) + f"#{kind}s")


@bp.get("/rounds/<int:round_id>/distill")
def distill(round_id):
    c = ctx()
    with c.db.read() as s:
        view = distill_view(c, s, principal(), round_id, _int(request.args.get("department_id")))
    return render_template("distill.html", **view)


@bp.get("/rounds/<int:round_id>/distill/preview")
def distill_preview(round_id):
    """The recipients panel alone, refreshed by htmx when the chosen department changes."""
    c = ctx()
    with c.db.read() as s:
        view = distill_view(c, s, principal(), round_id, _int(request.args.get("responsible_department_id")))
    return render_template("_recipients.html", preview=view["preview"])


@bp.post("/rounds/<int:round_id>/common-problems")
def add_common_problem(round_id):
    form = request.form
    errors = _required(form, ("title", "category", "responsible_department_id"))
    department_id = _int(form.get("responsible_department_id"))
    problem_ids = [int(v) for v in form.getlist("problem_ids") if v.isdigit()]
    c = ctx()
    p = principal()
    if not errors:
        try:
            c.db.transaction(lambda s: inspection_rounds.add_common_problem(
                c, s, p, round_id, form["title"].strip(), form.get("description", "").strip(),
                form["category"].strip(), department_id, problem_ids))
        except Unprocessable as exc:
            errors = place_errors(exc.errors) or {"title": [of_exception(exc)]}
    if errors:
        with c.db.read() as s:
            view = distill_view(c, s, p, round_id, _int(form.get("responsible_department_id")))
        view.update(cp_form=form.to_dict(), picked=set(problem_ids), cp_errors=errors)
        return render_template("distill.html", **view), 422
    flash(_("Added to the list."), "success")
    return redirect(url_for("web.distill", round_id=round_id))


# ------------------------------------------------------------------ reads
def rounds_overview(s: Session, p: Principal) -> list[dict]:
    rows = [r for r in s.scalars(select(Round).order_by(Round.id.desc())) if access.can_read_round(p, r)]
    ids = [r.id for r in rows]
    problems = dict(s.execute(select(Problem.round_id, func.count()).where(Problem.round_id.in_(ids))
                              .group_by(Problem.round_id)).all()) if ids else {}
    commons = dict(s.execute(select(CommonProblem.round_id, func.count()).where(CommonProblem.round_id.in_(ids))
                             .group_by(CommonProblem.round_id)).all()) if ids else {}
    out = []
    for r in rows:
        records = _can_record(p, r)
        out.append({"id": r.id, "name": r.name, "status": r.status, "created": fmt_time(r.created_at, False),
                    "problems": problems.get(r.id, 0), "common_problems": commons.get(r.id, 0),
                    "findings_url": url_for("web.findings", round_id=r.id) if records else None,
                    "distill_url": url_for("web.distill", round_id=r.id) if p.has("office") else None})
    return out


def findings_view(c: Context, s: Session, p: Principal, round_id: int) -> dict:
    rnd = inspection_rounds.get_round(s, p, round_id)
    if not _can_record(p, rnd):
        raise Forbidden("only the office and this round's inspectors record its findings")
    body = inspection_rounds.round_json(s, rnd)
    inspected = set(body["inspected_unit_ids"])
    units = s.scalars(select(Unit).where(Unit.kind.in_(RECTIFYING_KINDS), Unit.active.is_(True))
                      .order_by(Unit.code)).all()
    names = {u.id: u.name for u in units}
    # the inspected units first: most findings are about them; residents' reports may name others
    unit_options = [(u.id, u.name) for u in units if u.id in inspected] + \
                   [(u.id, u.name) for u in units if u.id not in inspected]
    round_clues = s.scalars(select(Clue).where(Clue.round_id == rnd.id, access.clue_scope(p))
                            .order_by(Clue.id.desc())).all()
    problems = [dict(pr, unit=names.get(pr["unit_id"]) or _unit_name(s, pr["unit_id"])) for pr in body["problems"]]
    categories = sorted(set(SUGGESTED_CATEGORIES) | {pr["category"] for pr in body["problems"]})
    return {
        "round": {"id": rnd.id, "name": rnd.name, "status": rnd.status},
        "open": rnd.status in OPEN_FOR_FINDINGS,
        "problems": list(reversed(problems)), "units": unit_options, "inspected": inspected,
        "sources": PROBLEM_SOURCES, "categories": categories,
        "clues": [{"summary": cl.summary, "unit": names.get(cl.unit_id) or _unit_name(s, cl.unit_id),
                   "at": fmt_time(cl.registered_at), "content": cl.content if access.sees_clue_content(p, cl) else None}
                  for cl in round_clues],
        "task_id": _open_task(s, p, rnd.id, "record_findings"),
        "problem_form": {}, "problem_errors": {}, "clue_form": {}, "clue_errors": {},
    }


def distill_view(c: Context, s: Session, p: Principal, round_id: int, department_id: int | None) -> dict:
    require_roles("office")
    rnd = inspection_rounds.get_round(s, p, round_id)
    body = inspection_rounds.round_json(s, rnd)
    units = {u.id: u for u in s.scalars(select(Unit))}
    departments = sorted((u for u in units.values() if u.kind == "department" and u.active), key=lambda u: u.code)
    problems = [dict(pr, unit=units[pr["unit_id"]].name if pr["unit_id"] in units else "") for pr in body["problems"]]
    grouped = defaultdict(list)
    for pr in problems:
        if pr["common_problem_id"] is not None:
            grouped[pr["common_problem_id"]].append(pr)
    unassigned = defaultdict(list)
    for pr in problems:
        if pr["common_problem_id"] is None:
            unassigned[pr["category"]].append(pr)
    commons = [dict(cp, department=units[cp["responsible_department_id"]].name
                    if cp["responsible_department_id"] in units else "", problems=grouped.get(cp["id"], []))
               for cp in body["common_problems"]]
    return {
        "round": {"id": rnd.id, "name": rnd.name, "status": rnd.status},
        "published": rnd.published_at is not None,
        "unassigned": sorted(unassigned.items()), "unassigned_count": sum(len(v) for v in unassigned.values()),
        "commons": commons, "departments": [(u.id, u.name) for u in departments],
        "categories": sorted(set(SUGGESTED_CATEGORIES) | {pr["category"] for pr in problems}),
        "preview": recipients_preview(s, units, body["common_problems"], department_id),
        "task_id": _open_task(s, p, rnd.id, "distill_list"),
        "cp_form": {"responsible_department_id": str(department_id) if department_id else ""},
        "picked": set(), "cp_errors": {},
    }


def recipients_preview(s: Session, units: dict[int, Unit], commons: list[dict], department_id: int | None) -> dict:
    """Who publishing the list reaches, as `rounds._on_publish` fans it out: every active
    rectifying unit, the leaders in charge of them, and each responsible department."""
    receiving = [u for u in units.values() if u.active and u.kind in RECTIFYING_KINDS]
    by_kind = Counter(u.kind for u in receiving)
    portfolio = Counter(u.leader_id for u in receiving if u.leader_id is not None)
    leaders = {u.id: u.name for u in s.scalars(select(User).where(User.id.in_(list(portfolio))))} if portfolio else {}
    dept_ids = list(dict.fromkeys(cp["responsible_department_id"] for cp in commons))
    departments = [{"name": units[d].name if d in units else str(d), "new": False,
                    "common_problems": sum(1 for cp in commons if cp["responsible_department_id"] == d)}
                   for d in dept_ids]
    if department_id is not None and department_id not in dept_ids and department_id in units:
        departments.append({"name": units[department_id].name, "new": True, "common_problems": 1})
    return {"units": len(receiving), "by_kind": sorted(by_kind.items(), key=lambda kv: RECTIFYING_KINDS.index(kv[0])),
            "leaders": sorted(({"name": leaders.get(lid, str(lid)), "units": n} for lid, n in portfolio.items()),
                              key=lambda x: x["name"]),
            "departments": departments}


def _open_task(s: Session, p: Principal, round_id: int, bpmn_id: str) -> str | None:
    """The round's open task of that step, if this user may complete it (for the finish button)."""
    return s.scalar(select(HumanTask.id).where(
        HumanTask.business_key == f"round:{round_id}", HumanTask.bpmn_id == bpmn_id, HumanTask.state == "open",
        access.task_actionable(p)).limit(1))


def _can_record(p: Principal, rnd: Round) -> bool:
    return p.has("office") or access.is_inspector_of(p, rnd)


def _required(form, names) -> dict[str, list[str]]:
    errors = {n: [_("This field is required")] for n in names if not (form.get(n) or "").strip()}
    for n in names:
        if n.endswith("_id") and n not in errors and _int(form.get(n)) is None:
            errors[n] = [_("Choose one option")]
    return errors


def _unit_name(s: Session, unit_id: int) -> str:
    return s.scalar(select(Unit.name).where(Unit.id == unit_id)) or ""


def _int(raw):
    return bounded_int(raw)
