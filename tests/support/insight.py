"""The fixture of problems as inspectors wrote them in three rounds (tests/fixtures/insight_problems.json),
recorded into a district: its units and departments, one round per fixture round."""
from __future__ import annotations

import json
from pathlib import Path

from service.models import Unit

FIXTURE = Path(__file__).parent.parent / "fixtures" / "insight_problems.json"


def load() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def add_units(ctx, data: dict) -> dict[str, int]:
    """The fixture's departments and units (codes prefixed `F`), each unit governed by the department of
    its industry where there is one; returns unit ids by the fixture's code."""
    def work(s):
        ids: dict[str, int] = {}
        for dept in data["departments"]:
            unit = Unit(code="F" + dept["code"], name=dept["name"], kind="department", industry=dept["industry"])
            s.add(unit)
            s.flush()
            ids[dept["code"]] = unit.id
        governing = {dept["industry"]: ids[dept["code"]] for dept in data["departments"]}
        for row in data["units"]:
            if row["code"] in ids:
                continue
            unit = Unit(code="F" + row["code"], name=row["name"], kind=row["kind"], industry=row["industry"],
                        department_id=governing.get(row["industry"]))
            s.add(unit)
            s.flush()
            ids[row["code"]] = unit.id
        return ids

    return ctx.db.transaction(work)


def record_rounds(api, ctx, district, data: dict, ids: dict[str, int]) -> tuple[list[int], dict[int, str]]:
    """One round per fixture round, each with its problems recorded by the office through the API;
    returns the rounds' ids and the hand-made group of every problem id."""
    office = api.as_("office1")
    rounds, groups = [], {}
    for number in sorted({p["round"] for p in data["problems"]}):
        units = sorted({ids[p["unit"]] for p in data["problems"] if p["round"] == number})
        r = office.post("/rounds", json={"name": f"区委第{number}轮巡察", "inspected_unit_ids": units,
                                         "inspector_ids": district.inspectors[:1]})
        assert r.status_code == 201, r.get_json()
        round_id = r.get_json()["id"]
        rounds.append(round_id)
        for p in (p for p in data["problems"] if p["round"] == number):
            r = office.post(f"/rounds/{round_id}/problems", json={"unit_id": ids[p["unit"]], "description": p["text"],
                                                                  "category": "巡察发现"})
            assert r.status_code == 201, r.get_json()
            groups[r.get_json()["id"]] = p["group"]
    return rounds, groups
