"""What one task completion costs inside the service: SQL statements and time, per database, beside
SpiffWorkflow alone doing the same step (load the state, complete `self_check`, run on, serialize).

Prints, does not assert. Run: `python bench/completion_bench.py [completions] [--postgres URL]`
(`bench/run.py` runs it with the other benchmarks).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenario  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from config import Settings  # noqa: E402
from service import create_app, tasks  # noqa: E402
from service.auth import principal_for  # noqa: E402
from service.models import User  # noqa: E402
from workflows import serializer  # noqa: E402
from workflows.tables import HumanTask, ProcessInstance  # noqa: E402


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2)}


def in_process(ctx, n: int) -> dict:
    """`tasks.complete` (what `POST /tasks/{id}/complete` calls) n times, each in its own transaction,
    with the SQL statements each sends (SQLAlchemy's `before_cursor_execute`)."""
    todo = scenario.open_self_checks(ctx)[:n]
    statements: list[int] = []
    counter = [0]

    def count(*_args) -> None:
        counter[0] += 1

    event.listen(ctx.db.engine, "before_cursor_execute", count)
    samples: list[float] = []
    cpu_samples: list[float] = []  # this process's CPU alone: it does not grow when others load the machine
    try:
        for item in todo:
            with ctx.db.read() as s:
                p = principal_for(s, s.get(User, item.liaison_id))
            counter[0] = 0
            started, cpu = time.perf_counter(), time.process_time()
            ctx.db.transaction(lambda s, item=item, p=p: tasks.complete(ctx, s, p, item.task_id, item.data))
            samples.append((time.perf_counter() - started) * 1000)
            cpu_samples.append((time.process_time() - cpu) * 1000)
            statements.append(counter[0])
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", count)
    with ctx.db.read() as s:  # a state saved by a completion: as the column holds it, and as JSON
        done = select(HumanTask.instance_id).where(HumanTask.id == todo[-1].task_id).scalar_subquery()
        stored, state = s.execute(select(func.length(ProcessInstance.state), ProcessInstance.state)
                                  .where(ProcessInstance.id == done)).one()
    return {"completions": len(samples), "sql_statements": statistics.median(statements), **percentiles(samples),
            "cpu_p50_ms": round(statistics.median(cpu_samples), 2),
            "state_chars_stored": stored, "state_chars_json": len(state)}


def raw_spiff(ctx, n: int) -> dict:
    """SpiffWorkflow alone on the same model and state: load, complete self_check, run on, serialize."""
    engine = ctx.engine
    item = scenario.open_self_checks(ctx)[0]
    with ctx.db.read() as s:
        instance = s.get_one(ProcessInstance, s.get_one(HumanTask, item.task_id).instance_id)
        model = engine.registry.load(s, instance.model_version_id)
        state = instance.state
    samples, cpu_samples = [], []
    for _ in range(n):
        started, cpu = time.perf_counter(), time.process_time()
        workflow = serializer.loads(state, model.spec, model.subprocess_specs, engine.script_engine)
        task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.bpmn_id == "self_check")
        task.data.update(item.data)
        task.run()
        workflow.do_engine_steps()
        serializer.dumps(workflow)
        samples.append((time.perf_counter() - started) * 1000)
        cpu_samples.append((time.process_time() - cpu) * 1000)
    return {**percentiles(samples), "cpu_p50_ms": round(statistics.median(cpu_samples), 2)}


def run(n: int = 200, databases: tuple[str, ...] = ("sqlite", "postgresql"), server: str = scenario.POSTGRES) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in databases:
            folder = Path(tmp) / kind
            folder.mkdir()
            with scenario.database(kind, folder, server) as url:
                app = create_app(Settings(instance_dir=folder, database_url=url, secret_key="bench",
                                          audit_key="bench"))
                ctx = app.extensions["rectiflow"]
                scenario.publish(ctx, n + 1)
                results[kind] = in_process(ctx, n)
                if "raw_spiffworkflow" not in results:
                    results["raw_spiffworkflow"] = raw_spiff(ctx, min(n, 100))
                ctx.db.engine.dispose()
    return results


def main(argv: list[str]) -> None:
    server = scenario.POSTGRES
    if "--postgres" in argv:
        at = argv.index("--postgres")
        server = argv[at + 1]
        del argv[at:at + 2]
    for label, figures in run(int(argv[0]) if argv else 200, server=server).items():
        print(f"{label:<20}", "  ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
