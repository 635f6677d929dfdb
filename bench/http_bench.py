"""The service over HTTP on PostgreSQL, served as in the scaled mode (`rectiflow serve-prod`, gunicorn):

- task completions by many concurrent clients (each a unit's liaison completing its self-check):
  completions per second, p50, p95 and errors, with the clients sending as fast as they are answered
  (the most the server does) and then paced at set rates (the time people wait at that load);
- `GET /api/v1/health` by the same clients, the floor beside it: what a request that only takes a
  pooled connection for `SELECT 1` costs the server;
- `GET /tasks` of the office and of a unit's liaison once the database holds 1,000,000 human-task
  rows (30 % of them open), one client: p50 and p95.

Prints, does not assert. Run: `python bench/http_bench.py [--clients 32] [--workers 2] [--threads 4]
[--units 5000] [--closed-loop 2000]` (`bench/run.py` runs it with the other benchmarks).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scenario  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from config import Settings  # noqa: E402
from service import create_app  # noqa: E402
from service.models import User  # noqa: E402

REDIS = "redis://127.0.0.1:6379/15"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """The CPU time a process and its children (gunicorn's workers) have used so far: unlike the
    wall-clock figures, it does not grow when other work shares the machine."""
    import psutil

    total = 0.0
    for process in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def with_server_cpu(pid: int, work) -> tuple[dict, float]:
    """`work()`'s figures, and the server's CPU milliseconds per request they count ("completions")."""
    before = cpu_seconds(pid)
    done = work()
    return done, (cpu_seconds(pid) - before) * 1000 / max(1, done["completions"])


@contextmanager
def production_server(url: str, folder: Path, workers: int, threads: int = 4) -> Iterator[tuple[int, int]]:
    """`rectiflow serve-prod` on `url` in a process of its own; yields its port once it answers.

    The API's rate limit is set far above what the clients send (they all come from one address),
    and kept in Redis as several workers need it, when Redis runs."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RECTIFLOW_DATABASE_URL": url, "RECTIFLOW_INSTANCE_DIR": str(folder),
           "RECTIFLOW_SECRET_KEY": "bench", "RECTIFLOW_AUDIT_KEY": "bench",
           "RECTIFLOW_RATE_LIMIT_API": "10000000 per minute",
           "RECTIFLOW_RATE_LIMIT_STORAGE": REDIS if _redis_up() else "memory://"}
    log = open(folder / "server.log", "w")  # noqa: SIM115 - closed below, after the server
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())", "serve-prod",
         "--port", str(port), "--workers", str(workers), "--threads", str(threads)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve-prod did not start; see {folder / 'server.log'}")
            time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples) or [float("nan")]
    return {"p50_ms": round(ordered[len(ordered) // 2], 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1)}


def exchange(conn: http.client.HTTPConnection, port: int, method: str, path: str, body: str | None = None,
             headers: dict | None = None) -> tuple[http.client.HTTPConnection, str | None]:
    """One request; the connection to go on with (a new one after a broken one) and what went wrong
    (the status, or the exception's name), if anything did."""
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return conn, None if response.status == 200 else str(response.status)
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return http.client.HTTPConnection("127.0.0.1", port, timeout=60), type(exc).__name__


def complete(conn: http.client.HTTPConnection, port: int, token: str, task_id: str, data: dict):
    return exchange(conn, port, "POST", f"/api/v1/tasks/{task_id}/complete", json.dumps({"data": data}),
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})


def health(conn: http.client.HTTPConnection, port: int):
    """What a request costs the server when it does nothing but take one pooled connection for a
    `SELECT 1`."""
    return exchange(conn, port, "GET", "/api/v1/health")


def completions(port: int, work: list[tuple], clients: int, rate: float | None = None, send=complete) -> dict:
    """`clients` threads, each over a kept-alive connection, complete the (token, task id, data) of
    `work` in turn (or `send` what else each item of `work` holds).

    Without a `rate`, a closed loop: each client sends its next completion as soon as its last is
    answered, and each is timed from its sending. With one, an open loop: completion i is due at
    start + i / rate, whatever became of those before it, and is timed from when it was due, not from
    when a client was free to send it: time spent queued behind a server that cannot keep up counts,
    as it does for the people waiting (a closed loop hides it)."""
    lock = threading.Lock()
    samples: list[float] = []
    errors: list[str] = []
    following = iter(enumerate(work))
    start = threading.Barrier(clients + 1)
    began = 0.0

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        while True:
            with lock:
                index, item = next(following, (0, None))
            if item is None:
                break
            if rate is None:
                due = time.perf_counter()
            else:
                due = began + index / rate
                time.sleep(max(0.0, due - time.perf_counter()))
            conn, error = send(conn, port, *item)
            elapsed = (time.perf_counter() - due) * 1000
            with lock:
                samples.append(elapsed)
                if error:
                    errors.append(error)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    began = time.perf_counter() + (0.05 if rate else 0.0)  # the first due a moment after all are ready
    start.wait()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    pace = {"clients": clients} if rate is None else {"offered_per_second": rate}
    return {**pace, "completions": len(samples), "seconds": round(seconds, 2),
            "per_second": round(len(samples) / seconds, 1), **percentiles(samples), "errors": len(errors),
            "error_kinds": sorted(set(errors))}


def within(port: int, work: list[tuple[str, str, dict]], clients: int, rates: list[float], seconds: float,
           p95_ms: float) -> list[dict]:
    """`completions` at each rate in turn, highest first, for `seconds` each, until one keeps p95 within
    `p95_ms`."""
    runs = []
    for rate in rates:
        share, work = work[:int(rate * seconds)], work[int(rate * seconds):]
        runs.append(completions(port, share, clients, rate))
        if runs[-1]["p95_ms"] <= p95_ms or not work:
            break
    return runs


def floor(port: int, pid: int, clients: int, requests: int = 3000) -> dict:
    """The same server and clients answering `health`, as fast as answered: the most any request can
    be answered at, and the server's CPU it costs at the least, on this machine at this time."""
    done, cpu_ms = with_server_cpu(pid, lambda: completions(port, [()] * requests, clients, send=health))
    return {"requests": done.pop("completions"), **done, "server_cpu_ms_per_request": round(cpu_ms, 2)}


def fill_tasks(url: str, rows: int, open_share: float = 0.3) -> float:
    """`rows` human-task rows written by PostgreSQL itself (generate_series), spread over the units and
    roles as a long-running province's would be; returns the seconds it took."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))  # the same rows in every run
        conn.execute(text("""
            WITH u AS (SELECT array_agg(id ORDER BY id) AS ids FROM unit WHERE code LIKE 'U%'),
                 i AS (SELECT array_agg(id ORDER BY id) AS ids FROM wf_instance),
                 g AS (SELECT n, random() AS pick, random() AS opened, random() AS age, random() AS unit
                       FROM generate_series(1, :rows) AS n)
            INSERT INTO wf_human_task (id, instance_id, model_key, bpmn_id, step, name, lane, role, unit_id,
                                       business_key, form_key, due_at, state, created_at, completed_at)
            SELECT md5('bench' || g.n)::uuid::text, i.ids[1 + g.n % cardinality(i.ids)], 'unit_rectification',
                   r.bpmn_id, r.bpmn_id, r.name, NULL, r.role, u.ids[1 + floor(g.unit * cardinality(u.ids))::int],
                   NULL, NULL, now() - g.age * interval '700 days' + interval '60 days',
                   CASE WHEN g.opened < :open THEN 'open' ELSE 'completed' END, now() - g.age * interval '700 days',
                   CASE WHEN g.opened < :open THEN NULL ELSE now() END
            FROM g, u, i,
                 LATERAL (SELECT * FROM (VALUES
                     (0, 45, 'unit_liaison', 'rectify', '整改落实'), (45, 60, 'unit_head', 'attest_and_file', '承诺并备案'),
                     (60, 85, 'office', 'review_filing', '审核备案'),
                     (85, 90, 'department', 'plan_governance', '制定专项治理方案'),
                     (90, 95, 'leader', 'talk_reminder', '谈话提醒'), (95, 100, 'inspector', 'record_findings', '记录巡察发现'))
                     AS roles(lo, hi, role, bpmn_id, name) WHERE g.pick * 100 >= lo AND g.pick * 100 < hi) AS r
            """), {"rows": rows, "open": open_share})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE wf_human_task"))
    engine.dispose()
    return time.perf_counter() - began


def inbox(port: int, token: str, repeat: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples, total = [], None
    for n in range(repeat + 5):
        began = time.perf_counter()
        conn.request("GET", "/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
        if n >= 5:  # the first few warm the caches, as any page a user opens twice
            samples.append((time.perf_counter() - began) * 1000)
        if response.status != 200:
            raise RuntimeError(f"GET /tasks answered {response.status}: {body[:200]!r}")
        total = json.loads(body).get("total")
    conn.close()
    return {"open_tasks_listed": total, **percentiles(samples)}


# The open-loop runs: the target rate first, then lower ones until p95 is within 100 ms.
PACED_RATES = [150.0, 120.0, 90.0, 60.0, 30.0]
PACED_SECONDS = 6.0


def run(units: int = 5000, clients: int = 32, workers: int = 2, task_rows: int = 1_000_000,
        repeat: int = 200, server: str = scenario.POSTGRES, closed_loop: int = 2000, threads: int = 4) -> dict:
    """The measures on one fresh PostgreSQL database: `closed_loop` completions by `clients` that each
    send the next as soon as theirs is answered (the server's most), then paced ones (`within`) with the
    units left over, then the inbox's (its rows are added after the completions)."""
    with tempfile.TemporaryDirectory() as tmp, scenario.database("postgresql", Path(tmp), server) as url:
        folder = Path(tmp)
        app = create_app(Settings(instance_dir=folder, database_url=url, secret_key="bench", audit_key="bench"))
        ctx = app.extensions["rectiflow"]
        began = time.perf_counter()
        published = scenario.publish(ctx, units)
        checks = scenario.open_self_checks(ctx)
        tokens = scenario.tokens(ctx, [c.liaison_id for c in checks] + [published.office_id])
        with ctx.db.read() as s:
            liaison = s.scalar(select(User.id).where(User.username == "u7_unit_liaison"))
        tokens.update(scenario.tokens(ctx, [liaison]))
        ctx.db.engine.dispose()
        setup = time.perf_counter() - began
        work = [(tokens[c.liaison_id], c.task_id, c.data) for c in checks]
        results: dict = {"setup_seconds": round(setup, 1)}
        with production_server(url, folder, workers, threads) as (port, pid):
            warm, rest = work[:clients * 2], work[clients * 2:]
            completions(port, warm, clients)  # every worker's first requests load the model and fill caches
            results["floor"] = floor(port, pid, clients)
            closed, rest = rest[:closed_loop], rest[closed_loop:]
            done, cpu_ms = with_server_cpu(pid, lambda: completions(port, closed, clients))
            results["completions"] = {"workers": workers, **done, "server_cpu_ms_per_completion": round(cpu_ms, 1)}
            if rest:
                results["paced"] = within(port, rest, clients, PACED_RATES, PACED_SECONDS, 100)
            if task_rows:
                results["inbox"] = {"task_rows": task_rows, "fill_seconds": round(fill_tasks(url, task_rows), 1),
                                    "office": inbox(port, tokens[published.office_id], repeat),
                                    "unit_liaison": inbox(port, tokens[liaison], repeat)}
        return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=5000, help="units, each with a self-check to complete")
    parser.add_argument("--closed-loop", type=int, default=2000, help="completions sent as fast as answered")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="per worker; 1: gunicorn's sync workers")
    parser.add_argument("--task-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--postgres", default=scenario.POSTGRES)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.units, args.clients, args.workers, args.task_rows, args.repeat, args.postgres,
                         args.closed_loop, args.threads),
                     indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
