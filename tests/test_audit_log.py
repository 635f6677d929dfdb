"""The audit log: who did what, from where, with what outcome; sealed in a chain that `rectiflow
audit verify` checks, and read by the audit administrator alone."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from support.api import UserApi, liaison, publish_round
from support.audit import entries, sql
from support.concurrency import Call
from support.district import PASSWORD
from support.fixtures import AUDIT_KEY
from support.pages import Pages

from service.cli import main

ROOT = Path(__file__).resolve().parent.parent


def summary(ctx, **where) -> list[tuple]:
    return [(e.action, e.actor, e.target, e.outcome, e.address) for e in entries(ctx, **where)]


def verify(monkeypatch, ctx, tmp_path, capsys, key: str = AUDIT_KEY) -> tuple[int, str]:
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("RECTIFLOW_AUDIT_KEY", key)
    monkeypatch.setenv("RECTIFLOW_INSTANCE_DIR", str(tmp_path / "cli-instance"))
    capsys.readouterr()
    code = main(["audit", "verify"])
    return code, capsys.readouterr().out


# ---------------------------------------------------------------- what is recorded
def test_logins_logouts_tokens_and_password_changes_are_recorded_with_who_where_and_outcome(client, ctx, api, district):
    pages = Pages(client)
    assert pages.login("office1", "wrong-password").status_code == 401
    assert pages.login("nobody-here", "wrong-password").status_code == 401
    assert pages.login("office1").status_code == 302
    assert pages.post("/logout").status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": "leading1", "password": "nope"}).status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "leading1", "password": PASSWORD})
    leading = UserApi(client, {"Authorization": f"Bearer {r.get_json()['token']}"})
    assert leading.post("/auth/password", json={"current_password": "nope", "new_password": "a-new-password-1"}
                        ).status_code == 403
    assert leading.post("/auth/password", json={"current_password": PASSWORD,
                                                "new_password": "a-new-password-1"}).status_code == 204
    assert leading.client.delete("/api/v1/auth/token", headers=leading.headers).status_code == 204

    assert summary(ctx) == [
        ("login_failed", None, "user:office1", "refused", "127.0.0.1"),
        ("login_failed", None, "user:nobody-here", "refused", "127.0.0.1"),
        ("login", "office1", "user:office1", "ok", "127.0.0.1"),
        ("logout", "office1", "user:office1", "ok", "127.0.0.1"),
        ("token_refused", None, "user:leading1", "refused", "127.0.0.1"),
        ("token_issued", "leading1", "user:leading1", "ok", "127.0.0.1"),
        ("password_change_refused", "leading1", "user:leading1", "refused", "127.0.0.1"),
        ("password_changed", "leading1", "user:leading1", "ok", "127.0.0.1"),
        ("token_revoked", "leading1", "user:leading1", "ok", "127.0.0.1"),
    ]
    refused = entries(ctx, outcome="refused")
    assert [e.detail["code"] for e in refused] == ["unauthorized", "unauthorized", "unauthorized", "wrong_password"]


def test_a_locked_account_is_recorded_as_refused_with_its_code(client, ctx, district):
    for _ in range(ctx.settings.login_attempts):
        client.post("/api/v1/auth/token", json={"username": "office1", "password": "nope"})
    client.post("/api/v1/auth/token", json={"username": "office1", "password": PASSWORD})
    codes = [e.detail["code"] for e in entries(ctx, action="token_refused")]
    assert codes[-2:] == ["account_locked", "account_locked"] and len(codes) == ctx.settings.login_attempts + 1


def test_task_completions_evidence_reviews_exports_and_deployments_are_recorded(client, ctx, api, district):
    d = district
    round_id = publish_round(api, d)
    office, unit = api.as_("office1"), liaison(api, d, 2)
    completed = entries(ctx, action="task_completed")
    assert [(e.actor, e.outcome) for e in completed] == [("inspector0", "ok"), ("office1", "ok"), ("leading1", "ok")]
    assert all(e.target.startswith("task:") and e.detail["step"] for e in completed)

    case = [c for c in office.get("/cases", query_string={"round_id": round_id}).get_json()["items"]
            if c["unit_id"] == d.units[2]][0]
    cp = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    task_id = unit.tasks(bpmn_id="self_check")[0]["id"]
    unit.complete(task_id, {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    assert summary(ctx, action="task_completed")[-1] == (
        "task_completed", "u002_liaison", f"task:{task_id}", "ok", "127.0.0.1")
    uploaded = unit.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 x"), "整改.pdf")},
                         content_type="multipart/form-data").get_json()
    assert office.post(f"/evidence/{uploaded['id']}/review", json={"result": "accepted"}).status_code == 200
    assert office.get("/lists/rectifications", query_string={"round_id": round_id, "format": "xlsx"}).status_code == 200
    assert office.get("/lists").status_code == 200
    pages = Pages(client)
    pages.login("office1")
    assert pages.get(f"/dashboard/lists/problems.xlsx?round_id={round_id}").status_code == 200
    xml = (ROOT / "bpmn" / "clue_handover.bpmn").read_bytes()
    assert api.as_("designer1").post("/process-models", data=xml, content_type="application/xml").status_code == 200

    (upload,) = entries(ctx, action="evidence_uploaded")
    assert (upload.actor, upload.target, upload.detail) == (
        "u002_liaison", f"case:{case['id']}", {"evidence": uploaded["id"], "sha256": uploaded["sha256"]})
    (review,) = entries(ctx, action="evidence_reviewed")
    assert (review.actor, review.target, review.detail) == (
        "office1", f"evidence:{uploaded['id']}", {"case": case["id"], "result": "accepted"})
    assert [(e.actor, e.target, e.detail.get("round_id")) for e in entries(ctx, action="list_exported")] == [
        ("office1", "list:rectifications", round_id), ("office1", "list:ledger", None),
        ("office1", "list:problems", round_id)]
    (deployed,) = entries(ctx, action="model_deployed")
    assert (deployed.actor, deployed.target.startswith("model:clue_handover:"), deployed.detail) == (
        "designer1", True, {"created": False, "warnings": []})


def test_the_entry_commits_or_rolls_back_with_the_change_it_records(ctx, api, district):
    d = district
    publish_round(api, d)
    unit = liaison(api, d, 2)
    before = len(entries(ctx))
    # the form refuses the data: the completion is undone, and so is its entry
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": "not a list"}, expect=422)
    assert len(entries(ctx)) == before


# ---------------------------------------------------------------- the chain
def log_in(client, *usernames: str) -> None:
    for name in usernames:
        assert client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).status_code == 200


def test_an_untouched_log_verifies_and_an_altered_entry_is_named(monkeypatch, tmp_path, capsys, client, ctx, api,
                                                                 district):
    log_in(client, "office1", "leading1", "inspector0")
    publish_round(api, district)
    count = len(entries(ctx))
    assert count >= 6
    assert verify(monkeypatch, ctx, tmp_path, capsys) == (0, f"audit log OK: {count} entries verified\n")

    original = entries(ctx)[2].actor
    sql(ctx, "UPDATE audit_log SET actor = 'someone_else' WHERE id = 3")
    code, out = verify(monkeypatch, ctx, tmp_path, capsys)
    assert code == 1 and out.startswith("audit log broken at entry 3:") and "altered" in out, out

    sql(ctx, "UPDATE audit_log SET actor = :actor WHERE id = 3", actor=original)  # put back: whole again
    assert verify(monkeypatch, ctx, tmp_path, capsys)[0] == 0
    code, out = verify(monkeypatch, ctx, tmp_path, capsys, key="another-key")
    assert code == 1 and out.startswith("audit log broken at entry 1:"), out


def test_an_altered_outcome_or_detail_is_named(monkeypatch, tmp_path, capsys, client, ctx, district):
    client.post("/api/v1/auth/token", json={"username": "office1", "password": "nope"})
    client.post("/api/v1/auth/token", json={"username": "office1", "password": PASSWORD})
    sql(ctx, "UPDATE audit_log SET outcome = 'ok' WHERE id = 1")
    code, out = verify(monkeypatch, ctx, tmp_path, capsys)
    assert code == 1 and "entry 1" in out, out


def test_a_deleted_entry_breaks_the_chain_where_it_was(monkeypatch, tmp_path, capsys, client, ctx, api, district):
    log_in(client, "office1", "leading1", "inspector0")
    publish_round(api, district)
    count = len(entries(ctx))
    sql(ctx, "DELETE FROM audit_log WHERE id = 4")
    code, out = verify(monkeypatch, ctx, tmp_path, capsys)
    assert code == 1 and out.startswith("audit log broken at entry 5:") and "entry 4 is missing" in out, out

    sql(ctx, f"DELETE FROM audit_log WHERE id >= 4 AND id < {count}")  # the chain cut off before the last
    code, out = verify(monkeypatch, ctx, tmp_path, capsys)
    assert code == 1 and f"entry {count}" in out and "missing" in out, out


def test_entries_cut_off_at_the_end_are_found_by_the_head(monkeypatch, tmp_path, capsys, ctx, api, district):
    publish_round(api, district)
    count = len(entries(ctx))
    sql(ctx, f"DELETE FROM audit_log WHERE id = {count}")
    code, out = verify(monkeypatch, ctx, tmp_path, capsys)
    assert code == 1 and out.startswith(f"audit log broken at entry {count}:"), out


def test_an_inserted_entry_is_named(monkeypatch, tmp_path, capsys, ctx, api, district):
    publish_round(api, district)
    rows = entries(ctx)
    last = rows[-1]
    # a forged entry after the last, claiming to follow it; its hash cannot be made without the key
    sql(ctx, "INSERT INTO audit_log (id, at, actor, address, action, target, outcome, detail, prev_hash, hash) "
             "SELECT :id, at, 'office1', address, 'login', 'user:office1', 'ok', detail, hash, hash "
             "FROM audit_log WHERE id = :last", id=last.id + 1, last=last.id)
    code, out = verify(monkeypatch, ctx, tmp_path, capsys)
    assert code == 1 and f"entry {last.id + 1}" in out, out

    # one slipped in between: the entries after it renumbered, the forged one a copy of its neighbour
    sql(ctx, "DELETE FROM audit_log WHERE id = :id", id=last.id + 1)
    sql(ctx, "UPDATE audit_log SET id = -id WHERE id >= 3")
    sql(ctx, "UPDATE audit_log SET id = 1 - id WHERE id < 0")
    sql(ctx, "INSERT INTO audit_log (id, at, actor, address, action, target, outcome, detail, prev_hash, hash) "
             "SELECT 3, at, 'office1', address, 'login', 'user:office1', 'ok', detail, prev_hash, hash "
             "FROM audit_log WHERE id = 4")
    code, out = verify(monkeypatch, ctx, tmp_path, capsys)
    assert code == 1 and out.startswith("audit log broken at entry 3:"), out


def test_concurrent_task_completions_leave_one_unbroken_chain(monkeypatch, tmp_path, capsys, app, ctx, api, district):
    d = district
    round_id = publish_round(api, d)
    cp = api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    data = {"items": [{"common_problem_id": cp, "applicable": False, "reason": "无", "problems_found": 0,
                       "findings": "无"}]}
    calls = []
    for index in range(len(d.units)):
        name = f"{d.codes[d.units[index]].lower()}_liaison"
        task_id = liaison(api, d, index).tasks(bpmn_id="self_check")[0]["id"]
        calls.append(Call(app, api, name, "post", f"/tasks/{task_id}/complete", json={"data": data}))
    for call in calls:
        call.start()
    assert [call.result()[0] for call in calls] == [200] * len(calls)

    rows = entries(ctx)
    assert [e.id for e in rows] == list(range(1, len(rows) + 1))
    done = [e for e in rows if e.action == "task_completed" and e.detail["step"] == "self_check"]
    assert sorted(e.actor for e in done) == sorted(f"{d.codes[u].lower()}_liaison" for u in d.units)
    code, out = verify(monkeypatch, ctx, tmp_path, capsys)
    assert code == 0 and f"{len(rows)} entries" in out, out


# ---------------------------------------------------------------- who reads it
@pytest.fixture
def auditor(district) -> str:
    return "auditor1"


def test_only_the_audit_administrator_reads_the_log(client, ctx, api, district, auditor):
    Pages(client).login("office1", "wrong-password")
    log_in(client, "admin")
    for name in ("office1", "admin", "u002_liaison", "designer1", "leading1"):
        r = api.as_(name).get("/audit-log")
        assert (r.status_code, r.get_json()["code"]) == (403, "audit_admin_required"), name
    reader = api.as_(auditor)
    body = reader.get("/audit-log").get_json()
    assert body["total"] == len(entries(ctx)) and body["items"][0]["id"] == body["total"]  # newest first
    refused = reader.get("/audit-log", query_string={"action": "login_failed"}).get_json()
    assert [(e["target"], e["outcome"], e["address"]) for e in refused["items"]] == [
        ("user:office1", "refused", "127.0.0.1")]
    mine = reader.get("/audit-log", query_string={"actor": "admin", "limit": 1, "offset": 0}).get_json()
    # the admin's login, then the admin's refused attempt to read the log, newest first
    assert mine["total"] == 2 and mine["items"][0]["action"] == "audit_log_refused" and len(mine["items"][0]["hash"]) == 64
    assert reader.get("/audit-log", query_string={"limit": 0}).get_json()["code"] == "invalid_query"


def test_the_audit_administrator_works_no_task_lane():
    from service.context import lane_role

    assert lane_role("审计管理员") is None and lane_role("audit_admin") is None


def test_init_db_writes_the_audit_key_beside_the_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("RECTIFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("RECTIFLOW_AUDIT_KEY", raising=False)
    monkeypatch.setenv("RECTIFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'init.db'}")
    assert main(["init-db"]) == 0
    key = (tmp_path / "instance" / "audit_key").read_text()
    assert len(key) >= 48 and key != (tmp_path / "instance" / "secret_key").read_text()
    assert (tmp_path / "instance" / "audit_key").stat().st_mode & 0o077 == 0
    assert main(["init-db"]) == 0 and (tmp_path / "instance" / "audit_key").read_text() == key
    assert main(["audit", "verify"]) == 0
