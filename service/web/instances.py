"""The instance view: one process instance drawn on its model version, with its history.

Who may look follows `service.access`, the same need-to-know rules as cases and tasks: the
office and the leading group see every instance; anyone else sees an instance of a unit whose
case they may read (`access.can_read_unit`), or one holding a task they may see
(`access.task_visible`: an inspector's round, the discipline role's hand-over). Everyone else
gets a 404, not a 403, so the page does not confirm that an instance exists.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from workflows.tables import HistoryEntry, HumanTask, ModelVersion, ProcessInstance

from .. import access, operations
from ..auth import Principal
from ..errors import NotFound
from ..models import Case, Round, Unit, User
from . import ctx, fmt_time, login_required, principal
from .i18n import _, js_text, label, tc

bp = Blueprint("instances", __name__, url_prefix="/instances")

PAGE_SIZE = 50
MAX_VALUE_CHARS = 400  # one line of a history cell; longer values are cut with an ellipsis


def may_see(s: Session, p: Principal, instance: ProcessInstance) -> bool:
    if instance.model_key in access.RESTRICTED_MODELS:
        return p.has("discipline")  # a clue's hand-over history is the discipline inspection's alone
    if p.has(*access.DISTRICT_WIDE):
        return True
    if instance.unit_id is not None and access.can_read_unit(p, instance.unit_id):
        return True
    return bool(s.scalar(select(exists().where(HumanTask.instance_id == instance.id, access.task_visible(p)))))


def visible_instance(s: Session, p: Principal, instance_id: int) -> ProcessInstance:
    instance = s.get(ProcessInstance, instance_id)
    if instance is None or not may_see(s, p, instance):
        raise NotFound(f"process instance {instance_id} does not exist")
    return instance


def _scalar(value) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dict):
        return "，".join(f"{k}: {_scalar(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + " | ".join(_scalar(v) for v in value) + "]" if value else "—"
    return "—" if value is None else str(value)


def _clip(text: str) -> str:
    return text[:MAX_VALUE_CHARS] + "…" if len(text) > MAX_VALUE_CHARS else text


def _lines(value) -> list[str]:
    """A submitted value as readable lines: one per row of a repeated form (the self-check's
    items), each row as `field: value` pairs, so the office reads it without parsing JSON."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [_clip("；".join(f"{k}: {_scalar(v)}" for k, v in row.items())) for row in value]
    if isinstance(value, dict):
        return [_clip("；".join(f"{k}: {_scalar(v)}" for k, v in value.items()))]
    return [_clip(_scalar(value))]


def history(s: Session, instance: ProcessInstance) -> list[dict]:
    """Who did what when, oldest first, with the data each step submitted as (field, lines) rows."""
    rows = s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance.id)
                     .order_by(HistoryEntry.at, HistoryEntry.id)).all()
    names = dict(s.execute(select(User.username, User.name)
                           .where(User.username.in_({r.actor for r in rows if r.actor}))).all())
    out = []
    for row in rows:
        fields = [{"key": key, "lines": _lines(value)} for key, value in (row.data or {}).items()
                  if not str(key).startswith("__")]
        actor = names.get(row.actor, row.actor) if row.actor else _("System")
        out.append({"at": fmt_time(row.at), "actor": actor, "username": row.actor,
                    "event": label("event", row.event),
                    "bpmn_id": row.bpmn_id, "name": tc(row.name) if row.name else "", "fields": fields})
    return out


def _page_url(endpoint: str, **values) -> str | None:
    """A link to another team's page when the application has it (the pages grow independently)."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def summary(s: Session, p: Principal, instance: ProcessInstance) -> dict:
    """The header facts: model and version, unit, the case or round it belongs to, the open tasks
    the viewer may see (linked to the task page when they may open it)."""
    version = s.get(ModelVersion, instance.model_version_id)
    unit = s.get(Unit, instance.unit_id) if instance.unit_id else None
    case = s.scalar(select(Case).where(Case.process_instance_id == instance.id))
    rnd = s.get(Round, case.round_id) if case else s.scalar(
        select(Round).where(Round.process_instance_id == instance.id))
    open_tasks = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open",
                                                   access.task_visible(p))
                           .order_by(HumanTask.created_at)).all()
    return {"id": instance.id, "model_key": instance.model_key, "model_name": tc(version.name),
            "version": version.version, "status": instance.status, "error": instance.error,
            "error_element": instance.error_element, "failures": instance.failures,
            "error_name": tc(ctx().engine.element_name(s, instance, instance.error_element) or ""),
            "retry_at": fmt_time(instance.retry_at),
            "may_retry": instance.status == "error" and bool(s.scalar(select(exists().where(
                ProcessInstance.id == instance.id, access.operated_instances(p))))),
            "business_key": instance.business_key, "unit": unit.name if unit else "",
            "case": case, "round": rnd, "created_at": fmt_time(instance.created_at),
            "updated_at": fmt_time(instance.updated_at),
            "case_url": _page_url("web.case_file", case_id=case.id) if case else None,
            "open_tasks": [{"id": r.id, "name": tc(r.name), "bpmn_id": r.bpmn_id, "lane": tc(r.lane or ""),
                            "due_at": fmt_time(r.due_at), "url": _page_url("web.task", task_id=r.id)}
                           for r in open_tasks]}


@bp.get("/")
@login_required
def index():
    """The instances the office and designers run, failed ones first: what needs someone's eye."""
    status = request.args.get("status", "error")
    status = status if status in operations.INSTANCE_STATUSES else None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    with ctx().db.read() as s:
        rows, total = operations.list_instances(s, principal(), status, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    items = [{"id": i.id, "model_name": tc(version.name), "version": version.version, "business_key": i.business_key,
              "unit": unit or "", "status": i.status, "error": i.error, "error_element": i.error_element,
              "failures": i.failures, "retry_at": fmt_time(i.retry_at), "updated_at": fmt_time(i.updated_at)}
             for i, version, unit in rows]
    return render_template("instances/index.html", items=items, total=total, status=status, page=page,
                           page_size=PAGE_SIZE, statuses=operations.INSTANCE_STATUSES)


@bp.post("/<int:instance_id>/retry")
@login_required
def retry(instance_id: int):
    result = operations.retry(ctx(), principal(), instance_id)
    if result["status"] == "error":
        flash(_("The retry failed again: %(error)s", error=result["error"] or ""), "error")
    else:
        flash(_("The retry went through; the process runs on."), "info")
    return redirect(url_for("instances.view", instance_id=instance_id))


@bp.get("/<int:instance_id>")
@login_required
def view(instance_id: int):
    c = ctx()
    with c.db.read() as s:
        instance = visible_instance(s, principal(), instance_id)
        states = c.engine.element_states(s, instance) if instance.state else {"completed": [], "active": [],
                                                                              "waiting": []}
        facts = summary(s, principal(), instance)
        steps = history(s, instance)
    failure = {"element_id": facts["error_element"], "message": facts["error"]} if facts["error"] else None
    config = {"states": states, "failure": failure, "urls": {"bpmn": url_for("instances.bpmn", instance_id=instance_id)},
              "messages": {"load_failed": _("The diagram could not be loaded."),
                           "missing": js_text(_("Not found in the diagram: %(ids)s"))}}
    return render_template("instances/view.html", instance=facts, states=states, history=steps, config=config)


@bp.get("/<int:instance_id>/bpmn")
@login_required
def bpmn(instance_id: int):
    """The XML of the version this instance runs on (not the model's latest)."""
    with ctx().db.read() as s:
        instance = visible_instance(s, principal(), instance_id)
        xml = s.get(ModelVersion, instance.model_version_id).bpmn_xml
    return Response(xml, mimetype="application/xml")
