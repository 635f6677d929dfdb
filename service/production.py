"""The scaled mode's web server: gunicorn with several worker processes in front of one database.

`rectiflow run` stays the embedded default (waitress, with the timer sweep and the job runner as
threads of the same process). Here the web workers only answer requests: the timers, the prunes and
the background jobs run in processes of their own (a Celery worker with `RECTIFLOW_BROKER_URL`,
`rectiflow fire-timers` / `rectiflow run-jobs` from cron), never once per web worker, where each
worker would sweep the same timers and run the same jobs.

The application is made once in the master before the workers fork (`preload_app`), so the schema
check and the default models' deployment run once; each worker then drops the connections it
inherited and opens its own.
"""
from __future__ import annotations

import gc
import os
from typing import Any

from flask import Flask


def default_workers() -> int:
    """One worker per core: a worker spends most of a request running Python, not waiting."""
    return max(2, os.cpu_count() or 1)


def serve(app: Flask, *, host: str, port: int, workers: int, threads: int, timeout: int = 60,
          access_log: bool = False) -> None:
    from gunicorn.app.base import BaseApplication

    options: dict[str, Any] = {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync", "preload_app": True, "timeout": timeout,
        "graceful_timeout": 30, "keepalive": 5, "accesslog": "-" if access_log else None,
        "post_fork": _post_fork(app), "proc_name": "rectiflow",
    }

    class Production(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    _settle(app)
    Production().run()


def _settle(app: Flask) -> None:
    """Parse the current process models in the master and freeze what it has made by then.

    Every worker then starts with the models it runs parsed, and the collector never scans the
    master's objects (modules, the app, the parsed specs) again: a full collection in a worker,
    which a step's many short-lived workflow objects set off often, goes over that request's
    objects only. The frozen pages also stay shared between the workers after the fork."""
    ctx = app.extensions["rectiflow"]
    registry = ctx.engine.registry
    with ctx.db.read() as s:
        for version_id in registry.current_ids(s).values():
            registry.load(s, version_id)
    gc.collect()
    gc.freeze()


def _post_fork(app: Flask):
    def post_fork(server, worker) -> None:
        # Connections opened in the master (schema check, deployment) must not be shared across
        # processes: the worker forgets them without closing them under the master's feet.
        app.extensions["rectiflow"].db.engine.dispose(close=False)
    return post_fork
