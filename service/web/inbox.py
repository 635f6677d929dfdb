"""The inbox (待办) and the done list (已办).

The inbox reads only the engine's task index (`service.tasks.list_open`, the need-to-know rules
of `service.access`) plus, for the rows of one page, their units and cases: it never loads a
workflow, so a page stays fast however many tasks the district has (see bench/inbox_bench.py).
Done items come from the engine's history (`wf_history`, event `task_completed`, actor = the
user), which records who completed what even after the task index row is gone.
"""
from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.tables import HistoryEntry, HumanTask, ModelVersion, ProcessInstance

from .. import access, operations, tasks
from ..auth import Principal
from ..context import Context
from ..models import Case, Unit
from ..validation import bounded_int
from . import bp, ctx, due_info, fmt_time, principal
from .i18n import tc

PAGE_SIZE = 20
# Tasks worked on pages made for them rather than on a generated form.
SPECIAL_PAGES = {("inspection_round", "record_findings"): "web.findings",
                 ("inspection_round", "distill_list"): "web.distill"}


@bp.get("/")
def home():
    return redirect(url_for("web.inbox"))


@bp.get("/inbox")
def inbox():
    filters = {"process": request.args.get("process") or None, "task": request.args.get("task") or None,
               "unit": _int(request.args.get("unit"))}
    page = max(_int(request.args.get("page")) or 1, 1)
    c = ctx()
    with c.db.read() as s:
        view = inbox_view(c, s, principal(), filters, page)
    template = "_inbox_results.html" if request.headers.get("HX-Request") else "inbox.html"
    return render_template(template, **view)


@bp.get("/done")
def done():
    page = max(_int(request.args.get("page")) or 1, 1)
    c = ctx()
    with c.db.read() as s:
        view = done_view(c, s, principal(), page)
    return render_template("done.html", **view)


# ------------------------------------------------------------------ reads
def inbox_view(c: Context, s: Session, p: Principal, filters: dict, page: int) -> dict:
    now = c.now()
    rows, total = tasks.list_open(s, p, process_model=filters["process"], bpmn_id=filters["task"],
                                  unit_id=filters["unit"], limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    facets = inbox_facets(s, p, now)
    units = _unit_names(s, {r.unit_id for r in rows} | set(facets["units"]))
    cases = _cases_by_key(s, [r.business_key for r in rows])
    items = []
    for r in rows:
        case = cases.get(r.business_key)
        items.append({
            "id": r.id, "name": tc(r.name), "bpmn_id": r.bpmn_id, "process": facets["process_names"].get(r.model_key, r.model_key),
            "unit": units.get(r.unit_id, ""), "due": due_info(r.due_at, now), "created": fmt_time(r.created_at),
            "warning": case.warning if case is not None else "none", "url": task_url(r),
        })
    return {
        "items": items, "total": total, "page": page, "page_size": PAGE_SIZE, "filters": filters,
        "counts": facets["counts"],
        "process_options": sorted(((k, facets["process_names"].get(k, k), n) for k, n in facets["processes"].items()),
                                  key=lambda o: o[1]),
        "task_options": sorted(((k, tc(facets["task_names"][k]), n) for k, n in facets["tasks"].items()),
                               key=lambda o: o[1]),
        "unit_options": sorted(((k, units.get(k, str(k)), n) for k, n in facets["units"].items() if k is not None),
                               key=lambda o: o[1]),
        "filtered": any(v is not None for v in filters.values()),
        "failed_instances": operations.failed_count(s, p),
    }


def inbox_facets(s: Session, p: Principal, now) -> dict:
    """Counts of the user's open tasks by process, task type and unit, and how many are urgent.

    One grouped query over the same rows the inbox lists (the same access rule), so the
    filter menus show how many tasks each choice leaves.
    """
    overdue = func.sum(sql_case((HumanTask.due_at < now, 1), else_=0))
    soon = func.sum(sql_case(((HumanTask.due_at >= now) & (HumanTask.due_at < now + timedelta(days=7)), 1), else_=0))
    # grouped in the order of ix_wf_task_facets, which holds every column read: an index-only scan
    query = (select(HumanTask.unit_id, HumanTask.model_key, HumanTask.bpmn_id, func.count(), overdue, soon)
             .where(HumanTask.state == "open", access.task_actionable(p))
             .group_by(HumanTask.unit_id, HumanTask.model_key, HumanTask.bpmn_id))
    processes: dict[str, int] = {}
    task_counts: dict[str, int] = {}
    task_models: dict[str, str] = {}
    unit_counts: dict = {}
    counts = {"total": 0, "overdue": 0, "soon": 0}
    for unit_id, model_key, bpmn_id, n, n_overdue, n_soon in s.execute(query):
        processes[model_key] = processes.get(model_key, 0) + n
        task_counts[bpmn_id] = task_counts.get(bpmn_id, 0) + n
        task_models.setdefault(bpmn_id, model_key)
        unit_counts[unit_id] = unit_counts.get(unit_id, 0) + n
        counts["total"] += n
        counts["overdue"] += n_overdue or 0
        counts["soon"] += n_soon or 0
    return {"processes": processes, "tasks": task_counts, "task_names": _task_names(s, task_models),
            "units": unit_counts, "counts": counts, "process_names": process_names(s, processes)}


def _task_names(s: Session, task_models: dict[str, str]) -> dict[str, str]:
    """The name of each task type: one index seek per type (a handful), not a scan of the rows."""
    return {bpmn_id: s.scalar(select(HumanTask.name).where(HumanTask.bpmn_id == bpmn_id,
                                                         HumanTask.model_key == model_key).limit(1)) or bpmn_id
            for bpmn_id, model_key in task_models.items()}


def process_names(s: Session, keys) -> dict[str, str]:
    """The shown name of each process model: its latest version's name, translated when known."""
    keys = list(keys)
    if not keys:
        return {}
    latest = (select(ModelVersion.key, func.max(ModelVersion.version).label("v"))
              .where(ModelVersion.key.in_(keys)).group_by(ModelVersion.key).subquery())
    rows = s.execute(select(ModelVersion.key, ModelVersion.name)
                     .join(latest, (ModelVersion.key == latest.c.key) & (ModelVersion.version == latest.c.v)))
    return {key: tc(name) or key for key, name in rows}


def done_view(c: Context, s: Session, p: Principal, page: int) -> dict:
    mine = (HistoryEntry.actor == p.username) & (HistoryEntry.event == "task_completed")
    total = s.scalar(select(func.count()).select_from(HistoryEntry).where(mine))
    rows = s.execute(
        select(HistoryEntry, ProcessInstance.model_key, ProcessInstance.unit_id, ProcessInstance.business_key)
        .join(ProcessInstance, ProcessInstance.id == HistoryEntry.instance_id)
        .where(mine).order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    units = _unit_names(s, {r.unit_id for r in rows})
    names = process_names(s, {r.model_key for r in rows})
    cases = _cases_by_key(s, [r.business_key for r in rows])
    items = []
    for entry, model_key, unit_id, business_key in rows:
        case = cases.get(business_key)
        items.append({"name": tc(entry.name or entry.bpmn_id), "process": names.get(model_key, model_key),
                      "unit": units.get(unit_id, ""), "at": fmt_time(entry.at),
                      "case_url": url_for("web.case_file", case_id=case.id) if case is not None else None,
                      "case_status": case.status if case is not None else None})
    return {"items": items, "total": total, "page": page, "page_size": PAGE_SIZE}


def task_url(row: HumanTask) -> str:
    endpoint = SPECIAL_PAGES.get((row.model_key, row.bpmn_id))
    kind, _, ident = (row.business_key or "").partition(":")
    if endpoint and kind == "round" and ident.isdigit():
        return url_for(endpoint, round_id=int(ident))
    return url_for("web.task", task_id=row.id)


def _unit_names(s: Session, unit_ids) -> dict[int, str]:
    ids = [u for u in unit_ids if u is not None]
    if not ids:
        return {}
    return dict(s.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())


def _cases_by_key(s: Session, business_keys) -> dict[str, Case]:
    ids = {int(k.split(":", 1)[1]) for k in business_keys if k and k.startswith("case:") and k[5:].isdigit()}
    if not ids:
        return {}
    return {f"case:{c.id}": c for c in s.scalars(select(Case).where(Case.id.in_(ids)))}


def _int(raw: str | None) -> int | None:
    return bounded_int(raw)
