"""The instance view: one process instance drawn on its model version, with its history.

`service.instance_views` reads it inside the viewer's need-to-know scope (`access.instance_scope`;
anyone outside it gets a 404, not a 403, so the page does not confirm that an instance exists);
this module puts it in the page's language.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for

from workflows.engine import EngineError

from .. import access, instance_views, operations
from ..errors import ApiError
from . import ctx, fmt_time, page_number, principal, safe_next, values
from .i18n import _, js_text, label, tc
from .problems import error_text, failure_text

bp: Blueprint = Blueprint("instances", __name__, url_prefix="/instances")

PAGE_SIZE = 50


def _failure_fields(data: dict) -> list[dict]:
    """A recorded failure in the reader's words; the engine's message last, marked as English."""
    retry_at = data.get("retry_at")
    return [{"key": _("Reason"), "lines": [failure_text(data.get("code"))]},
            {"key": _("Failures in a row"), "lines": [str(data.get("attempt", ""))]},
            {"key": _("Next automatic retry"),
             "lines": [fmt_time(datetime.fromisoformat(retry_at)) if retry_at else _("None; needs someone")]},
            {"key": _("Technical detail"), "lines": [values.clip(str(data.get("message", "")))], "lang": "en"}]


OPERATOR_EVENTS = ("retried", "suspended", "resumed", "cancelled")


def _operator_fields(data: dict | None) -> list[dict]:
    """An operator's act: the reason given, and the versions a retry moved the instance between."""
    data = data or {}
    fields = [{"key": _("Reason"), "lines": [data["reason"]]}] if data.get("reason") else []
    if data.get("to_version"):
        fields.append({"key": _("Moved to the current version"),
                       "lines": [_("Version %(old)s → version %(new)s", old=data["from_version"], new=data["to_version"])]})
    return fields


def history(steps: list[instance_views.Step], titles: dict[int, str] | None = None) -> list[dict]:
    """Who did what when, oldest first, with the data each step submitted as (field, lines) rows,
    under the form's labels and with the choices in words (`values.fields`)."""
    out = []
    refs = {"common_problem": titles or {}}
    for step in steps:
        row = step.entry
        fields = _failure_fields(row.data or {}) if row.event == "failed" else _operator_fields(row.data) \
            if row.event in OPERATOR_EVENTS else values.fields(row.data, step.form, refs)
        actor = step.actor_name if row.actor else _("System")
        out.append({"at": fmt_time(row.at), "actor": actor, "username": row.actor,
                    "event": label("event", row.event),
                    "bpmn_id": row.bpmn_id, "name": tc(step.element_name or row.name or ""), "fields": fields})
    return out


def _page_url(endpoint: str, **values) -> str | None:
    """A link to another team's page when the application has it (the pages grow independently)."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def _failure(instance, error_name: str) -> dict:
    """Where and why the last timed step failed: the reason in the reader's words, the engine's own
    message kept apart as a technical detail for whoever repairs the model."""
    return {"error": instance.error, "reason": failure_text(instance.error_code) if instance.error else "",
            "error_element": instance.error_element, "error_name": tc(error_name), "failures": instance.failures,
            "retry_at": fmt_time(instance.retry_at)}


def summary(facts: instance_views.Summary) -> dict:
    """The header facts, with the open tasks linked to the task page when the viewer may open it."""
    instance, version, case = facts.instance, facts.version, facts.case
    return {"id": instance.id, "model_key": instance.model_key, "model_name": tc(version.name),
            "version": version.version, "status": instance.status, **_failure(instance, facts.error_name),
            "may_retry": facts.may_retry, "operable": facts.operable,
            "business_key": instance.business_key, "unit": facts.unit.name if facts.unit else "",
            "case": case, "round": facts.round, "created_at": fmt_time(instance.created_at),
            "updated_at": fmt_time(instance.updated_at),
            "case_url": _page_url("web.case_file", case_id=case.id) if case else None,
            "open_tasks": [{"id": r.id, "name": tc(r.name), "bpmn_id": r.bpmn_id, "lane": tc(r.lane or ""),
                            "due_at": fmt_time(r.due_at), "url": _page_url("web.task", task_id=r.id)}
                           for r in facts.open_tasks]}


@bp.get("/")
def index():
    """The operators' page: failed instances first, then those suspended or waiting longer than
    expected, each with the forms to retry, suspend, resume or cancel it."""
    asked = request.args.get("status", "error")
    view = asked if asked in operations.VIEWS else "error"
    page = page_number()
    with ctx().db.read() as s:
        data = operations.operator_page(ctx(), s, principal(), view, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        items = [_item(row) for row in data.rows]
    return render_template("instances/index.html", items=items, total=data.total, status=view, page=page,
                           page_size=PAGE_SIZE, views=operations.VIEWS, counts=data.counts,
                           stuck_hours=ctx().settings.stuck_hours, back=request.full_path,
                           may_send_events=access.may_send_events(principal()))


def _item(row: operations.InstanceRow) -> dict:
    instance = row.instance
    late = row.late
    return dict(_failure(instance, row.error_name), id=instance.id, model_name=tc(row.version.name),
                version=row.version.version, business_key=instance.business_key, unit=row.unit or "",
                status=instance.status, updated_at=fmt_time(instance.updated_at),
                late={"kind": late.kind, "name": tc(late.name) or late.bpmn_id, "bpmn_id": late.bpmn_id,
                      "due_at": fmt_time(late.due_at)} if late else None)


def _act(instance_id: int, action, done: str):
    """Run one operator action from a form; back to the page it was posted from, saying how it went."""
    back = safe_next(request.form.get("back"), url_for("instances.view", instance_id=instance_id))
    try:
        result = action()
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        flash(error_text(exc.code, exc.params), "error")
        return redirect(back)
    except EngineError as exc:
        flash(error_text(exc.code), "error")
        return redirect(back)
    if result["status"] == "error":
        flash(_("The retry failed again: %(error)s", error=failure_text(result["error_code"])), "error")
    else:
        flash(done, "success")
    return redirect(back)


@bp.post("/<int:instance_id>/retry")
def retry(instance_id: int):
    return _act(instance_id, lambda: operations.retry(ctx(), principal(), instance_id, request.form.get("reason")),
                _("The retry went through; the process runs on."))


@bp.post("/<int:instance_id>/suspend")
def suspend(instance_id: int):
    return _act(instance_id, lambda: operations.suspend(ctx(), principal(), instance_id, request.form.get("reason")),
                _("Process instance #%(id)s is suspended.", id=instance_id))


@bp.post("/<int:instance_id>/resume")
def resume(instance_id: int):
    return _act(instance_id, lambda: operations.resume(ctx(), principal(), instance_id, request.form.get("reason")),
                _("Process instance #%(id)s runs on.", id=instance_id))


@bp.post("/<int:instance_id>/cancel")
def cancel(instance_id: int):
    return _act(instance_id, lambda: operations.cancel(ctx(), principal(), instance_id, request.form.get("reason")),
                _("Process instance #%(id)s is cancelled; its open tasks left every inbox.", id=instance_id))


@bp.get("/<int:instance_id>")
def view(instance_id: int):
    c = ctx()
    with c.db.read() as s:
        data = instance_views.instance_view(c, s, principal(), instance_id)
        facts, states, steps = summary(data.summary), data.states, history(data.history, data.titles)
    failure = {"element_id": facts["error_element"], "message": facts["reason"]} if facts["error"] else None
    config = {"states": states, "failure": failure, "urls": {"bpmn": url_for("instances.bpmn", instance_id=instance_id)},
              "messages": {"load_failed": _("The diagram could not be loaded."),
                           "missing": js_text(_("Not found in the diagram: %(ids)s"))}}
    return render_template("instances/view.html", instance=facts, states=states, history=steps, config=config)


@bp.get("/<int:instance_id>/bpmn")
def bpmn(instance_id: int):
    """The XML of the version this instance runs on (not the model's latest)."""
    with ctx().db.read() as s:
        xml = instance_views.bpmn_xml(s, principal(), instance_id)
    return Response(xml, mimetype="application/xml")
