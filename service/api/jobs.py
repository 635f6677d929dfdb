"""Background jobs (a list's publication): `GET /jobs/{id}` follows one, `POST /jobs/{id}/retry` takes a
failed one up again."""
from __future__ import annotations

from .. import jobs
from . import bp, ctx, principal


@bp.get("/jobs/<int:job_id>")
def get_job(job_id):
    c = ctx()
    with c.db.read() as s:
        return jobs.job_json(jobs.get_job(s, principal(), job_id), c)


@bp.post("/jobs/<int:job_id>/retry")
def retry_job(job_id):
    c = ctx()
    jobs.retry_failed(c, principal(), job_id)
    with c.db.read() as s:
        return jobs.job_json(jobs.get_job(s, principal(), job_id), c), 202
