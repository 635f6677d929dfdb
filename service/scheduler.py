"""The embedded timer scheduler: a daemon thread that fires due timers every few seconds, and
deletes API tokens that have expired and drafts of tasks no longer open; and the embedded runner
of background jobs.

In the scaled mode the same sweep runs in worker processes (`rectiflow sweep`, see `run_worker`),
as many as wanted, beside the app processes: each instance's timers are claimed in the transaction
that fires them (`timers.fire_instance_timers`) and each job by its runner (`jobs.run_job`), so
no timer fires twice and no job chunk runs twice, and what a killed process held is taken up by
the others.
"""
from __future__ import annotations

import logging
import threading

from . import drafts, jobs
from .account import prune_expired_tokens
from .context import Context
from .timers import run_due_timers

log = logging.getLogger(__name__)


class TimerScheduler(threading.Thread):
    def __init__(self, ctx: Context, interval: float) -> None:
        super().__init__(name="rectiflow-timers", daemon=True)
        self.ctx = ctx
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.sweep()

    def sweep(self) -> int:
        """Once: fire what is due, then the housekeeping; whatever fails is tried again next time.
        Returns how many instances the timers moved."""
        moved = 0
        try:
            moved = run_due_timers(self.ctx)
            if moved:
                log.info("timers advanced %d instance(s)", moved)
        except Exception:  # keep the scheduler alive; the next tick retries
            log.exception("timer run failed")
        self._prune_expired_tokens()
        return moved

    def _prune_expired_tokens(self) -> None:
        try:
            pruned = prune_expired_tokens(self.ctx)
            if pruned:
                log.info("%d expired API token(s) deleted", pruned)
        except Exception:  # the next tick tries again
            log.exception("pruning expired API tokens failed")
        try:
            stale = drafts.prune_stale(self.ctx)
            if stale:
                log.info("%d draft(s) of closed tasks deleted", stale)
        except Exception:  # the next tick tries again
            log.exception("pruning drafts failed")

    def stop(self) -> None:
        self._stop_event.set()


class JobRunner(threading.Thread):
    """The embedded mode's runner of background jobs (a list's publication): woken when a request
    commits a new job, and every `interval` seconds anyway, so that a job left queued, or running by
    a process that died, is taken up again (see `jobs.run_pending`)."""

    def __init__(self, ctx: Context, interval: float) -> None:
        super().__init__(name="rectiflow-jobs", daemon=True)
        self.ctx = ctx
        self.interval = interval
        self._wake = threading.Event()
        self._stopped = False

    def start(self) -> None:
        jobs.add_dispatcher(self.wake)
        super().start()

    def wake(self, ctx: Context, job_id: int) -> None:
        self._wake.set()

    def run(self) -> None:
        while not self._stopped:
            try:
                ran = jobs.run_pending(self.ctx)
                if ran:
                    log.info("%d background job(s) run", ran)
            except Exception:  # keep the runner alive; the next round tries again
                log.exception("running background jobs failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self) -> None:
        self._stopped = True
        jobs.remove_dispatcher(self.wake)
        self._wake.set()


def run_worker(ctx: Context, interval: float, stop: threading.Event, once: bool = False) -> str:
    """`rectiflow sweep`: a worker process of the scaled mode, serving no HTTP. It sweeps the timers
    (and the housekeeping) every `interval` seconds from the start, and runs the background jobs
    in a thread as the embedded mode does (unless Celery workers run them: RECTIFLOW_BROKER_URL),
    until `stop` is set (SIGTERM). `once`: one sweep and the jobs waiting, then return. Returns
    what it did, for the command to say."""
    sweeper = TimerScheduler(ctx, interval)
    if once:
        moved = sweeper.sweep()
        ran = 0 if ctx.settings.broker_url else jobs.run_pending(ctx)
        return f"{moved} instance(s) advanced, {ran} job run(s)"
    runner = None if ctx.settings.broker_url else JobRunner(ctx, interval)
    if runner is not None:
        runner.start()
    log.info("sweeping every %g s%s", interval, "" if runner is None else "; running background jobs")
    try:
        while not stop.is_set():
            sweeper.sweep()
            stop.wait(interval)
    finally:
        if runner is not None:
            runner.stop()
            runner.join(timeout=60)  # the chunk under way commits or rolls back; the job waits for the next runner
    return "stopped"
