"""The scaled mode's job runners: Celery workers fed through Redis (RECTIFLOW_BROKER_URL).

    celery -A service.celery_app worker --loglevel=INFO
    celery -A service.celery_app beat          # the sweeps: jobs whose worker died, and due timers

A worker runs a job by its id with the same `jobs.run_job` the embedded thread calls; the job's
rows say how far it got, so a message delivered twice, or a job taken over, opens nothing twice.
Beat also has a worker fire the due timers every RECTIFLOW_TIMER_INTERVAL seconds, as
`rectiflow sweep` does; sweeps that overlap share the instances out (`timers.run_due_timers`).
"""
from __future__ import annotations

from celery import Celery
from celery.signals import worker_ready

from config import Settings

from . import jobs
from .context import Context, make_context

_settings = Settings()
app = Celery("rectiflow", broker=_settings.broker_url or "redis://127.0.0.1:6379/0")
app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                broker_connection_retry_on_startup=True,
                beat_schedule={"rectiflow-stale-jobs": {"task": "rectiflow.run_pending_jobs",
                                                        "schedule": float(_settings.job_stale_seconds)},
                               "rectiflow-timers": {"task": "rectiflow.sweep",
                                                    "schedule": float(_settings.timer_interval)}})

_context: Context | None = None


def use_context(ctx: Context | None) -> None:
    """The context the worker's tasks run with (the tests' database); by default one from the settings."""
    global _context
    _context = ctx


def _ctx() -> Context:
    global _context
    if _context is None:
        _context = make_context(Settings())
    return _context


@app.task(name="rectiflow.run_job")
def run_job(job_id: int) -> bool:
    return jobs.run_job(_ctx(), job_id)


@app.task(name="rectiflow.run_pending_jobs")
def run_pending_jobs() -> int:
    return jobs.run_pending(_ctx())


@app.task(name="rectiflow.sweep")
def sweep() -> None:
    """The due timers and the housekeeping, as a `rectiflow sweep` worker does them."""
    from .scheduler import TimerScheduler

    TimerScheduler(_ctx(), _settings.timer_interval).sweep()


@worker_ready.connect
def _take_up_left_jobs(**_kw) -> None:
    """A worker that starts takes up what was queued, or left running by a worker that died."""
    run_pending_jobs.delay()


def enqueue(broker_url: str, job_id: int) -> None:
    if app.conf.broker_url != broker_url:  # the settings of the service that queues it win
        app.conf.broker_url = broker_url
    run_job.delay(job_id)
