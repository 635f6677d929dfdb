from __future__ import annotations

from .. import rounds
from ..models import PROBLEM_SOURCES
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
        data["responsible_department_id"], data.get("problem_ids", [])))
    return {"id": common.id, "title": common.title, "round_id": common.round_id,
            "responsible_department_id": common.responsible_department_id}, 201
