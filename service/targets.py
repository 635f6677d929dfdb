"""Who a common problem goes to (定向下发) and which common problems a case received.

A common problem goes to every rectifying unit unless the office chose unit kinds, industries,
streets (a parent unit: the street and the units under it) or single units; a unit matching any
of the choices receives it. What a case received is fixed at publication (`CaseProblem`), so a
unit moved to another street later keeps the problems it was sent.
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session, lazyload

from workflows.fanout import write_rows

from .errors import Unprocessable
from .models import RECTIFYING_KINDS, Case, CaseProblem, CommonProblem, Unit

KEYS = ("kinds", "industries", "parent_ids", "unit_ids")


def normalised(s: Session, raw: dict | None, field: str = "targets") -> dict | None:
    """The targets as stored: None for every unit, else each key's distinct values (empty ones dropped).
    Unknown kinds or units are refused, naming the key."""
    if not raw:
        return None
    out = {key: list(dict.fromkeys(raw.get(key) or [])) for key in KEYS}
    errors = []
    bad_kinds = [k for k in out["kinds"] if k not in RECTIFYING_KINDS]
    if bad_kinds:
        errors.append({"field": f"{field}.kinds", "code": "unknown_unit_kind",
                       "message": f"not kinds of rectifying units: {bad_kinds}"})
    for key in ("parent_ids", "unit_ids"):
        ids = out[key]
        found = set(s.scalars(select(Unit.id).where(Unit.id.in_(ids)))) if ids else set()
        missing = [i for i in ids if i not in found]
        if missing:
            errors.append({"field": f"{field}.{key}", "code": "unknown_unit",
                           "message": f"unknown unit ids: {missing}"})
    out["industries"] = [i.strip() for i in out["industries"] if isinstance(i, str) and i.strip()]
    if errors:
        raise Unprocessable("the chosen recipients name what is not there", errors, code=errors[0]["code"])
    out = {key: values for key, values in out.items() if values}
    return out or None


def reaches(targets: dict | None, unit: Unit) -> bool:
    """Whether a common problem with these targets goes to this (rectifying) unit."""
    if not targets:
        return True
    return (unit.kind in targets.get("kinds", ()) or (unit.industry or "") in targets.get("industries", ())
            or unit.id in targets.get("parent_ids", ()) or unit.parent_id in targets.get("parent_ids", ())
            or unit.id in targets.get("unit_ids", ()))


def received(s: Session, case: Case) -> list[CommonProblem]:
    """The common problems sent to a case, in list order (the whole list for a case published
    before lists were targeted)."""
    known = s.info.setdefault(_RECEIVED, {})
    if case.id not in known:  # a completion reads them twice (checking the data, then applying it)
        known[case.id] = list(s.scalars(select(CommonProblem).where(_sent(case.id, case.round_id))
                                        .options(*_ALONE).order_by(CommonProblem.id)))
    return list(known[case.id])


def case_and_received(s: Session, case_id: int) -> tuple[Case, list[CommonProblem]]:
    """The case and `received` of it, read together: a step's checks are the first to look at its
    case, and reading the case on its own first cost a round trip as dear as reading the list."""
    known = s.info.setdefault(_RECEIVED, {})
    if case_id in known:
        return s.get_one(Case, case_id), list(known[case_id])
    rows = s.execute(select(Case, CommonProblem).outerjoin(CommonProblem, _sent(Case.id, Case.round_id))
                     .where(Case.id == case_id).options(*_ALONE).order_by(CommonProblem.id)).all()
    if not rows:
        raise NoResultFound(f"no case {case_id}")
    known[case_id] = [common for _, common in rows if common is not None]
    return rows[0][0], list(known[case_id])


def _sent(case_id, round_id):
    """SQL: the common problems of the case's round that were sent to it, in one round trip with
    whatever reads them (all of the round's, for a case published before lists were targeted)."""
    sent = select(CaseProblem.common_problem_id).where(CaseProblem.case_id == case_id)
    return and_(CommonProblem.round_id == round_id, or_(CommonProblem.id.in_(sent), ~sent.exists()))


# their co-responsible departments are read when asked for: no completion asks
_ALONE = (lazyload(CommonProblem.co_departments),)


# what `received` read in this session (a list is fixed once published; `record` forgets them)
_RECEIVED = "targets.received"


def record(s: Session, case: Case, commons: list[CommonProblem]) -> None:
    s.info.pop(_RECEIVED, None)
    s.add_all(CaseProblem(case_id=case.id, common_problem_id=c.id) for c in commons)


def record_many(s: Session, sent: list[tuple[int, list[CommonProblem]]]) -> None:
    """`record` for many cases at once (case id, the common problems sent to it), in one statement."""
    write_rows(s, CaseProblem, [{"case_id": case_id, "common_problem_id": c.id}
                                for case_id, commons in sent for c in commons])
