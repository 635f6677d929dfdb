"""Task pages: the task's form rendered from its schema, completed through `service.tasks.complete`.

The page posts ordinary form fields; `forms.parse` turns them into the JSON the API takes, and
the same service function the API calls completes the task inside one transaction. Beside the
form sits a read-only view of the case (or round) so far, and on the rectify and filing steps an
evidence upload that calls `service.evidence.upload`.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from workflows.engine import InstanceSuspended, InvalidTaskData, TaskNotOpen, WorkflowFailure

from .. import access, documents, drafts, evidence, limits, supervision, tasks, workflow_events
from .. import case_file as case_reads
from ..auth import Principal
from ..context import Context
from ..db import Conflict as RetryConflict
from ..errors import ApiError, Conflict, Unprocessable
from ..models import Evidence
from . import bp, ctx, due_info, fmt_size, fmt_time, forms, principal, safe_next
from .i18n import _, label, tc
from .inbox import SPECIAL_PAGES, task_url
from .problems import error_text, errors_of, of_exception


@bp.get("/tasks/<task_id>")
def task(task_id):
    c = ctx()
    with c.db.read() as s:
        view = task_view(c, s, principal(), task_id)
    if view["special_url"] and view["open"]:
        return redirect(view["special_url"])
    return render_template("task.html", **view)


@bp.post("/tasks/<task_id>")
def complete(task_id):
    """Complete the task with the posted form; a second submission finds it done and says so."""
    c = ctx()
    p = principal()
    with c.db.read() as s:
        view = task_view(c, s, p, task_id)
    data = forms.parse(view["page_schema"], request.form)
    if view["confirm"] and data.pop(CONFIRM_FIELD, None) is not True:
        # an irreversible step is submitted only once its page's confirmation box is ticked; what else
        # the decision lacks is said at the same time
        errors: dict[str, list[str]] = {}
        try:
            with c.db.read() as s:
                tasks.check_decision(s, p, task_id, data)
        except Unprocessable as exc:
            errors = errors_of(exc, "data")
        errors[CONFIRM_FIELD] = [error_text("confirmation_required")]
        view["form"] = forms.build(view["page_schema"], data, errors, view["refs"])
        return render_template("task.html", **view), 422
    try:
        done = tasks.submit(c, p, task_id, data)
    except (Conflict, TaskNotOpen, RetryConflict):
        flash(_("This task was already completed; nothing was submitted twice."), "warning")
        return redirect(url_for("web.inbox"))
    except InstanceSuspended:
        flash(error_text("instance_suspended"), "error")
        return redirect(url_for("web.inbox"))
    except (InvalidTaskData, Unprocessable, WorkflowFailure) as exc:
        errors = errors_of(exc, "data")
        if view["special_url"]:  # the findings and distillation pages show their own errors
            for messages in errors.values():
                for m in messages:
                    flash(m, "error")
            return redirect(view["special_url"])
        view["form"] = forms.build(view["page_schema"], data, errors, view["refs"])
        return render_template("task.html", **view), 422
    flash(_("Completed: %(name)s.", name=view["task"]["name"]), "success")
    if done.job_id is not None and done.round_id is not None:  # the list goes out in the background: follow it
        return redirect(url_for("web.publication", round_id=done.round_id))
    return redirect(url_for("web.inbox"))


@bp.get("/cases/<int:case_id>")
def case_file(case_id):
    return case_page(case_id)


def case_page(case_id: int, errors: dict | None = None, entered: dict | None = None) -> str:
    """The case file; again after one of its forms failed, with the errors and what was entered."""
    c, p = ctx(), principal()
    with c.db.read() as s:
        data = case_reads.case_file(s, p, case_id)
        view = case_view(c, data)
    review = review_view(data) if access.may_review_evidence(p) else None
    return render_template("case.html", case=view, errors=errors or {}, entered=entered or {}, review=review)


@bp.post("/evidence/<int:evidence_id>/review")
def review_evidence(evidence_id):
    """The office accepts or rejects one evidence file; a rejection says why."""
    form = request.form
    result = form.get("result")
    c, p = ctx(), principal()
    errors: dict[str, list[str]] = {}
    if result not in ("accepted", "rejected"):
        errors["result"] = [_("Choose one option")]
    else:
        try:
            row = c.db.transaction(lambda s: supervision.review_evidence(c, s, p, evidence_id, result,
                                                                         form.get("comment")))
        except Unprocessable as exc:
            errors = errors_of(exc, "comment")
        else:
            flash(_("Reviewed: %(name)s, %(result)s.", name=row.filename,
                    result=label("evidence_review", row.review)), "success")
            return redirect(url_for("web.case_file", case_id=row.case_id) + f"#evidence-{row.id}")
    with c.db.read() as s:
        data = case_reads.case_file(s, p, supervision.evidence_case_id(s, p, evidence_id))
        view = case_view(c, data)
    review = review_view(data)
    review.update(errors={evidence_id: errors}, form={evidence_id: form.to_dict()})
    return render_template("case.html", case=view, review=review), 422


@bp.post("/cases/<int:case_id>/evidence")
@limits.limited(limits.UPLOAD)
def upload_evidence(case_id):
    """Evidence for a case: an XHR from the upload widget (answered with the new list row) or a plain post."""
    c = ctx()
    p = principal()
    upload = request.files.get("file")
    xhr = request.headers.get("X-Requested-With") == "XMLHttpRequest"
    back = _back_url(case_id)
    if upload is None or not upload.filename:
        return _upload_failed(_("Choose a file to upload."), 400, xhr, back)
    raw_item, raw_common = request.form.get("item_id") or None, request.form.get("common_problem_id") or None
    raw_measure = request.form.get("measure_id") or None
    try:
        item_id = int(raw_item) if raw_item is not None else None
        common_problem_id = int(raw_common) if raw_common is not None else None
        measure_id = int(raw_measure) if raw_measure is not None else None
    except ValueError:
        return _upload_failed(_("This value is not valid"), 400, xhr, back)
    content, filename = upload.read(), upload.filename
    try:
        row = c.db.transaction(lambda s: evidence.upload(c, s, p, case_id, filename, content, item_id,
                                                         common_problem_id=common_problem_id, measure_id=measure_id))
    except ApiError as exc:
        return _upload_failed(of_exception(exc), exc.status, xhr, back)
    with c.db.read() as s:
        item = next((i for i in case_view(c, case_reads.case_file(s, p, case_id))["evidence"] if i["id"] == row.id),
                    _evidence_item(row, p.name))
    if xhr:
        return render_template("_evidence_item.html", e=item, back=back), 201
    flash(_("Uploaded: %(name)s", name=row.filename), "success")
    return redirect(f"{back.split('#')[0]}#evidence-file-{row.id}")  # the page opens at, and focuses, the new file


@bp.get("/evidence/<int:evidence_id>")
def download_evidence(evidence_id):
    """An evidence file, for whoever may read its case; sent as an attachment, never rendered inline."""
    row, content = ctx().db.transaction(lambda s: supervision.evidence_content(s, principal(), evidence_id))
    return evidence.download(row, content)


@bp.get("/documents/<int:document_id>")
def download_document(document_id):
    """A document as issued (.docx), for whoever may read its case or letter."""
    row, data = ctx().db.transaction(lambda s: documents.content(s, principal(), document_id))
    return documents.download(row, data)


@bp.get("/evidence/<int:evidence_id>/preview")
def preview_evidence(evidence_id):
    """An image or PDF shown inside the case file, in a sandbox (`evidence.inline`)."""
    row, content = ctx().db.transaction(lambda s: supervision.evidence_content(s, principal(), evidence_id))
    return evidence.inline(row, content)


@bp.post("/evidence/<int:evidence_id>/delete")
def remove_evidence(evidence_id):
    """Take back a file uploaded by mistake; refused once the case is filed."""
    c = ctx()
    p = principal()
    back = safe_next(request.form.get("next"), url_for("web.inbox"))
    try:
        row = c.db.transaction(lambda s: evidence.remove(c, s, p, evidence_id))
    except ApiError as exc:
        flash(_("Not removed: %(reason)s", reason=of_exception(exc)), "error")
        return redirect(back)
    flash(_("Removed: %(name)s", name=row.filename), "success")
    return redirect(back)


@bp.post("/evidence/<int:evidence_id>/replace")
@limits.limited(limits.UPLOAD)
def replace_evidence(evidence_id):
    """A corrected file in place of one not yet filed, under the same common problem."""
    c = ctx()
    p = principal()
    back = safe_next(request.form.get("next"), url_for("web.inbox"))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_failed(_("Choose a file to upload."), 400, False, back)
    content, filename = upload.read(), upload.filename
    try:
        row = c.db.transaction(lambda s: evidence.replace(c, s, p, evidence_id, filename, content))
    except ApiError as exc:
        return _upload_failed(of_exception(exc), exc.status, False, back)
    flash(_("Replaced with: %(name)s", name=row.filename), "success")
    return redirect(back)


@bp.post("/tasks/<task_id>/draft")
def save_draft(task_id):
    """Keep what was typed so far (暂存), unchecked, to finish later."""
    c = ctx()
    p = principal()
    with c.db.read() as s:
        view = task_view(c, s, p, task_id)
    data = forms.parse(view["schema"], request.form)
    try:
        c.db.transaction(lambda s: drafts.save(c, s, p, task_id, data))
    except (Conflict, TaskNotOpen, RetryConflict):
        flash(_("This task was already completed; nothing was submitted twice."), "warning")
        return redirect(url_for("web.inbox"))
    except ApiError as exc:
        flash(_("The draft was not saved: %(reason)s", reason=of_exception(exc)), "error")
        return redirect(url_for("web.task", task_id=task_id))
    flash(_("Draft saved. It is here when you open this task again; nothing was submitted."), "success")
    return redirect(url_for("web.task", task_id=task_id))


@bp.post("/tasks/<task_id>/draft/delete")
def discard_draft(task_id):
    c = ctx()
    c.db.transaction(lambda s: drafts.discard(s, principal(), task_id))
    flash(_("Draft discarded; the form starts afresh."), "info")
    return redirect(url_for("web.task", task_id=task_id))


def _back_url(case_id: int) -> str:
    return safe_next(request.form.get("next"), url_for("web.case_file", case_id=case_id))


def _upload_failed(reason: str, status: int, xhr: bool, back: str):
    text = _("Upload failed: %(reason)s", reason=reason)
    if xhr:
        return text, status, {"Content-Type": "text/plain; charset=utf-8"}
    flash(text, "error")
    return redirect(back)


# ------------------------------------------------------------------ views
def task_view(c: Context, s: Session, p: Principal, task_id: str) -> dict:
    """Everything the task page shows (`service.case_file.task_page`), in the page's language."""
    page = case_reads.task_page(c, s, p, task_id)
    row = page.task
    refs = {"common_problem": page.titles, "common_problem_description": page.descriptions}
    special = SPECIAL_PAGES.get(row.step)
    draft = page.draft
    returned = page.returned
    confirm = workflow_events.decision_field(row) is not None and row.state == "open"
    page_schema = with_confirmation(page.form) if confirm else page.form
    return {
        "task": {"id": row.id, "name": tc(row.name), "bpmn_id": row.bpmn_id, "state": row.state,
                 "process": tc(page.process_name) or row.model_key,
                 "role": row.role, "unit": page.unit, "due": due_info(row.due_at, c.now()),
                 "created": fmt_time(row.created_at)},
        "open": row.state == "open", "actionable": page.actionable, "schema": page.form, "refs": refs,
        "page_schema": page_schema, "confirm": confirm,
        "form": forms.build(page_schema, draft.data if draft is not None else page.initial, None, refs),
        "draft": {"saved_at": fmt_time(draft.saved_at)} if draft is not None else None,
        "returned": {"opinion": returned.opinion, "by": returned.by, "at": fmt_time(returned.at),
                     "step": tc(returned.step_name)} if returned is not None else None,
        "instance_url": url_for("instances.view", instance_id=row.instance_id) if page.diagram else None,
        "special_url": task_url(row) if special else None,
        "case": case_view(c, page.case, access.may_review_evidence(p)) if page.case is not None else None,
        "round": page.round, "can_upload": page.can_upload,
        "letter": {**page.letter, "documents": [document_item(d) for d in page.letter["documents"]]}
        if page.letter else None,
        "clue": clue_panel(page.clue),
        "measure": {"id": page.measure.id, "description": page.measure.description,
                    "deadline": page.measure.deadline.isoformat() if page.measure.deadline else "",
                    "followup": page.measure.followup} if page.measure is not None else None,
        "upload_types": ", ".join(c.settings.evidence_types), "upload_mb": c.settings.max_upload_mb,
        "resident_report": dict(page.resident_report, received_at=fmt_time(page.resident_report["received_at"]),
                                deadline=page.resident_report["deadline"].isoformat()
                                if page.resident_report["deadline"] else "")
        if page.resident_report else None,
    }


# A deciding step cannot be undone (an approval publishes the list, an accepted filing closes the case): its
# page asks for a ticked box besides the decision. The API is unaffected; the box is not part of the task's data.
CONFIRM_FIELD = "confirmed"


def with_confirmation(schema: dict) -> dict:
    """The task's form with the page's confirmation box last."""
    box = {"type": "boolean", "const": True,
           "title": _("I have checked the above and confirm it; once submitted this cannot be undone")}
    return {**schema, "properties": {**(schema.get("properties") or {}), CONFIRM_FIELD: box},
            "required": [*(schema.get("required") or []), CONFIRM_FIELD]}


def clue_panel(view) -> dict | None:
    """A hand-over task's clue, as the clue pages show it (content only when the viewer may see it)."""
    if view is None:
        return None
    from .library import clue_row

    return clue_row(view.clue, view.unit, view.round, view.registered_by, view.content)


def case_view(c: Context, data: case_reads.CaseFile, reviews: bool = False) -> dict:
    """A unit's case so far, read-only: self-check, measures, institutions, evidence, filings
    (`reviews`: the reader reviews its evidence file by file, on the case page)."""
    case, titles, people = data.case, data.titles, data.people
    item_titles = {i.id: titles.get(i.common_problem_id, str(i.common_problem_id)) for i in data.items}
    return {
        "review_url": url_for("web.case_file", case_id=case.id) + "#evidence-review"
        if reviews and data.evidence else None,
        "id": case.id, "status": case.status, "warning": case.warning, "unit": data.unit,
        "round": data.round, "due": due_info(case.due_at, c.now()) if case.status != "closed" else
        {"text": "", "level": "none", "date": fmt_time(case.due_at)},
        "self_check": [{"title": titles.get(i.common_problem_id, i.common_problem_id), "applicable": i.applicable,
                        "reason": i.reason, "problems_found": i.problems_found, "findings": i.findings}
                       for i in data.self_check],
        "items": [{"id": i.id, "title": titles.get(i.common_problem_id, i.common_problem_id), "status": i.status,
                   "reason": i.reason,
                   "measures": [{"description": m.description, "deadline": m.deadline.isoformat() if m.deadline else "",
                                 "followup": m.followup} for m in i.measures],
                   "institutions": [i2.title for i2 in i.institutions]} for i in data.items],
        "evidence": [_evidence_item(e, people.get(e.uploaded_by, ""),
                                    titles.get(e.common_problem_id or 0) or item_titles.get(e.item_id or 0, ""),
                                    e.id in data.removable) for e in data.evidence],
        "common_problems": list(titles.items()),
        # what the unit was sent, each with its lead and co-responsible departments (协同责任部门)
        "received": [{"title": title, "lead": data.responsible.get(cid, ("", []))[0],
                      "co": data.responsible.get(cid, ("", []))[1]} for cid, title in titles.items()],
        "instance_url": url_for("instances.view", instance_id=case.process_instance_id)
        if case.process_instance_id else None,
        "hold": {"status": data.hold.status, "reason": data.hold.reason, "at": fmt_time(data.hold.at)}
        if data.hold else None,
        "filings": [{"filed_by": people.get(f.filed_by, ""), "filed_at": fmt_time(f.filed_at),
                     "comment": f.attest_comment, "result": f.result or "pending",
                     "reviewed_by": people.get(f.reviewed_by, "") if f.reviewed_by else "",
                     "reviewed_at": fmt_time(f.reviewed_at), "review_comment": f.review_comment}
                    for f in data.filings],
        "instructions": [{"id": n.id, "leader": people.get(n.leader_id, ""), "kind": n.kind,
                          "at": fmt_time(n.acknowledged_at), "text": n.instruction} for n in data.instructions],
        "comments": [{"department": data.departments.get(m.department_id, ""), "author": people.get(m.author_id, ""),
                      "at": fmt_time(m.created_at), "text": m.text} for m in data.comments],
        "history": [{"kind": a.kind, "at": fmt_time(a.at), "actor": people.get(a.actor_id, "") if a.actor_id else "",
                     "detail": a.detail, "outcome": a.outcome, "due": fmt_time(a.due_at) if a.due_at else ""}
                    for a in data.history],
        "actions": sorted(data.actions),
        "extensions": [{"id": r.id, "days": r.days, "reason": r.reason, "state": r.state,
                        "by": people.get(r.requested_by, ""), "at": fmt_time(r.requested_at),
                        "decided_by": people.get(r.decided_by, "") if r.decided_by else "",
                        "decided_at": fmt_time(r.decided_at) if r.decided_at else "", "opinion": r.opinion,
                        "due_after": fmt_time(r.due_after) if r.due_after else ""} for r in data.extensions],
        "extension_max_days": c.settings.extension_max_days,
        "documents": [document_item(d) for d in data.documents],
    }


def document_item(d) -> dict:
    """One issued document as the case and letter panels list it: what, which number, when, its fingerprint."""
    return {"id": d.id, "kind": d.kind, "number": d.number, "issued_on": d.issued_on.isoformat(),
            "sha256": d.sha256, "size": fmt_size(d.size), "url": url_for("web.download_document", document_id=d.id)}


def review_view(data: case_reads.CaseFile) -> dict:
    """Each evidence file for the office to accept or reject: what it is, its fingerprint, its reviews."""
    people, titles = data.people, data.titles
    item_titles = {i.id: titles.get(i.common_problem_id, "") for i in data.items}
    files = [{"id": e.id, "filename": e.filename, "label": item_titles.get(e.item_id, "") if e.item_id else "",
              "size": fmt_size(e.size), "bytes": e.size, "sha256": e.sha256, "content_type": e.content_type,
              "uploaded_at": fmt_time(e.uploaded_at), "uploaded_by": people.get(e.uploaded_by, ""),
              "review": e.review or "pending", "comment": e.review_comment or "",
              "reviewed_by": people.get(e.reviewed_by, "") if e.reviewed_by else "",
              "reviewed_at": fmt_time(e.reviewed_at) if e.reviewed_at else "",
              "earlier": max(len(e.reviews) - 1, 0)} for e in data.evidence]
    return {"files": files, "errors": {}, "form": {}}


def _evidence_item(e: Evidence, uploader: str, item_title: str = "", removable: bool = False) -> dict:
    """One file as the case file lists it: which common problem it is for, a preview of an image or
    PDF, and while not yet filed the buttons that remove or replace it."""
    return {"id": e.id, "filename": e.filename, "size": fmt_size(e.size), "bytes": e.size, "sha256": e.sha256,
            "uploaded_at": fmt_time(e.uploaded_at), "uploaded_by": uploader, "item_id": e.item_id,
            "item_title": item_title, "removable": removable, "preview": evidence.previewable(e)}
