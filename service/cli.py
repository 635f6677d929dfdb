"""The `rectiflow` command: init-db, db upgrade|current|revision, create-admin, seed-demo, run, serve-prod,
sweep, run-jobs, fire-timers, deploy, backup, restore, audit verify|prune, totp-reset."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from config import Settings, SettingsError, write_audit_key, write_secret_key


def _app(init: bool):
    """The application; `init-db` first writes the instance's secret key and audit key if it has none."""
    from . import create_app

    settings = Settings()
    if init and (write_secret_key(settings.instance_dir) | write_audit_key(settings.instance_dir)):
        settings = Settings()  # read the keys just written
    if init:
        settings.schema_upgrade = True  # asked for by name: it makes or upgrades the schema whatever the mode
    settings.require_secret_key()
    settings.require_audit_key()
    return create_app(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rectiflow", description="Inspection common-problem rectification service")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create the tables and deploy the default process models")
    database = sub.add_parser("db", help="the database's schema: upgrade it to this release (the scaled mode, "
                                         "before its processes start), show its revision, or write a new revision")
    database.add_argument("db_command", choices=["upgrade", "current", "revision"],
                          help="upgrade: apply the revisions it lacks (an empty database is made whole); "
                               "current: its revision and this release's (exit 1 when behind); "
                               "revision: (developers) write the next revision from what the models changed")
    database.add_argument("-m", "--message", default="", help="revision: what the change is, in a few words")
    seed = sub.add_parser("seed-demo", help="load the demo district (skipped if it is already there)")
    seed.add_argument("--if-empty", action="store_true", help="(default) only seed an empty database")
    run = sub.add_parser("run", help="serve the web application and API")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--threads", type=int, default=8)
    sweep = sub.add_parser("sweep", help="a worker process (scaled mode): fire due timers and run background "
                                         "jobs, serving no HTTP, until stopped; run as many as wanted")
    sweep.add_argument("--interval", type=float, metavar="SECONDS",
                       help="seconds between sweeps (default: RECTIFLOW_TIMER_INTERVAL)")
    sweep.add_argument("--once", action="store_true", help="sweep once, run the jobs waiting, and stop")
    prod = sub.add_parser("serve-prod", help="serve the web application and API with gunicorn's worker processes "
                                             "(the scaled mode: timers and jobs run in workers of their own)")
    prod.add_argument("--host", default="127.0.0.1")
    prod.add_argument("--port", type=int, default=8000)
    prod.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core, at least 2)")
    prod.add_argument("--threads", type=int, default=4, help="threads per worker (default: 4)")
    prod.add_argument("--timeout", type=int, default=60, help="seconds before a silent worker is restarted")
    prod.add_argument("--access-log", action="store_true", help="log every request to standard output")
    sub.add_parser("fire-timers", help="fire the timers that are due now, once")
    run_jobs = sub.add_parser("run-jobs", help="run the background jobs (a list's publication) that wait, "
                                               "or whose runner died, to their end, once")
    run_jobs.add_argument("--retry", type=int, metavar="JOB_ID", help="first queue this failed job again")
    deploy = sub.add_parser("deploy", help="deploy a BPMN file as a new version")
    deploy.add_argument("file", type=Path)
    saving = sub.add_parser("backup", help="write the whole database, evidence files included, to one archive")
    saving.add_argument("file", type=Path)
    restoring = sub.add_parser("restore", help="replace the database's content with an archive's, after checking it")
    restoring.add_argument("file", type=Path)
    restoring.add_argument("--replace", action="store_true", help="overwrite a database that holds users or rounds")
    auditing = sub.add_parser("audit", help="the audit log")
    auditing.add_argument("audit_command", choices=["verify", "prune"],
                          help="verify: recompute the whole hash chain and name the first entry that does not hold; "
                               "prune: remove the entries older than RECTIFLOW_AUDIT_RETENTION_DAYS (at least 180)")
    totp_reset = sub.add_parser("totp-reset", help="turn off an account's two-step verification (a lost phone): "
                                                   "its holder logs in with the password and enrols again")
    totp_reset.add_argument("username")
    first_admin = sub.add_parser("create-admin", help="create an administrator account (a clean install's first "
                                                      "login); the password comes from RECTIFLOW_ADMIN_PASSWORD "
                                                      "or is asked for twice")
    first_admin.add_argument("username")
    first_admin.add_argument("--name", default="", help="the person's name (default: the username)")
    first_admin.add_argument("--duty", default="admin", choices=["admin", "security_admin", "audit_admin"],
                             help="the administrator duty the account holds, alone (default: admin, the system "
                                  "administrator)")
    args = parser.parse_args(argv)
    if args.command == "create-admin":
        return _create_admin(args.username, args.name, args.duty)
    if args.command == "db":
        return _schema(args.db_command, args.message)
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args)
    if args.command == "audit":
        return _audit_log(args.audit_command)
    if args.command == "totp-reset":
        return _reset_totp(args.username)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # per-task state changes are noise here

    from .schema import SchemaError

    try:
        app = _app(init=args.command == "init-db")
    except (SettingsError, SchemaError) as exc:
        print(f"rectiflow: {exc}", file=sys.stderr)
        return 2
    ctx = app.extensions["rectiflow"]
    if args.command == "init-db":
        print(f"database ready at {ctx.settings.database_url.split('@')[-1]}")
    elif args.command == "seed-demo":
        from .demo import seed_demo

        print(seed_demo(ctx))
    elif args.command == "run-jobs":
        from . import jobs

        if args.retry is not None and not jobs.retry(ctx, args.retry):
            print(f"job {args.retry} has not failed; nothing to retry", file=sys.stderr)
            return 1
        print(f"{jobs.run_pending(ctx)} job run(s)")
    elif args.command == "sweep":
        if args.interval is not None and args.interval <= 0:
            print("rectiflow: --interval must be a positive number of seconds", file=sys.stderr)
            return 2
        _sweep(ctx, args.interval or ctx.settings.timer_interval, args.once)
    elif args.command == "fire-timers":
        from .timers import run_due_timers

        print(f"{run_due_timers(ctx)} instance(s) advanced")
    elif args.command == "deploy":
        from workflows.registry import DeployError

        try:
            version, created = ctx.db.transaction(lambda s: _deploy(s, ctx, args.file.read_bytes()))
        except DeployError as exc:
            for err in exc.errors:
                print(f"{err['element_id'] or '-'}: {err['message']}", file=sys.stderr)
            return 1
        print(f"{version.key} version {version.version}" + ("" if created else " (unchanged)"))
    elif args.command == "run":
        from waitress import serve

        from .scheduler import JobRunner, TimerScheduler

        _warm_up(ctx)

        if ctx.settings.app_sweeps:  # else `rectiflow sweep` workers fire the timers and run the jobs
            TimerScheduler(ctx, ctx.settings.timer_interval).start()
            if not ctx.settings.broker_url:  # else Celery workers run the jobs
                JobRunner(ctx, ctx.settings.timer_interval).start()
        print(f"rectiflow serving on http://{args.host}:{args.port}/ (API at /api/v1)")
        serve(app, host=args.host, port=args.port, threads=args.threads)
    elif args.command == "serve-prod":
        from . import production

        _warm_up(ctx)  # before the workers fork: each starts with the dictionary loaded
        workers = args.workers or production.default_workers()
        print(f"rectiflow serving on http://{args.host}:{args.port}/ with {workers} worker(s) × {args.threads} "
              "thread(s); timers and background jobs are not run here (see README, scaled mode)")
        production.serve(app, host=args.host, port=args.port, workers=workers, threads=args.threads,
                         timeout=args.timeout, access_log=args.access_log)
    return 0


def _warm_up(ctx) -> None:
    """What the first requests would otherwise wait for, loaded before the port opens (a second or
    two of the start): jieba's dictionary (recording a problem checks it for recurrence) and, in the
    scaled mode, the Celery client that queues the jobs a request creates."""
    from . import insight

    insight.warm_up()
    if ctx.settings.broker_url:
        from . import celery_app  # noqa: F401 - imported for its import time


def _sweep(ctx, interval: float, once: bool) -> None:
    """The worker's loop in the foreground; SIGTERM or Ctrl-C ends it after the sweep under way."""
    import signal
    import threading

    from .scheduler import run_worker

    stop = threading.Event()

    def ask_to_stop(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, ask_to_stop)
    signal.signal(signal.SIGINT, ask_to_stop)
    print(run_worker(ctx, interval, stop, once))


def _deploy(s, ctx, xml: bytes):
    """A deployment from the command line: on the audit log with no actor (no one logged in)."""
    from . import audit

    version, created = ctx.engine.deploy(s, xml, deployed_by="cli")
    audit.record(s, "model_deployed", None, f"model:{version.key}:{version.version}",
                 detail={"created": created, "via": "cli"})
    return version, created


def _schema(command: str, message: str) -> int:
    """`rectiflow db ...`: needs the database's address and nothing else (no keys)."""
    from . import schema
    from .db import make_engine

    if command == "revision":
        if not message.strip():
            print("rectiflow: db revision needs -m \"what changed\"", file=sys.stderr)
            return 2
        print(f"wrote {schema.write_revision(message)}")
        return 0
    try:
        settings = Settings()
    except SettingsError as exc:
        print(f"rectiflow: {exc}", file=sys.stderr)
        return 2
    if settings.database_url.startswith("sqlite:///"):
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        return _upgrade_or_tell(command, engine)
    except schema.SchemaError as exc:
        print(f"rectiflow: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _upgrade_or_tell(command: str, engine) -> int:
    from . import schema

    if command == "upgrade":
        before, now = schema.upgrade(engine)
        print(f"database at revision {now}" + (" (already)" if before == now else f" (was {before or 'none'})"))
        return 0
    found, wanted = schema.current(engine), schema.head()
    schema.require_known(found)  # a newer release's revision: says so
    print(f"database at revision {found or '(none)'}; this release: {wanted}"
          + ("" if found == wanted else " — run `rectiflow db upgrade`"))
    return 0 if found == wanted else 1


def _keyed_database():
    """Settings, the audit key and the database, for the commands that need nothing else (and write
    on the audit log); None, having said why, when the settings do not hold."""
    from .db import Database

    try:
        settings = Settings()
        key = settings.require_audit_key()
    except SettingsError as exc:
        print(f"rectiflow: {exc}", file=sys.stderr)
        return None
    return settings, key, Database(settings.database_url, key)


def _audit_log(command: str) -> int:
    """Needs only the database and the audit key. verify: 0 when the chain is whole, 1 naming the
    first bad entry. prune: removes what is past the retention, 1 (removing nothing) when the chain
    does not verify."""
    from datetime import UTC, datetime, timedelta

    from . import audit

    opened = _keyed_database()
    if opened is None:
        return 2
    settings, key, db = opened
    try:
        if command == "prune":
            days = settings.audit_retention_days
            cutoff = datetime.now(UTC) - timedelta(days=days)
            try:
                done = db.transaction(lambda s: audit.prune(s, key, cutoff, days))
            except audit.Broken as exc:
                print(_broken(exc.verdict) + "; nothing was pruned")
                return 1
            if not done.count:
                print(f"nothing to prune: no entry is older than {days} days")
            else:
                print(f"{done.count} audit log entries older than {days} days removed (up to entry {done.base_id}); "
                      f"entry {done.entry.id if done.entry else '?'} records the cut")
            return 0
        with db.read() as s:
            verdict = audit.verify(s, key)
    finally:
        db.engine.dispose()
    if not verdict.ok:
        print(_broken(verdict))
        return 1
    start = f" after entry {verdict.base_id}, where it was pruned" if verdict.base_id else ""
    print(f"audit log OK: {verdict.count} entries verified{start}")
    return 0


def _reset_totp(username: str) -> int:
    """Needs only the database and the audit key: 0 when the account's factor is gone, 1 when it had none."""
    from . import totp

    opened = _keyed_database()
    if opened is None:
        return 2
    db = opened[2]
    try:
        removed = db.transaction(lambda s: totp.reset(s, username))
    finally:
        db.engine.dispose()
    if not removed:
        print(f"{username} has no two-step verification to turn off", file=sys.stderr)
        return 1
    print(f"two-step verification of {username} is off; they log in with the password and enrol again")
    return 0


def _create_admin(username: str, name: str, duty: str) -> int:
    """0 once the account exists; 1 when the password is refused (weak, or the two typed differ) or
    the username is taken; 2 when the settings or the database are not ready (run init-db first)."""
    import getpass
    import os

    from sqlalchemy.exc import SQLAlchemyError

    from . import administration
    from .errors import ApiError

    password = os.environ.get("RECTIFLOW_ADMIN_PASSWORD", "")
    if not password:
        try:
            password = getpass.getpass(f"password for {username}: ")
            again = getpass.getpass("the same password again: ")
        except (EOFError, KeyboardInterrupt):
            print("rectiflow: no password given (set RECTIFLOW_ADMIN_PASSWORD, or type it when asked)", file=sys.stderr)
            return 1
        if password != again:
            print("rectiflow: the two passwords differ; nothing was created", file=sys.stderr)
            return 1
    opened = _keyed_database()
    if opened is None:
        return 2
    db = opened[2]
    try:
        db.transaction(lambda s: administration.create_first_admin(s, username, name, password, duty))
    except ApiError as exc:
        print(f"rectiflow: {_admin_refusal(exc)}; nothing was created", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"rectiflow: the database is not ready ({exc.__class__.__name__}): run `rectiflow init-db` first",
              file=sys.stderr)
        return 2
    finally:
        db.engine.dispose()
    print(f"{duty} {username} created: log in with this password" +
          ("; units and accounts are given on the administration pages" if duty == "admin" else ""))
    return 0


def _admin_refusal(exc) -> str:
    from .auth import MIN_PASSWORD_LENGTH, PASSWORD_CLASSES

    return {"password_too_short": f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters",
            "password_weak": f"the password is too weak: use at least {PASSWORD_CLASSES} of lower-case letters, "
                             "upper-case letters, digits and other characters",
            "duplicate_username": "an account with this username exists already",
            "invalid_username": "a username is letters, digits, dots, hyphens and underscores"}.get(exc.code, exc.detail)


def _broken(verdict) -> str:
    return (f"audit log broken at entry {verdict.bad_id}: {verdict.reason} "
            f"({verdict.count} entries verified before it)")


def _backup_or_restore(args) -> int:
    """Neither needs the application: only the database the settings point at."""
    from datetime import UTC, datetime

    from . import backup
    from .db import Database

    try:
        db = Database(Settings().database_url)
    except SettingsError as exc:
        print(f"rectiflow: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "backup":
            done = backup.backup(db.engine, args.file, datetime.now(UTC))
            print(f"{done.rows} rows of {done.tables} tables written to {args.file}")
        else:
            done = backup.restore(db.engine, args.file, replace=args.replace)
            print(f"{done.rows} rows of {done.tables} tables restored from {args.file}")
    except backup.BackupError as exc:
        print(f"rectiflow: {exc}", file=sys.stderr)
        return 1
    finally:
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
