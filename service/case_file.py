"""What the task and case pages read: a unit's case so far (the case file), and a task with its
form, what the form starts with, and the record it works on beside it.

Every read goes through the need-to-know rules (`tasks.get_visible`, `cases.get_case`,
`rounds.get_round`); a record the viewer may not read is left out of the task page rather than
refused, since the task itself is theirs to see.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.tables import HumanTask

from . import (
    access,
    cases,
    clues,
    documents,
    drafts,
    evidence,
    inbox,
    instance_views,
    letters,
    notices,
    operations,
    residents,
    rounds,
    targets,
    tasks,
)
from .auth import Principal
from .context import Context
from .designs import model_names
from .errors import NotFound
from .models import (
    BusinessKey,
    Case,
    CaseComment,
    CommonProblem,
    Document,
    Evidence,
    ExtensionRequest,
    Filing,
    KeyKind,
    LeaderNotification,
    Measure,
    RectificationItem,
    Round,
    SelfCheckItem,
    SupervisionAction,
    TaskDraft,
    User,
)
from .organisation import unit_name, unit_names


@dataclass
class CaseFile:
    """A unit's case so far, read-only: self-check, measures, institutions, evidence, filings."""

    case: Case
    unit: str                      # the unit's name
    round: str                     # the round's name
    titles: dict[int, str]         # the list's common problems by id
    self_check: list[SelfCheckItem]
    items: list[RectificationItem]
    evidence: list[Evidence]
    filings: list[Filing]
    people: dict[int, str]         # names of the uploaders, filers and reviewers
    removable: set[int]            # evidence the viewer may still remove or replace (not yet filed)
    instructions: list[LeaderNotification] = field(default_factory=list)  # leaders' 批示 about the case
    comments: list[CaseComment] = field(default_factory=list)             # functional departments' 意见
    history: list[SupervisionAction] = field(default_factory=list)        # warnings, urges, talks, re-checks
    departments: dict[int | None, str] = field(default_factory=dict)             # the commenting departments' names
    actions: frozenset[str] = frozenset()  # what the viewer may do here: urge, recheck, comment, extension…
    extensions: list[ExtensionRequest] = field(default_factory=list)      # the unit's requests for more time
    documents: list[Document] = field(default_factory=list)  # 整改报告, 督办函, 谈话提醒记录, 巡察建议书
    # each common problem's lead department and co-responsible departments (协同责任部门), by name
    responsible: dict[int, tuple[str, list[str]]] = field(default_factory=dict)
    hold: operations.Hold | None = None  # its process suspended or cancelled by an operator


@dataclass
class TaskPage:
    task: HumanTask
    form: dict                     # the task's form schema
    actionable: bool               # the viewer may complete it
    process_name: str              # the model's name as its latest version writes it
    unit: str                      # the task's unit's name
    case: CaseFile | None          # the record the task works on, when the viewer may read it
    round: dict | None             # `rounds.list_summary`
    letter: dict | None            # `letters.letter_summary`
    titles: dict[int, str]         # the common problems the form's rows may name
    initial: dict                  # what the form starts with
    can_upload: bool               # the page offers the evidence upload
    descriptions: dict[int, str]   # the common problems' explanations, beside their titles
    returned: inbox.Returned | None  # why the task came back, when a review returned it
    draft: TaskDraft | None        # what the viewer saved of this form without submitting (暂存)
    diagram: bool                  # the viewer may open the task's process instance
    clue: clues.ClueView | None = None  # a hand-over's clue (content only for who may see it)
    measure: Measure | None = None      # a followed-up measure's task: the measure it reports done
    resident_report: dict | None = None  # a forwarded resident's report (`residents.task_panel`)


def case_file(s: Session, p: Principal, case_id: int) -> CaseFile:
    case = cases.get_case(s, p, case_id)  # the need-to-know rule for cases
    sent = targets.received(s, case)
    titles = {c.id: c.title for c in sent}
    checks = s.scalars(select(SelfCheckItem).where(SelfCheckItem.case_id == case.id).order_by(SelfCheckItem.id)).all()
    items = s.scalars(select(RectificationItem).where(RectificationItem.case_id == case.id)
                      .order_by(RectificationItem.id)).all()
    files = s.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)).all()
    filings = s.scalars(select(Filing).where(Filing.case_id == case.id).order_by(Filing.id)).all()
    instructions = notices.instructions_for(s, case)
    comments = list(s.scalars(select(CaseComment).where(CaseComment.case_id == case.id).order_by(CaseComment.id)))
    history = list(s.scalars(select(SupervisionAction).where(SupervisionAction.case_id == case.id)
                             .order_by(SupervisionAction.at, SupervisionAction.id)))
    requests = list(s.scalars(select(ExtensionRequest).where(ExtensionRequest.case_id == case.id)
                              .order_by(ExtensionRequest.id)))
    people_ids = ({e.uploaded_by for e in files} | {f.filed_by for f in filings}
                  | {r.requested_by for r in requests} | {r.decided_by for r in requests if r.decided_by}
                  | {f.reviewed_by for f in filings if f.reviewed_by} | {e.reviewed_by for e in files if e.reviewed_by}
                  | {n.leader_id for n in instructions} | {c.author_id for c in comments}
                  | {a.actor_id for a in history if a.actor_id})
    people = {u.id: u.name for u in s.scalars(select(User).where(User.id.in_(people_ids)))}
    departments = unit_names(s, {c.department_id for c in comments} | {d for c in sent for d in c.department_ids()})
    responsible = {c.id: (departments.get(c.responsible_department_id, ""),
                          [departments.get(d, "") for d in c.co_department_ids]) for c in sent}
    rnd = s.get(Round, case.round_id)
    removable = evidence.removable_ids(s, case, list(files)) if access.may_upload_evidence(p, case) else set()
    hold = operations.hold_of(s, case.process_instance_id)
    # a case whose process was cancelled is neither urged nor given more time: nothing of it goes on
    actions = frozenset() if hold is not None and hold.status == "cancelled" else case_actions(s, p, case, requests)
    return CaseFile(case, unit_name(s, case.unit_id), rnd.name if rnd else "", titles, list(checks), list(items),
                    list(files), list(filings), people, removable, instructions, comments, history, departments,
                    actions, requests, documents.of_case(s, case), responsible, hold)


def case_actions(s: Session, p: Principal, case: Case, requests: list[ExtensionRequest] | None = None) -> frozenset[str]:
    """What the viewer may do on the case page: 催办 a case still the unit's to do, 回头看 a closed
    one (the office), comment on one whose common problems their department governs; ask for more
    time (the unit, while it still has to file and no request waits) or decide a waiting request
    (the office)."""
    actions = set()
    waiting = any(r.state == "pending" for r in requests or [])
    if case.status in Case.OPEN_STATUSES and access.may_request_extension(p, case) and not waiting:
        actions.add("extension")
    if waiting and access.may_decide_extension(p):
        actions.add("decide_extension")
    if access.may_urge(p):
        actions.add("urge" if case.status in Case.OPEN_STATUSES else "recheck" if case.status == "closed" else "")
    if access.may_list_governed_cases(p) and s.scalar(
            select(Case.id).where(Case.id == case.id, access.governed_case_scope(p))) is not None:
        actions.add("comment")
    return frozenset(actions - {""})


def task_page(ctx: Context, s: Session, p: Principal, task_id: str) -> TaskPage:
    """Everything the task page shows: the task, its form (pre-filled), and the record so far."""
    body = tasks.get_with_form(ctx, s, p, task_id)
    row = s.get_one(HumanTask, task_id)
    key = BusinessKey.parse(row.business_key)
    case = round_ = letter = None
    if key is not None and key.kind == KeyKind.CASE:
        try:
            case = case_file(s, p, key.id)
        except NotFound:
            case = None
    elif key is not None and key.kind == KeyKind.ROUND:
        try:
            round_ = rounds.list_summary(s, rounds.get_round(s, p, key.id))
        except NotFound:
            round_ = None
    elif key is not None and key.kind == KeyKind.LETTER:
        letter = letters.letter_summary(s, key.id)
    measure = None
    if key is not None and key.kind == KeyKind.MEASURE:
        measure = s.get(Measure, key.id)
        owner = notices.measure_case(s, key.id)
        try:
            case = case_file(s, p, owner.id) if owner is not None else None
        except NotFound:
            case = None
    clue = clues.task_clue_view(s, p, key.id) if key is not None and key.kind == KeyKind.CLUE else None
    titles = common_problem_titles(s, key)
    # evidence is uploaded on the steps that gather it, while the case takes it (never once closed)
    can_upload = (case is not None and row.state == "open" and body["actionable"]
                  and (row.step in evidence.UPLOAD_STEPS and evidence.accepts_evidence(s, case.case)
                       or measure is not None and row.step == "report_measure"))
    descriptions = common_problem_descriptions(s, key)
    draft = drafts.find(s, p, row.id) if body["actionable"] and row.state == "open" else None
    return TaskPage(row, body["form"], body["actionable"], model_names(s, [row.model_key]).get(row.model_key, ""),
                    unit_name(s, row.unit_id), case, round_, letter, titles, initial_data(s, row), can_upload,
                    descriptions, inbox.returns_of(s, [row]).get(row.id) if row.state == "open" else None, draft,
                    row.instance_id in instance_views.visible_ids(s, p, [row.instance_id]), clue, measure,
                    residents.task_panel(s, p, key.id) if key is not None and key.kind == KeyKind.RESIDENT_REPORT
                    else None)


def initial_data(s: Session, row: HumanTask) -> dict:
    """What the form starts with: one row per common problem, and anything recorded before.

    Chosen by the step the task's element declares (self-check, rectify), not by its element id,
    which a designer may rename.
    """
    key = BusinessKey.parse(row.business_key)
    if key is None or key.kind != KeyKind.CASE or row.step not in ("self_check", "rectify"):
        return {}
    case = s.get_one(Case, key.id)
    commons = targets.received(s, case)
    checks = {i.common_problem_id: i for i in s.scalars(select(SelfCheckItem).where(SelfCheckItem.case_id == case.id))}
    if row.step == "self_check":
        items: list[dict] = []
        for cp in commons:
            item = checks.get(cp.id)
            items.append({"common_problem_id": cp.id} if item is None else {
                "common_problem_id": cp.id, "applicable": item.applicable, "reason": item.reason,
                "problems_found": item.problems_found, "findings": item.findings})
        return {"items": items}
    existing = {i.common_problem_id: i for i in s.scalars(
        select(RectificationItem).where(RectificationItem.case_id == case.id))}
    rows: list[dict] = []
    current = case.pass_number  # a re-check starts its own measures; the first pass's stay on record
    for cp in commons:
        done = existing.get(cp.id)
        if done is not None:
            measures = [m for m in done.measures if m.pass_number == current]
            rows.append({"common_problem_id": cp.id, "status": done.status,
                         "measures": [{"description": m.description,
                                       "deadline": m.deadline.isoformat() if m.deadline else ""}
                                      for m in measures] or ([{}] if current > 1 else []),
                         "institutions": [{"title": i.title} for i in done.institutions
                                          if i.pass_number == current],
                         **({"reason": done.reason} if done.reason else {})})
        elif not checks or checks.get(cp.id) is None or checks[cp.id].applicable:
            rows.append({"common_problem_id": cp.id, "measures": [{}], "institutions": []})
    return {"items": rows}


def common_problem_titles(s: Session, key: BusinessKey | None) -> dict[int, str]:
    """The titles of the list's common problems, for a task of a case or of a round."""
    round_id = None
    if key is not None and key.kind == KeyKind.CASE:
        case = s.get(Case, key.id)
        return {c.id: c.title for c in targets.received(s, case)} if case is not None else {}
    elif key is not None and key.kind == KeyKind.ROUND:
        round_id = key.id
    if round_id is None:
        return {}
    return dict(s.execute(select(CommonProblem.id, CommonProblem.title)
                          .where(CommonProblem.round_id == round_id).order_by(CommonProblem.id)).all())


def common_problem_descriptions(s: Session, key: BusinessKey | None) -> dict[int, str]:
    """The explanations of the list's common problems (what each one means), for a case's forms."""
    if key is None or key.kind != KeyKind.CASE:
        return {}
    round_id = s.scalar(select(Case.round_id).where(Case.id == key.id))
    return {i: d for i, d in s.execute(select(CommonProblem.id, CommonProblem.description)
                                       .where(CommonProblem.round_id == round_id)).all() if d}


def instance_ids(s: Session, p: Principal, case_ids) -> dict[int, int]:
    """The process instance of each case the viewer may read, by case id (list rows link to its diagram)."""
    ids = {int(i) for i in case_ids if isinstance(i, int)}
    if not ids:
        return {}
    return {case_id: instance_id for case_id, instance_id in s.execute(
        select(Case.id, Case.process_instance_id).where(Case.id.in_(ids), access.case_scope(p)))
        if instance_id is not None}
