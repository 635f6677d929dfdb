"""The migration page of a process model (linked from the designer's list of versions): the dry-run
report for a chosen version, the migration of the movable instances with its progress, and the
rollback of one migrated instance. Designers and administrators act; the office reads the report."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for

from .. import access, instance_migration
from ..errors import Conflict, NotFound, Unprocessable
from ..models import JobState
from . import bp, ctx, fmt_time, principal
from .i18n import _
from .problems import error_text, of_exception


def _reasons(item: dict) -> list[str]:
    """Why an instance cannot move, one sentence per obstacle, naming the element where there is one."""
    out = []
    for reason in item["reasons"]:
        text = error_text(reason["code"])
        element = reason.get("element_name") or reason.get("element_id")
        out.append(_("%(reason)s (%(element)s)", reason=text, element=element) if element else text)
    return out


def _job(job) -> dict | None:
    if job is None:
        return None
    return {"id": job.id, "state": job.state, "done": job.done, "total": job.total, "error": job.error,
            "to_version": job.payload.get("to_version"),
            "running": job.state in (JobState.QUEUED, JobState.RUNNING),
            "finished": fmt_time(job.finished_at) if job.finished_at else None}


@bp.get("/designer/models/<key>/migration")
def migration(key: str):
    """The report for `?to=` (the newest version by default) and the migration `?job=` (the last one)."""
    c = ctx()
    with c.db.read() as s:
        data = instance_migration.overview(c, s, principal(), key, request.args.get("to", type=int),
                                           request.args.get("job", type=int))
        report = data["report"]
        p = principal()

        def linked(items: list[dict]) -> list[dict]:  # links only where the reader may open the instance
            return [dict(item, readable=access.can_read_unit(p, item["unit_id"])) for item in items]

        view = {
            "key": key, "name": data["name"], "may_migrate": data["may_migrate"], "to_version": report.to_version,
            "versions": [(number, fmt_time(at)) for number, at in data["versions"]],
            "movable": linked(report.movable),
            "immovable": linked([dict(item, reason_texts=_reasons(item)) for item in report.immovable]),
            "job": _job(data["job"]),
            "migrated": linked([dict(item, at=fmt_time(item["at"])) for item in data["migrated"]]),
        }
    return render_template("designer/migration.html", **view)


@bp.get("/designer/models/<key>/migration/progress")
def migration_progress(key: str):
    """The progress alone, for the page's polling (htmx) to swap in."""
    with ctx().db.read() as s:
        job = _job(instance_migration.progress(s, principal(), key, request.args.get("job", 0, type=int)))
    response = make_response(render_template("designer/_migration_progress.html", key=key, job=job))
    if job is not None and not job["running"]:
        # it ended while the page watched: the whole page is read again, for the migrated instances
        # and their move-back buttons, which the progress alone does not hold
        response.headers["HX-Refresh"] = "true"
    return response


@bp.post("/designer/models/<key>/migration")
def start_migration(key: str):
    c = ctx()
    to_version = request.form.get("to_version", type=int)
    try:
        job = c.db.transaction(lambda s: instance_migration.start(c, s, principal(), key, to_version))[1]
    except (Conflict, NotFound, Unprocessable) as exc:
        flash(of_exception(exc), "error")
        return redirect(url_for("web.migration", key=key, to=to_version))
    flash(_("The migration has started: the movable instances move one after the other."), "success")
    return redirect(url_for("web.migration", key=key, to=to_version, job=job.id))


@bp.post("/designer/instances/<int:instance_id>/rollback-migration")
def rollback_migration(instance_id: int):
    c = ctx()
    key = request.form.get("key", "")
    try:
        done = c.db.transaction(lambda s: instance_migration.rollback(c, s, principal(), instance_id))
    except (Conflict, NotFound, Unprocessable) as exc:
        flash(of_exception(exc), "error")
    else:
        flash(_("Instance %(id)s is back on version %(version)s.", id=instance_id, version=done["version"]), "success")
    return redirect(url_for("web.migration", key=key))
