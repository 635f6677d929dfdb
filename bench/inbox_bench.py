"""How fast is the inbox with 100,000 task rows? Prints the time of each query of a page.

    python bench/inbox_bench.py [--tasks 100000] [--open 0.3] [--history 100000] [--repeat 15]

Builds a temporary SQLite database with the real schema and the deployed default models, a
district of 500 units, and inserts `--tasks` rows into `wf_human_task` (a share `--open` of them
open; the rest completed, as a long-running district accumulates) spread over unit liaisons,
unit heads, the office, departments, leaders in charge and inspectors, plus `--history`
`task_completed` rows in `wf_history` for the done list. Then, for four kinds of user, it times
the inbox's queries (`service.tasks.list_open` with its count, the filter counts of
`service.inbox.facets`, a deep page), the done list's query, and a whole `GET /inbox` and
`GET /done` through the Flask test client, and prints each query's SQLite plan.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text

from config import Settings
from service import create_app
from service import tasks as task_service
from service.auth import hash_password, principal_for
from service.models import Unit, User
from workflows.tables import (
    HistoryEntry,
    HumanTask,
    ModelVersion,
    ProcessInstance,
    TaskCandidate,
)

UNITS = 500
ROLES = [("unit_liaison", 45), ("unit_head", 15), ("office", 25), ("department", 5), ("leader", 5), ("inspector", 5)]
TASKS_BY_ROLE = {"unit_liaison": [("self_check", "对照自查"), ("rectify", "整改落实")],
                 "unit_head": [("attest_and_file", "承诺并备案")], "office": [("review_filing", "审核备案"),
                                                                     ("track_supervision", "跟踪督办")],
                 "department": [("plan_governance", "制定专项治理方案")], "leader": [("talk_reminder", "谈话提醒")],
                 "inspector": [("record_findings", "记录巡察发现")]}


def build(app, n_tasks: int, open_share: float, n_history: int, seed: int = 7) -> dict:
    ctx = app.extensions["rectiflow"]
    rnd = random.Random(seed)
    now = ctx.now()
    pw = hash_password("bench")
    users = {}

    def org(s):
        office = Unit(code="X01", name="巡察办", kind="office")
        s.add(office)
        s.flush()
        leader = User(username="leader_a", name="分管领导", password_hash=pw, roles=["leader"])
        inspector = User(username="inspector_a", name="巡察员", password_hash=pw, roles=["inspector"], unit_id=office.id)
        s.add_all([leader, inspector])
        s.flush()
        for i in range(UNITS):
            s.add(Unit(code=f"U{i:04d}", name=f"单位{i}", kind="department" if i < 20 else "company",
                       leader_id=leader.id if i < 50 else None))
        s.flush()
        unit7 = s.scalar(select(Unit.id).where(Unit.code == "U0007"))
        s.add_all([User(username="liaison_7", name="联络员", password_hash=pw, roles=["unit_liaison"], unit_id=unit7),
                   User(username="office_a", name="巡察办", password_hash=pw, roles=["office"], unit_id=office.id)])
        s.flush()
        for name in ("liaison_7", "office_a", "leader_a", "inspector_a"):
            users[name] = s.scalar(select(User.id).where(User.username == name))
        return [u for u in s.scalars(select(Unit.id).where(Unit.code.like("U%")).order_by(Unit.id))]

    unit_ids = ctx.db.transaction(org)
    with ctx.db.read() as s:
        version_id = s.scalar(select(ModelVersion.id).where(ModelVersion.key == "unit_rectification"))
    # one instance per unit and "round": 20 rounds of history
    instances = []
    with ctx.db.engine.begin() as conn:
        rows = [{"model_version_id": version_id, "model_key": "unit_rectification", "business_key": None,
                 "unit_id": u, "status": "running", "state": "{}", "lock_version": 1, "created_at": now,
                 "updated_at": now} for _ in range(20) for u in unit_ids]
        conn.execute(insert(ProcessInstance), rows)
        instances = [(r.id, r.unit_id) for r in conn.execute(select(ProcessInstance.id, ProcessInstance.unit_id)
                                                             .where(ProcessInstance.model_key == "unit_rectification"))]
    by_unit: dict[int, list[int]] = {}
    for iid, uid in instances:
        by_unit.setdefault(uid, []).append(iid)
    roles = [r for r, w in ROLES for _ in range(w)]
    task_rows, candidate_rows = [], []
    for n in range(n_tasks):
        role = rnd.choice(roles)
        unit = unit_ids[n % UNITS] if role != "leader" else unit_ids[rnd.randrange(60)]
        bpmn_id, name = rnd.choice(TASKS_BY_ROLE[role])
        is_open = rnd.random() < open_share
        created = now - timedelta(days=rnd.randrange(0, 700))
        tid = str(uuid.UUID(int=rnd.getrandbits(128)))
        task_rows.append({
            "id": tid, "instance_id": rnd.choice(by_unit[unit]), "model_key": "unit_rectification",
            "bpmn_id": bpmn_id, "name": name, "lane": None, "role": role, "unit_id": unit,
            "business_key": None, "form_key": None,
            "due_at": None if rnd.random() < 0.05 else created + timedelta(days=60),
            "state": "open" if is_open else "completed", "created_at": created,
            "completed_at": None if is_open else created + timedelta(days=rnd.randrange(1, 60)),
            "completed_by": None})
        if role == "inspector" and rnd.random() < 0.5:
            candidate_rows.append({"task_id": tid, "user_id": users["inspector_a"]})
    actors = ["liaison_7", "office_a"] + [f"user_{i}" for i in range(2000)]
    history_rows = [{"instance_id": instances[rnd.randrange(len(instances))][0],
                     "at": now - timedelta(minutes=rnd.randrange(0, 1_000_000)),
                     "actor": actors[0] if rnd.random() < 0.001 else (actors[1] if rnd.random() < 0.05 else rnd.choice(actors)),
                     "event": "task_completed" if rnd.random() < 0.7 else "timer_fired", "bpmn_id": "self_check",
                     "name": "对照自查", "task_id": None, "data": None} for _ in range(n_history)]
    with ctx.db.engine.begin() as conn:
        for chunk in range(0, len(task_rows), 10_000):
            conn.execute(insert(HumanTask), task_rows[chunk:chunk + 10_000])
        if candidate_rows:
            conn.execute(insert(TaskCandidate), candidate_rows)
        for chunk in range(0, len(history_rows), 10_000):
            conn.execute(insert(HistoryEntry), history_rows[chunk:chunk + 10_000])
        conn.execute(text("ANALYZE"))
    return users


def timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm the cache: the steady state is what users see
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), max(samples)


def page_queries(ctx, s, p) -> list:
    """(label, call) for each query the inbox and done pages run for principal `p`."""
    from service.inbox import done_page, facets

    task_type = "review_filing" if p.has("office") else "self_check"
    return [
        ("list_open page 1 (+count)", lambda: task_service.list_open(s, p, limit=20)),
        ("list_open offset 2000 (+count)", lambda: task_service.list_open(s, p, limit=20, offset=2000)),
        ("list_open filtered by task type", lambda: task_service.list_open(s, p, bpmn_id=task_type, limit=20)),
        ("inbox filter counts", lambda: facets(s, p, ctx.now())),
        ("done list page 1 (+count)", lambda: done_page(s, p, limit=20)),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--open", type=float, default=0.3, help="share of the task rows that are open")
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--plans", action="store_true", help="print SQLite's query plans")
    parser.add_argument("--keep", type=Path, help="build the database in this folder and keep it")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep.resolve())
        settings = Settings(instance_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db", secret_key="bench")
        app = create_app(settings)
        ctx = app.extensions["rectiflow"]
        t0 = time.perf_counter()
        users = build(app, args.tasks, args.open, args.history)
        print(f"inserted {args.tasks:,} task rows ({args.open:.0%} open) and {args.history:,} history rows "
              f"in {time.perf_counter() - t0:.1f} s; SQLite at {settings.database_url}")
        with ctx.db.read() as s:
            indexes = [r[0] for r in s.execute(text(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name IN ('wf_human_task','wf_history')"))]
        print("indexes:", ", ".join(sorted(i for i in indexes if not i.startswith("sqlite_"))))
        print(f"\n{'user':<12} {'query':<34} {'open':>7} {'median ms':>10} {'max ms':>8}")
        for username in ("liaison_7", "office_a", "leader_a", "inspector_a"):
            with ctx.db.read() as s:
                p = principal_for(s, s.get(User, users[username]))
            with app.test_request_context(), ctx.db.read() as s:
                _, total = task_service.list_open(s, p, limit=20)
                for label, fn in page_queries(ctx, s, p):
                    median, worst = timed(fn, args.repeat)
                    print(f"{username:<12} {label:<34} {total:>7,} {median:>10.1f} {worst:>8.1f}")
            client = app.test_client()
            with client.session_transaction() as sess:
                sess["uid"] = users[username]
            for path in ("/inbox", "/done"):
                assert client.get(path).status_code == 200
                median, worst = timed(lambda path=path, client=client: client.get(path), args.repeat)
                print(f"{username:<12} {'GET ' + path + ' (whole page)':<34} {'':>7} {median:>10.1f} {worst:>8.1f}")
        if args.plans:
            print_plans(ctx, users)
        ctx.db.engine.dispose()
    return 0


def print_plans(ctx, users) -> None:
    from sqlalchemy.dialects import sqlite

    with ctx.db.read() as s:
        for username in ("liaison_7", "office_a"):
            p = principal_for(s, s.get(User, users[username]))
            query = (select(HumanTask).where(HumanTask.state == "open", task_service.access.task_actionable(p))
                     .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
                     .limit(20))
            sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            print(f"\nplan of {username}'s inbox page:")
            for row in s.execute(text("EXPLAIN QUERY PLAN " + sql)):
                print("   ", row[-1])
        sql = ("SELECT * FROM wf_history WHERE actor = 'office_a' AND event = 'task_completed' "
               "ORDER BY at DESC, id DESC LIMIT 20")
        print("\nplan of the done list:")
        for row in s.execute(text("EXPLAIN QUERY PLAN " + sql)):
            print("   ", row[-1])


if __name__ == "__main__":
    sys.exit(main())
