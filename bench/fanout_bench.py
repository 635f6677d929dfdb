"""Publication's fan-out on this machine: a list published to many units, case by case as it was
(`cases.open_case` per unit) and together (`fanout.open_cases`), beside SpiffWorkflow alone running
and serializing the same number of `unit_rectification` instances without a database.

Prints, does not assert. Run: `.venv/bin/python bench/fanout_bench.py [units] [--postgres URL]`
(URL of a server where the bench may create and drop a database of its own).
"""
from __future__ import annotations

import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from config import Settings  # noqa: E402
from service import cases, create_app, fanout, notices, rounds  # noqa: E402
from service.models import CommonProblem, Round, Unit, User  # noqa: E402
from workflows import serializer  # noqa: E402


def district(ctx, units: int) -> int:
    """`units` companies with a liaison and a head each, and a round of three common problems, one of
    them sent to half the units only."""
    def work(s):
        office = Unit(code="X01", name="区委巡察办", kind="office")
        department = Unit(code="D01", name="职能部门", kind="department")
        s.add_all([office, department])
        s.flush()
        author = User(username="office1", name="巡察办", password_hash="x", roles=["office"], unit_id=office.id)
        s.add(author)
        for i in range(units):
            unit = Unit(code=f"U{i:05d}", name=f"单位{i}", kind="company", industry="行业" + str(i % 2))
            s.add(unit)
            s.flush()
            s.add_all([User(username=f"u{i}_liaison", name="联络员", password_hash="x", roles=["unit_liaison"],
                            unit_id=unit.id),
                       User(username=f"u{i}_head", name="负责人", password_hash="x", roles=["unit_head"],
                            unit_id=unit.id)])
        s.flush()
        rnd = Round(name="基准轮次", created_by=author.id, created_at=ctx.now(), status="listing")
        s.add(rnd)
        s.flush()
        for j, targets in enumerate((None, None, {"industries": ["行业1"]})):
            s.add(CommonProblem(round_id=rnd.id, title=f"共性问题{j}", category="合同", targets=targets,
                                responsible_department_id=department.id, created_at=ctx.now()))
        return rnd.id
    return ctx.db.transaction(work)


def one_by_one(ctx, s, round_id: int) -> None:
    to = rounds.recipients(s, round_id)
    due = ctx.now() + timedelta(days=ctx.settings.deadline_days)
    for unit in to.units:
        case = cases.open_case(ctx, s, None, round_id, unit.id, to.per_unit[unit.id], due)
        notices.on_list_published(ctx, s, case)


def together(ctx, s, round_id: int) -> None:
    to = rounds.recipients(s, round_id)
    due = ctx.now() + timedelta(days=ctx.settings.deadline_days)
    fanout.open_cases(ctx, s, None, round_id, [(u.id, to.per_unit[u.id]) for u in to.units], due)


def timed_publication(url: str, folder: Path, units: int, fan) -> float:
    app = create_app(Settings(instance_dir=folder, database_url=url, secret_key="bench", audit_key="bench"))
    ctx = app.extensions["rectiflow"]
    round_id = district(ctx, units)
    started = time.perf_counter()
    ctx.db.transaction(lambda s: fan(ctx, s, round_id))
    elapsed = time.perf_counter() - started
    ctx.db.engine.dispose()
    return elapsed


def raw_spiff(ctx_engine, units: int) -> float:
    """SpiffWorkflow alone: a new `unit_rectification` workflow run to its first task and serialized."""
    from workflows.registry import parse_specs
    from workflows.xml_safety import parse_xml

    xml = (Path(__file__).resolve().parents[1] / "bpmn" / "unit_rectification.bpmn").read_bytes()
    spec, subs = parse_specs(parse_xml(xml), "unit_rectification")
    started = time.perf_counter()
    for i in range(units):
        workflow = BpmnWorkflow(spec, subs, script_engine=ctx_engine.script_engine)
        workflow.get_next_task(state=TaskState.READY).data.update({
            "case_id": i, "unit_id": i, "round_id": 1, "common_problems": [{"id": 1, "title": "共性问题"}],
            "due_at": "2027-01-31T00:00:00+08:00", "green_days": 20, "yellow_days": 10, "talk_days": 10,
            "reply_days_default": 5, "recheck": False})
        workflow.do_engine_steps()
        serializer.dumps(workflow)
    return time.perf_counter() - started


def postgres_database(server: str):
    name = f"rectiflow_fanout_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin, name, make_url(server).set(database=name).render_as_string(hide_password=False)


def main(units: int, postgres: str | None) -> None:
    rows = [f"{'fan-out of a published list, ' + str(units) + ' units':<52}{'seconds':>9}{'ms/unit':>9}"]

    def row(label: str, seconds: float) -> None:
        rows.append(f"{label:<52}{seconds:>9.2f}{seconds * 1000 / units:>9.2f}")

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for label, fan in (("SQLite: case by case (open_case)", one_by_one),
                           ("SQLite: together (fanout.open_cases)", together)):
            folder = base / label.split()[2]
            folder.mkdir()
            row(label, timed_publication(f"sqlite:///{folder}/bench.db", folder, units, fan))
        if postgres:
            for label, fan in (("PostgreSQL: case by case (open_case)", one_by_one),
                               ("PostgreSQL: together (fanout.open_cases)", together)):
                admin, name, url = postgres_database(postgres)
                folder = base / f"pg-{name}"
                folder.mkdir()
                try:
                    row(label, timed_publication(url, folder, units, fan))
                finally:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
        app = create_app(Settings(instance_dir=base, database_url=f"sqlite:///{base}/raw.db", secret_key="bench",
                                  audit_key="bench"))
        row("raw SpiffWorkflow: run + serialize, no database", raw_spiff(app.extensions["rectiflow"].engine, units))
    print("\n".join(rows))


if __name__ == "__main__":
    args = sys.argv[1:]
    server = None
    if "--postgres" in args:
        at = args.index("--postgres")
        server = args[at + 1]
        del args[at:at + 2]
    main(int(args[0]) if args else 1000, server)
