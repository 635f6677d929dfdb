"""Publication's fan-out on this machine, as the scaled mode runs it, beside SpiffWorkflow alone.

For each database and number of units: a district of that many units (a liaison and a head each)
and a round whose 3-problem list (one problem aimed at half the units) waits for the leading
group's approval. An app worker (`rectiflow run`, jobs queued for a broker so it runs none) answers
the approval over HTTP; a job worker (`rectiflow run-jobs`, its own process) fans the list out.
Measured: the approval's answer time, the fan-out's time (the job's start to its end, as the job
row records them, and the worker process's whole life), the peak RSS of both processes while the
fan-out runs (sampled with psutil), and SpiffWorkflow alone creating, running to the first task and
serializing the same number of `unit_rectification` instances in this process.

Prints, does not assert. `run(units, databases)` returns the figures (`make bench` writes them to
bench/results.json). From the shell:

    .venv/bin/python bench/fanout_bench.py [--units 1000 10000] [--databases postgresql sqlite]
        [--postgres URL] [--sqlite-max 1000] [--json FILE]

A PostgreSQL database is made for each run on the server of --postgres (or
RECTIFLOW_BENCH_POSTGRES) and dropped after it. SQLite runs only up to --sqlite-max units.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from config import Settings, write_audit_key, write_secret_key  # noqa: E402
from service import create_app  # noqa: E402
from service.auth import new_token  # noqa: E402
from service.models import Case, Job, Unit, User  # noqa: E402
from workflows import serializer  # noqa: E402

POSTGRES = os.environ.get("RECTIFLOW_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# The app worker queues jobs for Celery here; nobody consumes them (the job worker runs them from the
# database) and the bench removes the messages it left.
BROKER = os.environ.get("RECTIFLOW_BENCH_BROKER", "redis://127.0.0.1:6379/15")
SQLITE_MAX = 1000
SAMPLE_SECONDS = 0.05


# ---------------------------------------------------------------- the district
@dataclass
class Prepared:
    round_id: int
    leading_token: str
    office_token: str


def seed(ctx, units: int) -> dict[str, int]:
    """`units` rectifying units (companies and streets, two industries, two leaders in charge), each with
    a liaison and a head, written in bulk; the office, the leading group, an inspector and a department."""
    def work(s):
        ids: dict[str, int] = {}
        for code, name, kind in (("X01", "区委巡察办", "office"), ("L01", "领导小组", "leading_group")):
            ids[kind] = s.scalar(insert(Unit).values(code=code, name=name, kind=kind).returning(Unit.id))
        leaders = [s.scalar(insert(User).values(username=f"leader{i}", name=f"分管领导{i}", password_hash="x",
                                                roles=["leader"]).returning(User.id)) for i in range(2)]
        ids["department"] = s.scalar(insert(Unit).values(code="D0001", name="职能部门", kind="department",
                                                         industry="行业0", leader_id=leaders[0]).returning(Unit.id))
        s.execute(insert(Unit), [{"code": f"U{i:06d}", "name": f"单位{i}", "kind": "street" if i % 2 else "company",
                                  "industry": f"行业{i % 2}", "leader_id": leaders[i % 2]} for i in range(units - 1)])
        unit_ids = [ids["department"], *s.scalars(select(Unit.id).where(Unit.code.like("U%")).order_by(Unit.id))]
        people = [{"username": f"unit{i}_{role}", "name": role, "password_hash": "x",
                   "roles": [role, "department"] if i == 0 and role == "unit_liaison" else [role], "unit_id": uid}
                  for i, uid in enumerate(unit_ids) for role in ("unit_liaison", "unit_head")]
        people += [{"username": "office1", "name": "巡察办", "password_hash": "x", "roles": ["office"],
                    "unit_id": ids["office"]},
                   {"username": "leading1", "name": "领导小组", "password_hash": "x", "roles": ["leading_group"],
                    "unit_id": ids["leading_group"]},
                   {"username": "inspector0", "name": "巡察员", "password_hash": "x", "roles": ["inspector"],
                    "unit_id": ids["office"]}]
        s.execute(insert(User), people)
        for name in ("office1", "leading1", "inspector0"):
            ids[name] = s.scalar(select(User.id).where(User.username == name))
        ids["first_unit"] = unit_ids[1]
        return ids
    return ctx.db.transaction(work)


def prepare(app, units: int) -> Prepared:
    """The district, and a round with a 3-problem list waiting for approval, driven through the API."""
    ctx = app.extensions["rectiflow"]
    ids = seed(ctx, units)
    tokens = {name: ctx.db.transaction(lambda s, n=name: new_token(s, ids[n], ctx.now(), 12))
              for name in ("office1", "leading1", "inspector0")}
    client = app.test_client()

    def call(who: str, method: str, path: str, body: dict | None = None) -> dict:
        r = client.open("/api/v1" + path, method=method, json=body,
                        headers={"Authorization": f"Bearer {tokens[who]}"})
        assert r.status_code < 300, (path, r.status_code, r.get_json())
        return r.get_json()

    def complete(who: str, bpmn_id: str) -> None:
        task = call(who, "GET", f"/tasks?bpmn_id={bpmn_id}&limit=5")["items"][0]
        call(who, "POST", f"/tasks/{task['id']}/complete", {"data": {}})

    round_id = call("office1", "POST", "/rounds", {"name": "基准轮次", "inspected_unit_ids": [ids["first_unit"]],
                                                   "inspector_ids": [ids["inspector0"]]})["id"]
    problem = call("inspector0", "POST", f"/rounds/{round_id}/problems",
                   {"unit_id": ids["first_unit"], "description": "合同未经法律审核", "category": "合同"})["id"]
    complete("inspector0", "record_findings")
    for j, aimed in enumerate((None, None, {"industries": ["行业1"]})):
        call("office1", "POST", f"/rounds/{round_id}/common-problems",
             {"title": f"共性问题{j}", "category": "合同", "responsible_department_id": ids["department"],
              "problem_ids": [problem] if j == 0 else [], "targets": aimed})
    complete("office1", "distill_list")
    return Prepared(round_id, tokens["leading1"], tokens["office1"])


# ---------------------------------------------------------------- processes
class PeakRss:
    """The highest resident set size of a process (its children included) while it is sampled."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.peak = 0
        self.cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.process.memory_info().rss + sum(
                    c.memory_info().rss for c in self.process.children(recursive=True))
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            try:
                times = self.process.cpu_times()
                self.cpu = times.user + times.system
            except psutil.Error:
                return
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak / 2**20, 1)


def _env(url: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECTIFLOW_")}
    env.update(RECTIFLOW_DATABASE_URL=url, RECTIFLOW_INSTANCE_DIR=str(folder), RECTIFLOW_BROKER_URL=BROKER,
               RECTIFLOW_TIMER_INTERVAL="3600", PYTHONPATH=str(ROOT))
    return env


def _rectiflow(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())", *args]


def _cpu(pid: int) -> float:
    """The CPU time a process has used: on a machine busy with other work, what a step cost it."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_worker(url: str, folder: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    port = _free_port()
    log = (folder / "app.log").open("wb")
    proc = subprocess.Popen(_rectiflow("run", "--port", str(port), "--threads", "4"), env=_env(url, folder),
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app worker did not start: {(folder / 'app.log').read_text()}") from None
                time.sleep(0.1)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _http(port: int, token: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _forget_queued_messages() -> None:
    """The Celery messages the app worker queued (no Celery worker consumes them here)."""
    try:
        import redis
    except ImportError:
        return
    try:
        client = redis.Redis.from_url(BROKER)
        client.delete("celery", "_kombu.binding.celery")
    except Exception:  # noqa: BLE001 - a bench leaves a message behind at worst
        pass


# ---------------------------------------------------------------- one fan-out
def fan_out(url: str, folder: Path, units: int) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    write_secret_key(folder)
    write_audit_key(folder)
    settings = Settings(instance_dir=folder, database_url=url)
    settings.secret_key = (folder / "secret_key").read_text().strip()
    settings.audit_key = (folder / "audit_key").read_text().strip()
    app = create_app(settings)
    ctx = app.extensions["rectiflow"]
    prepared = prepare(app, units)
    ctx.db.engine.dispose()
    with app_worker(url, folder) as (port, proc):
        app_rss = PeakRss(proc.pid)
        leading = _http(port, prepared.leading_token, "GET", "/tasks?bpmn_id=approve_list&limit=5")["items"][0]
        asked, cpu = time.perf_counter(), _cpu(proc.pid)
        answer = _http(port, prepared.leading_token, "POST", f"/tasks/{leading['id']}/complete",
                       {"data": {"approved": True}})
        approval, approval_cpu = time.perf_counter() - asked, _cpu(proc.pid) - cpu
        job_id = answer["job_id"]
        worker_log = (folder / "jobs.log").open("wb")
        began = time.perf_counter()
        worker = subprocess.Popen(_rectiflow("run-jobs"), env=_env(url, folder), cwd=ROOT, stdout=worker_log,
                                  stderr=subprocess.STDOUT)
        job_rss = PeakRss(worker.pid)
        worker.wait()
        worker_seconds = time.perf_counter() - began
        job_peak, job_cpu = job_rss.stop(), job_rss.cpu
        worker_log.close()
        job = _http(port, prepared.office_token, "GET", f"/jobs/{job_id}")
        app_peak = app_rss.stop()
    _forget_queued_messages()
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(select(Job.started_at, Job.finished_at).where(Job.id == job_id)).one()
        cases = conn.scalar(select(func.count()).select_from(Case).where(Case.round_id == prepared.round_id))
    engine.dispose()
    seconds = (row.finished_at - row.started_at).total_seconds() if row.finished_at and row.started_at else None
    if job["state"] != "done":
        print((folder / "jobs.log").read_text()[-3000:], file=sys.stderr)
    return {"job_state": job["state"], "cases": cases, "fanout_seconds": seconds,
            "units_per_second": round(units / seconds, 1) if seconds else None,
            "job_worker_seconds": round(worker_seconds, 2), "job_worker_cpu_seconds": round(job_cpu, 2),
            "approval_seconds": round(approval, 3), "approval_cpu_seconds": round(approval_cpu, 3),
            "app_worker_peak_rss_mb": app_peak, "job_worker_peak_rss_mb": job_peak,
            "publication_chunk": settings.publication_chunk}


def raw_spiff(units: int) -> float:
    """SpiffWorkflow alone, the same model and script engine: a new `unit_rectification` workflow per
    unit, its start data set, run to its first task, serialized."""
    from workflows.registry import parse_specs
    from workflows.scripting import district_zone, make_script_engine
    from workflows.xml_safety import parse_xml

    xml = (ROOT / "bpmn" / "unit_rectification.bpmn").read_bytes()
    spec, subs = parse_specs(parse_xml(xml), "unit_rectification")
    from datetime import UTC, datetime
    engine = make_script_engine(lambda: datetime.now(UTC), district_zone("Asia/Shanghai"))
    started = time.perf_counter()
    for i in range(units):
        workflow = BpmnWorkflow(spec, subs, script_engine=engine)
        workflow.get_next_task(state=TaskState.READY).data.update({
            "case_id": i, "unit_id": i, "round_id": 1, "common_problems": [{"id": 1, "title": "共性问题"}],
            "due_at": "2027-01-31T00:00:00+08:00", "green_days": 20, "yellow_days": 10, "talk_days": 10,
            "reply_days_default": 5, "recheck": False})
        workflow.do_engine_steps()
        serializer.dumps(workflow)
    return time.perf_counter() - started


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database: a file for SQLite, a database of its own on the PostgreSQL server."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/bench.db"
        return
    server = kind if "://" in kind else POSTGRES
    name = f"rectiflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(units: list[int], databases: list[str], sqlite_max: int = SQLITE_MAX) -> dict:
    """The fan-out of each number of units on each database ("postgresql", a PostgreSQL server's URL,
    or "sqlite"; SQLite only up to `sqlite_max` units), each beside raw SpiffWorkflow on as many
    instances in the same run. Returns {"fanout": [one dict of figures per run]}."""
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in databases:
            label = "sqlite" if kind == "sqlite" else "postgresql"
            for count in units:
                if label == "sqlite" and count > sqlite_max:
                    continue
                folder = Path(tmp) / f"{label}-{count}-{uuid.uuid4().hex[:6]}"
                folder.mkdir()
                with database(kind, folder) as url:
                    measured = fan_out(url, folder, count)
                raw = raw_spiff(count)
                measured.update(database=label, units=count, raw_spiff_seconds=round(raw, 2),
                                raw_spiff_ms_per_instance=round(raw * 1000 / count, 2),
                                service_to_raw=round(measured["fanout_seconds"] / raw, 2)
                                if measured["fanout_seconds"] else None)
                figures.append(measured)
                print(line(measured), flush=True)
    return {"fanout": figures}


def line(m: dict) -> str:
    return (f"{m['database']:<10} {m['units']:>6} units: fan-out {m['fanout_seconds'] or float('nan'):7.2f} s "
            f"({m['units_per_second'] or 0:7.1f}/s, worker {m['job_worker_seconds']:6.2f} s, {m['job_state']}, "
            f"{m['cases']} cases) | raw SpiffWorkflow {m['raw_spiff_seconds']:7.2f} s "
            f"({m['raw_spiff_ms_per_instance']:.2f} ms each) | approval {m['approval_seconds'] * 1000:6.0f} ms "
            f"({m['approval_cpu_seconds'] * 1000:.0f} ms CPU) | job worker CPU {m['job_worker_cpu_seconds']:.1f} s | "
            f"peak RSS app {m['app_worker_peak_rss_mb']:.0f} MB, job {m['job_worker_peak_rss_mb']:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    global POSTGRES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--postgres", default=POSTGRES, help="a server where the bench may create databases")
    parser.add_argument("--sqlite-max", type=int, default=SQLITE_MAX)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    POSTGRES = args.postgres
    figures = run(args.units, args.databases, args.sqlite_max)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
