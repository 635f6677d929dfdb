"""Publication's fan-out: the cases of every unit a list reaches, opened together.

One case at a time (`cases.open_case`) runs the unit's workflow from scratch and tells its people
with a query or two each; a list reaching a thousand units paid that a thousand times. Here the
cases are written together, the engine starts their workflows together (`Engine.start_many`,
which runs SpiffWorkflow once for all instances that take the same path), and the units' people
are read once. What each case ends up with is what `open_case` and the list's notice give it,
down to the order of the notices.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from workflows.engine import RunResult

from . import cases, notices, targets, workflow
from .auth import Principal
from .context import Context
from .models import BusinessKey, Case, CaseStatus, CommonProblem, KeyKind, WarningLevel


def open_cases(ctx: Context, s: Session, p: Principal | None, round_id: int,
               sent: list[tuple[int, list[CommonProblem]]], due: datetime) -> list[Case]:
    """A case per (unit, the common problems sent to it), its workflow started, its people told of
    its first task and of the published list; in the order given."""
    now = ctx.now()
    opened = [Case(round_id=round_id, unit_id=unit_id, status=CaseStatus.SELF_CHECK, warning=WarningLevel.NONE,
                   due_at=due, created_at=now) for unit_id, _ in sent]
    s.add_all(opened)
    s.flush()
    for case, (_, problems) in zip(opened, sent, strict=True):
        targets.record(s, case, problems)
    data = [cases.start_data(ctx, case, [{"id": c.id, "title": c.title} for c in problems], recheck=False)
            for case, (_, problems) in zip(opened, sent, strict=True)]
    unit_ids = [case.unit_id for case in opened]
    roster = notices.roster(s, unit_ids)

    def started(index: int, result: RunResult) -> None:
        opened[index].process_instance_id = result.instance.id
        notices.on_list_published(ctx, s, opened[index], roster)

    workflow.start_many(ctx, s, p, cases.MODEL, data, [BusinessKey(KeyKind.CASE, c.id) for c in opened],
                        unit_ids=list(unit_ids), roster=roster, then=started)
    return opened
