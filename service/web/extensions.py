"""Pages for more time and for measures followed after close-out: the unit's extension request
(申请延期) and the office's decision on it, the office's list of waiting requests, and its list of
overdue measures to re-check (回头看)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from .. import access, extensions, measures
from ..errors import ApiError
from . import bp, ctx, fmt_time, principal
from .i18n import _
from .problems import errors_of
from .tasks import case_page


@bp.post("/cases/<int:case_id>/extension")
def request_extension(case_id):
    c = ctx()
    raw_days, reason = request.form.get("days", "").strip(), request.form.get("reason", "")
    days = int(raw_days) if raw_days.isdigit() and len(raw_days) < 10 else raw_days
    try:
        c.db.transaction(lambda s: extensions.request_extension(c, s, principal(), case_id, days, reason))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = errors_of(exc, "reason")
        return case_page(case_id, errors, {"days": raw_days, "reason": reason}), exc.status
    flash(_("Your extension request was sent to the inspection office."), "success")
    return redirect(url_for("web.case_file", case_id=case_id) + "#case-extensions")


@bp.post("/extensions/<int:request_id>/decide")
def decide_extension(request_id):
    c = ctx()
    approve = request.form.get("decision") == "approve"
    opinion = request.form.get("opinion", "")
    case_id = request.form.get("case_id", type=int)
    try:
        c.db.transaction(lambda s: extensions.decide(c, s, principal(), request_id, approve, opinion))
    except ApiError as exc:
        if exc.status not in (409, 422) or case_id is None:
            raise
        return case_page(case_id, errors_of(exc, "opinion"), {"opinion": opinion}), exc.status
    flash(_("Extension approved: the deadline and its warnings moved.") if approve else
          _("Extension refused; the unit is told why."), "success")
    return redirect(url_for("web.case_file", case_id=case_id) + "#case-extensions" if case_id
                    else url_for("web.pending_extensions"))


@bp.get("/extensions")
def pending_extensions():
    c = ctx()
    with c.db.read() as s:
        rows = extensions.pending_rows(s, principal())
    items = [{"unit": r["unit"], "round": r["round"], "days": r["request"].days, "reason": r["request"].reason,
              "by": r["requested_by"], "at": fmt_time(r["request"].requested_at),
              "due": fmt_time(r["request"].due_before),
              "url": url_for("web.case_file", case_id=r["case"].id) + "#case-extensions"} for r in rows]
    return render_template("extensions.html", items=items)


@bp.get("/measures/overdue")
def overdue_measures():
    c, p = ctx(), principal()
    with c.db.read() as s:
        rows = measures.overdue_rows(s, p)
    items = [{"unit": r["unit"], "round": r["round"], "description": r["measure"].description,
              "deadline": r["measure"].deadline.isoformat() if r["measure"].deadline else "",
              "status": r["case"].status, "url": url_for("web.case_file", case_id=r["case"].id),
              "recheck_url": url_for("web.recheck_confirm", case_id=r["case"].id)
              if r["case"].status == "closed" and access.may_urge(p) else None} for r in rows]
    return render_template("overdue_measures.html", items=items)
