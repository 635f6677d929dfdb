"""The embedded timer scheduler: a daemon thread that fires due timers every few seconds, and
deletes API tokens that have expired and drafts of tasks no longer open; and the embedded runner
of background jobs.

In the scaled mode the same `run_due_timers` is called by a worker instead; both are safe to
run side by side because each instance advances under its optimistic version check.
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
            try:
                moved = run_due_timers(self.ctx)
                if moved:
                    log.info("timers advanced %d instance(s)", moved)
            except Exception:  # keep the scheduler alive; the next tick retries
                log.exception("timer run failed")
            self._prune_expired_tokens()

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
