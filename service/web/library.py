"""The libraries and pools: the problem-clue library (问题线索库) of the discipline commission, the
inspector pool (巡察人才库) and the co-audit expert pool (协审人才库), and the audit findings
(审计发现) linked to a round's problems (巡审结合).

Who may read and do what is `service.access` (clue_scope, sees_clue_content, POOL_KEEPERS,
AUDIT_REGISTRARS, AUDIT_LINKERS); the pages call the functions the API calls
(`service.clues`, `service.pools`) and word refusals by their codes.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import access, clues, pools
from ..errors import ApiError
from ..validation import bounded_int
from . import ctx, fmt_time, page_number, principal
from .i18n import _, label
from .problems import errors_of, of_exception

bp: Blueprint = Blueprint("library", __name__)

PAGE_SIZE = 50


def _id_arg(name: str) -> int | None:
    return bounded_int(request.args.get(name))


def _id_field(form, name: str) -> int | None:
    return bounded_int(form.get(name))


# ------------------------------------------------------------------ the clue library
@bp.get("/clues")
def clues_index():
    round_id, unit_id = _id_arg("round_id"), _id_arg("unit_id")
    status = request.args.get("status") if request.args.get("status") in clues.STATUSES else None
    page = page_number()
    c = ctx()
    with c.db.read() as s:
        lib = clues.library(s, principal(), round_id, unit_id, status, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        items = [clue_row(cl, lib.units.get(cl.unit_id, ""), lib.rounds.get(cl.round_id, ""),
                           lib.people.get(cl.registered_by, ""), cl.content if cl.id in lib.content else None)
                 for cl in lib.clues]
    return render_template("library/clues.html", items=items, total=lib.total, page=page, page_size=PAGE_SIZE,
                           units=lib.units, rounds=lib.rounds, statuses=clues.STATUSES,
                           filters={"round_id": round_id or "", "unit_id": unit_id or "", "status": status or ""})


@bp.get("/clues/<int:clue_id>")
def clue(clue_id: int):
    c = ctx()
    with c.db.read() as s:
        view = clues.clue_view(s, principal(), clue_id)
        item = clue_row(view.clue, view.unit, view.round, view.registered_by, view.content)
    return render_template("library/clue.html", clue=item, show_process=access.sees_clue_process(principal()))


def clue_row(cl, unit: str, round_name: str, registered_by: str, content: str | None) -> dict:
    return {"id": cl.id, "summary": cl.summary, "unit": unit, "round": round_name, "status": cl.status,
            "status_text": label("clue_status", cl.status), "registered_by": registered_by,
            "registered_at": fmt_time(cl.registered_at),
            "handed_over_at": fmt_time(cl.handed_over_at) if cl.handed_over_at else "",
            "received_at": fmt_time(cl.received_at) if cl.received_at else "",
            "disposed_at": fmt_time(cl.disposed_at) if cl.disposed_at else "",
            "disposition": label("disposition", cl.disposition) if cl.disposition else "",
            "people_count": cl.people_count, "content": content, "instance_id": cl.process_instance_id}


# ------------------------------------------------------------------ the inspector pool
@bp.get("/pools/inspectors")
def inspectors():
    c = ctx()
    with c.db.read() as s:
        pool = pools.inspector_pool(c, s, principal())
    items = [{"user_id": r["user_id"], "name": r["name"], "username": r["username"],
              "specialties": r["specialties"] or [], "home": pool.units.get(r["home_unit_id"], ""),
              "conflicts": [pool.units.get(u, str(u)) for u in r["conflict_unit_ids"] or []], "note": r["note"] or "",
              "changed": _last_change(r["history"], pool.names)} for r in pool.inspectors]
    return render_template("library/inspectors.html", items=items)


def _last_change(history: list[dict], names: dict[int, str]) -> str:
    last = history[-1] if history else None
    if not last or not last["changed_by"]:
        return ""
    return _("%(name)s, %(at)s", name=names.get(last["changed_by"], ""), at=last["changed_at"][:16].replace("T", " "))


@bp.route("/pools/inspectors/<int:user_id>", methods=["GET", "POST"])
def inspector(user_id: int):
    c = ctx()
    with c.db.read() as s:
        entry, units = pools.inspector_entry(c, s, principal(), user_id)
    errors: dict = {}
    form = {"home_unit_id": entry["home_unit_id"], "conflict_unit_ids": entry["conflict_unit_ids"] or [],
            "specialties": "、".join(entry["specialties"] or []), "note": entry["note"] or ""}
    if request.method == "POST":
        f = request.form
        specialties = [x.strip() for x in f.get("specialties", "").replace("，", "、").replace(",", "、").split("、")
                       if x.strip()]
        form = {"home_unit_id": _id_field(f, "home_unit_id"),
                "conflict_unit_ids": [u for u in (bounded_int(x) for x in f.getlist("conflict_unit_ids")) if u],
                "specialties": f.get("specialties", ""), "note": f.get("note", "").strip()}
        data = {"home_unit_id": form["home_unit_id"], "conflict_unit_ids": form["conflict_unit_ids"],
                "specialties": specialties[:20], "note": form["note"] or None}
        try:
            c.db.transaction(lambda s: pools.put_inspector(c, s, principal(), user_id, data))
        except ApiError as exc:
            if exc.status in (403, 404):
                raise
            errors = errors_of(exc, "conflict_unit_ids")
        else:
            flash(_("Saved: the pool entry of %(name)s.", name=entry["name"]), "success")
            return redirect(url_for("library.inspectors"))
    history = [{"at": (v["changed_at"] or "")[:16].replace("T", " "), "added": [units.get(u, str(u)) for u in
                                                                             v["conflicts_added"]],
                "removed": [units.get(u, str(u)) for u in v["conflicts_removed"]]} for v in entry["history"]]
    return render_template("library/inspector.html", entry=entry, units=units, form=form, errors=errors,
                           history=history), (422 if errors else 200)


# ------------------------------------------------------------------ the co-audit expert pool
@bp.get("/pools/experts")
def experts():
    return _experts_page({}, {})


def _experts_page(form: dict, errors: dict, status: int = 200):
    c = ctx()
    with c.db.read() as s:
        pool = pools.expert_pool(s, principal())
    items = [{"id": e.id, "name": e.name, "organisation": e.organisation, "specialties": e.specialties or [],
              "contact": e.contact or "", "active": e.active,
              "rounds": [{"id": r, "name": pool.rounds.get(r, str(r))} for r in pool.rounds_of.get(e.id, [])],
              "free_rounds": [(r, n) for r, n in pool.rounds.items() if r not in pool.rounds_of.get(e.id, [])]}
             for e in pool.experts]
    return render_template("library/experts.html", items=items, may_assign=pool.may_assign, form=form,
                           errors=errors), status


@bp.post("/pools/experts")
def add_expert():
    f = request.form
    form = {k: f.get(k, "").strip() for k in ("name", "organisation", "specialties", "contact")}
    errors = {k: [_("This field is required")] for k in ("name", "organisation") if not form[k]}
    if errors:
        return _experts_page(form, errors, 422)
    specialties = [x.strip() for x in form["specialties"].replace("，", "、").replace(",", "、").split("、") if x.strip()]
    data = {"name": form["name"], "organisation": form["organisation"], "specialties": specialties[:20],
            "contact": form["contact"] or None}
    c = ctx()
    try:
        c.db.transaction(lambda s: pools.add_expert(s, principal(), data))
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return _experts_page(form, errors_of(exc, "name"), 422)
    flash(_("Added to the expert pool: %(name)s.", name=form["name"]), "success")
    return redirect(url_for("library.experts"))


@bp.post("/pools/experts/<int:expert_id>/rounds")
def assign_expert(expert_id: int):
    round_id = _id_field(request.form, "round_id")
    c = ctx()
    if round_id is None:
        flash(_("Choose a round."), "error")
        return redirect(url_for("library.experts"))
    try:
        c.db.transaction(lambda s: pools.assign_expert(c, s, principal(), round_id, expert_id))
    except ApiError as exc:
        if exc.status == 403:
            raise
        flash(of_exception(exc), "error")
    else:
        flash(_("The expert is assigned to the round."), "success")
    return redirect(url_for("library.experts"))


@bp.post("/pools/experts/<int:expert_id>/rounds/<int:round_id>/remove")
def unassign_expert(expert_id: int, round_id: int):
    c = ctx()
    try:
        c.db.transaction(lambda s: pools.unassign_expert(s, principal(), round_id, expert_id))
    except ApiError as exc:
        if exc.status == 403:
            raise
        flash(of_exception(exc), "error")
    else:
        flash(_("The expert is taken off the round."), "success")
    return redirect(url_for("library.experts"))


# ------------------------------------------------------------------ audit findings (巡审结合)
@bp.get("/audit-findings")
def findings():
    return _findings_page({}, {})


def _findings_page(form: dict, errors: dict, status: int = 200):
    round_id = _id_arg("round_id")
    linked_arg = request.args.get("linked")
    linked = {"true": True, "false": False}.get(linked_arg or "")
    c = ctx()
    with c.db.read() as s:
        view = pools.findings_page(s, principal(), round_id, linked)
        items = [{"id": f.id, "title": f.title, "description": f.description, "audit_ref": f.audit_ref or "",
                  "unit": view.units.get(f.unit_id, ""), "round": view.rounds.get(f.round_id, "") if f.round_id else "",
                  "recorded_at": fmt_time(f.recorded_at), "expert": view.experts.get(f.expert_id, "") if f.expert_id else "",
                  "problem": view.problems.get(f.problem_id) if f.problem_id else None, "problem_id": f.problem_id,
                  "candidates": [{"id": pr.id, "text": _problem_text(pr.description, pr.category)}
                                 for pr in view.candidates.get(f.id, [])]} for f in view.findings]
    return render_template("library/findings.html", items=items, total=view.total, units=view.units,
                           rounds=view.rounds, may_register=view.may_register, may_link=view.may_link,
                           form=form, errors=errors,
                           filters={"round_id": round_id or "", "linked": linked_arg if linked is not None else ""}
                           ), status


def _problem_text(description: str, category: str) -> str:
    short = description if len(description) <= 60 else description[:60] + "…"
    return f"{category}：{short}" if category else short


@bp.post("/audit-findings")
def add_finding():
    f = request.form
    form = {k: f.get(k, "").strip() for k in ("round_id", "unit_id", "title", "description", "audit_ref")}
    errors = {k: [_("This field is required")] for k in ("unit_id", "title") if not form[k]}
    if errors:
        return _findings_page(form, errors, 422)
    data = {"round_id": bounded_int(form["round_id"]), "unit_id": bounded_int(form["unit_id"]) or 0,
            "title": form["title"], "description": form["description"], "audit_ref": form["audit_ref"] or None}
    c = ctx()
    try:
        c.db.transaction(lambda s: pools.add_finding(c, s, principal(), data))
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return _findings_page(form, errors_of(exc, "title"), 422)
    flash(_("The audit finding is registered; link it to the problem it corroborates."), "success")
    return redirect(url_for("library.findings", linked="false"))


@bp.post("/audit-findings/<int:finding_id>/link")
def link_finding(finding_id: int):
    problem_id = _id_field(request.form, "problem_id")
    c = ctx()
    if problem_id is None:
        flash(_("Choose the problem the finding corroborates."), "error")
        return redirect(url_for("library.findings"))
    try:
        c.db.transaction(lambda s: pools.link_finding(s, principal(), finding_id, problem_id))
    except ApiError as exc:
        if exc.status == 403:
            raise
        flash(of_exception(exc), "error")
    else:
        flash(_("The audit finding is linked to the problem."), "success")
    return redirect(url_for("library.findings"))
