from __future__ import annotations

from flask import request

from .. import insight, rounds
from ..errors import BadRequest
from ..models import PROBLEM_SOURCES, RECTIFYING_KINDS
from . import bp, ctx, payload, principal

ROUND_REQUEST = {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "inspected_unit_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 2000},
        "inspector_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 500},
    },
}
PROBLEM_REQUEST = {
    "type": "object", "required": ["unit_id", "description", "category"], "additionalProperties": False,
    "properties": {
        "unit_id": {"type": "integer"},
        "description": {"type": "string", "minLength": 1, "maxLength": 5000},
        "category": {"type": "string", "minLength": 1, "maxLength": 100},
        "source": {"enum": list(PROBLEM_SOURCES), "default": "inspection"},
    },
}
COMMON_PROBLEM_REQUEST = {
    "type": "object", "required": ["title", "category", "responsible_department_id"], "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 300},
        "description": {"type": "string", "maxLength": 5000},
        "category": {"type": "string", "minLength": 1, "maxLength": 100},
        "responsible_department_id": {"type": "integer"},
        "problem_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 1000},
        "co_department_ids": {
            "type": "array", "items": {"type": "integer"}, "maxItems": 100,
            "description": "co-responsible departments (协同责任部门): each gets a recommendation letter "
                           "and reads the governed cases like the lead department"},
        "targets": {
            "type": ["object", "null"], "additionalProperties": False,
            "description": "who receives the common problem: a unit matching any of the chosen kinds, "
                           "industries, parent units (a street and the units under it) or units; "
                           "absent, null or all empty = every rectifying unit",
            "properties": {
                "kinds": {"type": "array", "items": {"enum": list(RECTIFYING_KINDS)}, "maxItems": 10},
                "industries": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100},
                               "maxItems": 200},
                "parent_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 2000},
                "unit_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 5000},
            },
        },
    },
}


@bp.post("/rounds")
def create_round():
    data = payload(ROUND_REQUEST)
    c = ctx()
    rnd = c.db.transaction(lambda s: rounds.create_round(
        c, s, principal(), data["name"], data.get("inspected_unit_ids", []), data.get("inspector_ids", [])))
    return {"id": rnd.id, "process_instance_id": rnd.process_instance_id}, 201


@bp.get("/rounds/<int:round_id>")
def get_round(round_id):
    with ctx().db.read() as s:
        return rounds.round_json(s, rounds.get_round(s, principal(), round_id), principal())


@bp.post("/rounds/<int:round_id>/problems")
def add_problem(round_id):
    data = payload(PROBLEM_REQUEST)
    c = ctx()
    problem = c.db.transaction(lambda s: rounds.add_problem(
        c, s, principal(), round_id, data["unit_id"], data["description"], data["category"],
        data.get("source", "inspection")))
    return rounds.problem_json(problem), 201


@bp.post("/rounds/<int:round_id>/common-problems")
def add_common_problem(round_id):
    data = payload(COMMON_PROBLEM_REQUEST)
    c = ctx()
    common = c.db.transaction(lambda s: rounds.add_common_problem(
        c, s, principal(), round_id, data["title"], data.get("description", ""), data["category"],
        data["responsible_department_id"], data.get("problem_ids", []), data.get("targets"),
        data.get("co_department_ids", [])))
    return rounds.common_problem_json(common), 201


@bp.get("/rounds/<int:round_id>/recipients")
def recipients(round_id):
    """Before approval and publication: who receives what."""
    with ctx().db.read() as s:
        return rounds.preview(s, principal(), round_id)


ROUND_CHECK_REQUEST = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "inspected_unit_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 2000},
        "inspector_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 500},
    },
}
PROBLEM_CHANGE = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {
        "unit_id": {"type": "integer"},
        "description": {"type": "string", "minLength": 1, "maxLength": 5000},
        "category": {"type": "string", "minLength": 1, "maxLength": 100},
        "source": {"enum": list(PROBLEM_SOURCES)},
    },
}
COMMON_PROBLEM_CHANGE = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": COMMON_PROBLEM_REQUEST["properties"],
}


@bp.post("/rounds/conflicts")
def check_round():
    """Before a round is saved: the conflicts of interest between the picked inspectors and units."""
    data = payload(ROUND_CHECK_REQUEST)
    with ctx().db.read() as s:
        pairs = rounds.check_round(s, principal(), data.get("inspected_unit_ids", []), data.get("inspector_ids", []))
    return {"conflicts": [{"inspector_id": user.id, "unit_id": unit.id, "reason": why} for user, unit, why in pairs]}


@bp.patch("/rounds/<int:round_id>/problems/<int:problem_id>")
def change_problem(round_id, problem_id):
    data = payload(PROBLEM_CHANGE)
    c = ctx()
    problem = c.db.transaction(lambda s: rounds.change_problem(c, s, principal(), round_id, problem_id, data))
    return rounds.problem_json(problem)


@bp.delete("/rounds/<int:round_id>/problems/<int:problem_id>")
def remove_problem(round_id, problem_id):
    c = ctx()
    c.db.transaction(lambda s: rounds.remove_problem(c, s, principal(), round_id, problem_id))
    return "", 204


@bp.patch("/rounds/<int:round_id>/common-problems/<int:common_id>")
def change_common_problem(round_id, common_id):
    data = payload(COMMON_PROBLEM_CHANGE)
    c = ctx()
    common = c.db.transaction(lambda s: rounds.change_common_problem(c, s, principal(), round_id, common_id, data))
    return rounds.common_problem_json(common)


@bp.delete("/rounds/<int:round_id>/common-problems/<int:common_id>")
def remove_common_problem(round_id, common_id):
    c = ctx()
    c.db.transaction(lambda s: rounds.remove_common_problem(c, s, principal(), round_id, common_id))
    return "", 204


@bp.get("/rounds/<int:round_id>/suggestions")
def suggestions(round_id):
    """Suggested common problems: the round's ungrouped problems (and, with include_earlier=true, those
    of earlier rounds never listed) grouped by their text. Nothing is created."""
    include = request.args.get("include_earlier", "false")
    if include not in ("true", "false"):
        raise BadRequest("include_earlier must be true or false", code="invalid_query")
    with ctx().db.read() as s:
        found = insight.suggestions(s, principal(), round_id, include_earlier=include == "true")
        return {"clusters": [c.json() for c in found.clusters]}


@bp.get("/rounds/<int:round_id>/similar-common-problems")
def similar_common_problems(round_id):
    """Earlier rounds' common problems closest to a title, with their outcome."""
    with ctx().db.read() as s:
        found = insight.similar_common_problems(s, principal(), round_id, request.args.get("title", ""))
        return {"items": [o.json() for o in found]}


@bp.get("/problems/<int:problem_id>")
def get_problem(problem_id):
    with ctx().db.read() as s:
        return rounds.problem_json(rounds.get_problem(s, principal(), problem_id))
