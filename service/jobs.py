"""Background jobs: work too long for one request (a list's publication to every unit) done after
it, in chunks, each chunk its own committed transaction.

A job is created in the request's transaction and handed to a runner once that commits: the
service's own thread in the embedded mode (`scheduler.JobRunner`), a Celery worker when
RECTIFLOW_BROKER_URL is set (`celery_app`). Each chunk skips what is done already, so a job taken
over from a runner that died (no heartbeat for `job_stale_seconds`) goes on where it stopped.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from . import access, audit, fanout, rounds
from .auth import Principal, principal_for
from .context import Context
from .db import claim_row, lock_row
from .errors import Conflict, Forbidden, NotFound
from .models import Job, JobKind, JobState, Round, User

log = logging.getLogger(__name__)
# A job whose chunk fails is tried again this many times in all before it is marked failed.
JOB_ATTEMPTS = 3

# Called with a job's id once the transaction that created it has committed (see `create`).
_dispatchers: list[Callable[[Context, int], None]] = []


def add_dispatcher(dispatch: Callable[[Context, int], None]) -> None:
    """A runner that wants to hear of new jobs at once (the embedded thread)."""
    if dispatch not in _dispatchers:
        _dispatchers.append(dispatch)


def remove_dispatcher(dispatch: Callable[[Context, int], None]) -> None:
    if dispatch in _dispatchers:
        _dispatchers.remove(dispatch)


# ---------------------------------------------------------------- creating and reading
def create(ctx: Context, s: Session, kind: JobKind, round_id: int | None, total: int, payload: dict,
           created_by: int | None) -> Job:
    """A queued job; it is handed to a runner only when this transaction commits, never before."""
    job = Job(kind=kind, state=JobState.QUEUED, round_id=round_id, total=total, done=0, payload=payload,
              created_by=created_by, created_at=ctx.now(), attempts=0)
    s.add(job)
    s.flush()
    s.info.setdefault("jobs_created", []).append(job.id)
    job_id = job.id

    def committed(session: Session) -> None:
        dispatch(ctx, job_id)

    event.listen(s, "after_commit", committed, once=True)
    return job


def created_in(s: Session) -> list[int]:
    """The jobs this transaction created (a task's completion that published a list)."""
    return list(s.info.get("jobs_created", []))


def job_row(s: Session, job_id: int) -> Job:
    return s.get_one(Job, job_id)


def dispatch(ctx: Context, job_id: int) -> None:
    """Hand a committed job to its runner: the Celery queue in the scaled mode, else the service's thread
    (if none runs, as under the tests, the job waits for `run_pending`)."""
    if ctx.settings.broker_url:
        from .celery_app import enqueue

        try:
            enqueue(ctx.settings.broker_url, job_id)
        except Exception:  # noqa: BLE001 - the job is saved; a worker's sweep finds it queued
            log.exception("could not queue job %s", job_id)
        return
    for wake in list(_dispatchers):
        wake(ctx, job_id)


def get_job(s: Session, p: Principal, job_id: int) -> Job:
    job = s.get(Job, job_id)
    if not access.may_read_job(p, job.kind if job is not None else ""):
        raise Forbidden("the office, the leading group and the administrator follow background jobs")
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def job_json(job: Job, ctx: Context) -> dict:
    return {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done, "total": job.total,
            "round_id": job.round_id, "error": job.error, "created_at": ctx.local_iso(job.created_at),
            "started_at": ctx.local_iso(job.started_at) if job.started_at else None,
            "finished_at": ctx.local_iso(job.finished_at) if job.finished_at else None}


@dataclass
class Publication:
    """A round's publication as its page shows it: the round, and its job (None before approval)."""

    round: Round
    job: Job | None


def publication(s: Session, p: Principal, round_id: int) -> Publication:
    """How far the round's list has gone out, for those who follow jobs."""
    if not access.may_read_jobs(p):
        raise Forbidden("the office, the leading group and the administrator follow a list's publication")
    rnd = rounds.get_round(s, p, round_id)
    job = s.scalar(select(Job).where(Job.kind == JobKind.PUBLICATION, Job.round_id == rnd.id)
                   .order_by(Job.id.desc()).limit(1))
    return Publication(rnd, job)


def publication_running(s: Session, round_id: int) -> bool:
    """Whether the round's publication is still opening cases."""
    return s.scalar(select(Job.id).where(Job.kind == JobKind.PUBLICATION, Job.round_id == round_id,
                                         Job.state.in_([JobState.QUEUED, JobState.RUNNING])).limit(1)) is not None


# ---------------------------------------------------------------- running
def run_pending(ctx: Context) -> int:
    """Run every job that is queued, or running without a recent heartbeat (its runner died), to its
    end; returns how many runs there were. A job that failed is tried again (queued anew by `_fail`)
    until it has had `JOB_ATTEMPTS`. The embedded thread calls it, so do the tests."""
    ran, tried = 0, Counter[int]()
    while waiting := [j for j in _waiting(ctx) if tried[j] < JOB_ATTEMPTS]:
        for job_id in waiting:
            tried[job_id] += 1
            if run_job(ctx, job_id):
                ran += 1
    return ran


def retry_failed(ctx: Context, p: Principal, job_id: int) -> None:
    """The office queues a failed job again from its page or the API, once its cause is put right."""
    if not access.may_retry_jobs(p):
        raise Forbidden("the office or the administrator takes a failed job up again", code="role_required",
                        roles=list(access.JOB_OPERATORS))
    with ctx.db.read() as s:
        get_job(s, p, job_id)
    if not retry(ctx, job_id, p.username):
        raise Conflict(f"job {job_id} has not failed; there is nothing to take up again", code="job_not_failed")


def retry(ctx: Context, job_id: int, actor: str | None = None) -> bool:
    """Queue a failed job again (once what made it fail is put right); False when it had not failed."""
    def requeue(s: Session) -> bool:
        lock_row(s, Job, job_id)
        job = s.get(Job, job_id)
        if job is None or job.state != JobState.FAILED:
            return False
        s.refresh(job)
        job.state, job.attempts, job.finished_at = JobState.QUEUED, 0, None
        audit.record(s, "job_retried", actor, f"job:{job_id}")
        return True
    if not ctx.db.transaction(requeue):
        return False
    dispatch(ctx, job_id)
    return True


def _waiting(ctx: Context) -> list[int]:
    stale = ctx.now() - timedelta(seconds=ctx.settings.job_stale_seconds)
    with ctx.db.read() as s:
        return list(s.scalars(select(Job.id).where(or_(
            Job.state == JobState.QUEUED,
            (Job.state == JobState.RUNNING) & (or_(Job.heartbeat.is_(None), Job.heartbeat < stale))))
            .order_by(Job.id)))


def run_job(ctx: Context, job_id: int, max_chunks: int | None = None) -> bool:
    """Take the job (unless another runner holds it, alive) and work it chunk by chunk; False when
    it was not ours to run. `max_chunks` stops early, as a runner that died would."""
    runner = uuid.uuid4().hex
    if not ctx.db.transaction(lambda s: _claim(ctx, s, job_id, runner)):
        return False
    chunks, over = 0, False
    try:
        while max_chunks is None or chunks < max_chunks:
            if not ctx.db.transaction(lambda s: _chunk(ctx, s, job_id, runner)):
                over = True
                break
            chunks += 1
    except Exception as exc:  # noqa: BLE001 - the job says what went wrong; the service goes on
        log.exception("job %s failed", job_id)
        message = f"{type(exc).__name__}: {exc}"
        ctx.db.transaction(lambda s: _fail(ctx, s, job_id, runner, message))
    if over:
        _refresh_statistics(ctx)
    return True


def _refresh_statistics(ctx: Context) -> None:
    """What comes after a job is planned on the rows it wrote in bulk; the job is over whether or
    not this succeeds (autovacuum comes to it later anyway)."""
    try:
        ctx.db.refresh_statistics(fanout.FILLED)
    except Exception:  # noqa: BLE001
        log.warning("could not refresh the planner's statistics after a job", exc_info=True)


def _claim(ctx: Context, s: Session, job_id: int, runner: str) -> bool:
    """Make `runner` the job's runner, unless it is over or another runner alive has it. Runners in
    several processes may try at once: the row is claimed (`claim_row`), so a job whose row another
    transaction holds (its runner in the middle of a chunk, or another claim) is passed over at
    once, and what decides is the row as it is once it is ours. A chunk runs only while its
    runner is the job's runner, under the same row lock, so no two runners run one job's chunks."""
    if not claim_row(s, Job, job_id):
        return False
    job = s.get(Job, job_id)
    if job is None:
        return False
    s.refresh(job)
    now = ctx.now()
    stale = now - timedelta(seconds=ctx.settings.job_stale_seconds)
    alive = job.state == JobState.RUNNING and job.heartbeat is not None and job.heartbeat >= stale
    if job.state in (JobState.DONE, JobState.FAILED) or alive:
        return False
    job.state, job.runner, job.heartbeat = JobState.RUNNING, runner, now
    job.started_at = job.started_at or now
    job.attempts = (job.attempts or 0) + 1
    return True


def _chunk(ctx: Context, s: Session, job_id: int, runner: str) -> bool:
    """One chunk in this transaction; False once the job is over (or taken over by another runner)."""
    lock_row(s, Job, job_id)
    job = s.get_one(Job, job_id)
    s.refresh(job)
    if job.runner != runner or job.state != JobState.RUNNING:
        return False
    p = _principal(s, job.created_by)
    if job.kind == JobKind.PUBLICATION:
        finished = _publication_chunk(ctx, s, p, job)
    elif job.kind == JobKind.MIGRATION:
        from . import instance_migration  # it queues its jobs here

        finished = instance_migration.chunk(ctx, s, p, job)
    else:
        raise ValueError(f"unknown kind of job: {job.kind}")
    now = ctx.now()
    job.heartbeat = now
    if finished:
        job.state, job.finished_at = JobState.DONE, now
    return not finished


def _publication_chunk(ctx: Context, s: Session, p: Principal | None, job: Job) -> bool:
    """The next units without their case; True once all have theirs and the rest of the list went out.

    The units go in the plan's order, and `job.done` is committed with each chunk: every unit before
    it has its case, so a chunk reads only its own units' cases (a unit among them that has one is
    left alone), never the whole list's. Once past the end, the whole list is checked once, and a
    unit found without its case (a job counted by an earlier way of counting) gets it then."""
    unit_ids: list[int] = job.payload["unit_ids"]
    assert job.round_id is not None
    due = datetime.fromisoformat(job.payload["due_at"])
    at = min(job.done or 0, len(unit_ids))
    # a chunk is one service step: the scripts of the cases it starts share one time budget, as the
    # whole fan-out did when it ran inside the approval
    with ctx.engine.script_account():
        if at < len(unit_ids):
            chunk = unit_ids[at:at + ctx.settings.publication_chunk]
            rounds.open_cases(ctx, s, p, job.round_id, chunk, due)
            job.done = at + len(chunk)
            return False
        have = rounds.cases_opened(s, job.round_id, unit_ids)
        missing = [u for u in unit_ids if u not in have]
        if missing:
            rounds.open_cases(ctx, s, p, job.round_id, missing, due)
        job.done = len(unit_ids)
        rounds.finish_publication(ctx, s, p, job.round_id, job.payload)
    return True


def _fail(ctx: Context, s: Session, job_id: int, runner: str, message: str) -> None:
    """The chunk that failed left nothing; the job is queued again while it has attempts left
    (unless another runner has taken the job over meanwhile: it is then that runner's)."""
    lock_row(s, Job, job_id)
    job = s.get_one(Job, job_id)
    s.refresh(job)
    if job.runner != runner:
        return
    job.error = message[:2000]
    if (job.attempts or 0) < JOB_ATTEMPTS:
        job.state = JobState.QUEUED
    else:
        job.state, job.finished_at = JobState.FAILED, ctx.now()


def _principal(s: Session, user_id: int | None) -> Principal | None:
    """Who approved the list: the cases and letters are started in their name, as they were in the request."""
    user = s.get(User, user_id) if user_id is not None else None
    return principal_for(s, user) if user is not None else None
