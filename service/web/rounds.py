"""Pages made for the round's own work: the inspectors' findings and the office's distillation.

Problems and common problems go through `service.rounds` (`add_problem`,
`add_common_problem`) and clues through `service.clues.register`, the functions the API uses.
Each page ends its workflow step with a "finish" button
that posts to the task page, which completes the task like any other.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from .. import access, clues, inbox, insight, jobs
from .. import rounds as inspection_rounds
from ..auth import Principal
from ..context import Context
from ..errors import Conflict, Unprocessable
from ..models import PROBLEM_SOURCES, RECTIFYING_KINDS, JobState, Round
from ..validation import bounded_int
from . import bp, ctx, fmt_time, principal
from .i18n import _, tc
from .problems import errors_of, of_exception

SUGGESTED_CATEGORIES = ("工程建设", "便民服务", "合同管理", "财务管理", "资产管理", "选人用人", "作风建设", "基层党建")


@bp.get("/rounds")
def rounds():
    p = principal()
    with ctx().db.read() as s:
        items = rounds_overview(s, p)
    return render_template("rounds.html", rounds=items, may_start=access.may_start_round(p))


@bp.get("/rounds/<int:round_id>/publication")
def publication(round_id):
    """The list's publication: how many units have their case; it refreshes itself while it runs."""
    with ctx().db.read() as s:
        view = publication_view(s, principal(), round_id)
    return render_template("publication.html", **view)


@bp.post("/rounds/<int:round_id>/publication/retry")
def retry_publication(round_id):
    """The office takes a stopped publication up again, once what stopped it is put right."""
    job_id = request.form.get("job_id", type=int) or 0
    try:
        jobs.retry_failed(ctx(), principal(), job_id)
    except Conflict as exc:
        flash(of_exception(exc), "error")
    else:
        flash(_("The publication goes on: the units without their case get it now."), "success")
    return redirect(url_for("web.publication", round_id=round_id))


@bp.get("/rounds/<int:round_id>/publication/progress")
def publication_progress(round_id):
    """The progress alone, for the page's polling (htmx) to swap in."""
    with ctx().db.read() as s:
        view = publication_view(s, principal(), round_id)
    return render_template("_publication_progress.html", **view)


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
            errors = errors_of(exc, main_field)
    if errors:
        with c.db.read() as s:
            view = findings_view(c, s, p, round_id)
        view.update({f"{kind}_form": request.form.to_dict(), f"{kind}_errors": errors})
        return render_template("findings.html", **view), 422
    flash(_("Problem recorded.") if kind == "problem" else _("Clue registered."), "success")
    return redirect(url_for("web.findings", round_id=round_id) + f"#{kind}s")


@bp.get("/rounds/<int:round_id>/distill")
def distill(round_id):
    """The distillation page, with the suggested groupings; `take` (a suggestion's problem ids, given
    once per suggestion: two or more merge them) fills the new common problem's form with them."""
    c = ctx()
    suggest = _suggest_args(request.args)
    with c.db.read() as s:
        view = distill_view(c, s, principal(), round_id, {"responsible_department_id":
                                                           _int(request.args.get("department_id"))}, suggest)
    return render_template("distill.html", **view)


@bp.get("/rounds/<int:round_id>/distill/similar")
def distill_similar(round_id):
    """Earlier rounds' common problems like the title being typed, with their outcome (htmx swaps it in)."""
    c = ctx()
    with c.db.read() as s:
        found = insight.similar_common_problems(s, principal(), round_id, request.args.get("title", ""))
    return render_template("_similar_common_problems.html", similar=[_outcome(o) for o in found],
                           asked=bool((request.args.get("title") or "").strip()))


def _suggest_args(args) -> dict:
    taken = _ids(",".join(args.getlist("take")).split(","))
    return {"include_earlier": args.get("earlier") == "1", "taken": taken, "takes": len(args.getlist("take"))}


@bp.get("/rounds/<int:round_id>/distill/preview")
def distill_preview(round_id):
    """The recipients panel alone, refreshed by htmx when the department, the co-responsible ones or
    the chosen recipients change."""
    c = ctx()
    with c.db.read() as s:
        view = distill_view(c, s, principal(), round_id, drafted(request.args))
    return render_template("_recipients.html", preview=view["preview"])


@bp.post("/rounds/<int:round_id>/common-problems")
def add_common_problem(round_id):
    form = request.form
    errors = _required(form, ("title", "category", "responsible_department_id"))
    department_id = _int(form.get("responsible_department_id"))
    problem_ids = [int(v) for v in form.getlist("problem_ids") if v.isdigit()]
    draft = drafted(form)
    c = ctx()
    p = principal()
    if not errors:
        try:
            c.db.transaction(lambda s: inspection_rounds.add_common_problem(
                c, s, p, round_id, form["title"].strip(), form.get("description", "").strip(),
                form["category"].strip(), department_id, problem_ids, draft["targets"], draft["co_department_ids"]))
        except Unprocessable as exc:
            errors = _placed(errors_of(exc, "title"))
    if errors:
        with c.db.read() as s:
            view = distill_view(c, s, p, round_id, draft, {"include_earlier": False, "taken": []})
        view.update(cp_form=form.to_dict(), picked=set(problem_ids), cp_errors=errors, chosen=_chosen(draft))
        return render_template("distill.html", **view), 422
    flash(_("Added to the list."), "success")
    return redirect(url_for("web.distill", round_id=round_id))


# ------------------------------------------------------------------ a new round
@bp.get("/rounds/new")
def new_round():
    with ctx().db.read() as s:
        view = setup_view(s, principal(), {}, [], [])
    return render_template("round_new.html", **view)


@bp.post("/rounds/new")
def create_round():
    """One form, several buttons: pick a group of units, check for conflicts of interest, or save.
    Without a script every button comes back here; with one, picking and checking happen in place."""
    form = request.form
    unit_ids = _ids(form.getlist("inspected_unit_ids"))
    inspector_ids = _ids(form.getlist("inspector_ids"))
    c, p = ctx(), principal()
    pick, action = form.get("pick"), form.get("action")
    errors: dict[str, list[str]] = {}
    if pick is None and action == "save":
        if not (form.get("name") or "").strip():
            errors["name"] = [_("This field is required")]
        if not unit_ids:
            errors["inspected_unit_ids"] = [_("Pick at least one unit")]
        if not inspector_ids:
            errors["inspector_ids"] = [_("Pick at least one inspector")]
        if not errors:
            try:
                rnd = c.db.transaction(lambda s: inspection_rounds.create_round(
                    c, s, p, form["name"].strip(), unit_ids, inspector_ids))
            except Unprocessable as exc:
                errors = errors_of(exc, "name")
            else:
                flash(_("Round created: %(name)s. The inspectors now record its findings.", name=rnd.name), "success")
                return redirect(url_for("web.rounds"))
    with c.db.read() as s:
        view = setup_view(s, p, form, unit_ids, inspector_ids, pick=pick, checked=action == "check" or bool(errors))
    view["errors"] = errors
    return render_template("round_new.html", **view), 422 if errors else 200


@bp.post("/rounds/new/conflicts")
def round_conflicts():
    """The conflicts panel alone, refreshed in place (htmx) as units and inspectors are picked."""
    with ctx().db.read() as s:
        view = setup_view(s, principal(), request.form, _ids(request.form.getlist("inspected_unit_ids")),
                          _ids(request.form.getlist("inspector_ids")), checked=True)
    return render_template("_round_conflicts.html", **view)


# ------------------------------------------------------------------ correcting the list
@bp.get("/rounds/<int:round_id>/problems/<int:problem_id>")
def edit_problem(round_id, problem_id):
    with ctx().db.read() as s:
        view = problem_edit_view(s, principal(), round_id, problem_id)
    return render_template("problem_edit.html", **view)


@bp.post("/rounds/<int:round_id>/problems/<int:problem_id>")
def change_problem(round_id, problem_id):
    form = request.form
    errors = _required(form, ("unit_id", "category", "description"))
    if form.get("source") not in PROBLEM_SOURCES:
        errors["source"] = [_("Choose one option")]
    changes = {"unit_id": _int(form.get("unit_id")), "category": form.get("category", "").strip(),
               "description": form.get("description", "").strip(), "source": form.get("source")}
    c, p = ctx(), principal()
    if not errors:
        try:
            c.db.transaction(lambda s: inspection_rounds.change_problem(c, s, p, round_id, problem_id, changes))
        except Unprocessable as exc:
            errors = errors_of(exc, "description")
        else:
            flash(_("Problem corrected."), "success")
            return redirect(url_for("web.findings", round_id=round_id) + "#problems")
    with c.db.read() as s:
        view = problem_edit_view(s, p, round_id, problem_id)
    view.update(form=form.to_dict(), errors=errors)
    return render_template("problem_edit.html", **view), 422


@bp.post("/rounds/<int:round_id>/problems/<int:problem_id>/remove")
def remove_problem(round_id, problem_id):
    c, p = ctx(), principal()
    c.db.transaction(lambda s: inspection_rounds.remove_problem(c, s, p, round_id, problem_id))
    flash(_("Problem removed."), "success")
    return redirect(safe_back(url_for("web.findings", round_id=round_id) + "#problems"))


@bp.get("/rounds/<int:round_id>/common-problems/<int:common_id>")
def edit_common_problem(round_id, common_id):
    with ctx().db.read() as s:
        view = common_edit_view(s, principal(), round_id, common_id)
    return render_template("common_problem_edit.html", **view)


@bp.post("/rounds/<int:round_id>/common-problems/<int:common_id>")
def change_common_problem(round_id, common_id):
    form = request.form
    errors = _required(form, ("title", "category", "responsible_department_id"))
    problem_ids = _ids(form.getlist("problem_ids"))
    draft = drafted(form)
    changes = {"title": form.get("title", "").strip(), "category": form.get("category", "").strip(),
               "description": form.get("description", "").strip(),
               "responsible_department_id": _int(form.get("responsible_department_id")), "problem_ids": problem_ids,
               "targets": draft["targets"], "co_department_ids": draft["co_department_ids"]}
    c, p = ctx(), principal()
    if not errors:
        try:
            c.db.transaction(lambda s: inspection_rounds.change_common_problem(c, s, p, round_id, common_id, changes))
        except Unprocessable as exc:
            errors = _placed(errors_of(exc, "title"))
        else:
            flash(_("Common problem corrected."), "success")
            return redirect(url_for("web.distill", round_id=round_id))
    with c.db.read() as s:
        view = common_edit_view(s, p, round_id, common_id)
    view.update(form=form.to_dict(), picked=set(problem_ids), errors=errors, chosen=_chosen(draft))
    return render_template("common_problem_edit.html", **view), 422


@bp.post("/rounds/<int:round_id>/common-problems/<int:common_id>/remove")
def remove_common_problem(round_id, common_id):
    c, p = ctx(), principal()
    c.db.transaction(lambda s: inspection_rounds.remove_common_problem(c, s, p, round_id, common_id))
    flash(_("Common problem removed; its problems are ungrouped again."), "success")
    return redirect(url_for("web.distill", round_id=round_id))


TARGET_FIELDS = {"kinds": "target_kinds", "industries": "target_industries", "parent_ids": "target_parent_ids",
                 "unit_ids": "target_unit_ids"}


def drafted(form) -> dict:
    """A common problem's departments and chosen recipients as the form (or the preview's query) sends them."""
    chosen = {key: form.getlist(name) if key in ("kinds", "industries") else _ids(form.getlist(name))
              for key, name in TARGET_FIELDS.items()}
    return {"responsible_department_id": _int(form.get("responsible_department_id")),
            "co_department_ids": _ids(form.getlist("co_department_ids")),
            "targets": chosen if any(chosen.values()) else None}


def _chosen(draft: dict) -> dict:
    """What the form's boxes show ticked: each choice as text, beside the co-responsible departments."""
    aimed = draft.get("targets") or {}
    return {**{key: {str(v) for v in aimed.get(key, [])} for key in TARGET_FIELDS},
            "co_department_ids": {str(d) for d in draft.get("co_department_ids", [])}}


def _placed(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The recipients' refusals (`targets.kinds` …) shown once, beside the recipients' fieldset."""
    placed: dict[str, list[str]] = {}
    for name, messages in errors.items():
        placed.setdefault("targets" if name.startswith("targets") else name, []).extend(messages)
    return placed


def target_options(choices: inspection_rounds.TargetChoices | None, names: dict) -> dict:
    """The boxes of the recipients' fieldset: kinds, streets, industries, and every unit by kind."""
    if choices is None:
        return {}
    return {"kinds": [k for k in RECTIFYING_KINDS if any(u.kind == k for u in choices.units)],
            "streets": [(u.id, u.name) for u in choices.streets],
            "industries": choices.industries,
            "units": [(k, [(u.id, u.name, u.industry or "", names.get(u.parent_id, "") if u.parent_id else "")
                           for u in choices.units if u.kind == k]) for k in RECTIFYING_KINDS
                      if any(u.kind == k for u in choices.units)]}


def safe_back(default: str) -> str:
    from . import safe_next

    return safe_next(request.form.get("next"), default)


# ------------------------------------------------------------------ views
def setup_view(s: Session, p: Principal, form, unit_ids: list[int], inspector_ids: list[int],
               pick: str | None = None, checked: bool = False) -> dict:
    """The new-round form: units by kind with select-all per kind, quick picks by street and by
    industry, the inspectors of the pool, and the conflicts of interest between those picked."""
    data = inspection_rounds.round_setup(s, p)
    picked = set(unit_ids)
    groups = unit_groups(data)
    if pick:
        picked = apply_pick(pick, picked, groups)
    chosen_inspectors = set(inspector_ids)
    conflicts = inspection_rounds.check_round(s, p, sorted(picked), sorted(chosen_inspectors)) \
        if picked and chosen_inspectors else []
    barred = {user.id for user, _unit, _why in conflicts}
    kinds = []
    for kind in RECTIFYING_KINDS:
        units = [u for u in data.units if u.kind == kind]
        if units:
            kinds.append({"kind": kind, "key": f"kind:{kind}", "ids": [u.id for u in units],
                          "picked": sum(1 for u in units if u.id in picked),
                          "units": [{"id": u.id, "name": u.name, "industry": u.industry or "",
                                     "parent": data.unit_names.get(u.parent_id, "") if u.parent_id else ""}
                                    for u in units]})
    return {
        "name": (form.get("name") or "") if form else "",
        "picked": picked, "picked_inspectors": chosen_inspectors,
        "kinds": kinds,
        "streets": [g for g in groups if g["key"].startswith("street:")],
        "industries": [g for g in groups if g["key"].startswith("industry:")],
        "inspectors": [{"id": user.id, "name": user.name, "username": user.username,
                        "specialties": (profile.specialties if profile else []) or [],
                        "home": data.unit_names.get(profile.home_unit_id, "") if profile and profile.home_unit_id else "",
                        "conflicted": user.id in barred} for user, profile in data.inspectors],
        "conflicts": [{"inspector": user.name, "inspector_id": user.id, "unit": unit.name, "why": why}
                      for user, unit, why in conflicts],
        "checked": checked or bool(conflicts), "errors": {},
    }


def unit_groups(data: inspection_rounds.RoundSetup) -> list[dict]:
    """The groups a pick button takes at once: every unit of a kind, a street with the units under it,
    every unit of an industry."""
    groups = [{"key": f"kind:{kind}", "ids": [u.id for u in data.units if u.kind == kind]} for kind in RECTIFYING_KINDS]
    for street in data.streets:
        ids = [u.id for u in data.units if u.id == street.id or u.parent_id == street.id]
        groups.append({"key": f"street:{street.id}", "name": street.name, "ids": ids})
    for industry in data.industries:
        groups.append({"key": f"industry:{industry}", "name": industry,
                       "ids": [u.id for u in data.units if u.industry == industry]})
    return groups


def apply_pick(pick: str, picked: set[int], groups: list[dict]) -> set[int]:
    """A pick button's effect: `none` clears, `-<group>` takes the group off, `<group>` adds it."""
    if pick == "none":
        return set()
    drop = pick.startswith("-")
    key = pick[1:] if drop else pick
    ids = next((set(g["ids"]) for g in groups if g["key"] == key), set())
    return picked - ids if drop else picked | ids


def problem_edit_view(s: Session, p: Principal, round_id: int, problem_id: int) -> dict:
    data = inspection_rounds.problem_edit(s, p, round_id, problem_id)
    pr = data.problem
    return {"round": _round_head(data.round), "problem_id": pr.id,
            "units": [(u.id, u.name) for u in data.units],
            "sources": PROBLEM_SOURCES,
            "categories": sorted(set(SUGGESTED_CATEGORIES) | {pr.category}),
            "form": {"unit_id": str(pr.unit_id), "category": pr.category, "description": pr.description,
                     "source": pr.source},
            "errors": {}}


def common_edit_view(s: Session, p: Principal, round_id: int, common_id: int) -> dict:
    data = inspection_rounds.common_problem_edit(s, p, round_id, common_id)
    cp = data.common
    return {"round": _round_head(data.round), "common_id": cp.id,
            "problems": [{"id": pr.id, "description": pr.description, "category": pr.category,
                          "unit": data.unit_names.get(pr.unit_id, ""), "source": pr.source} for pr in data.problems],
            "departments": [(u.id, u.name) for u in data.departments],
            "categories": sorted(set(SUGGESTED_CATEGORIES) | {cp.category}),
            "form": {"title": cp.title, "category": cp.category, "description": cp.description or "",
                     "responsible_department_id": str(cp.responsible_department_id)},
            "picked": {pr.id for pr in data.problems if pr.common_problem_id == cp.id}, "errors": {},
            "options": target_options(data.choices, {u.id: u.name for u in data.choices.streets}
                                      if data.choices else {}),
            "chosen": _chosen({"targets": cp.targets, "co_department_ids": cp.co_department_ids})}


def _round_head(rnd: Round) -> dict:
    return {"id": rnd.id, "name": rnd.name, "status": rnd.status}


def _ids(values) -> list[int]:
    return list(dict.fromkeys(int(v) for v in values if v.isdigit() and len(v) < 10))


# ------------------------------------------------------------------ views
def rounds_overview(s: Session, p: Principal) -> list[dict]:
    return [{"id": row.round.id, "name": row.round.name, "status": row.round.status,
             "created": fmt_time(row.round.created_at, False),
             "problems": row.problems, "common_problems": row.common_problems,
             "findings_url": url_for("web.findings", round_id=row.round.id) if row.may_record else None,
             "distill_url": url_for("web.distill", round_id=row.round.id) if row.may_distil else None,
             "publication_url": url_for("web.publication", round_id=row.round.id)
             if row.round.published_at is not None and access.may_read_jobs(p) else None,
             "diagram_url": url_for("instances.view", instance_id=row.round.process_instance_id)
             if row.round.process_instance_id and access.sees_district_figures(p) else None,
             "disclosure_url": url_for("web.disclosure_edit", round_id=row.round.id)
             if row.round.published_at is not None and access.may_keep_disclosures(p) else None}
            for row in inspection_rounds.overview(s, p)]


def publication_view(s: Session, p: Principal, round_id: int) -> dict:
    data = jobs.publication(s, p, round_id)
    job = data.job
    return {"round": {"id": data.round.id, "name": data.round.name, "status": data.round.status},
            "may_retry": access.may_retry_jobs(p),
            "job": {"id": job.id, "state": job.state, "done": job.done, "total": job.total, "error": job.error,
                    "running": job.state in (JobState.QUEUED, JobState.RUNNING),
                    "finished": fmt_time(job.finished_at) if job.finished_at else None} if job else None}


def findings_view(c: Context, s: Session, p: Principal, round_id: int) -> dict:
    data = inspection_rounds.findings(s, p, round_id)
    rnd, body, names = data.round, data.body, data.unit_names
    problems = [dict(pr, unit=names.get(pr["unit_id"], "")) for pr in body["problems"]]
    categories = sorted(set(SUGGESTED_CATEGORIES) | {pr["category"] for pr in body["problems"]})
    return {
        "round": {"id": rnd.id, "name": rnd.name, "status": rnd.status},
        "open": rnd.accepts_findings,
        "problems": list(reversed(problems)), "units": [(u.id, u.name) for u in data.units],
        "inspected": set(body["inspected_unit_ids"]),
        "sources": PROBLEM_SOURCES, "categories": categories,
        "clues": [{"summary": cl.summary, "unit": names.get(cl.unit_id, ""),
                   "at": fmt_time(cl.registered_at), "content": cl.content if readable else None}
                  for cl, readable in data.clues],
        "task_id": data.task_id, "changeable": data.changeable,
        # a recurring problem links its earlier case for those who may read that unit's cases
        "case_links": {pr["id"] for pr in problems if pr["recurring_of"] and access.can_read_unit(p, pr["unit_id"])},
        "problem_form": {}, "problem_errors": {}, "clue_form": {}, "clue_errors": {},
    }


def distill_view(c: Context, s: Session, p: Principal, round_id: int, draft: dict,
                 suggest: dict | None = None) -> dict:
    data = inspection_rounds.distillation(s, p, round_id, draft, suggest)
    department_id = draft.get("responsible_department_id")
    rnd, body, units = data.round, data.body, data.units
    problems = [dict(pr, unit=units[pr["unit_id"]].name if pr["unit_id"] in units else "") for pr in body["problems"]]
    grouped = defaultdict(list)
    for pr in problems:
        if pr["common_problem_id"] is not None:
            grouped[pr["common_problem_id"]].append(pr)
    unassigned = defaultdict(list)
    for pr in problems:
        if pr["common_problem_id"] is None:
            unassigned[pr["category"]].append(pr)
    names = {u.id: u.name for u in units.values()}
    commons = [dict(cp, department=names.get(cp["responsible_department_id"], ""), problems=grouped.get(cp["id"], []),
                    co_departments=[names.get(d, "") for d in cp["co_department_ids"]],
                    reaches=len(data.recipients.per_problem.get(cp["id"], [])),
                    targeted=any(cp["targets"].values()))
               for cp in body["common_problems"]]
    return {
        "round": {"id": rnd.id, "name": rnd.name, "status": rnd.status},
        "published": rnd.published_at is not None,
        "unassigned": sorted(unassigned.items()), "unassigned_count": sum(len(v) for v in unassigned.values()),
        "commons": commons, "departments": [(u.id, u.name) for u in data.departments],
        "categories": sorted(set(SUGGESTED_CATEGORIES) | {pr["category"] for pr in problems}),
        "preview": recipients_preview(data),
        "task_id": data.task_id, "may_change": data.may_change,
        "returned": _returned(s, p, data.task_id),
        "cp_form": {"responsible_department_id": str(department_id) if department_id else ""},
        "picked": set(), "cp_errors": {},
        "options": target_options(data.choices, names), "chosen": _chosen({}),
        **suggestions_view(data, suggest or {}, names),
    }


def suggestions_view(data: inspection_rounds.Distillation, suggest: dict, names: dict) -> dict:
    """The suggested groupings as the page lists them, and the form filled with what was taken up."""
    found, taken = data.suggestions, data.proposal
    if found is None:
        return {"suggestions": None, "similar": [], "taken": None}
    problems, rnd = found.problems, data.round
    outcomes = {cid: _outcome(o) for cid, o in data.outcomes.items()}
    items = [{"take": ",".join(str(i) for i in g.problem_ids if problems[i].round_id == rnd.id),
              "title": g.title, "department": names.get(g.department_id, "") if g.department_id else "",
              "units": [names.get(u, "") for u in g.unit_ids], "industries": g.industries,
              "problems": [{"id": i, "description": problems[i].description, "unit": names.get(problems[i].unit_id, ""),
                            "earlier": problems[i].round_id != rnd.id} for i in g.problem_ids],
              "similar": [outcomes[cid] for cid in g.similar_common_problem_ids if cid in outcomes]}
             for g in found.clusters]
    view: dict = {"suggestions": [i for i in items if i["take"]], "include_earlier": found.include_earlier,
                  "similar": [], "taken": None}
    if taken is not None:
        view["taken"] = {"merged": suggest.get("takes", 0) > 1, "count": len(taken.problem_ids)}
        view["picked"] = set(taken.problem_ids)
        view["cp_form"] = {"title": taken.title, "category": taken.category,
                           "responsible_department_id": str(taken.department_id) if taken.department_id else ""}
        view["similar"] = [outcomes[cid] for cid in taken.similar_common_problem_ids if cid in outcomes]
    return view


def _outcome(o: insight.Outcome) -> dict:
    return {"id": o.common.id, "title": o.common.title, "round": o.round_name, "department": o.department,
            "units": o.units, "units_closed": o.units_closed, "measures": o.measures,
            "institutions": o.institutions, "closed": o.closed}


def _returned(s: Session, p: Principal, task_id: str | None) -> dict | None:
    """Why the list came back from the leading group, when it did (at the top of the page)."""
    returned = inbox.returned_task(s, p, task_id) if task_id else None
    return {"opinion": returned.opinion, "by": returned.by, "at": fmt_time(returned.at),
            "step": tc(returned.step_name)} if returned is not None else None


def recipients_preview(data: inspection_rounds.Distillation) -> dict:
    """Who publishing the list reaches (`rounds.recipients`, the publication's own computation),
    with the department being chosen in the form shown as new when the list does not name it yet."""
    to, units = data.recipients, data.units
    by_kind = Counter(u.kind for u in to.units)
    saved = {c["id"] for c in data.body["common_problems"]}
    titles = {c["id"]: c["title"] for c in data.body["common_problems"]}
    departments = []
    for d, governed in to.departments.items():
        mine = [c for c in governed if c.id in saved]
        departments.append({"name": units[d].name if d in units else str(d), "new": len(mine) < len(governed),
                            "common_problems": len(governed),
                            "shared": sum(1 for c in governed if c.responsible_department_id != d)})
    reached = [{"title": titles[cid], "units": [u.name for u in got]}
               for cid, got in to.per_problem.items() if cid in saved]
    draft = next((got for cid, got in to.per_problem.items() if cid not in saved), None)
    per_unit = [{"name": u.name, "titles": [titles[c.id] for c in to.per_unit.get(u.id, []) if c.id in saved]}
                for u in to.units]
    return {"units": len(to.units), "by_kind": sorted(by_kind.items(), key=lambda kv: RECTIFYING_KINDS.index(kv[0])),
            "leaders": sorted(({"name": data.leader_names.get(lid, str(lid)), "units": len(unit_ids)}
                               for lid, unit_ids in to.leaders.items()), key=lambda x: x["name"]),
            "departments": departments, "per_problem": reached, "per_unit": per_unit,
            "draft": None if draft is None else len(draft)}


def _required(form, names) -> dict[str, list[str]]:
    errors = {n: [_("This field is required")] for n in names if not (form.get(n) or "").strip()}
    for n in names:
        if n.endswith("_id") and n not in errors and _int(form.get(n)) is None:
            errors[n] = [_("Choose one option")]
    return errors


def _int(raw):
    return bounded_int(raw)
