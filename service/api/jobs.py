"""Background jobs' progress (a list's publication): `GET /jobs/{id}`."""
from __future__ import annotations

from .. import jobs
from . import bp, ctx, principal


@bp.get("/jobs/<int:job_id>")
def get_job(job_id):
    c = ctx()
    with c.db.read() as s:
        return jobs.job_json(jobs.get_job(s, principal(), job_id), c)
