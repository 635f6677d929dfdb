"""Need-to-know rules: which cases and tasks a principal may see, and which tasks they may do.

Kept in one module so every endpoint (and the inbox query) applies the same rules.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, false, or_, select, true

from workflows.tables import HumanTask, ProcessInstance, TaskCandidate

from .auth import Principal
from .models import Case

DISTRICT_WIDE = ("office", "leading_group")          # read every unit's case
# Tasks given by role alone. Designers and administrators run the system, not cases: a lane that
# names them is given to the office (see context.role_for_lane), never to them.
ROLE_ONLY = ("office", "leading_group", "discipline")
# Clue hand-overs are seen only by those who act on them, never by the district-wide readers.
RESTRICTED_MODELS = ("clue_handover",)
UNIT_SCOPED = ("unit_liaison", "unit_head", "department")


def case_scope(p: Principal):
    """SQL condition on Case for the cases the principal may read."""
    if p.has(*DISTRICT_WIDE):
        return true()
    conditions = []
    if p.has("leader") and p.portfolio:
        conditions.append(Case.unit_id.in_(p.portfolio))
    if p.unit_id is not None and p.has(*UNIT_SCOPED):
        conditions.append(Case.unit_id == p.unit_id)
    return or_(*conditions) if conditions else false()


def can_read_unit(p: Principal, unit_id: int | None) -> bool:
    if p.has(*DISTRICT_WIDE):
        return True
    if unit_id is None:
        return False
    return (p.has("leader") and unit_id in p.portfolio) or (p.has(*UNIT_SCOPED) and unit_id == p.unit_id)


def _is_candidate(p: Principal):
    return exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id == p.id)


def task_actionable(p: Principal):
    """SQL condition on HumanTask for the tasks the principal may complete."""
    conditions = []
    district = [r for r in ROLE_ONLY if p.has(r)]
    if district:
        conditions.append(HumanTask.role.in_(district))
    unit_roles = [r for r in UNIT_SCOPED if p.has(r)]
    if unit_roles and p.unit_id is not None:
        conditions.append(and_(HumanTask.role.in_(unit_roles), HumanTask.unit_id == p.unit_id))
    if p.has("leader") and p.portfolio:
        conditions.append(and_(HumanTask.role == "leader", HumanTask.unit_id.in_(p.portfolio)))
    if p.has("inspector"):
        conditions.append(and_(HumanTask.role == "inspector", _is_candidate(p)))
    return or_(*conditions) if conditions else false()


def task_visible(p: Principal):
    """SQL condition on HumanTask for the tasks the principal may look at (not necessarily do)."""
    conditions = [task_actionable(p)]
    if p.has(*DISTRICT_WIDE):
        conditions.append(HumanTask.model_key.not_in(RESTRICTED_MODELS))
    if p.unit_id is not None and p.has(*UNIT_SCOPED):
        conditions.append(HumanTask.unit_id == p.unit_id)
    if p.has("leader") and p.portfolio:
        conditions.append(HumanTask.unit_id.in_(p.portfolio))
    return or_(*conditions)


def actionable_ids(session, p: Principal, task_ids) -> set[str]:
    rows = session.scalars(select(HumanTask.id).where(HumanTask.id.in_(list(task_ids)), task_actionable(p)))
    return set(rows)


# Those who run the district's processes: they see failed instances and try them again.
OPERATORS = ("office", "designer")


def operated_instances(p: Principal):
    """SQL condition on ProcessInstance for the instances the principal may list and retry.

    Clue hand-overs stay with the discipline inspection, as everywhere else.
    """
    conditions = []
    if p.has(*OPERATORS):
        conditions.append(ProcessInstance.model_key.not_in(RESTRICTED_MODELS))
    if p.has("discipline"):
        conditions.append(ProcessInstance.model_key.in_(RESTRICTED_MODELS))
    return or_(*conditions) if conditions else false()
