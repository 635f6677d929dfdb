"""The scaled mode: two app processes (`rectiflow run`) and two worker processes (`rectiflow sweep`)
on one PostgreSQL database. Liaisons complete their tasks through both apps while both workers fire
the timers that fell due together; every completion is applied once, every due timer fires once,
and the timers a worker held when it was killed (SIGKILL) are fired by the other.

That test runs on PostgreSQL only: several processes writing one database at once is what the
scaled mode is for. On either database, sweeps in several threads at once fire each timer once
(SQLite lets one transaction write at a time; its sweeps take that write lock before they read
what is due), and job runners in several threads run a job once."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from support.api import publish_round, round_awaiting_approval
from support.district import PASSWORD, build_district
from support.http import call as http_call

from service import jobs
from service.models import Case, CommonProblem, Job, LeaderNotification, SupervisionAction, Unit
from service.timers import run_due_timers
from workflows.tables import HistoryEntry, HumanTask, Timer
from workflows.tables import ProcessInstance as WfInstance

ROOT = Path(__file__).resolve().parents[1]
N_UNITS = 16
WORKER = "rectiflow-worker-"  # the application_name each worker's connections carry, for pg_stat_activity
# The longest wait for the processes: they take a few seconds on a quiet machine, much longer on a busy one.
WAIT = 120


class Process:
    """One `python -m service.cli ...` over the test's database; its output kept in the test's folder."""

    def __init__(self, name: str, args: list[str], database_url: str, folder: Path, **env: str):
        self.name = name
        self.log = folder / f"{name}.log"
        settings = dict(os.environ, RECTIFLOW_DATABASE_URL=database_url, RECTIFLOW_SECRET_KEY="test",
                        RECTIFLOW_AUDIT_KEY="test-audit-key", RECTIFLOW_INSTANCE_DIR=str(folder / name),
                        PYTHONPATH=str(ROOT), RECTIFLOW_RATE_LIMIT_LOGIN="", RECTIFLOW_RATE_LIMIT_API="", **env)
        with self.log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "service.cli", *args], cwd=ROOT, env=settings,
                                            stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, seconds: float = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                self.kill()


class App(Process):
    """`rectiflow run` on a free port, sweeping nothing itself (RECTIFLOW_APP_SWEEPS=0): the workers do."""

    def __init__(self, name: str, database_url: str, folder: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        super().__init__(name, ["run", "--port", str(port), "--threads", "8"], database_url, folder,
                         RECTIFLOW_APP_SWEEPS="0")
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{self.name} did not start: {self.log.read_text()}")

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        return http_call(self.base, method, path, body, token)


def _worker(name: str, database_url: str, folder: Path) -> Process:
    """`rectiflow sweep` every half second; its connections named, so the test sees what each holds."""
    url = make_url(database_url).update_query_dict({"application_name": WORKER + name})
    return Process(f"worker-{name}", ["sweep", "--interval", "0.5"], url.render_as_string(hide_password=False),
                   folder)


def _wait_for(what, seconds: float, why: str):
    deadline = time.monotonic() + seconds
    while not (found := what()):
        assert time.monotonic() < deadline, f"waited in vain for {why}"
        time.sleep(0.05)
    return found


def test_two_apps_and_two_workers_on_one_database_lose_nothing_and_double_nothing(
        ctx, api, clock, password_hash, postgres, tmp_path):
    if postgres is None:
        pytest.skip("the scaled mode (several processes writing one database) runs on PostgreSQL; "
                    "set RECTIFLOW_DATABASE_URL to a PostgreSQL server")
    # The list went out 55 days ago: every case's green (20 days before the deadline) and yellow
    # (10 days before) warnings fell due while nobody swept, and are due together now.
    clock.move_to(datetime.now(UTC) - timedelta(days=55))
    d = build_district(ctx, password_hash, n_units=N_UNITS)
    round_id = publish_round(api, d)
    clock.move_to(datetime.now(UTC))
    now = clock.now()
    with ctx.db.read() as s:
        cases = {c.process_instance_id: (c.id, c.unit_id) for c in s.scalars(select(Case).where(Case.round_id == round_id))}
        due = s.execute(select(Timer.instance_id, Timer.task_id, Timer.bpmn_id).where(Timer.due_at <= now)).all()
        common_ids = s.scalars(select(CommonProblem.id).where(CommonProblem.round_id == round_id)).all()
        led_units = set(s.scalars(select(Unit.id).where(Unit.leader_id.is_not(None))))
    assert len(cases) == N_UNITS
    assert Counter(bpmn_id for i, _, bpmn_id in due if i in cases) == {"timer_green": N_UNITS, "timer_yellow": N_UNITS}

    # One case, in the middle of the sweep's order, is held by the test: whichever worker comes to
    # fire its timers claims its instance and then waits, in the middle of its transaction, on the
    # case's row. That worker is killed there. Its unit completes nothing, so only a worker fires it.
    held_instance = sorted(cases)[N_UNITS // 2]
    held_case, held_unit = cases[held_instance]
    holder = create_engine(ctx.settings.database_url)
    holding = holder.connect()
    holding.begin()
    holding.execute(select(Case.id).where(Case.id == held_case).with_for_update())
    holder_pid = holding.execute(text("SELECT pg_backend_pid()")).scalar()

    folder = tmp_path / "processes"
    folder.mkdir()
    apps = [App(f"app{i}", ctx.settings.database_url, folder) for i in (1, 2)]
    workers = {name: _worker(name, ctx.settings.database_url, folder) for name in ("a", "b")}
    try:
        for app in apps:
            app.wait_ready()
        liaisons = {unit: apps[i % 2].call("POST", "/auth/token", {
            "username": f"{d.codes[unit].lower()}_liaison", "password": PASSWORD})[1]["token"]
            for i, unit in enumerate(d.units) if unit != held_unit}

        def warned() -> int:
            with ctx.db.read() as s:
                return s.scalar(select(func.count()).select_from(SupervisionAction).where(
                    SupervisionAction.round_id == round_id, SupervisionAction.kind.like("warning_%"))) or 0

        _wait_for(warned, WAIT, "the workers' first warnings")

        # the liaisons file their self-checks through both apps while both workers sweep
        items = {"items": [{"common_problem_id": c, "applicable": False, "reason": "无", "problems_found": 0,
                            "findings": "不涉及"} for c in common_ids]}
        answers: dict[int, tuple[int, object]] = {}

        def file(i: int, unit: int) -> None:
            app, token = apps[i % 2], liaisons[unit]
            status, body = app.call("GET", "/tasks?bpmn_id=self_check", token=token)
            assert status == 200 and len(body["items"]) == 1, body
            answers[unit] = app.call("POST", f"/tasks/{body['items'][0]['id']}/complete", {"data": items}, token)

        filing = [threading.Thread(target=file, args=(i, unit)) for i, unit in enumerate(liaisons)]
        for thread in filing:
            thread.start()

        # the worker that came to the held case: it waits for the case's row, in the middle of the
        # transaction that claimed the case's instance, which nobody else can take meanwhile
        with holder.connect() as conn:
            stuck = _wait_for(lambda: conn.execute(text(
                "SELECT application_name FROM pg_stat_activity "
                "WHERE application_name LIKE :worker AND :holder = ANY(pg_blocking_pids(pid))"),
                {"holder": holder_pid, "worker": WORKER + "%"}).scalar(), WAIT, "a worker to fire the held case")
            with pytest.raises(OperationalError, match="could not obtain lock"):
                conn.execute(select(WfInstance.id).where(WfInstance.id == held_instance).with_for_update(nowait=True))
        killed = stuck.removeprefix(WORKER)
        killed_at = datetime.now(UTC)
        workers[killed].kill()
        holding.rollback()  # the dead worker's transaction rolls back; the case is free
        holding.close()
        survivor = workers["b" if killed == "a" else "a"]

        for thread in filing:
            thread.join(WAIT)

        def all_fired() -> bool:
            with ctx.db.read() as s:
                left = s.scalar(select(func.count()).select_from(Timer).where(
                    Timer.task_id.in_([task_id for _, task_id, _ in due])))
            return left == 0

        _wait_for(all_fired, WAIT, "every due timer to fire")
        assert survivor.process.poll() is None, "the other worker sweeps on"
        survivor.stop(WAIT)
        assert survivor.process.returncode == 0, "SIGTERM ends a worker after the sweep under way"
    finally:
        holder.dispose()
        for process in [*apps, *workers.values()]:
            process.stop()

    # every completion answered and applied once
    assert sorted(answers) == sorted(liaisons)
    assert {status for status, _ in answers.values()} == {200}, answers
    with ctx.db.read() as s:
        completed = Counter(s.scalars(select(HistoryEntry.instance_id).where(
            HistoryEntry.event == "task_completed", HistoryEntry.bpmn_id == "self_check")))
        open_tasks = Counter(s.execute(select(HumanTask.instance_id, HumanTask.bpmn_id).where(
            HumanTask.state == "open", HumanTask.instance_id.in_(cases))).all())
        statuses = dict(s.execute(select(Case.unit_id, Case.status).where(Case.round_id == round_id)).all())
    filed = {i for i, (_, unit) in cases.items() if unit != held_unit}
    assert completed == dict.fromkeys(filed, 1), "each self-check completed exactly once"
    assert open_tasks == {**{(i, "rectify"): 1 for i in filed}, (held_instance, "self_check"): 1}
    assert {u: st for u, st in statuses.items() if u != held_unit} == dict.fromkeys(liaisons, "rectifying")

    # every due timer fired once: each case warned green and yellow once, its leader told once
    with ctx.db.read() as s:
        warnings = Counter(tuple(row) for row in s.execute(
            select(SupervisionAction.case_id, SupervisionAction.kind).where(
                SupervisionAction.round_id == round_id, SupervisionAction.kind.like("warning_%"))))
        fired = Counter(s.scalars(select(HistoryEntry.task_id).where(HistoryEntry.event == "timer_fired")))
        told = Counter(s.scalars(select(LeaderNotification.case_id).where(
            LeaderNotification.round_id == round_id, LeaderNotification.kind == "yellow_warning")))
        levels = set(s.scalars(select(Case.warning).where(Case.round_id == round_id)))
        held_warned_at = s.scalars(select(SupervisionAction.at).where(SupervisionAction.case_id == held_case)).all()
    assert warnings == {(case_id, kind): 1 for case_id, _ in cases.values() for kind in ("warning_green",
                                                                                         "warning_yellow")}
    assert set(fired.values()) <= {1}, "no timer fired twice"
    assert told == {case_id: 1 for case_id, unit in cases.values() if unit in led_units}
    assert levels == {"yellow"}
    # the held case's timers fired after its worker was killed: by the other worker
    assert len(held_warned_at) == 2 and min(held_warned_at) >= killed_at


def test_sweeps_running_at_once_fire_each_due_timer_once(ctx, api, district, clock):
    """The claim on either database: sweeps in four threads over the same due instances share them
    out (PostgreSQL passes over what another holds; SQLite lets one write at a time), and each
    case is warned once."""
    round_id = publish_round(api, district)
    office = api.as_("office1")
    cases = office.get("/cases", query_string={"limit": 500}).get_json()["items"]
    clock.move_to(datetime.fromisoformat(cases[0]["due_at"]) - timedelta(days=10) + timedelta(minutes=1))
    moved: list[int] = []
    start = threading.Barrier(4)

    def sweep() -> None:
        start.wait()
        moved.append(run_due_timers(ctx))

    sweeps = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in sweeps:
        thread.start()
    for thread in sweeps:
        thread.join(120)
    assert sum(moved) == len(cases), moved
    with ctx.db.read() as s:
        warnings = Counter(tuple(row) for row in s.execute(
            select(SupervisionAction.case_id, SupervisionAction.kind).where(
                SupervisionAction.round_id == round_id, SupervisionAction.kind.like("warning_%"))))
    assert warnings == {(c["id"], kind): 1 for c in cases for kind in ("warning_green", "warning_yellow")}
    assert run_due_timers(ctx) == 0


def test_the_celery_sweep_fires_what_is_due(ctx, api, district, clock):
    """With Celery (RECTIFLOW_BROKER_URL), beat's periodic task fires the timers as a worker process would."""
    from service import celery_app

    publish_round(api, district)
    cases = api.as_("office1").get("/cases", query_string={"limit": 500}).get_json()["items"]
    clock.move_to(datetime.fromisoformat(cases[0]["due_at"]) - timedelta(days=20) + timedelta(minutes=1))
    assert "rectiflow.sweep" in {entry["task"] for entry in celery_app.app.conf.beat_schedule.values()}
    celery_app.use_context(ctx)
    try:
        celery_app.sweep.apply().get()
    finally:
        celery_app.use_context(None)
    api.tokens.clear()
    warnings = {c["warning"] for c in api.as_("office1").get("/cases", query_string={"limit": 500}).get_json()["items"]}
    assert warnings == {"green"}


def test_runners_in_several_threads_at_once_run_a_job_once(ctx, api, district):
    """One runner claims the job; the others pass it over (its row held, or its runner alive), so no
    chunk runs twice and each unit gets one case."""
    ctx.settings.publication_chunk = 2
    round_id = round_awaiting_approval(api, district)
    leading = api.as_("leading1")
    job_id = leading.complete(leading.tasks(bpmn_id="approve_list")[0]["id"], {"approved": True})["job_id"]
    ran: list[int] = []
    start = threading.Barrier(3)

    def run() -> None:
        start.wait()
        ran.append(jobs.run_pending(ctx))

    runners = [threading.Thread(target=run) for _ in range(3)]
    for thread in runners:
        thread.start()
    for thread in runners:
        thread.join(120)
    assert sorted(ran) == [0, 0, 1]
    with ctx.db.read() as s:
        job = s.get_one(Job, job_id)
        assert (job.state, job.done, job.attempts) == ("done", len(district.units), 1)
        units = Counter(s.scalars(select(Case.unit_id).where(Case.round_id == round_id)))
    assert units == dict.fromkeys(district.units, 1)
