"""The inbox (待办) and the done list (已办) pages: `service.inbox` reads them (the task index and
the engine's history, never a workflow; see its docstring and bench/inbox_bench.py), and these
views put the rows in the page's language.
"""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from workflows.tables import HumanTask

from .. import case_file as case_reads
from .. import extensions, measures, operations, residents, tasks
from .. import inbox as inbox_reads
from ..auth import Principal
from ..context import Context
from ..models import BusinessKey, KeyKind
from ..validation import bounded_int
from . import bp, ctx, due_info, fmt_time, principal, values
from .i18n import tc

PAGE_SIZE = 20
# Tasks worked on pages made for them rather than on a generated form, by the step the task's
# element declares (a designer may rename the element; the step stays).
SPECIAL_PAGES: dict[str | None, str] = {"record_findings": "web.findings", "distill_list": "web.distill"}


@bp.get("/")
def home():
    return redirect(url_for("web.inbox"))


@bp.get("/inbox")
def inbox():
    filters = {"process": request.args.get("process") or None, "task": request.args.get("task") or None,
               "unit": _int(request.args.get("unit"))}
    sort = request.args.get("sort") if request.args.get("sort") in tasks.SORTS else None
    page = max(_int(request.args.get("page")) or 1, 1)
    c = ctx()
    with c.db.read() as s:
        view = inbox_view(c, s, principal(), filters, page, sort)
    template = "_inbox_results.html" if request.headers.get("HX-Request") else "inbox.html"
    return render_template(template, **view)


@bp.get("/done")
def done():
    page = max(_int(request.args.get("page")) or 1, 1)
    c = ctx()
    with c.db.read() as s:
        view = done_view(c, s, principal(), page)
    return render_template("done.html", **view)


# ------------------------------------------------------------------ views
def inbox_view(c: Context, s: Session, p: Principal, filters: dict, page: int, sort: str | None = None) -> dict:
    now = c.now()
    data = inbox_reads.inbox_page(s, p, now, process_model=filters["process"], bpmn_id=filters["task"],
                                  unit_id=filters["unit"], sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    facets, units = data.facets, data.units
    process_names = {k: tc(name) or k for k, name in facets.process_names.items()}
    items = []
    for r in data.rows:
        case = data.cases.get(r.business_key)
        items.append({
            "id": r.id, "name": tc(r.name), "bpmn_id": r.bpmn_id,
            "process": process_names.get(r.model_key, r.model_key),
            "unit": units.get(r.unit_id, ""), "due": due_info(r.due_at, now), "created": fmt_time(r.created_at),
            "warning": case.warning if case is not None else "none", "url": task_url(r),
            "round": data.rounds.get(r.business_key, ""), "returned": r.id in data.returns, "priority": r.priority,
            "suspended": r.instance_id in data.suspended,
            "instance_url": url_for("instances.view", instance_id=r.instance_id)
            if r.instance_id in data.diagrams else None,
        })
    return {
        "items": items, "total": data.total, "page": page, "page_size": PAGE_SIZE, "filters": filters, "sort": sort,
        "counts": facets.counts,
        "process_options": sorted(((k, process_names.get(k, k), n) for k, n in facets.processes.items()),
                                  key=lambda o: o[1]),
        "task_options": sorted(((k, tc(facets.task_names[k]), n) for k, n in facets.tasks.items()),
                               key=lambda o: o[1]),
        "unit_options": sorted(((k, units.get(k, str(k)), n) for k, n in facets.units.items() if k is not None),
                               key=lambda o: o[1]),
        "filtered": any(v is not None for v in filters.values()),
        "failed_instances": operations.failed_count(s, p),
        "pending_extensions": extensions.pending_count(s, p),
        "overdue_measures": measures.overdue_count(s, p),
        "waiting_reports": residents.waiting_count(s, p),
    }


def done_view(c: Context, s: Session, p: Principal, page: int) -> dict:
    data = inbox_reads.done_page(c, s, p, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    items = []
    titles: dict[int, dict[int, str]] = {}  # per round, read once for the page
    for it in data.items:
        entry, case = it.entry, it.case
        if case is not None and case.round_id not in titles:
            titles[case.round_id] = titles_of(s, case.round_id)
        refs = {"common_problem": titles[case.round_id] if case is not None else {}}
        items.append({"name": tc(entry.name or entry.bpmn_id), "round": it.round,
                      "submitted": values.summary(entry.data, it.form, refs),
                      "instance_url": url_for("instances.view", instance_id=entry.instance_id)
                      if entry.instance_id in data.diagrams else None,
                      "process": tc(data.process_names.get(it.model_key)) or it.model_key,
                      "unit": data.units.get(it.unit_id, ""), "at": fmt_time(entry.at),
                      "case_url": url_for("web.case_file", case_id=case.id) if case is not None else None,
                      "case_status": case.status if case is not None else None})
    return {"items": items, "total": data.total, "page": page, "page_size": PAGE_SIZE}


def titles_of(s: Session, round_id: int) -> dict[int, str]:
    return case_reads.common_problem_titles(s, BusinessKey(KeyKind.ROUND, round_id))


def task_url(row: HumanTask) -> str:
    endpoint = SPECIAL_PAGES.get(row.step)
    key = BusinessKey.parse(row.business_key)
    if endpoint and key is not None and key.kind == KeyKind.ROUND:
        return url_for(endpoint, round_id=key.id)
    return url_for("web.task", task_id=row.id)


def _int(raw: str | None) -> int | None:
    return bounded_int(raw)
