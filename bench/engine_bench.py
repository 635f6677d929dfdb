"""Engine figures on this machine: raw SpiffWorkflow vs the service's engine layer (SQLite).

Prints, does not assert. Run: `make bench` (or `.venv/bin/python bench/engine_bench.py`).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import bpmn_snippets as B  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from config import Settings  # noqa: E402
from service.context import make_context  # noqa: E402
from service.db import create_schema  # noqa: E402
from workflows import serializer  # noqa: E402
from workflows.registry import parse_specs  # noqa: E402
from workflows.xml_safety import parse_xml  # noqa: E402


def timed(fn, n):
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


def main(n: int = 300) -> None:
    xml = B.one_task()
    spec, subs = parse_specs(parse_xml(xml), "simple")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(instance_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db", secret_key="x")
        ctx = make_context(settings)
        create_schema(ctx.db.engine)
        ctx.db.transaction(lambda s: ctx.engine.deploy(s, xml))
        engine = ctx.engine

        def raw_create():
            wf = BpmnWorkflow(spec, subs, script_engine=engine.script_engine)
            wf.do_engine_steps()
            return serializer.dumps(wf)

        state = raw_create()

        def raw_complete():
            wf = serializer.loads(state, spec, subs, engine.script_engine)
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            task.data.update({"ok": True})
            task.run()
            wf.do_engine_steps()
            serializer.dumps(wf)

        ids = []

        def service_create():
            ids.append(ctx.db.transaction(lambda s: engine.start(s, "simple", {}).instance.id))

        rows = [f"{'measure':<48}{'median ms':>10}{'p95 ms':>10}"]
        for label, fn in (("raw: create + run to first task + serialize", raw_create),
                          ("raw: load + complete task + serialize", raw_complete),
                          ("service: start instance (SQLite, committed)", service_create)):
            med, p95 = timed(fn, n)
            rows.append(f"{label:<48}{med:>10.2f}{p95:>10.2f}")
        from sqlalchemy import select

        from workflows.tables import HumanTask

        with ctx.db.read() as s:
            todo = list(s.scalars(select(HumanTask.id).where(HumanTask.state == "open")))
        it = iter(todo)
        med, p95 = timed(lambda: ctx.db.transaction(
            lambda s: engine.complete_task(s, next(it), {"ok": True}, actor="bench")), min(n, len(todo)))
        rows.append(f"{'service: complete task (SQLite, committed)':<48}{med:>10.2f}{p95:>10.2f}")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
