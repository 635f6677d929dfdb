"""The office's pages for the residents' side: incoming reports and their triage (link to a problem,
forward to a unit, reply), the QR codes to print, a round's public disclosure (整改公开) and the
petition counts (信访量). Each view calls one function of `service.residents`, `service.disclosure`
or `service.petitions`."""
from __future__ import annotations

from datetime import date

import segno
from flask import Response, flash, redirect, render_template, request, url_for

from .. import access, disclosure, petitions, residents
from ..errors import ApiError
from ..validation import bounded_int
from . import bp, ctx, fmt_time, page_number, principal
from .i18n import _
from .problems import errors_of

PAGE_SIZE = 30


@bp.get("/resident-reports")
def resident_reports():
    status = request.args.get("status") or None
    page = page_number()
    c = ctx()
    with c.db.read() as s:
        rows, total, counts = residents.incoming(s, principal(), status, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    items = [{"id": r.report.id, "status": r.report.status, "category": r.report.category,
              "place": r.report.place or r.unit, "description": r.report.description,
              "received": fmt_time(r.report.received_at), "photos": len(r.report.photos), "round": r.round,
              "forwarded_to": r.forwarded_to,
              "url": url_for("web.resident_report", report_id=r.report.id)} for r in rows]
    return render_template("residents/reports.html", items=items, total=total, counts=counts, status=status,
                           statuses=residents.RESIDENT_REPORT_STATUSES, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)))


def _detail_page(report_id: int, errors: dict | None = None, entered: dict | None = None, status: int = 200):
    c = ctx()
    with c.db.read() as s:
        d = residents.detail(s, principal(), report_id)
    r = d.row.report
    tomorrow = c.now().astimezone(c.zone).date().toordinal() + 1
    view = {"id": r.id, "status": r.status, "category": r.category, "place": r.place, "unit": d.row.unit,
            "round": d.row.round, "description": r.description, "contact": d.contact,
            "received": fmt_time(r.received_at), "photos": [ph.id for ph in r.photos],
            "forwarded_to": d.row.forwarded_to, "deadline": r.forward_deadline.isoformat() if r.forward_deadline else "",
            "unit_reply": r.unit_reply, "reply": r.reply, "replied": fmt_time(r.replied_at) if r.replied_at else "",
            "problem_id": r.problem_id, "problem_round": d.problem_round,
            "steps": [{"kind": st.kind, "at": fmt_time(st.at)} for st in r.steps],
            "unit_id": r.unit_id}
    return render_template("residents/report.html", report=view, rounds=d.rounds, units=d.units, may_act=d.may_act,
                           errors=errors or {}, entered=entered or {},
                           min_deadline=date.fromordinal(tomorrow).isoformat()), status


@bp.get("/resident-reports/<int:report_id>")
def resident_report(report_id):
    return _detail_page(report_id)


def _act(report_id: int, work, field: str, done: str):
    c = ctx()
    try:
        c.db.transaction(lambda s: work(c, s))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return _detail_page(report_id, errors_of(exc, field), dict(request.form), exc.status)
    flash(done, "success")
    return redirect(url_for("web.resident_report", report_id=report_id))


@bp.post("/resident-reports/<int:report_id>/link")
def link_resident_report(report_id):
    round_id = bounded_int(request.form.get("round_id"))
    unit_id = bounded_int(request.form.get("unit_id"))
    if round_id is None:
        return _detail_page(report_id, {"round_id": [_("Choose a round")]}, dict(request.form), 422)
    return _act(report_id, lambda c, s: residents.link(c, s, principal(), report_id, round_id, unit_id,
                                                      request.form.get("category")),
                "link_unit_id", _("The report is now a problem of the round, from residents' reports."))


@bp.post("/resident-reports/<int:report_id>/forward")
def forward_resident_report(report_id):
    unit_id = bounded_int(request.form.get("unit_id"))
    raw = request.form.get("deadline", "")
    try:
        deadline = date.fromisoformat(raw) if raw else None
    except ValueError:
        deadline = None
    return _act(report_id, lambda c, s: residents.forward(c, s, principal(), report_id, unit_id, deadline),
                "deadline", _("The report was forwarded; the unit finds it in its inbox."))


@bp.post("/resident-reports/<int:report_id>/reply")
def reply_resident_report(report_id):
    return _act(report_id, lambda c, s: residents.reply(c, s, principal(), report_id, request.form.get("reply")),
                "reply", _("The reply was sent; the resident reads it with the tracking code."))


@bp.get("/resident-reports/<int:report_id>/photos/<int:photo_id>")
def resident_photo(report_id, photo_id):
    c = ctx()
    with c.db.read() as s:
        content = residents.photo(s, principal(), report_id, photo_id)
    return Response(content, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=3600",
                                                             "Content-Security-Policy": "sandbox; default-src 'none'"})


@bp.get("/resident-reports/qr")
def resident_qr():
    """The QR codes the office prints: one per unit and one per round, each opening the report page
    with the unit or the round filled in. Made here (segno), as SVG that prints sharp at any size."""
    c = ctx()
    p = principal()
    p.require(*access.RESIDENT_TRIAGERS)
    with c.db.read() as s:
        units = residents.unit_options(s)
        round_rows = residents.open_rounds(s, p)
    chosen = request.args.get("unit") or None
    chosen_round = bounded_int(request.args.get("round"))

    def card(title: str, url: str) -> dict:
        return {"title": title, "url": url, "svg": segno.make(url, error="m").svg_inline(scale=4, omitsize=True)}

    cards = []
    if chosen_round is not None:
        cards = [card(r.name, url_for("public.report_form", round=r.id, _external=True))
                 for r in round_rows if r.id == chosen_round]
    elif chosen:
        cards = [card(u.name, url_for("public.report_form", unit=u.code, _external=True))
                 for u in units if u.code == chosen]
    general = card(_("Report a problem"), url_for("public.report_form", _external=True))
    return render_template("residents/qr.html", units=units, rounds=round_rows, cards=cards, general=general,
                           chosen=chosen, chosen_round=chosen_round)


# ---------------------------------------------------------------- disclosure (整改公开)
def _disclosure_page(round_id: int, errors: dict | None = None, status: int = 200):
    c = ctx()
    with c.db.read() as s:
        ed = disclosure.editor(s, principal(), round_id)
    commons = {cp.id: cp.title for cp in ed.commons}
    groups: dict[int, dict] = {}
    for index, line in enumerate(ed.lines):
        groups.setdefault(line.common_problem_id, {"title": commons.get(line.common_problem_id, ""), "lines": []})
        groups[line.common_problem_id]["lines"].append({"index": index, **line.__dict__})
    d = ed.disclosure
    return render_template("residents/disclosure_edit.html", round=ed.round, groups=list(groups.values()),
                           introduction=d.introduction if d else "", published=fmt_time(d.published_at)
                           if d and d.published_at else "", disclosure_id=d.id if d else None,
                           errors=errors or {}), status


@bp.get("/rounds/<int:round_id>/disclosure")
def disclosure_edit(round_id):
    return _disclosure_page(round_id)


@bp.post("/rounds/<int:round_id>/disclosure")
def disclosure_save(round_id):
    form = request.form
    shown = set(form.getlist("shown"))
    chosen = []
    for index in range(bounded_int(form.get("lines")) or 0):
        cp, unit = bounded_int(form.get(f"cp_{index}")), bounded_int(form.get(f"unit_{index}"))
        if cp is None or unit is None:
            continue
        chosen.append({"common_problem_id": cp, "unit_id": unit, "shown": str(index) in shown,
                       "measures": form.get(f"measures_{index}", "")})
    publish = {"publish": True, "withdraw": False}.get(form.get("action", ""))
    c = ctx()
    try:
        c.db.transaction(lambda s: disclosure.save(c, s, principal(), round_id, form.get("introduction", ""),
                                                   chosen, publish))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return _disclosure_page(round_id, errors_of(exc, "items"), exc.status)
    flash({True: _("The disclosure is approved and public."), False: _("The disclosure was withdrawn."),
           None: _("The choice was saved; it is not public until you approve it.")}[publish], "success")
    return redirect(url_for("web.disclosure_edit", round_id=round_id))


# ---------------------------------------------------------------- petitions (信访量)
def _petitions_page(errors: dict | None = None, entered: dict | None = None, status: int = 200):
    c = ctx()
    with c.db.read() as s:
        data = petitions.entry_page(s, principal())
    rows = [{"unit": name, "period": r.period, "count": r.count, "at": fmt_time(r.entered_at)} for r, name in data.rows]
    default_period = c.now().astimezone(c.zone).strftime("%Y-%m")
    return render_template("residents/petitions.html", units=data.units, rows=rows, errors=errors or {},
                           entered=entered or {"period": default_period}), status


@bp.get("/petitions")
def petitions_page():
    return _petitions_page()


@bp.post("/petitions")
def petitions_enter():
    form = request.form
    unit_id = bounded_int(form.get("unit_id"))
    raw = form.get("count", "").strip()
    count = int(raw) if raw.isdigit() and len(raw) < 10 else raw
    c = ctx()
    try:
        if unit_id is None:
            return _petitions_page({"unit_id": [_("Choose a unit")]}, dict(form), 422)
        c.db.transaction(lambda s: petitions.enter(c, s, principal(), unit_id, form.get("period", ""), count))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return _petitions_page(errors_of(exc, "count"), dict(form), exc.status)
    flash(_("The petition count was saved."), "success")
    return redirect(url_for("web.petitions_page"))
