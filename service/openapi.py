"""The OpenAPI 3 description of /api/v1, built from the same schemas the views validate with."""
from __future__ import annotations

from copy import deepcopy
from functools import lru_cache

from .validation import MAX_INT

PROBLEM = {"$ref": "#/components/schemas/Problem"}
OBJECT = {"type": "object"}
LISTING = {"$ref": "#/components/schemas/Listing"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
STORED_INT = {"minimum": -MAX_INT, "maximum": MAX_INT}  # what validation.check_value lets through


def _op(summary: str, tag: str, body: dict | None = None, ok: str = "200", public: bool = False,
        content_type: str = "application/json", returns: dict | None = OBJECT, media: str = "application/json",
        also: dict | None = None) -> dict:
    """One operation: its request body (`body` as `content_type`), its success (`ok`, a `returns`
    body as `media`, or no body when `returns` is None), any `also` responses, and problem+json for
    every 4xx."""
    success: dict = {"description": "success"}
    if returns is not None:
        success["content"] = {media: {"schema": returns}}
    op = {"summary": summary, "tags": [tag], "responses": {
        ok: success, **(also or {}),
        "4XX": {"description": "problem", "content": {"application/problem+json": {"schema": PROBLEM}}},
    }}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {content_type: {"schema": _storable(body)}}}
    if public:
        op["security"] = []
    return op


REASON_REQUEST = {"type": "object", "additionalProperties": False,
                  "properties": {"reason": {"type": ["string", "null"], "maxLength": 500}}}


def _optional_body(op: dict) -> dict:
    """An operation whose request body may be left out."""
    op["requestBody"]["required"] = False
    return op


def _storable(schema: dict) -> dict:
    """A request schema as the service takes it: its integers within what the databases hold, and a
    free-form object's values storable JSON (validation.check_value refuses the rest as invalid_body)."""
    schema = deepcopy(schema)
    todo = [schema]
    while todo:
        node = todo.pop()
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        if "integer" in types:
            for key, value in STORED_INT.items():
                node.setdefault(key, value)
        if "object" in types and "properties" not in node and "additionalProperties" not in node:
            node["additionalProperties"] = {"$ref": "#/components/schemas/StorableValue"}
        todo.extend(v for v in (node.get("properties") or {}).values() if isinstance(v, dict))
        if isinstance(node.get("items"), dict):
            todo.append(node["items"])
    return schema


NULLABLE_INT = {"type": ["integer", "null"]}
HEALTH = {"type": "object", "required": ["status", "database"],
          "properties": {"status": {"enum": ["ok", "degraded"]}, "database": {"type": "string"}}}
TOKEN = {"type": "object", "required": ["token", "user", "must_change_password"],
         "properties": {"token": {"type": "string"}, "user": {"$ref": "#/components/schemas/User"},
                        "must_change_password": {"type": "boolean"}}}
DEPLOYED = {"type": "object", "required": ["key", "version", "process_ids", "created"]}
DEPLOYED_DECISION = {"type": "object", "required": ["key", "name", "version", "created", "process_models"],
                     "properties": {"process_models": {"type": "array", "items": {
                         "type": "object", "required": ["key", "version"]}}}}
CREATED_ROUND = {"type": "object", "required": ["id", "process_instance_id"],
                 "properties": {"id": {"type": "integer"}, "process_instance_id": NULLABLE_INT}}
EVENT_REACHED = {"type": "object", "required": ["instances"],
                 "properties": {"instances": {"type": "array", "items": {"type": "integer"}}}}
CONFLICTS = {"type": "object", "required": ["conflicts"], "properties": {"conflicts": {"type": "array", "items": {
    "type": "object", "required": ["inspector_id", "unit_id", "reason"],
    "properties": {"inspector_id": {"type": "integer"}, "unit_id": {"type": "integer"},
                   "reason": {"enum": ["home", "declared"]}}}}}}
SCHEMAS = {
    # RFC 9457 problem details with the service's stable `code` (errors.problem)
    "Problem": {"type": "object", "required": ["type", "title", "status", "code", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "code": {"type": "string", "pattern": "^[a-z0-9_]+$"}, "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["code", "message"], "properties": {
            "field": {"type": "string"}, "element_id": {"type": ["string", "null"]},
            "code": {"type": "string"}, "message": {"type": "string"}}}}}},
    "Listing": {"type": "object", "required": ["items", "total"], "properties": {
        "items": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer", "minimum": 0}}},
    "User": {"type": "object", "required": ["id", "username", "name", "roles", "unit_id"], "properties": {
        "id": {"type": "integer"}, "username": {"type": "string"}, "name": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}}, "unit_id": NULLABLE_INT}},
    "Case": {"type": "object", "required": ["id", "unit_id", "round_id", "status", "due_at", "warning"],
             "properties": {"id": {"type": "integer"}, "unit_id": {"type": "integer"},
                            "round_id": {"type": "integer"}, "status": {"type": "string"},
                            "due_at": {"type": ["string", "null"]}, "warning": {"type": "string"},
                            "process_instance_id": NULLABLE_INT, "filed_at": {"type": ["string", "null"]},
                            "closed_at": {"type": ["string", "null"]}}},
    "Evidence": {"type": "object", "required": ["id", "case_id", "filename", "size", "sha256", "content_type",
                                                "reviews"],
                 "properties": {"id": {"type": "integer"}, "case_id": {"type": "integer"},
                                "item_id": NULLABLE_INT, "common_problem_id": NULLABLE_INT,
                                "measure_id": NULLABLE_INT, "filename": {"type": "string"},
                                "size": {"type": "integer", "minimum": 0},
                                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                "content_type": {"type": "string"}, "reviews": {"type": "array"}}},
    "Document": {"type": "object", "required": ["id", "kind", "number", "sha256"],
                 "properties": {"id": {"type": "integer"},
                                "kind": {"enum": ["report", "tracking_letter", "talk_record", "recommendation_letter"]},
                                "number": {"type": "string"}, "title": {"type": "string"},
                                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                "size": {"type": "integer", "minimum": 0}, "issued_on": {"type": "string"},
                                "created_at": {"type": "string"}, "case_id": NULLABLE_INT,
                                "letter_id": NULLABLE_INT}},
    "Draft": {"type": "object", "required": ["task_id", "data", "saved_at"],
              "properties": {"task_id": {"type": "string"}, "data": {"type": "object"},
                             "saved_at": {"type": "string"}}},
    # Any JSON value the service stores as it came: its integers within what the databases hold
    "StorableValue": {"anyOf": [
        {"type": ["null", "boolean", "string"]},
        {"type": "integer", **STORED_INT},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "array", "items": {"$ref": "#/components/schemas/StorableValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/StorableValue"}}]},
}


@lru_cache(maxsize=1)
def document() -> dict:
    from .api.auth import MY_PASSWORD, PASSWORD_CHANGE, TOKEN_REQUEST, TOTP_CODE, TOTP_CONFIRM
    from .api.cases import EVIDENCE_REVIEW, EXTENSION_DECISION, EXTENSION_REQUEST, RECHECK
    from .api.library import (
        ACKNOWLEDGE,
        ASSIGN_REQUEST,
        CLUE_REQUEST,
        EXPERT_REQUEST,
        FINDING_REQUEST,
        INSPECTOR_PROFILE,
        LINK_REQUEST,
    )
    from .api.models import MIGRATION_REQUEST
    from .api.notices import COMMENT, URGE
    from .api.org import DECISION_REQUEST, ROLE_CHANGE_REQUEST, UNIT_PATCH, UNIT_REQUEST, USER_PATCH, USER_REQUEST
    from .api.residents import FORWARD, LINK, PETITIONS, RATING, REPLY, REPORT, REPORT_FIELDS
    from .api.rounds import (
        COMMON_PROBLEM_CHANGE,
        COMMON_PROBLEM_REQUEST,
        PROBLEM_CHANGE,
        PROBLEM_REQUEST,
        ROUND_CHECK_REQUEST,
        ROUND_REQUEST,
    )
    from .api.tasks import COMPLETE_REQUEST, DRAFT_REQUEST
    from .auth import MIN_PASSWORD_LENGTH
    from .clues import STATUSES as CLUE_STATUSES
    from .correlation import MESSAGE_REQUEST, SIGNAL_REQUEST
    from .lists import LISTS
    from .models import CASE_STATUSES, RESIDENT_REPORT_STATUSES, ROLES, UNIT_KINDS
    from .operations import INSTANCE_STATUSES

    paging = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
              {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_INT}}]
    upload = {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}, "item_id": {"type": "integer", "minimum": 1},
        "common_problem_id": {"type": "integer", "minimum": 1},
        "measure_id": {"type": "integer", "minimum": 1},  # a measure followed after close-out, its task open
        "effective_date": {"type": "string", "format": "date"}}}

    replacement = {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}, "item_id": {"type": "integer", "minimum": 1},
        "common_problem_id": {"type": "integer", "minimum": 1}}}

    def query(**schemas) -> list[dict]:
        return [{"name": name, "in": "query", "schema": schema} for name, schema in schemas.items()]

    an_id = {"type": "integer", "minimum": 0, "maximum": MAX_INT}  # api.int_arg
    text = {"type": "string"}
    of_round = query(round_id=an_id)
    # the filters of every list and of the ledger (api.stats._filters)
    list_filters = query(round_id=an_id, unit_id=an_id, industry=text, status=text, department_id=an_id,
                         overdue={"enum": ["true", "false"]})
    audit_filters = query(action=text, actor=text, outcome={"enum": ["ok", "refused"]},
                          **{"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                             "format": {"enum": ["json", "xlsx", "csv"]}})
    password_change: dict = deepcopy(PASSWORD_CHANGE)
    password_change["properties"]["new_password"]["minLength"] = MIN_PASSWORD_LENGTH  # auth.change_own_password
    my_password: dict = deepcopy(MY_PASSWORD)
    my_password["properties"]["new"]["minLength"] = MIN_PASSWORD_LENGTH
    import_report = {"type": "object", "required": ["units", "users", "errors"], "properties": {
        "units": {"type": "object", "required": ["create", "update"]},
        "users": {"type": "object", "required": ["create", "update"]},
        "errors": {"type": "array", "items": {"type": "object", "required": ["sheet", "row", "field", "message"]}},
        "passwords": {"type": "array", "items": {"type": "object",
                                                 "required": ["username", "temporary_password"]}}}}

    def ref(name: str) -> str:
        return f"#/components/schemas/{name}"

    listing_of = {name: {"allOf": [LISTING, {"properties": {"items": {"items": {"$ref": ref(name)}}}}]}
                  for name in ("Case", "Evidence", "Document")}
    paths = {
        "/health": {"get": _op("Service and database health", "system", public=True, returns=HEALTH, also={
            "503": {"description": "the database does not answer", "content": {"application/json": {"schema": HEALTH}}}})},
        "/openapi.json": {"get": _op("This document", "system", public=True)},
        "/auth/token": {"post": _op("Exchange username and password for a bearer token", "auth", TOKEN_REQUEST,
                                    public=True, returns=TOKEN),
                        "delete": _op("Log out: the token the request carries ends", "auth", ok="204", returns=None)},
        "/auth/password": {"post": _op("Change the caller's password; every other token and page session of the "
                                       "account ends", "auth", password_change, "204", returns=None)},
        "/me": {"get": _op("The current user", "auth", returns={"$ref": ref("User")})},
        "/me/password": {"post": _op("Change the caller's password (the only call an account with a temporary "
                                     "password may make, besides logging out); every other token and page session "
                                     "of the account ends", "auth", my_password, "204", returns=None)},
        "/me/tokens": {"get": _op("The caller's API tokens that still work (never their secrets); `current` marks "
                                  "the one the request came with", "auth",
                                  returns={"type": "object", "required": ["items"]})},
        "/me/tokens/{id}": {"delete": _op("End one of the caller's own API tokens", "auth", ok="204", returns=None)
                            | {"parameters": [{"name": "id", "in": "path", "required": True, "schema": an_id}]}},
        "/me/totp": {"post": _op("Begin enrolling a TOTP authenticator: a new secret and its otpauth URI, active "
                                 "once confirmed", "auth",
                                 returns={"type": "object", "required": ["otpauth_uri", "secret"]}),
                     "delete": _op("Turn two-step verification off with a current code", "auth", TOTP_CODE, "204",
                                   returns=None)},
        "/me/totp/confirm": {"post": _op("Confirm the enrolment with a code from the authenticator app and the "
                                         "account's password", "auth", TOTP_CONFIRM, "204", returns=None)},
        "/units": {"get": _op("Units of the district", "organisation", returns=LISTING)
                   | {"parameters": paging + query(kind={"enum": list(UNIT_KINDS)})},
                   "post": _op("Create a unit (admin)", "organisation", UNIT_REQUEST, "201")},
        "/units/{id}": {"patch": _op("Change a unit; active=false disables it (units are never deleted) (admin)",
                                     "organisation", UNIT_PATCH)},
        "/users/{id}": {"patch": _op("Change an account's name, unit or state (admin); roles change through "
                                     "role changes", "organisation", USER_PATCH)},
        "/users/{id}/reset-password": {"post": _op("A new temporary password for the account, shown once; it must "
                                                   "be changed at the next login (admin)", "organisation",
                                                   returns={"type": "object", "required": ["temporary_password"]})},
        "/org/import-template": {"get": _op("The organisation import workbook, with its sheets 单位 and 用户 (admin)",
                                            "organisation", returns={"type": "string", "format": "binary"},
                                            media=XLSX)},
        "/org/import": {"post": _op("Check (dry_run=true, the default) or import (dry_run=false) a workbook of "
                                    "units and accounts: all rows or none (admin)", "organisation",
                                    {"type": "object", "required": ["file"],
                                     "properties": {"file": {"type": "string", "format": "binary"}}},
                                    content_type="multipart/form-data", returns=import_report)
                        | {"parameters": query(dry_run={"enum": ["true", "false"]})}},
        "/users": {"get": _op("Users, by role and unit (admin, security administrator, office)", "organisation",
                              returns=LISTING)
                   | {"parameters": paging + query(role={"enum": sorted(ROLES)}, unit_id=an_id)},
                   "post": _op("Create an account with roles of the work and a temporary password, shown once "
                               "(admin)", "organisation", USER_REQUEST, "201",
                               returns={"type": "object", "required": ["id", "temporary_password"]})},
        "/users/{id}/role-changes": {"post": _op("Propose a change of the account's roles (system or security "
                                                 "administrator; never one's own)", "organisation",
                                                 ROLE_CHANGE_REQUEST, "201")},
        "/users/{id}/unlock": {"post": _op("Lift the account's login lockout (security administrator)",
                                           "organisation", ok="204", returns=None)},
        "/role-changes": {"get": _op("Role changes, pending first", "organisation", returns=LISTING)
                          | {"parameters": paging + query(state={"enum": ["pending", "approved", "rejected"]})}},
        "/role-changes/{id}/approve": {"post": _op("Approve a role change: an administrator of the other duty "
                                                   "than its proposer's", "organisation", DECISION_REQUEST)},
        "/role-changes/{id}/reject": {"post": _op("Reject a role change, with a comment", "organisation",
                                                  DECISION_REQUEST)},
        "/process-models": {
            "get": _op("Process models and their latest versions", "models", returns=LISTING),
            "post": _op("Deploy a BPMN diagram as a new version (201), or find it deployed already (200); "
                        "`warnings` lists what the deploy checks found legal but probably unintended", "models",
                        {"type": "string"}, "201", content_type="application/xml", returns=DEPLOYED,
                        also={"200": {"description": "the same diagram is deployed already",
                                      "content": {"application/json": {"schema": DEPLOYED}}}})},
        "/process-models/checks": {"post": _op("The deploy checks without deploying: `errors` (a deploy would "
                                               "refuse), `warnings` (it would deploy), `changes` against the current "
                                               "version (`added`, `removed`, `renamed` elements)", "models",
                                               {"type": "string"}, content_type="application/xml")},
        "/process-models/{key}/versions": {"get": _op(
            "Versions of a model, each with current, retired_at and its instances per status", "models",
            returns=LISTING)},
        "/process-models/{key}/current": {"put": _op(
            "Make a deployed version current: new instances start from it (designers)", "models",
            {"type": "object", "required": ["version"], "additionalProperties": False,
             "properties": {"version": {"type": "integer", "minimum": 1}}})},
        "/process-models/{key}/versions/{version}/retire": {"post": _optional_body(_op(
            "Retire a version: no new instance starts from it; the current one only with current_version "
            "naming its replacement (409 version_is_current) (designers)", "models",
            {"type": "object", "additionalProperties": False,
             "properties": {"current_version": {"type": ["integer", "null"], "minimum": 1}}}))},
        "/process-models/{key}/versions/{version}": {"get": _op("One version's metadata", "models")},
        "/process-models/{key}/versions/{version}/bpmn": {"get": _op("The BPMN XML as deployed", "models",
                                                                     returns={"type": "string"},
                                                                     media="application/xml")},
        "/decisions": {
            "get": _op("DMN decisions, each with its current and latest version", "models", returns=LISTING),
            "post": _op("Deploy a DMN document (one decision table) as a new version of its decision (201), or find "
                        "it deployed already (200); it is current at once, and each process model whose current "
                        "version runs the decision gets a new version running it (running instances keep theirs)",
                        "models", {"type": "string"}, "201", content_type="application/xml",
                        returns=DEPLOYED_DECISION,
                        also={"200": {"description": "the same document is deployed already",
                                      "content": {"application/json": {"schema": DEPLOYED_DECISION}}}})},
        "/decisions/{key}/versions": {"get": _op("Versions of a decision, each with current", "models",
                                                 returns=LISTING)},
        "/decisions/{key}/versions/{version}/dmn": {"get": _op("The DMN XML as deployed", "models",
                                                               returns={"type": "string"}, media="application/xml")},
        "/process-models/{key}/migrations": {"post": _op(
            "Running instances of the model's other versions moved to `to_version`. With `dry_run` (the "
            "default) a report: `movable` [{instance_id, business_key, case_id, unit, version, open_tasks}] "
            "and `immovable` [{instance_id, reason, reasons: [{code, element_id, element_name}]}] (designer, "
            "admin, office). With `dry_run: false` the movable ones are moved by a background job, 202 with "
            "`job_id` (GET /jobs/{job_id}); each keeps its open tasks and timers (designer, admin); 409 "
            "nothing_to_migrate when none can move", "models", MIGRATION_REQUEST,
            also={"202": {"description": "the migration is queued", "content": {"application/json": {
                "schema": {"type": "object", "required": ["job_id"]}}}}})},
        "/process-instances/{id}/rollback-migration": {"post": _op(
            "Move a migrated instance back to the version it came from (designer, admin): 409 no_migration when "
            "its last move was not a migration, 422 rollback_refused when it no longer fits that version",
            "models")},
        "/rounds": {"post": _op("Start an inspection round (office)", "lifecycle", ROUND_REQUEST, "201",
                                returns=CREATED_ROUND)},
        "/rounds/{id}": {"get": _op("A round with its problems and common problems", "lifecycle")},
        "/rounds/{id}/problems": {"post": _op("Record a problem (inspector of the round, office)", "lifecycle",
                                              PROBLEM_REQUEST, "201")},
        "/rounds/{id}/common-problems": {"post": _op("Distil a common problem (office)", "lifecycle",
                                                     COMMON_PROBLEM_REQUEST, "201")},
        "/rounds/{id}/recipients": {"get": _op(
            "Who publishing the list reaches, before approval (office, leading group): per common problem its "
            "units (`unit_ids`), per unit its common problems, the leaders in charge and the departments with "
            "the common problems they lead (`leads`) or share", "lifecycle")},
        "/rounds/{id}/suggestions": {"get": _op(
            "Suggested common problems (office, leading group): the round's ungrouped problems, with "
            "`include_earlier=true` also earlier rounds' never listed, grouped by their text; each with its "
            "problems, units, industries, a proposed title, a proposed responsible department and the similar "
            "earlier common problems. Nothing is created", "insight")
            | {"parameters": query(include_earlier={"enum": ["true", "false"]})}},
        "/rounds/{id}/similar-common-problems": {"get": _op(
            "Earlier rounds' common problems closest to `title` (office, leading group), with their outcome: "
            "units, units closed, measures, institutions, closed", "insight")
            | {"parameters": query(title=text)}},
        "/problems/{id}": {"get": _op("A problem, with `recurring_of` (the earlier case it recurs after, or null)",
                                      "lifecycle")},
        "/rounds/conflicts": {"post": _op("Conflicts of interest between inspectors and units, before a round is "
                                          "saved (office)", "lifecycle", ROUND_CHECK_REQUEST, returns=CONFLICTS)},
        "/rounds/{id}/problems/{problem_id}": {
            "patch": _op("Correct a problem until the list is approved (office; the inspector who recorded it)",
                         "lifecycle", PROBLEM_CHANGE),
            "delete": _op("Remove a problem until the list is approved (office; the inspector who recorded it)",
                          "lifecycle", ok="204", returns=None)},
        "/rounds/{id}/common-problems/{common_id}": {
            "patch": _op("Correct a common problem until the list is approved (office)", "lifecycle",
                         COMMON_PROBLEM_CHANGE),
            "delete": _op("Remove a common problem until the list is approved (office)", "lifecycle",
                          ok="204", returns=None)},
        "/cases": {"get": _op("Per-unit rectification cases in the caller's scope", "lifecycle",
                              returns=listing_of["Case"])
                  | {"parameters": paging + query(status={"enum": list(CASE_STATUSES)}, round_id=an_id, unit_id=an_id)}},
        "/cases/{id}": {"get": _op("One case", "lifecycle", returns={"$ref": ref("Case")})},
        "/tasks": {"get": _op("The caller's open tasks (`returned`: sent back by a review; `priority` and "
                              "`assignee` as the diagram gives them), by due date or `sort=priority`", "tasks",
                              returns=LISTING)
                   | {"parameters": paging + query(process_model=text, bpmn_id=text, step=text, unit_id=an_id,
                                                   sort={"enum": ["due", "priority"]})}},
        "/tasks/{id}": {"get": _op("A task with its form as JSON Schema", "tasks")},
        "/tasks/{id}/complete": {"post": _op("Complete a task with data fitting its form; `job_id` when it started "
                                             "work that goes on in the background (the leading group's approval "
                                             "publishes the list: GET /jobs/{job_id})", "tasks",
                                             COMPLETE_REQUEST, returns=LISTING)},
        "/jobs/{id}": {"get": _op("A background job's progress (a list's publication): `state` queued, running, "
                                  "done or failed, `done` of `total` (office, leading group, admin)", "tasks",
                                  returns={"type": "object", "required": ["state", "done", "total"],
                                           "properties": {"state": {"enum": ["queued", "running", "done", "failed"]},
                                                          "done": {"type": "integer"},
                                                          "total": {"type": "integer"},
                                                          "kind": {"type": "string"},
                                                          "round_id": {"type": ["integer", "null"]},
                                                          "error": {"type": ["string", "null"]}}})},
        "/jobs/{id}/retry": {"post": _op("Take a failed job up again once its cause is put right (office, admin); "
                                         "409 job_not_failed otherwise", "tasks", ok="202")},
        "/tasks/{id}/draft": {
            "get": _op("The caller's saved draft of a task's form (404 draft_not_found when none)", "tasks",
                       returns={"$ref": ref("Draft")}),
            "put": _op("Save the caller's unfinished form data (暂存): unchecked, at most 256 KB", "tasks",
                       DRAFT_REQUEST, returns={"$ref": ref("Draft")}),
            "delete": _op("Discard the caller's draft of a task", "tasks", ok="204", returns=None)},
        "/stats": {"get": _op("Figures, counted from the records", "figures") | {"parameters": of_round}},
        "/warnings": {"get": _op("Warning board: open cases by colour, yellow and red listed", "figures")
                      | {"parameters": of_round}},
        "/lists": {"get": _op("The whole ledger as one workbook, one sheet per list", "figures",
                              returns={"type": "string", "format": "binary"}, media=XLSX)
                  | {"parameters": list_filters}},
        "/cases/{id}/evidence": {"get": _op("Evidence of a case", "lifecycle", returns=listing_of["Evidence"]),
                                 "post": _op("Upload evidence (SHA-256 kept)", "lifecycle", upload, "201",
                                             content_type="multipart/form-data",
                                             returns={"$ref": ref("Evidence")})},
        "/cases/{id}/documents": {"get": _op("The documents of a case: its reports (整改报告), tracking letters (督办函), "
                                             "talk records (谈话提醒记录) and its department's recommendation letter "
                                             "(巡察建议书), each with its number and SHA-256", "lifecycle",
                                             returns=listing_of["Document"])},
        "/documents/{id}/content": {"get": _op("Download a document as issued (.docx); every download is the same "
                                               "bytes, whose SHA-256 the list gives", "lifecycle",
                                               returns={"type": "string", "format": "binary"}, media=DOCX)},
        "/cases/{id}/recheck": {"post": _op("Follow-up re-check (回头看): reopen a closed case (office)", "supervision",
                                            RECHECK, "200", returns={"$ref": ref("Case")})},
        "/cases/{id}/extension": {"post": _op("Ask for more days to file (延期申请; the unit's liaison or head): "
                                              "422 days_out_of_range / reason_required, 409 extension_pending / "
                                              "extension_not_open", "supervision", EXTENSION_REQUEST, "201")},
        "/cases/{id}/extensions": {"get": _op("A case's extension requests, oldest first", "supervision",
                                              returns=LISTING)},
        "/extensions": {"get": _op("Extension requests waiting for the office (office)", "supervision",
                                   returns=LISTING)},
        "/extensions/{id}/approve": {"post": _op("Approve an extension: the deadline and its warning timers move "
                                                 "(office)", "supervision", EXTENSION_DECISION)},
        "/extensions/{id}/refuse": {"post": _op("Refuse an extension, with an opinion (422 opinion_required; office)",
                                                "supervision", EXTENSION_DECISION)},
        "/cases/{id}/measures": {"get": _op("A case's measures, with their follow-up after close-out "
                                            "(open, overdue, done)", "lifecycle", returns=LISTING)},
        "/measures/overdue": {"get": _op("Measures unreported past their deadline after close-out (for 回头看)",
                                         "supervision", returns=LISTING) | {"parameters": of_round}},
        "/evidence/{id}/content": {"get": _op("Download an evidence file, as the type it was uploaded as",
                                              "lifecycle", returns={"type": "string", "format": "binary"},
                                              media="*/*")},
        "/evidence/{id}": {
            "delete": _op("Remove a file not yet filed (unit liaison or head; 409 evidence_locked once filed)",
                          "lifecycle", ok="204", returns=None),
            "put": _op("Replace a file not yet filed with a new upload (the old one is removed)", "lifecycle",
                       replacement,
                       content_type="multipart/form-data", returns={"$ref": ref("Evidence")})},
        "/evidence/{id}/review": {"post": _op("Accept or reject one evidence file (office)", "supervision",
                                              EVIDENCE_REVIEW, returns={"$ref": ref("Evidence")})},
        "/notifications": {"get": _op("Leader notifications (leaders: their own; office: all)", "supervision",
                                      returns=LISTING)
                           | {"parameters": paging + query(round_id=an_id, pending={"enum": ["true", "false"]})}},
        "/notifications/{id}/acknowledge": {"post": _op("A leader signs for a notification (签收), with an "
                                                        "instruction (批示) the office and the unit read",
                                                        "supervision", ACKNOWLEDGE)},
        "/letters": {"get": _op("Recommendation letters (office; departments: their own)", "supervision",
                                returns=LISTING) | {"parameters": of_round}},
        "/rounds/{id}/clues": {"post": _op("Register a problem clue (the round's inspectors)", "clues",
                                           CLUE_REQUEST, "201")},
        "/clues": {"get": _op("The clue library (content only for discipline and the registering inspector)",
                              "clues", returns=LISTING) | {"parameters": paging + query(
            round_id=an_id, unit_id=an_id, status={"enum": list(CLUE_STATUSES)})}},
        "/clues/{id}": {"get": _op("One clue", "clues")},
        "/pools/inspectors": {"get": _op("Inspector talent pool", "pools", returns=LISTING)},
        "/pools/inspectors/{id}": {"put": _op("Set an inspector's specialties and conflicts of interest", "pools",
                                              INSPECTOR_PROFILE)},
        "/pools/experts": {"get": _op("Co-audit expert pool", "pools", returns=LISTING),
                           "post": _op("Add an expert", "pools", EXPERT_REQUEST, "201")},
        "/audit-findings": {"get": _op("Audit findings (auditor, office, leading group); linked=true|false",
                                       "pools", returns=LISTING)
                            | {"parameters": query(round_id=an_id, linked={"enum": ["true", "false"]})},
                            "post": _op("Record an audit finding, optionally linked to a problem", "pools",
                                        FINDING_REQUEST, "201")},
        "/audit-findings/{id}/link": {"post": _op("Link an audit finding to a problem (巡审结合)", "pools",
                                                  LINK_REQUEST)},
        "/rounds/{id}/experts": {"get": _op("Co-audit experts assigned to a round (office, admin)", "pools",
                                            returns=LISTING),
                                 "post": _op("Assign an expert of the pool to a round (office)", "pools",
                                             ASSIGN_REQUEST, "201", returns=LISTING)},
        "/rounds/{id}/experts/{expert_id}": {"delete": _op("Take an expert off a round (office)", "pools",
                                                           ok="204", returns=None)},
        "/process-instances": {"get": _op("Process instances the caller runs, failed first (operators); "
                                          "status=running|error|suspended|completed|cancelled; process_model= "
                                          "and version=",
                                          "operations", returns=LISTING)
                               | {"parameters": paging + query(status={"enum": list(INSTANCE_STATUSES)},
                                                               process_model={"type": "string"},
                                                               version={"type": "integer", "minimum": 1, "maximum": MAX_INT})}},
        "/process-instances/{id}/retry": {"post": _optional_body(_op(
            "Try a failed instance's timed step again now; on the current version when a fix deployed since "
            "changes no element or flow (operators)", "operations", REASON_REQUEST))},
        "/process-instances/{id}/suspend": {"post": _op(
            "Hold an instance: its tasks cannot be completed (409 instance_suspended) and its timers wait; "
            "422 reason_required without a reason (operators)", "operations", REASON_REQUEST)},
        "/process-instances/{id}/resume": {"post": _optional_body(_op(
            "Let a suspended instance go on; timers due meanwhile fire (operators)", "operations", REASON_REQUEST))},
        "/process-instances/{id}/cancel": {"post": _op(
            "End an instance: its open tasks leave every inbox; 422 reason_required without a reason (operators)",
            "operations", REASON_REQUEST)},
        "/messages": {"post": _op(
            "Correlate a message from outside (office, designers, admin): it reaches the instances waiting for it "
            "(intermediate catch events, receive tasks, boundary events) whose business key is `business_key` "
            "and whose correlation key (what the waiting element declares as camunda:property correlationKey, "
            "else the business key) is `correlation_key`; with no instance waiting, it starts an instance of each "
            "model whose current version has a message start event of that name, with `business_key` as its "
            "business key. `data` lands in the instance's data under the message's name. 404 "
            "message_not_correlated when it reaches none", "operations", MESSAGE_REQUEST, returns=EVENT_REACHED)},
        "/signals": {"post": _op(
            "Broadcast a signal (office, designers, admin): it reaches every instance waiting for it, except those "
            "whose own model throws that signal, and starts an instance of each model whose current version has a "
            "signal start event of that name; `data` lands in each instance's data under the signal's name",
            "operations", SIGNAL_REQUEST, returns=EVENT_REACHED)},
        "/audit-log": {"get": _op("The audit log, newest first (audit administrator); action=, actor=, "
                                  "outcome=ok|refused, from= and to= (days, YYYY-MM-DD, in the configured zone, "
                                  "both included); format=xlsx|csv downloads every matching entry (at most 20,000; "
                                  "each download is recorded as audit_exported)", "audit", returns=LISTING,
                                  also={"200": {"description": "the entries, as JSON, Excel or CSV", "content": {
                                      "application/json": {"schema": LISTING}, XLSX: {},
                                      "text/csv": {}}}})
                       | {"parameters": paging + audit_filters}},
        "/lists/{name}": {"get": _op("A list (problems, responsibilities, rectifications, supervision) as JSON, "
                                     "or with format=xlsx as the Excel ledger", "figures",
                                     returns={"allOf": [LISTING, {"required": ["columns"]}]}) | {"parameters": [
                              {"name": "format", "in": "query", "schema": {"enum": ["json", "xlsx"]}}, *list_filters]}},
    }
    paths.update({
        "/notices": {"get": _op("The caller's own messages (消息), newest first, each with `read`; `unread` "
                                "counts the unread ones", "notices",
                                returns={"allOf": [LISTING, {"required": ["unread"]}]})
                     | {"parameters": paging + query(unread={"enum": ["true", "false"]})}},
        "/notices/{id}/read": {"post": _op("Mark one of the caller's messages read", "notices")},
        "/notices/read-all": {"post": _op("Mark all the caller's messages read", "notices",
                                          returns={"type": "object", "required": ["marked"]})},
        "/cases/{id}/urge": {"post": _op("Urge (催办) a unit whose case is still its to do (office): its liaison "
                                         "and head are told", "supervision", URGE, "201")},
        "/cases/{id}/history": {"get": _op("A case's supervision record: warnings, urges, tracking, talks, "
                                           "re-checks", "supervision", returns=LISTING)},
        "/cases/{id}/comments": {"get": _op("Functional departments' comments on a case", "supervision",
                                            returns=LISTING),
                                 "post": _op("A functional department comments on a case of a common problem it "
                                             "governs; the unit is told", "supervision", COMMENT, "201")},
    })
    report_multipart = {"type": "object", "properties": {**REPORT_FIELDS, "round_id": {"type": "string",
                                                                                "pattern": "^[0-9]{1,9}$"},
                                                         "photos": {"type": "array", "items": {
                                                             "type": "string", "format": "binary"}}}}
    paths.update({
        "/public/reports": {"post": _op("A resident reports a problem (no login): JSON, or multipart with up to "
                                        "three `photos` (re-encoded, metadata removed). After several reports "
                                        "from one address within the hour, 422 `challenge_required` carries a "
                                        "`challenge` {question, token}: send `challenge_token` and "
                                        "`challenge_answer` with the next try", "residents", REPORT, "201",
                                        public=True)},
        "/public/reports/{code}": {"get": _op("A report's status, steps and the office's reply, by its tracking "
                                              "code; an unknown code is 404 `report_not_found`", "residents",
                                              public=True)},
        "/public/ratings": {"post": _op("A resident rates the handling of their report (`tracking_code`) or a "
                                        "published rectification (`item_id`), 1-5, once", "residents", RATING,
                                        "201", public=True)},
        "/resident-reports": {"get": _op("Residents' reports, newest first (office)", "residents", returns=LISTING)
                              | {"parameters": [
                                             {"name": "status", "in": "query", "schema": {
                                                 "enum": list(RESIDENT_REPORT_STATUSES)}}]}},
        "/resident-reports/{id}/link": {"post": _op("Record the report as a problem of a round (source "
                                                    "resident_report)", "residents", LINK)},
        "/resident-reports/{id}/forward": {"post": _op("Forward the report to a unit with a deadline (a task in "
                                                       "the unit's inbox)", "residents", FORWARD)},
        "/resident-reports/{id}/reply": {"post": _op("Reply to the resident and close the report", "residents",
                                                     REPLY)},
        "/petitions": {"post": _op("Enter a unit's petition count (信访量) for a month", "residents", PETITIONS,
                                   "201")},
    })
    paths["/public/reports"]["post"]["requestBody"]["content"]["multipart/form-data"] = {"schema": report_multipart}
    # the leader's 签收 may come without a body
    paths["/notifications/{id}/acknowledge"]["post"]["requestBody"]["required"] = False
    paths["/lists/{name}"]["get"]["responses"]["200"]["content"][XLSX] = {"schema": {"type": "string",
                                                                                   "format": "binary"}}
    paths["/process-models"]["post"]["requestBody"]["content"]["multipart/form-data"] = {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}
    paths["/decisions"]["post"]["requestBody"]["content"]["multipart/form-data"] = \
        paths["/process-models"]["post"]["requestBody"]["content"]["multipart/form-data"]
    # Path parameters: what each route's converter takes (an int converter takes no sign, and the
    # service answers 404 past what the databases hold).
    path_schemas = {"id": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
                    "version": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
                    "key": {"type": "string", "minLength": 1}, "name": {"enum": list(LISTS)},
                    "expert_id": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
                    "code": {"type": "string", "minLength": 1, "maxLength": 40}}
    path_schemas["problem_id"] = path_schemas["common_id"] = path_schemas["id"]
    for path, ops in paths.items():
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string", "minLength": 1} if path.startswith("/tasks/") else path_schemas[name]}
                  for name in ("id", "key", "version", "name", "problem_id", "common_id", "expert_id", "code")
                  if "{%s}" % name in path]
        if params:
            for op in ops.values():
                op["parameters"] = params + op.get("parameters", [])
    return {
        "openapi": "3.1.0",
        "info": {"title": "rectiflow API", "version": "1",
                 "description": "Inspection common-problem rectification: rounds, lists, per-unit cases, tasks. "
                                "Every error is application/problem+json with a stable snake_case `code`. Text "
                                "holds no NUL character (refused: 400 unstorable_input in a query or form, 422 "
                                "invalid_body in a JSON body), and integers lie within ±2147483647."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }
