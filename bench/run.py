"""Every benchmark in one run: prints the figures, each beside raw SpiffWorkflow on the same model in
the same run, checks them against the targets, and writes them to bench/results.json.

    make bench                      # the full run (about half an hour on a 2-core machine)
    make bench BENCH_ARGS=--quick   # a few minutes: smaller districts, fewer rows
    python bench/run.py --only completions http --postgres postgresql+psycopg://...

Sections: `completions` (one completion in process: SQL statements, time, state size, SQLite and
PostgreSQL; bench/completion_bench.py), `http` (completions by 32 concurrent clients against
`rectiflow serve-prod` with 2 workers, and GET /tasks with 1,000,000 task rows, PostgreSQL;
bench/http_bench.py), `fanout` (a 3-problem list published to 1,000 and 10,000 units;
bench/fanout_bench.py), `pages` (page loads on a throttled line; bench/page_load_bench.py), `insight`
(suggested common problems for 2,000 problems; bench/insight_bench.py).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

SECTIONS = ("completions", "http", "fanout", "pages", "insight")


def completions(args) -> dict:
    import completion_bench

    return completion_bench.run(30 if args.quick else 300, ("sqlite", "postgresql"), args.postgres)


def http(args) -> dict:
    import completion_bench
    import http_bench

    figures = http_bench.run(units=1500 if args.quick else 5000, clients=32, workers=2,
                             task_rows=100_000 if args.quick else 1_000_000, repeat=50 if args.quick else 200,
                             server=args.postgres, closed_loop=500 if args.quick else 2000)
    # beside it: SpiffWorkflow alone doing the same step, one after the other on one core
    figures["raw_spiffworkflow_completion"] = completion_bench.run(30, ("sqlite",))["raw_spiffworkflow"]
    return figures


def fanout(args) -> dict:
    import fanout_bench

    units = [200] if args.quick else [1000, 10000]
    return fanout_bench.run(units, [args.postgres, "sqlite"])  # {"fanout": [figures per run]}


def pages(args) -> dict:
    import page_load_bench

    return page_load_bench.run()


def insight(args) -> dict:
    import insight_bench

    return insight_bench.run(problems=500 if args.quick else 2000)


def targets(results: dict) -> list[dict]:
    """The issue's targets on a 2-core machine, each with the figure that decides it (None: not measured)."""
    checks = []

    def check(name: str, figure, ok) -> None:
        checks.append({"target": name, "figure": figure, "met": None if figure is None else bool(ok(figure))})

    done = (results.get("http") or {}).get("completions") or {}
    check("≥ 150 completions/s over HTTP, 32 clients", done.get("per_second"), lambda v: v >= 150)
    check("completion p95 ≤ 100 ms, 32 clients", done.get("p95_ms"), lambda v: v <= 100)
    check("zero errors, 32 clients", done.get("errors"), lambda v: v == 0)
    paced = (results.get("http") or {}).get("paced") or []
    at_target = next((r for r in paced if r["offered_per_second"] == 150), None)
    if at_target is not None:
        check("completion p95 ≤ 100 ms with 150/s sent by 32 clients (paced)", at_target["p95_ms"],
              lambda v: v <= 100)
        check("zero errors, paced", sum(r["errors"] for r in paced), lambda v: v == 0)
    box = (results.get("http") or {}).get("inbox") or {}
    for who in ("office", "unit_liaison"):
        check(f"GET /tasks p95 ≤ 30 ms with {box.get('task_rows', 0):,} task rows ({who})",
              (box.get(who) or {}).get("p95_ms"), lambda v: v <= 30)
    for run in (results.get("fanout") or {}).get("fanout", []):
        if run.get("database") == "postgresql" and run.get("units") == 10000:
            check("fan-out to 10,000 units ≤ 10 s on PostgreSQL", run.get("fanout_seconds"), lambda v: v <= 10)
            if "approval_seconds" in run:
                check("the approval answers in < 1 s", run["approval_seconds"], lambda v: v < 1)
            for key in ("app_worker_peak_rss_mb", "job_worker_peak_rss_mb"):
                if key in run:
                    check(f"peak RSS ≤ 300 MB ({key})", run[key], lambda v: v <= 300)
    return checks


def markdown(results: dict) -> str:
    """The figures as the README's performance table."""
    rows = ["| measure | service | raw SpiffWorkflow, same model |", "|---|---|---|"]
    raw = (results.get("completions") or {}).get("raw_spiffworkflow") or {}
    for db in ("sqlite", "postgresql"):
        c = (results.get("completions") or {}).get(db)
        if c:
            rows.append(f"| one completion in process, {db}: SQL statements, p50 / p95 (CPU p50) | "
                        f"{c['sql_statements']:g} statements, {c['p50_ms']:.1f} / {c['p95_ms']:.1f} ms "
                        f"({c.get('cpu_p50_ms', '?')} ms); state {c['state_chars_stored']:,} characters stored for "
                        f"{c['state_chars_json']:,} of JSON | load + complete + save {raw.get('p50_ms', 0):.1f} / "
                        f"{raw.get('p95_ms', 0):.1f} ms ({raw.get('cpu_p50_ms', '?')} ms) |")
    h = results.get("http") or {}
    done, box = h.get("completions"), h.get("inbox")
    raw_http = h.get("raw_spiffworkflow_completion") or {}
    if done:
        per_core = 1000 / raw_http["p50_ms"] if raw_http.get("p50_ms") else 0
        rows.append(f"| completions over HTTP, {done['clients']} clients, serve-prod {done['workers']} workers, "
                    f"PostgreSQL | {done['per_second']:g}/s, p50 {done['p50_ms']:g} ms, p95 {done['p95_ms']:g} ms, "
                    f"{done['errors']} errors ({done['completions']:,} completions; server CPU "
                    f"{done.get('server_cpu_ms_per_completion', '?')} ms each) | {per_core:.0f}/s on one core "
                    f"(p50 {raw_http.get('p50_ms', 0):g} ms) |")
    floor = h.get("floor")
    if floor:
        rows.append(f"| `GET /api/v1/health` over HTTP (a pooled `SELECT 1`, no token), {floor['clients']} clients, "
                    f"the same server | {floor['per_second']:g}/s, p50 {floor['p50_ms']:g} ms, p95 {floor['p95_ms']:g} ms "
                    f"(server CPU {floor['server_cpu_ms_per_request']} ms each) | — |")
    for r in h.get("paced") or []:
        rows.append(f"| completions over HTTP sent at {r['offered_per_second']:g}/s by 32 clients (paced), PostgreSQL | "
                    f"{r['per_second']:g}/s answered, p50 {r['p50_ms']:g} ms, p95 {r['p95_ms']:g} ms, "
                    f"{r['errors']} errors | — |")
    if box:
        for who in ("office", "unit_liaison"):
            b = box[who]
            rows.append(f"| `GET /tasks` ({who}, {b['open_tasks_listed']:,} open) with {box['task_rows']:,} task "
                        f"rows | p50 {b['p50_ms']:g} ms, p95 {b['p95_ms']:g} ms | — |")
    for f in (results.get("fanout") or {}).get("fanout", []):
        seconds = f.get("fanout_seconds")
        rows.append(f"| fan-out to {f['units']:,} units, {f['database']} | "
                    f"{f'{seconds:.2f}' if isinstance(seconds, float) else seconds} s "
                    f"({f.get('units_per_second')}/s) | {f.get('raw_spiff_seconds')} s |")
    load = results["machine"].get("load_average")
    rows.append(f"\nMeasured {results['when']} on {results['machine']['cpus']} cores "
                f"(load average {load[0]:.1f} when it began); `{results['command']}`.")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller districts and fewer rows: a few minutes")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--postgres", default=os.environ.get("RECTIFLOW_BENCH_POSTGRES",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server where the benchmarks may create and drop databases")
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    args = parser.parse_args(argv)

    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                     "command": "make bench" + (" BENCH_ARGS=--quick" if args.quick else ""),
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "load_average": os.getloadavg()}}
    runners = {"completions": completions, "http": http, "fanout": fanout, "pages": pages, "insight": insight}
    for name in args.only:
        began = time.perf_counter()
        print(f"== {name}", flush=True)
        try:
            results[name] = runners[name](args)
        except Exception as exc:  # noqa: BLE001 - one section failing must not lose the others' figures
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results[name + "_seconds"] = round(time.perf_counter() - began, 1)
        results[name + "_load_average_after"] = [round(v, 1) for v in os.getloadavg()]
        print(json.dumps(results[name], indent=2, ensure_ascii=False), flush=True)
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")  # kept if a later one hangs
    results["targets"] = targets(results)
    print("== targets")
    for t in results["targets"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        print(f"  {verdict:<13} {t['target']}: {t['figure']}")
    print("== for the README\n" + markdown(results))
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
