"""How fast are the suggested common problems for 2,000 problems? Prints the times (target: 2 s).

    python bench/insight_bench.py [--problems 2000] [--earlier 40] [--repeat 3]

Builds a temporary SQLite database with the real schema: a district of 60 units over six
industries, a round of `--problems` problems written as inspectors write them (the fixture's
texts of tests/fixtures/insight_problems.json, each reworded: units, places, amounts and clauses
varied so that no two are the same), and `--earlier` common problems of an earlier round. Then it
times `service.insight.suggestions` (what GET /rounds/{id}/suggestions and the distillation page
call): the first call in the process (jieba's dictionary loaded, every text segmented), and the
next ones (the dictionary and the segmentation cached, as on a page visited again), and the
clustering alone on texts never seen before.

`run() -> dict` is for a `make bench` runner; run as a script it prints the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from service import insight
from service.auth import Principal
from service.db import create_schema
from service.models import CommonProblem, Problem, Round, Unit, User

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "insight_problems.json"
PLACES = ("辖区", "本单位", "下属站所", "部分社区", "个别科室", "街道办", "工作站", "管理所")
YEARS = ("2021年", "2022年", "2023年", "2024年", "近三年", "近两年")
CLAUSES = ("，相关台账资料不全", "，整改责任未压实", "，涉及金额约{n}万元", "，涉及{n}个项目", "，群众反映强烈",
           "，内部监督缺位", "，制度执行打折扣", "，有关人员履职不力", "", "", "")
INDUSTRIES = ("建设工程", "民政服务", "集体经济", "街道管理", "社区治理", "财政")


def _texts(n: int, seed: int) -> list[tuple[str, str]]:
    """`n` problem texts (with the fixture group each comes from), each worded differently."""
    rng = random.Random(seed)
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))["problems"]
    out, seen = [], set()
    while len(out) < n:
        p = rng.choice(base)
        text = (rng.choice(YEARS) + rng.choice(PLACES) + p["text"]
                + rng.choice(CLAUSES).format(n=rng.randint(2, 900)))
        if text not in seen:
            seen.add(text)
            out.append((text, p["group"]))
    return out


def _build(path: str, problems: int, earlier: int) -> tuple[str, int]:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    create_schema(engine)
    now = datetime.now(UTC)
    with Session(engine) as s, s.begin():
        user = User(username="office1", name="巡察办", password_hash="x", roles=["office"])
        s.add(user)
        s.flush()
        units = []
        for i in range(60):
            unit = Unit(code=f"U{i:03d}", name=f"单位{i}", kind="department" if i < 10 else "street",
                        industry=INDUSTRIES[i % len(INDUSTRIES)])
            s.add(unit)
            units.append(unit)
        s.flush()
        first = Round(name="第一轮", status="closed", created_by=user.id, created_at=now)
        second = Round(name="第二轮", status="listing", created_by=user.id, created_at=now)
        s.add_all([first, second])
        s.flush()
        for i, (text, group) in enumerate(_texts(earlier, seed=7)):
            s.add(CommonProblem(round_id=first.id, title=text[:30], description=group, category=group,
                                responsible_department_id=units[i % 10].id, created_at=now))
        s.execute(insert(Problem), [
            {"round_id": second.id, "unit_id": units[i % len(units)].id, "description": text, "category": "巡察发现",
             "source": "inspection", "recorded_by": user.id, "recorded_at": now}
            for i, (text, _group) in enumerate(_texts(problems, seed=11))])
        round_id = second.id
    engine.dispose()
    return url, round_id


def run(problems: int = 2000, earlier: int = 40, repeat: int = 3) -> dict:
    """The figures, in seconds: the first call (cold), the median of the next ones (warm), the
    clustering alone of fresh texts, and how many suggestions came out."""
    office = Principal(id=1, username="office1", name="巡察办", roles=frozenset({"office"}), unit_id=None,
                       portfolio=frozenset())
    with tempfile.TemporaryDirectory() as tmp:
        url, round_id = _build(str(Path(tmp) / "insight.db"), problems, earlier)
        engine = create_engine(url)
        timings, cpu = [], []
        for _ in range(1 + repeat):
            with Session(engine) as s:
                began, began_cpu = time.perf_counter(), time.process_time()
                found = insight.suggestions(s, office, round_id)
                timings.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
        engine.dispose()
    fresh = [text for text, _ in _texts(problems, seed=23)]
    began, began_cpu = time.perf_counter(), time.process_time()
    insight.clusters(fresh)
    fresh_time, fresh_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    return {"problems": problems, "suggestions": len(found.clusters),
            "first_call_s": round(timings[0], 3), "first_call_cpu_s": round(cpu[0], 3),
            "warm_call_s": round(statistics.median(timings[1:]), 3) if repeat else None,
            "warm_call_cpu_s": round(statistics.median(cpu[1:]), 3) if repeat else None,
            "fresh_texts_s": round(fresh_time, 3), "fresh_texts_cpu_s": round(fresh_cpu, 3), "target_s": 2.0,
            # how busy the machine was: the times above are wall-clock, the CPU times this process's own
            "load_average": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=2000)
    parser.add_argument("--earlier", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures = run(args.problems, args.earlier, args.repeat)
    print(f"suggestions for {figures['problems']} problems ({figures['suggestions']} suggested groups):")
    print(f"  first call in the process (libraries imported, jieba's dictionary loaded, texts segmented): "
          f"{figures['first_call_s']:.3f} s (CPU {figures['first_call_cpu_s']:.3f} s)")
    if figures["warm_call_s"] is not None:
        print(f"  again (dictionary and segmentation cached), median: {figures['warm_call_s']:.3f} s "
              f"(CPU {figures['warm_call_cpu_s']:.3f} s)")
    print(f"  clustering of {figures['problems']} texts never seen before (dictionary loaded): "
          f"{figures['fresh_texts_s']:.3f} s (CPU {figures['fresh_texts_cpu_s']:.3f} s)")
    print(f"  target: {figures['target_s']:.1f} s; load average {figures['load_average']} on {figures['cpus']} CPUs")


if __name__ == "__main__":
    main()
