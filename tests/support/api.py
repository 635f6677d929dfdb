"""The HTTP API as its callers use it: logged-in clients, and a round driven up to its published list."""
from __future__ import annotations

import io

from service import jobs
from service.auth import new_token

from .district import user_id


class Api:
    """A logged-in HTTP client: `api.as_("office1").get(...)`. Its tokens are issued directly, as a
    login would: logging in through the API has tests of its own, so the others skip the password check."""

    def __init__(self, client):
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            ctx = self.client.application.extensions["rectiflow"]
            uid = user_id(ctx, username)
            assert uid is not None, f"no account {username}"
            self.tokens[username] = ctx.db.transaction(
                lambda s: new_token(s, uid, ctx.now(), ctx.settings.token_hours))
        return self.tokens[username]

    def as_(self, username: str) -> UserApi:
        return UserApi(self.client, {"Authorization": f"Bearer {self.token(username)}"})


class UserApi:
    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, path, **kw):
        return self.client.get("/api/v1" + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path, **kw):
        return self.client.post("/api/v1" + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def put(self, path, **kw):
        return self.client.put("/api/v1" + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def patch(self, path, **kw):
        return self.client.patch("/api/v1" + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, path, **kw):
        return self.client.delete("/api/v1" + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def tasks(self, **params) -> list[dict]:
        r = self.get("/tasks", query_string={"limit": 500, **params})
        assert r.status_code == 200, r.get_json()
        return r.get_json()["items"]

    def attach_evidence(self, case_id, name="整改报告.pdf", content=b"%PDF-1.4 report"):
        """One evidence file on the case, as a unit attaches before its head files."""
        r = self.post(f"/cases/{case_id}/evidence", data={"file": (io.BytesIO(content), name)},
                      content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def complete(self, task_id, data, expect=200):
        r = self.post(f"/tasks/{task_id}/complete", json={"data": data})
        assert r.status_code == expect, r.get_json()
        return r.get_json()


def round_awaiting_approval(api, d, n_common=1) -> int:
    """A round whose list of `n_common` common problems is distilled: the leading group's approval is open."""
    office = api.as_("office1")
    round_id = office.post("/rounds", json={"name": "轮次", "inspected_unit_ids": d.units[:2],
                                            "inspector_ids": d.inspectors[:1]}).get_json()["id"]
    inspector = api.as_("inspector0")
    pid = inspector.post(f"/rounds/{round_id}/problems", json={
        "unit_id": d.units[0], "description": "合同未经法律审核", "category": "合同"}).get_json()["id"]
    inspector.complete(inspector.tasks(bpmn_id="record_findings")[0]["id"], {})
    for i in range(n_common):
        r = office.post(f"/rounds/{round_id}/common-problems", json={
            "title": f"共性问题{i}", "category": "合同", "responsible_department_id": d.departments[0],
            "problem_ids": [pid] if i == 0 else []})
        assert r.status_code == 201, r.get_json()
    office.complete(office.tasks(bpmn_id="distill_list")[0]["id"], {})
    return round_id


def publish_round(api, d, n_common=1):
    """A round whose list is published: every unit of the district has a case."""
    round_id = round_awaiting_approval(api, d, n_common)
    leading = api.as_("leading1")
    leading.complete(leading.tasks(bpmn_id="approve_list")[0]["id"], {"approved": True})
    run_jobs(api)
    return round_id


def run_jobs(api) -> int:
    """Run the background jobs (a list's publication) to their end, as the service's runner would."""
    return jobs.run_pending(api.client.application.extensions["rectiflow"])


def liaison(api, d, index):
    return api.as_(f"{d.codes[d.units[index]].lower()}_liaison")
