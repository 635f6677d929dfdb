"""The message centre (消息), the leaders' notices (分管单位通知) with 签收 and 批示, the cases a
functional department governs, and the office's 催办 and 回头看 on the case page.

Each view calls one service function (`service.notices`, `service.supervision`, `service.cases`)
and puts what it returns in the page's language.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from .. import case_file as case_reads
from .. import cases, notices, supervision
from ..errors import ApiError, Conflict
from ..models import LeaderNotification, Notice
from . import bp, ctx, due_info, fmt_time, page_number, principal
from .i18n import _, label, tc
from .problems import errors_of, of_exception
from .tasks import case_page

PAGE_SIZE = 20


# ------------------------------------------------------------------ the message centre
@bp.get("/notices")
def notices_page():
    page = page_number()
    c = ctx()
    with c.db.read() as s:
        rows, total = notices.list_notices(s, principal(), False, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        units, rounds = notices.names_for(s, rows)
    items = [_notice_item(n, units, rounds) for n in rows]
    return render_template("notices.html", items=items, total=total, page=page, page_size=PAGE_SIZE,
                           any_unread=any(not i["read"] for i in items))


@bp.get("/notices/<int:notice_id>/open")
def open_notice(notice_id):
    """Follow a notice to its page; following it reads it."""
    c = ctx()
    notice = c.db.transaction(lambda s: notices.mark_read(c, s, principal(), notice_id))
    return redirect(notice_url(notice))


@bp.post("/notices/<int:notice_id>/read")
def read_notice(notice_id):
    c = ctx()
    c.db.transaction(lambda s: notices.mark_read(c, s, principal(), notice_id))
    return redirect(url_for("web.notices_page", page=request.form.get("page", type=int) or None)
                    + f"#notice-{notice_id}")


@bp.post("/notices/read-all")
def read_all_notices():
    c = ctx()
    marked = c.db.transaction(lambda s: notices.mark_all_read(c, s, principal()))
    flash(_("%(num)d messages marked read.", num=marked), "success")
    return redirect(url_for("web.notices_page"))


def notice_url(n: Notice) -> str:
    """Where a notice leads: a leader's notice to sign for, a task, a case."""
    if n.notification_id is not None:
        return url_for("web.leader_notices") + f"#notification-{n.notification_id}"
    if n.task_id is not None:
        return url_for("web.task", task_id=n.task_id)
    if n.case_id is not None:
        return url_for("web.case_file", case_id=n.case_id)
    return url_for("web.notices_page")


def _notice_item(n: Notice, units: dict, rounds: dict) -> dict:
    about = [tc(n.subject) if n.subject else "", units.get(n.unit_id, "") if n.unit_id else "",
             rounds.get(n.round_id, "") if n.round_id else ""]
    return {"id": n.id, "kind": n.kind, "title": label("notice", n.kind), "about": " · ".join(a for a in about if a),
            "detail": n.detail, "at": fmt_time(n.created_at), "read": n.read_at is not None,
            "url": url_for("web.open_notice", notice_id=n.id)}


# ------------------------------------------------------------------ leaders in charge
@bp.get("/notifications")
def leader_notices():
    page = page_number()
    c = ctx()
    p = principal()
    with c.db.read() as s:
        rows, total = supervision.leader_notices(s, p, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        units, rounds = notices.names_for(s, rows)
    items = [_leader_item(n, units, rounds, p.id) for n in rows]
    return render_template("leader_notices.html", items=items, total=total, page=page, page_size=PAGE_SIZE,
                           is_leader=p.has("leader"), pending=sum(1 for i in items if i["can_sign"]))


@bp.post("/notifications/<int:notification_id>/acknowledge")
def acknowledge(notification_id):
    c = ctx()
    instruction = request.form.get("instruction") or None
    back = url_for("web.leader_notices") + f"#notification-{notification_id}"
    try:
        c.db.transaction(lambda s: supervision.acknowledge(c, s, principal(), notification_id, instruction))
    except Conflict:
        flash(_("This notice was signed for already."), "warning")
        return redirect(back)
    except ApiError as exc:
        if exc.status >= 403 and exc.status != 422:
            raise
        flash(of_exception(exc), "error")
        return redirect(back)
    flash(_("Signed for.") + (" " + _("Your instruction was sent to the inspection office.") if instruction else ""),
          "success")
    return redirect(back)


def _leader_item(n: LeaderNotification, units: dict, rounds: dict, viewer: int) -> dict:
    return {"id": n.id, "kind": n.kind, "title": label("leader_notice", n.kind),
            "round": rounds.get(n.round_id, ""), "units": [units.get(u, str(u)) for u in n.unit_ids or []],
            "case_url": url_for("web.case_file", case_id=n.case_id) if n.case_id else None,
            "at": fmt_time(n.created_at), "signed_at": fmt_time(n.acknowledged_at) if n.acknowledged_at else "",
            "instruction": n.instruction, "can_sign": n.acknowledged_at is None and n.leader_id == viewer}


# ------------------------------------------------------------------ functional departments
@bp.get("/governed-cases")
def governed_cases():
    page = page_number()
    c = ctx()
    with c.db.read() as s:
        rows, total = supervision.governed_cases(s, principal(), PAGE_SIZE, (page - 1) * PAGE_SIZE)
        units, rounds = notices.names(s, (r.unit_id for r in rows), (r.round_id for r in rows))
    now = c.now()
    items = [{"id": r.id, "unit": units.get(r.unit_id, ""), "round": rounds.get(r.round_id, ""),
              "status": r.status, "warning": r.warning,
              "due": due_info(r.due_at, now) if r.status != "closed" else None,
              "url": url_for("web.case_file", case_id=r.id)} for r in rows]
    return render_template("governed_cases.html", items=items, total=total, page=page, page_size=PAGE_SIZE)


@bp.post("/cases/<int:case_id>/comments")
def comment_on_case(case_id):
    c = ctx()
    text = request.form.get("comment", "")
    try:
        c.db.transaction(lambda s: supervision.add_comment(c, s, principal(), case_id, text))
    except ApiError as exc:
        if exc.status != 422:
            raise
        return case_page(case_id, errors_of(exc, "comment"), {"comment": text}), 422
    flash(_("Your comment was sent to the unit."), "success")
    return redirect(url_for("web.case_file", case_id=case_id) + "#case-comments")


# ------------------------------------------------------------------ the office: 催办 and 回头看
@bp.post("/cases/<int:case_id>/urge")
def urge_case(case_id):
    c = ctx()
    text = request.form.get("comment", "")
    try:
        c.db.transaction(lambda s: supervision.urge(c, s, principal(), case_id, text))
    except ApiError as exc:
        if exc.status != 422:
            raise
        return case_page(case_id, errors_of(exc, "comment"), {"urge": text}), 422
    flash(_("The unit's liaison and head were urged."), "success")
    return redirect(url_for("web.case_file", case_id=case_id) + "#case-history")


@bp.get("/cases/<int:case_id>/recheck")
def recheck_confirm(case_id):
    c = ctx()
    with c.db.read() as s:
        data = case_reads.case_file(s, principal(), case_id)
    if "recheck" not in data.actions:
        return redirect(url_for("web.case_file", case_id=case_id))
    return render_template("recheck.html", case=_recheck_case(data), errors={}, comment="")


@bp.post("/cases/<int:case_id>/recheck")
def recheck_case(case_id):
    c = ctx()
    text = request.form.get("comment", "")
    try:
        c.db.transaction(lambda s: cases.recheck_case(c, s, principal(), case_id, text))
    except ApiError as exc:
        if exc.status != 422:
            raise
        with c.db.read() as s:
            data = case_reads.case_file(s, principal(), case_id)
        return render_template("recheck.html", case=_recheck_case(data), errors=errors_of(exc, "comment"),
                               comment=text), 422
    flash(_("Re-check started: the unit rectifies again, and is told."), "success")
    return redirect(url_for("web.case_file", case_id=case_id))


def _recheck_case(data: case_reads.CaseFile) -> dict:
    """The case the re-check page names, with the measures followed after close-out and now overdue:
    what a re-check is often started for."""
    overdue = [{"description": m.description, "deadline": m.deadline.isoformat() if m.deadline else ""}
               for item in data.items for m in item.measures if m.followup == "overdue"]
    return {"id": data.case.id, "unit": data.unit, "round": data.round, "overdue": overdue}
