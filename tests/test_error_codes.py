"""Every error a client can meet answers problem+json with a stable snake_case code."""
from __future__ import annotations

import re

from support.api import publish_round

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def _problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.headers["Content-Type"] == "application/problem+json"
    body = r.get_json()
    assert SNAKE.match(body["code"]), body
    if code:
        assert body["code"] == code, body
    for error in body.get("errors") or []:
        assert SNAKE.match(error["code"]), error
    return body


def test_every_kind_of_error_carries_a_code(client, api, district):
    office, unit = api.as_("office1"), api.as_(f"{district.codes[district.units[2]].lower()}_liaison")
    _problem(client.get("/api/v1/cases"), 401, "unauthorized")
    _problem(client.post("/api/v1/auth/token", json={"username": "office1", "password": "nope"}), 401)
    _problem(office.post("/rounds", data="{", content_type="application/json"), 400, "invalid_json")
    _problem(office.post("/rounds", data="x", content_type="text/plain"), 400, "json_required")
    body = _problem(office.post("/rounds", json={"name": 3}), 422, "invalid_body")
    assert {e["field"]: e["code"] for e in body["errors"]}["name"] == "type"
    _problem(office.get("/cases", query_string={"limit": "many"}), 400, "invalid_query")
    _problem(office.get("/rounds/999999"), 404, "not_found")
    _problem(unit.post("/rounds", json={"name": "x", "inspected_unit_ids": [], "inspector_ids": []}), 403,
             "role_required")
    _problem(office.post("/rounds", json={"name": "x", "inspected_unit_ids": [999999], "inspector_ids": []}),
             422, "unknown_unit")
    _problem(client.delete("/api/v1/rounds/1", headers=office.headers), 405, "method_not_allowed")
    _problem(office.get("/tasks/not-a-task"), 404)

    publish_round(api, district)
    task = unit.tasks(step="self_check")[0]
    body = _problem(unit.post(f"/tasks/{task['id']}/complete", json={"data": {"items": "x"}}), 422,
                    "invalid_task_data")
    assert body["errors"][0]["code"] == "type"
    assert _problem(unit.post(f"/tasks/{task['id']}/complete", json={"data": {"items": []}}), 422,
                    "invalid_task_data")["errors"][0]["code"] == "min_items"
    row = {"common_problem_id": 999999, "applicable": False, "reason": "本单位不涉及", "problems_found": 0, "findings": "无"}
    body = _problem(unit.post(f"/tasks/{task['id']}/complete", json={"data": {"items": [row]}}), 422,
                    "items_mismatch")
    assert {e["code"] for e in body["errors"]} == {"item_unknown", "item_missing"}
    case_id = unit.get("/cases").get_json()["items"][0]["id"]
    _problem(unit.post(f"/cases/{case_id}/evidence", data={}, content_type="multipart/form-data"), 400,
             "file_required")
    _problem(unit.get("/process-instances"), 403, "role_required")


def _codes_in_source() -> set[str]:
    """Every error code the service and the engine can put in a body: keyword `code=`, a `"code":`
    key, a class's `code`, a WorkflowFailure's third argument, an `on_field` error's second, and the
    reason codes of the engine's refusals (`Refusal`, its tables of SpiffWorkflow's and the schema's)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found: set[str] = set()
    sources = [*(root / "service").rglob("*.py"), *(root / "workflows").rglob("*.py")]
    for path in (p for p in sources if not p.name.startswith("demo")):  # demo units have codes of their own
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                found |= {k.value.value for k in node.keywords
                          if k.arg == "code" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)}
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "WorkflowFailure" and len(node.args) >= 3 and isinstance(node.args[2], ast.Constant):
                    found.add(node.args[2].value)
                if name == "on_field" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                    found.add(node.args[1].value)
                # why the engine refuses part of a diagram (a deploy error's `reason_code`)
                reason = {"Refusal": 0, "_at": 1, "UnsafeXMLError": 1}.get(name)
                if reason is not None and len(node.args) > reason and isinstance(node.args[reason], ast.Constant):
                    found.add(node.args[reason].value)
            elif isinstance(node, ast.Dict):
                found |= {v.value for k, v in zip(node.keys, node.values, strict=True)
                          if isinstance(k, ast.Constant) and k.value == "code"
                          and isinstance(v, ast.Constant) and isinstance(v.value, str)}
            elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "").endswith("_REFUSALS"):
                found |= {row.elts[1].value for row in node.value.elts}  # (words, reason code) tables
            elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.Tuple)):
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    found |= {v.value for n, v in zip(names, values, strict=False)
                              if getattr(n, "id", None) == "code" and isinstance(v, ast.Constant)}
    return found


def test_every_code_in_the_source_is_documented():
    from service.errors import ERROR_CODES, FIELD_CODES

    undocumented = sorted(_codes_in_source() - set(ERROR_CODES) - set(FIELD_CODES))
    assert undocumented == []


def test_every_documented_code_reads_in_chinese_on_an_error_page(app):
    from service.errors import ERROR_CODES, FAILURE_CODES, FIELD_CODES, Unprocessable
    from service.web import page_error
    from service.web.problems import error_text, failure_text, field_text

    cjk = re.compile(r"[\u4e00-\u9fff]")
    with app.test_request_context("/inbox"):
        for code in ERROR_CODES:
            exc = Unprocessable("English detail", code=code)
            html = page_error(exc, exc.body())[0]
            sentence = error_text(code)
            assert cjk.search(sentence), (code, sentence)
            assert sentence.split("%")[0].split("：")[0] in html, code
            assert "English detail" not in html, code
        for code in FAILURE_CODES:  # why a process instance's timed step failed
            assert cjk.search(failure_text(code)), code
        for code in FIELD_CODES:
            kind, _, expected = code.partition("_") if code.startswith(("type_", "format_")) else (code, "", "")
            assert cjk.search(field_text({"code": kind, "expected": expected, "limit": 3})), code
