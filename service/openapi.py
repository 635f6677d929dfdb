"""The OpenAPI 3 description of /api/v1, built from the same schemas the views validate with."""
from __future__ import annotations

from functools import lru_cache

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _op(summary: str, tag: str, body: dict | None = None, ok: str = "200", public: bool = False,
        content_type: str = "application/json") -> dict:
    op = {"summary": summary, "tags": [tag], "responses": {
        ok: {"description": "success"},
        "4XX": {"description": "problem", "content": {"application/problem+json": {"schema": PROBLEM}}},
    }}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {content_type: {"schema": body}}}
    if public:
        op["security"] = []
    return op


@lru_cache(maxsize=1)
def document() -> dict:
    from .api.auth import PASSWORD_CHANGE, TOKEN_REQUEST, TOTP_CODE, TOTP_CONFIRM
    from .api.cases import EVIDENCE_REVIEW, RECHECK
    from .api.library import CLUE_REQUEST, EXPERT_REQUEST, FINDING_REQUEST, INSPECTOR_PROFILE, LINK_REQUEST
    from .api.org import DECISION_REQUEST, ROLE_CHANGE_REQUEST, UNIT_REQUEST
    from .api.rounds import COMMON_PROBLEM_REQUEST, PROBLEM_REQUEST, ROUND_REQUEST
    from .api.tasks import COMPLETE_REQUEST

    paging = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
              {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}]
    audit_filters = [
        {"name": "action", "in": "query", "schema": {"type": "string"}},
        {"name": "actor", "in": "query", "schema": {"type": "string"}},
        {"name": "outcome", "in": "query", "schema": {"type": "string", "enum": ["ok", "refused"]}},
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "xlsx", "csv"]}}]
    upload = {"type": "object", "properties": {"file": {"type": "string", "format": "binary"},
                                               "item_id": {"type": "integer"}}, "required": ["file"]}
    paths = {
        "/health": {"get": _op("Service and database health", "system", public=True)},
        "/openapi.json": {"get": _op("This document", "system", public=True)},
        "/auth/token": {"post": _op("Exchange username and password for a bearer token", "auth", TOKEN_REQUEST,
                                    public=True),
                        "delete": _op("Log out: the token the request carries ends", "auth", ok="204")},
        "/auth/password": {"post": _op("Change the caller's password; every other token and page session of the "
                                       "account ends", "auth", PASSWORD_CHANGE, "204")},
        "/me": {"get": _op("The current user", "auth")},
        "/me/tokens": {"get": _op("The caller's API tokens that still work (never their secrets); `current` marks "
                                  "the one the request came with", "auth")},
        "/me/tokens/{id}": {"delete": _op("End one of the caller's own API tokens", "auth", ok="204")},
        "/me/totp": {"post": _op("Begin enrolling a TOTP authenticator: a new secret and its otpauth URI, active "
                                 "once confirmed", "auth"),
                     "delete": _op("Turn two-step verification off with a current code", "auth", TOTP_CODE, "204")},
        "/me/totp/confirm": {"post": _op("Confirm the enrolment with a code from the authenticator app and the "
                                         "account's password", "auth", TOTP_CONFIRM, "204")},
        "/units": {"get": _op("Units of the district", "organisation") | {"parameters": paging},
                   "post": _op("Create a unit (admin)", "organisation", UNIT_REQUEST, "201")},
        "/users": {"get": _op("Users, by role and unit (admin, security administrator, office)", "organisation")
                   | {"parameters": paging}},
        "/users/{id}/role-changes": {"post": _op("Propose a change of the account's roles (system or security "
                                                 "administrator; never one's own)", "organisation",
                                                 ROLE_CHANGE_REQUEST, "201")},
        "/users/{id}/unlock": {"post": _op("Lift the account's login lockout (security administrator)",
                                           "organisation", ok="204")},
        "/role-changes": {"get": _op("Role changes, pending first; state=pending|approved|rejected", "organisation")
                          | {"parameters": paging}},
        "/role-changes/{id}/approve": {"post": _op("Approve a role change: an administrator of the other duty "
                                                   "than its proposer's", "organisation", DECISION_REQUEST)},
        "/role-changes/{id}/reject": {"post": _op("Reject a role change, with a comment", "organisation",
                                                  DECISION_REQUEST)},
        "/process-models": {
            "get": _op("Process models and their latest versions", "models"),
            "post": _op("Deploy a BPMN diagram as a new version", "models", {"type": "string"}, "201",
                        content_type="application/xml")},
        "/process-models/{key}/versions": {"get": _op("Versions of a model", "models")},
        "/process-models/{key}/versions/{version}": {"get": _op("One version's metadata", "models")},
        "/process-models/{key}/versions/{version}/bpmn": {"get": _op("The BPMN XML as deployed", "models")},
        "/rounds": {"post": _op("Start an inspection round (office)", "lifecycle", ROUND_REQUEST, "201")},
        "/rounds/{id}": {"get": _op("A round with its problems and common problems", "lifecycle")},
        "/rounds/{id}/problems": {"post": _op("Record a problem (inspector of the round, office)", "lifecycle",
                                              PROBLEM_REQUEST, "201")},
        "/rounds/{id}/common-problems": {"post": _op("Distil a common problem (office)", "lifecycle",
                                                     COMMON_PROBLEM_REQUEST, "201")},
        "/cases": {"get": _op("Per-unit rectification cases in the caller's scope", "lifecycle")
                   | {"parameters": paging}},
        "/cases/{id}": {"get": _op("One case", "lifecycle")},
        "/tasks": {"get": _op("The caller's open tasks", "tasks") | {"parameters": paging}},
        "/tasks/{id}": {"get": _op("A task with its form as JSON Schema", "tasks")},
        "/tasks/{id}/complete": {"post": _op("Complete a task with data fitting its form", "tasks",
                                             COMPLETE_REQUEST)},
        "/stats": {"get": _op("Figures, counted from the records", "figures")},
        "/warnings": {"get": _op("Warning board: open cases by colour, yellow and red listed", "figures")},
        "/lists": {"get": _op("The whole ledger as one workbook, one sheet per list", "figures")},
        "/cases/{id}/evidence": {"get": _op("Evidence of a case", "lifecycle"),
                                 "post": _op("Upload evidence (SHA-256 kept)", "lifecycle", upload, "201",
                                             content_type="multipart/form-data")},
        "/cases/{id}/recheck": {"post": _op("Follow-up re-check (回头看): reopen a closed case (office)", "supervision",
                                            RECHECK, "200")},
        "/evidence/{id}/content": {"get": _op("Download an evidence file", "lifecycle")},
        "/evidence/{id}/review": {"post": _op("Accept or reject one evidence file (office)", "supervision",
                                              EVIDENCE_REVIEW)},
        "/notifications": {"get": _op("Leader notifications (leaders: their own; office: all)", "supervision")},
        "/notifications/{id}/acknowledge": {"post": _op("A leader acknowledges a notification", "supervision")},
        "/letters": {"get": _op("Recommendation letters (office; departments: their own)", "supervision")},
        "/rounds/{id}/clues": {"post": _op("Register a problem clue (the round's inspectors)", "clues",
                                           CLUE_REQUEST, "201")},
        "/clues": {"get": _op("The clue library (content only for discipline and the registering inspector)",
                              "clues")},
        "/clues/{id}": {"get": _op("One clue", "clues")},
        "/pools/inspectors": {"get": _op("Inspector talent pool", "pools")},
        "/pools/inspectors/{id}": {"put": _op("Set an inspector's specialties and conflicts of interest", "pools",
                                              INSPECTOR_PROFILE)},
        "/pools/experts": {"get": _op("Co-audit expert pool", "pools"),
                           "post": _op("Add an expert", "pools", EXPERT_REQUEST, "201")},
        "/audit-findings": {"get": _op("Audit findings", "pools"),
                            "post": _op("Record an audit finding, optionally linked to a problem", "pools",
                                        FINDING_REQUEST, "201")},
        "/audit-findings/{id}/link": {"post": _op("Link an audit finding to a problem (巡审结合)", "pools",
                                                  LINK_REQUEST)},
        "/process-instances": {"get": _op("Process instances the caller runs, failed first (office, designers); "
                                          "status=running|error|completed", "operations") | {"parameters": paging}},
        "/process-instances/{id}/retry": {"post": _op("Try a failed instance's timed step again now", "operations")},
        "/audit-log": {"get": _op("The audit log, newest first (audit administrator); action=, actor=, "
                                  "outcome=ok|refused, from= and to= (days, YYYY-MM-DD, in the configured zone, "
                                  "both included); format=xlsx|csv downloads every matching entry (at most 20,000; "
                                  "each download is recorded as audit_exported)", "audit")
                       | {"parameters": paging + audit_filters}},
        "/lists/{name}": {"get": _op("A list (problems, responsibilities, rectifications, supervision); "
                                     "format=xlsx for the Excel ledger", "figures")},
    }
    for path, ops in paths.items():
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in ("id", "key", "version", "name") if "{%s}" % name in path]
        if params:
            for op in ops.values():
                op["parameters"] = params + op.get("parameters", [])
    return {
        "openapi": "3.1.0",
        "info": {"title": "rectiflow API", "version": "1",
                 "description": "Inspection common-problem rectification: rounds, lists, per-unit cases, tasks."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": {"type": "object", "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "errors": {"type": "array", "items": {"type": "object"}}}}},
        },
    }
