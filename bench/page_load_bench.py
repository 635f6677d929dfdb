"""How fast do the heavy pages open on a district's slow government line? Prints the figures.

    python bench/page_load_bench.py

Serves the demo district (seed-demo, on SQLite in a temporary folder) with waitress, as `rectiflow
run` does, in this process, and opens in Debian's Chromium (/usr/bin/chromium, through
Playwright) the dashboard, the designer, an instance view and the inbox, each cold (a new browser
profile: empty cache) and warm (the same page opened again), over a line the DevTools protocol
throttles to 150 ms latency and 1.6 Mbit/s each way (Network.emulateNetworkConditions).

For each page: the time to the `load` event and to the page being ready to use (the charts drawn,
the diagram imported: the page's `data-ready`), the requests that reached the server and the bytes
that crossed the line. Checks (the targets of issue 16): cold dashboard ≤ 3 s, cold designer ≤ 4 s,
cold instance view ≤ 2.5 s (to ready); no static file requested at all on a warm visit; every text
response (HTML, JSON, JavaScript, CSS, XML) compressed, as the browser accepts brotli and gzip,
but those under the service's MIN_SIZE, which it sends as they are on purpose.

`run()` returns the figures and the checks as a dict (for a runner that collects benchmarks); run
as a script, it prints them and exits 1 when a check fails.
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from config import Settings
from service import create_app
from service.demo import seed_demo
from service.models import User
from service.web.transfer import COMPRESSED_TYPES, MIN_SIZE
from workflows.tables import ProcessInstance

CHROMIUM = "/usr/bin/chromium"
LATENCY_MS = 150
BYTES_PER_SECOND = 1_600_000 / 8  # 1.6 Mbit/s
TARGETS_S = {"dashboard": 3.0, "designer": 4.0, "instance": 2.5}
# who opens which page: the office reads the dashboard and instances, the designer edits diagrams,
# a unit's liaison works from the inbox
PAGES = [("dashboard", "office1", "/dashboard/"), ("designer", "designer1", "/designer/"),
         ("instance", "office1", "/instances/{instance}"), ("inbox", "c01_liaison", "/inbox")]
REPEAT = 3  # cold and warm visits of each page; the figures are medians
READY = """() => Array.from(document.querySelectorAll('#rf-dashboard, #rf-instance, #rf-designer'))
    .every(e => e.dataset.ready === 'true')"""


class Recorder:
    """WSGI middleware: every request that reached the server, with what it sent back."""

    def __init__(self, app):
        self.app, self.lock, self.seen = app, threading.Lock(), []

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            named = {k.lower(): v for k, v in headers}
            with self.lock:
                self.seen.append({"path": environ["PATH_INFO"], "status": int(status.split()[0]),
                                  "type": named.get("content-type", "").split(";")[0],
                                  "encoding": named.get("content-encoding", ""),
                                  "length": int(named.get("content-length") or -1),
                                  "accept": environ.get("HTTP_ACCEPT_ENCODING", "")})
            return start_response(status, headers, exc_info)
        return self.app(environ, start)

    def take(self) -> list[dict]:
        with self.lock:
            seen, self.seen = self.seen, []
        return seen


def _serve(app):
    from waitress import create_server

    recorder = Recorder(app)
    server = create_server(recorder, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return server, recorder, f"http://127.0.0.1:{server.effective_port}"


def _open(context, url: str) -> dict:
    """One visit on the throttled line: seconds to `load` and to ready, bytes received."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": LATENCY_MS,
                                                  "downloadThroughput": BYTES_PER_SECOND,
                                                  "uploadThroughput": BYTES_PER_SECOND})
    received = []
    cdp.on("Network.loadingFinished", lambda e: received.append(e["encodedDataLength"]))
    start = time.perf_counter()
    page.goto(url, wait_until="load", timeout=60_000)
    loaded = time.perf_counter() - start
    page.wait_for_function(READY, timeout=60_000, polling=20)
    ready = time.perf_counter() - start
    page.wait_for_timeout(200)  # late requests (none expected) are counted too
    page.close()
    return {"load_s": round(loaded, 2), "ready_s": round(ready, 2), "kb": round(sum(received) / 1024, 1)}


def _median(visits: list[dict]) -> dict:
    """Each figure's median over the repeats, and the fastest time (the least disturbed by whatever
    else the machine is doing)."""
    out = {k: round(statistics.median(v[k] for v in visits), 2) for k in visits[0]}
    out["fastest_ready_s"] = min(v["ready_s"] for v in visits)
    return out


def run() -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(instance_dir=Path(folder) / "instance", database_url=f"sqlite:///{folder}/bench.db",
                            secret_key="page-load-bench", audit_key="page-load-bench-audit")
        app = create_app(settings)
        ctx = app.extensions["rectiflow"]
        seed_demo(ctx)
        with ctx.db.read() as s:
            users = dict(s.execute(select(User.username, User.id)).all())
            instance = s.scalars(select(ProcessInstance.id).where(ProcessInstance.status == "running")
                                 .order_by(ProcessInstance.id)).first()
        signer = app.session_interface.get_signing_serializer(app)
        server, recorder, origin = _serve(app)
        figures: dict[str, dict] = {}
        problems: list[str] = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                for name, username, path in PAGES:
                    url = origin + path.format(instance=instance)
                    visits: dict[str, list[dict]] = {"cold": [], "warm": []}
                    cold_files: list[tuple[str, int]] = []
                    static_warm: list[str] = []
                    plain: list[str] = []
                    for _ in range(REPEAT):  # each time a new profile: its cache empty
                        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
                        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"],
                                              "value": signer.dumps({"uid": users[username]}), "url": origin}])
                        recorder.take()
                        visits["cold"].append(_open(context, url))
                        cold_seen = recorder.take()
                        visits["warm"].append(_open(context, url))
                        warm_seen = recorder.take()
                        context.close()
                        cold_files = [(r["path"], r["length"]) for r in cold_seen]
                        static_warm += [r["path"] for r in warm_seen if r["path"].startswith("/static/")]
                        plain += [f'{r["path"]} ({r["type"]}, {r["length"]} B)' for r in cold_seen + warm_seen
                                  if r["status"] == 200 and r["type"] in COMPRESSED_TYPES and not r["encoding"]
                                  and r["length"] >= MIN_SIZE and ("br" in r["accept"] or "gzip" in r["accept"])]
                    cold, warm = _median(visits["cold"]), _median(visits["warm"])
                    figures[name] = {"cold": cold, "warm": warm, "cold_requests": len(cold_files),
                                     "cold_files": cold_files, "warm_static_requests": sorted(set(static_warm)),
                                     "uncompressed_text": sorted(set(plain))}
                    if name in TARGETS_S and cold["ready_s"] > TARGETS_S[name]:
                        problems.append(f"cold {name} ready in {cold['ready_s']} s > {TARGETS_S[name]} s")
                    if static_warm:
                        problems.append(f"warm {name} requested static files: {sorted(set(static_warm))}")
                    if plain:
                        problems.append(f"{name}: text sent uncompressed: {sorted(set(plain))}")
                browser.close()
        finally:
            server.close()
            ctx.db.engine.dispose()
    return {"line": {"latency_ms": LATENCY_MS, "mbit_s": 1.6}, "pages": figures, "targets_s": TARGETS_S,
            "problems": problems, "ok": not problems}


def _print(result: dict) -> None:
    print(f"Chromium over {result['line']['latency_ms']} ms, {result['line']['mbit_s']} Mbit/s (demo district)")
    print(f"medians of {REPEAT} visits each; 'fastest' is the quickest cold visit to ready")
    print(f"{'page':<10} {'cold load':>9} {'cold ready':>10} {'fastest':>8} {'cold KB':>8} {'req':>4}   "
          f"{'warm load':>9} {'warm ready':>10} {'warm KB':>8} {'static req':>10}  target")
    for name, f in result["pages"].items():
        c, w = f["cold"], f["warm"]
        target = f"≤ {result['targets_s'][name]} s" if name in result["targets_s"] else ""
        print(f"{name:<10} {c['load_s']:>8.2f}s {c['ready_s']:>9.2f}s {c['fastest_ready_s']:>7.2f}s {c['kb']:>8.1f} "
              f"{f['cold_requests']:>4}   {w['load_s']:>8.2f}s {w['ready_s']:>9.2f}s {w['kb']:>8.1f} "
              f"{len(f['warm_static_requests']):>10}  {target}")
    print("OK: every target met" if result["ok"] else "MISSED:\n  " + "\n  ".join(result["problems"]))


if __name__ == "__main__":
    outcome = run()
    _print(outcome)
    if "--json" in sys.argv:
        print(json.dumps(outcome, ensure_ascii=False, indent=2))
    sys.exit(0 if outcome["ok"] else 1)
