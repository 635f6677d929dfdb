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

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflows.engine import RunResult
from workflows.fanout import set_ids, write_rows
from workflows.tables import HistoryEntry, HumanTask, MessageSubscription, ProcessInstance, Timer

from . import cases, notices, targets, workflow
from .auth import Principal
from .context import Context
from .models import BusinessKey, Case, CaseProblem, CaseStatus, CommonProblem, KeyKind, Notice, WarningLevel

# What a fan-out fills in bulk: their planner statistics are refreshed once a publication is out
# (`Database.refresh_statistics`).
FILLED = [t.__tablename__ for t in (Case, CaseProblem, ProcessInstance, HumanTask, Timer, MessageSubscription,
                                HistoryEntry, Notice)]


def open_cases(ctx: Context, s: Session, p: Principal | None, round_id: int,
               sent: list[tuple[int, list[CommonProblem]]], due: datetime) -> list[Case]:
    """A case per (unit, the common problems sent to it), its workflow started, its people told of
    its first task and of the published list; in the order given.

    Rows are written table by table in bulk: the cases (read back once, so that whatever the
    workflow's steps look up finds them in the session), what was sent to each, the workflows
    (`Engine.start_many`), the notices (`notices.written_together`)."""
    if not sent:
        return []
    now = ctx.now()
    s.flush()
    ids = write_rows(s, Case, [
        {"round_id": round_id, "unit_id": unit_id, "status": CaseStatus.SELF_CHECK, "warning": WarningLevel.NONE,
         "due_at": due, "process_instance_id": None, "created_at": now, "filed_at": None, "closed_at": None,
         "previous_instance_ids": []} for unit_id, _ in sent], with_ids=True)
    loaded = {c.id: c for c in s.scalars(select(Case).where(Case.id.in_(ids)))}
    opened = [loaded[case_id] for case_id in ids]
    targets.record_many(s, [(case.id, problems) for case, (_, problems) in zip(opened, sent, strict=True)])
    data = [cases.start_data(ctx, case, [{"id": c.id, "title": c.title} for c in problems], recheck=False)
            for case, (_, problems) in zip(opened, sent, strict=True)]
    unit_ids = [case.unit_id for case in opened]
    roster = notices.roster(s, unit_ids)

    def started(index: int, result: RunResult) -> None:
        # written below for all the cases at once; the loaded case says so already
        set_committed_value(opened[index], "process_instance_id", result.instance.id)
        notices.on_list_published(ctx, s, opened[index], roster)

    with notices.written_together(s):
        workflow.start_many(ctx, s, p, cases.MODEL, data, [BusinessKey(KeyKind.CASE, c.id) for c in opened],
                            unit_ids=list(unit_ids), roster=roster, then=started)
    set_ids(s, Case, "process_instance_id", {c.id: c.process_instance_id for c in opened
                                             if c.process_instance_id is not None})
    return opened
