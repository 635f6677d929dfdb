"""The service killed outright (SIGKILL) in the middle of its work, then started again: a publication
goes on where it stopped and opens each case once, and completions under load are neither lost nor doubled. The service runs
as its own process (`rectiflow run`) over the test's database, SQLite or PostgreSQL."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.api import round_awaiting_approval, run_jobs
from support.district import PASSWORD, build_district
from support.http import call as http_call

from service.models import Case, CommonProblem, RecommendationLetter, Round
from workflows.tables import HistoryEntry, HumanTask, ProcessInstance

ROOT = Path(__file__).resolve().parents[1]


def slow_start_model() -> bytes:
    """The shipped unit_rectification whose first script takes a noticeable while for every unit,
    so that a publication's fan-out lasts long enough to be killed half-way. The script reads the
    case's id, so no unit's workflow can be derived from another's: each one runs."""
    xml = (ROOT / "bpmn" / "unit_rectification.bpmn").read_text(encoding="utf-8")
    slow = xml.replace("<bpmn:script>self_checked = recheck",
                       "<bpmn:script>spin = case_id\nfor i in range(20000):\n    spin = spin + i\n"
                       "self_checked = recheck", 1)
    assert slow != xml
    return slow.encode()


class Service:
    """`rectiflow run` in a process of its own, over the given database."""

    def __init__(self, database_url: str, folder: Path):
        self.database_url, self.folder = database_url, folder
        self.process: subprocess.Popen | None = None
        self.base = ""
        self.env: dict[str, str] = {}  # more settings for the service

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, RECTIFLOW_DATABASE_URL=self.database_url, RECTIFLOW_SECRET_KEY="test",
                   RECTIFLOW_AUDIT_KEY="test-audit-key",
                   RECTIFLOW_INSTANCE_DIR=str(self.folder), PYTHONPATH=str(ROOT),
                   # the load here is the test's own, from one address: no rate limits in its way
                   RECTIFLOW_RATE_LIMIT_LOGIN="", RECTIFLOW_RATE_LIMIT_API="", **self.env)
        self.process = subprocess.Popen([sys.executable, "-m", "service.cli", "run", "--port", str(port),
                                         "--threads", "16"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the service did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        return http_call(self.base, method, path, body, token)

    def token(self, username: str) -> str:
        status, body = self.call("POST", "/auth/token", {"username": username, "password": PASSWORD})
        assert status == 200, body
        return body["token"]

    def task(self, token: str, bpmn_id: str) -> str:
        status, body = self.call("GET", f"/tasks?bpmn_id={bpmn_id}", token=token)
        assert status == 200 and body["items"], body
        return body["items"][0]["id"]


@pytest.fixture
def service(ctx, tmp_path):
    s = Service(ctx.settings.database_url, tmp_path)
    yield s
    if s.process is not None and s.process.poll() is None:
        s.kill()


def _published(ctx, round_id: int) -> tuple[str, list[int], Counter]:
    """The round's status, its cases' units, and how many instances each case's business key has."""
    with ctx.db.read() as s:
        status = s.scalar(select(Round.status).where(Round.id == round_id))
        cases = s.scalars(select(Case).where(Case.round_id == round_id)).all()
        instances = Counter(s.scalars(select(ProcessInstance.business_key).where(
            ProcessInstance.business_key.in_([f"case:{c.id}" for c in cases]))).all())
        return status, sorted(c.unit_id for c in cases), instances


def _job(service, token: str, job_id: int) -> dict:
    status, body = service.call("GET", f"/jobs/{job_id}", token=token)
    assert status == 200, body
    return body


def _wait_for(what, deadline_seconds: float = 120):
    deadline = time.monotonic() + deadline_seconds
    while not (found := what()):
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.1)
    return found


def test_a_publication_killed_half_way_goes_on_after_a_restart_and_opens_each_case_once(ctx, api, password_hash,
                                                                                        service):
    # enough units, each slow to start, that the publication is still running when it is killed
    d = build_district(ctx, password_hash, n_units=100)
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, slow_start_model(), deployed_by="designer1"))
    round_id = round_awaiting_approval(api, d)
    # small chunks; a runner silent for 2 s is gone; the runner looks for such jobs every second
    service.env = {"RECTIFLOW_PUBLICATION_CHUNK": "5", "RECTIFLOW_JOB_STALE_SECONDS": "2",
                   "RECTIFLOW_TIMER_INTERVAL": "1"}

    service.start()
    leading = service.token("leading1")
    status_code, body = service.call("POST", f"/tasks/{service.task(leading, 'approve_list')}/complete",
                                     {"data": {"approved": True}}, leading)
    assert status_code == 200 and body["job_id"], body
    job_id = body["job_id"]
    _wait_for(lambda: _job(service, leading, job_id)["done"] >= 5)
    service.kill()

    status, units, instances = _published(ctx, round_id)
    assert status == "published" and 5 <= len(units) < len(d.units), "killed half-way, with whole chunks kept"
    assert set(instances.values()) == {1}

    service.start()
    leading = service.token("leading1")
    job = _wait_for(lambda: (j := _job(service, leading, job_id))["state"] == "done" and j)
    assert (job["done"], job["total"]) == (len(d.units), len(d.units))
    status, units, instances = _published(ctx, round_id)
    assert units == sorted(d.units), "every unit has its case, none twice"
    assert set(instances.values()) == {1}, "every case has exactly one instance"
    with ctx.db.read() as s:
        open_checks = s.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.bpmn_id == "self_check", HumanTask.state == "open"))
        letters = s.scalar(select(func.count()).select_from(RecommendationLetter)
                           .where(RecommendationLetter.round_id == round_id))
    assert open_checks == len(d.units) and letters == 1


def test_completions_under_load_survive_a_kill_neither_lost_nor_doubled(ctx, api, password_hash, service):
    d = build_district(ctx, password_hash, n_units=16)
    round_id = round_awaiting_approval(api, d)
    leading = api.as_("leading1")
    leading.complete(leading.tasks(bpmn_id="approve_list")[0]["id"], {"approved": True})
    run_jobs(api)
    with ctx.db.read() as s:
        common_ids = s.scalars(select(CommonProblem.id).where(CommonProblem.round_id == round_id)).all()
    service.start()
    liaisons = {unit: service.token(f"{d.codes[unit].lower()}_liaison") for unit in d.units}
    items = {"items": [{"common_problem_id": c, "applicable": False, "reason": "无", "problems_found": 0, "findings": "不涉及"}
                       for c in common_ids]}
    answers: dict[int, int] = {}

    def file(unit):
        try:
            task = service.task(liaisons[unit], "self_check")
            answers[unit] = service.call("POST", f"/tasks/{task}/complete", {"data": items}, liaisons[unit])[0]
        except (OSError, http.client.HTTPException, AssertionError):
            pass  # cut off by the kill

    workers = [threading.Thread(target=file, args=(unit,), daemon=True) for unit in d.units]
    for w in workers:
        w.start()
    time.sleep(0.4)
    service.kill()
    for w in workers:
        w.join(30)

    def tally():
        with ctx.db.read() as s:
            open_by_instance = Counter(s.scalars(select(HumanTask.instance_id).where(
                HumanTask.state == "open", HumanTask.model_key == "unit_rectification")).all())
            completions = Counter(s.scalars(select(HistoryEntry.task_id).where(
                HistoryEntry.event == "task_completed", HistoryEntry.bpmn_id == "self_check")).all())
            checked = s.scalar(select(func.count()).select_from(Case).where(
                Case.round_id == round_id, Case.status != "self_check"))
        return open_by_instance, completions, checked

    open_by_instance, completions, checked = tally()
    assert set(open_by_instance.values()) == {1}, "every instance waits on exactly one task"
    assert set(completions.values()) <= {1}, "no self-check completed twice"
    assert checked == len(completions), "a case moved on exactly when its self-check completed"
    assert {u for u, code in answers.items() if code == 200} <= set(d.units)
    assert len(completions) >= sum(1 for code in answers.values() if code == 200), "an answered completion is kept"

    service.start()  # the rest file after the restart, and the figures agree with the rows
    for unit in d.units:
        status, body = service.call("GET", "/tasks?bpmn_id=self_check", token=service.token(
            f"{d.codes[unit].lower()}_liaison"))
        for task in body["items"]:
            assert service.call("POST", f"/tasks/{task['id']}/complete", {"data": items},
                                service.token(f"{d.codes[unit].lower()}_liaison"))[0] == 200
    open_by_instance, completions, checked = tally()
    assert len(completions) == len(d.units) == checked and set(completions.values()) == {1}
    status, stats = service.call("GET", f"/stats?round_id={round_id}", token=service.token("office1"))
    assert status == 200 and stats["units_total"] == len(d.units), stats
