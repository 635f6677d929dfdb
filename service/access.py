"""Need-to-know: who may read and do what. Every such rule of the service is a function here.

The API and the pages both call these, and list queries apply them in SQL (the functions named
`…_scope` return a condition for a query's WHERE), so what a user can list is exactly what they
can open. Roles are in `models.ROLES`; a unit-scoped role acts only for its own unit, a leader in
charge reads the units of their portfolio, the office and the leading group read the district.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from workflows.tables import HumanTask, ProcessInstance, TaskCandidate, TaskOffer

from .auth import Principal
from .models import (
    ApiToken,
    Case,
    CaseProblem,
    Clue,
    CoDepartment,
    CommonProblem,
    Document,
    LeaderNotification,
    Notice,
    RecommendationLetter,
    RoleChange,
    Round,
    RoundInspector,
    Unit,
)

DISTRICT_WIDE = ("office", "leading_group")          # read every unit's case
DASHBOARD_READERS = ("office", "leading_group", "leader")  # the dashboard, each inside their scope
ROUND_WORKERS = ("office", "inspector", "leading_group")   # the rounds page: those who work on rounds
# Tasks given by role alone. Designers and administrators run the system, not cases: a lane that
# names them is given to the office (see context.role_for_lane), never to them.
ROLE_ONLY = ("office", "leading_group", "discipline")
# Clue hand-overs are seen only by those who act on them, never by the district-wide readers.
RESTRICTED_MODELS = ("clue_handover",)
UNIT_SCOPED = ("unit_liaison", "unit_head", "department")
# Those who run the district's processes: they see failed, suspended and late instances, retry,
# suspend, resume and cancel them (the operators' page lists instances, not case content).
OPERATORS = ("office", "designer", "admin")
# ... and the discipline commission, for the clue hand-overs it alone acts on.
INSTANCE_WATCHERS = (*OPERATORS, "discipline")
OFFICE = ("office",)                                   # rounds, lists, cases, supervision, expert pool
PROBLEM_KEEPERS = ("office", "inspector")              # correct a round's problems (see may_change_problem)
ADMINISTRATORS = ("admin",)                            # accounts
ORGANISATION_KEEPERS = ("admin", "office")             # units and departments
ACCOUNT_READERS = ("admin", "security_admin", "office")  # the list of accounts
DESIGN_READERS = ("designer", "admin", "office")       # process models: read, validate, see versions
DESIGNERS = ("designer", "admin")                      # process models: deploy and edit
JOB_READERS = ("office", "leading_group", "admin")      # background jobs' progress (a list's publication)
JOB_OPERATORS = ("office", "admin")                     # who queue a failed job again
MIGRATION_READERS = ("designer", "admin", "office")     # a migration's report (dry run) and its progress
MIGRATORS = ("designer", "admin")                       # move running instances to a version, roll one back
POOL_KEEPERS = ("office", "admin")                     # the inspector pool
# Audit findings (巡审结合): the auditor registers what the audit found and links it to the round's
# problem it corroborates; the office does both as well (it runs the round and knows its problems);
# the leading group reads them.
AUDIT_REGISTRARS = ("auditor", "office")               # register an audit finding
AUDIT_LINKERS = ("auditor", "office")                  # link a finding to a problem of its unit
AUDIT_FINDING_READERS = ("auditor", "office", "leading_group")  # the list of audit findings
EXPERT_ASSIGNERS = ("office",)                         # co-audit experts assigned to a round
CLUE_READERS = ("discipline", "office", "inspector")   # the clue library (content per clue_scope)
# The security audit log is read by the audit administrator alone: not the system administrator,
# whose own actions it records (separation of duties, GB/T 22239).
AUDIT_READERS = ("audit_admin",)
# Separation of administration duties (三员分立, GB/T 22239): the system administrator (units,
# accounts, configuration), the security administrator (roles, lockouts) and the audit
# administrator (the audit log) are three accounts, each holding that one role and no other, so
# none of them reads case content or clues by being an administrator. A change of roles is proposed
# under one of the first two duties and takes effect when the other approves it.
ADMIN_DUTIES = ("admin", "security_admin", "audit_admin")
ROLE_KEEPERS = ("admin", "security_admin")
LOCK_KEEPERS = ("security_admin",)                     # lift a login lockout
# Accounts that hold these roles must have a second factor (a TOTP authenticator) when the policy
# RECTIFLOW_TOTP_REQUIRED is on: those who run the system, and those who see the whole district or
# the clues (GB/T 22239 level 3: identification by two factors).
TOTP_REQUIRED_ROLES = ("admin", "security_admin", "audit_admin", "office", "discipline")


# ---------------------------------------------------------------- units and cases
def can_read_unit(p: Principal, unit_id: int | None) -> bool:
    if p.has(*DISTRICT_WIDE):
        return True
    if unit_id is None:
        return False
    return (p.has("leader") and unit_id in p.portfolio) or (p.has(*UNIT_SCOPED) and unit_id == p.unit_id)


def unit_scope(p: Principal, column):
    """SQL condition on any unit id column: rows about units whose cases the principal may read."""
    if p.has(*DISTRICT_WIDE):
        return true()
    allowed = set(p.portfolio) if p.has("leader") else set()
    if p.unit_id is not None and p.has(*UNIT_SCOPED):
        allowed.add(p.unit_id)
    return column.in_(sorted(allowed)) if allowed else false()


def case_scope(p: Principal):
    """SQL condition on Case for the cases the principal may read: those of the units they may read,
    and for a functional department also those of the common problems it governs."""
    if p.has("department"):
        return or_(unit_scope(p, Case.unit_id), governed_case_scope(p))
    if p.has("inspector"):
        return or_(unit_scope(p, Case.unit_id), inspected_case_scope(p))
    return unit_scope(p, Case.unit_id)


SPECIAL_INSPECTION_STEP = "special_inspection_check"


def inspected_case_scope(p: Principal):
    """An inspector sent on a special inspection (专项督查) reads the case they were sent to check."""
    sent = (select(HumanTask.instance_id).join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
            .where(TaskCandidate.user_id == p.id, HumanTask.step == SPECIAL_INSPECTION_STEP))
    return Case.process_instance_id.in_(sent)


def may_read_lists(p: Principal) -> bool:
    """The four lists are for the office, the leading group, leaders and units, each inside their scope."""
    return p.has("office", "leading_group", "leader", "unit_liaison", "unit_head", "department")


def sees_district_figures(p: Principal) -> bool:
    """Recommendation letters and filed clues are counted for the office and the leading group alone."""
    return p.has(*DISTRICT_WIDE)


def may_upload_evidence(p: Principal, case: Case) -> bool:
    """A case's evidence is the unit's own: its liaison or head uploads it."""
    return p.has("unit_liaison", "unit_head") and p.unit_id == case.unit_id


def may_request_extension(p: Principal, case: Case) -> bool:
    """More time to file is asked for by the unit itself: its liaison or head."""
    return p.has("unit_liaison", "unit_head") and p.unit_id == case.unit_id


def may_decide_extension(p: Principal) -> bool:
    """The office approves or refuses an extension request."""
    return p.has(*OFFICE)


def may_review_evidence(p: Principal) -> bool:
    """The office accepts or rejects each evidence file of a case, with its opinion."""
    return p.has(*OFFICE)


# ---------------------------------------------------------------- one's own account
def own_token_scope(p: Principal):
    """SQL condition on ApiToken: a person lists and revokes their own tokens, and no one else's
    (not even an administrator: a token is a credential, not a record to manage)."""
    return ApiToken.user_id == p.id


# ---------------------------------------------------------------- rounds
def is_inspector_of(p: Principal, rnd: Round) -> bool:
    return p.has("inspector") and rnd.has_inspector(p.id)


def round_scope(p: Principal):
    """SQL condition on Round: the office and leading group see every round, an inspector the rounds
    they inspect, and everyone else a round once its list is published (it goes to every unit)."""
    if p.has(*DISTRICT_WIDE):
        return true()
    conditions: list[ColumnElement[bool]] = [Round.published_at.is_not(None)]
    if p.has("inspector"):
        conditions.append(exists().where(RoundInspector.round_id == Round.id, RoundInspector.user_id == p.id))
    return or_(*conditions)


def findings_scope(p: Principal):
    """SQL condition on Round for whose problems the principal may list: the office and the leading
    group see a round's findings at once, units learn of them once its list is published."""
    if p.has(*DISTRICT_WIDE):
        return true()
    return Round.published_at.is_not(None)


def can_read_round(p: Principal, rnd: Round) -> bool:
    return p.has(*DISTRICT_WIDE) or is_inspector_of(p, rnd) or rnd.published_at is not None


def sees_all_findings(p: Principal, rnd: Round) -> bool:
    """Who reads every problem of a round; others read only their own units' problems."""
    return p.has(*DISTRICT_WIDE) or is_inspector_of(p, rnd)


def may_record_findings(p: Principal, rnd: Round) -> bool:
    return p.has("office") or is_inspector_of(p, rnd)


def may_start_round(p: Principal) -> bool:
    """The office starts a round: picks its units and inspectors."""
    return p.has(*OFFICE)


def may_change_problem(p: Principal, rnd: Round, recorded_by: int) -> bool:
    """The office corrects any problem of a round; an inspector of the round the ones they recorded."""
    return p.has("office") or (is_inspector_of(p, rnd) and recorded_by == p.id)


def may_distil_list(p: Principal) -> bool:
    """The office distils a round's problems into its common-problem list."""
    return p.has("office")


INSIGHT_READERS = ("office", "leading_group")          # suggested groupings, similar earlier common problems


def may_read_insight(p: Principal) -> bool:
    """The office distils the list with the suggestions; the leading group reads them when it approves."""
    return p.has(*INSIGHT_READERS)


def may_read_jobs(p: Principal) -> bool:
    """A list's publication runs on after the approval: those who distil, approve and run the service follow it."""
    return p.has(*JOB_READERS)


def may_read_job(p: Principal, kind: str) -> bool:
    """A migration is followed by those who may read its report; every other job as `may_read_jobs`."""
    return p.has(*MIGRATION_READERS) if kind == "migration" else may_read_jobs(p)


def may_retry_jobs(p: Principal) -> bool:
    """A failed publication is the office's to take up again once its cause is put right (or the administrator's)."""
    return p.has(*JOB_OPERATORS)


def may_preview_recipients(p: Principal) -> bool:
    """Who a list reaches is seen before it goes out by those who distil it and those who approve it."""
    return p.has("office", "leading_group")


# ---------------------------------------------------------------- tasks and instances
def _is_candidate(p: Principal, task=HumanTask):
    return exists().where(TaskCandidate.task_id == task.id, TaskCandidate.user_id == p.id)


def may_be_sent_to_inspect(roles: list[str]) -> bool:
    """Who the office may send on a special inspection (专项督查) of a unit: inspectors."""
    return "inspector" in roles


def _role_works(p: Principal, role, task=HumanTask) -> list[ColumnElement[bool]]:
    """Conditions under which the principal works a task (`task`: HumanTask or an alias) given to
    `role` (a column): a district role anywhere, a unit role in its own unit, a leader in the
    portfolio, an inspector when named."""
    conditions: list[ColumnElement[bool]] = []
    district = [r for r in ROLE_ONLY if p.has(r)]
    if district:
        conditions.append(role.in_(district))
    unit_roles = [r for r in UNIT_SCOPED if p.has(r)]
    if unit_roles and p.unit_id is not None:
        conditions.append(and_(role.in_(unit_roles), task.unit_id == p.unit_id))
    if p.has("leader") and p.portfolio:
        conditions.append(and_(role == "leader", task.unit_id.in_(p.portfolio)))
    if p.has("inspector"):
        conditions.append(and_(role == "inspector", _is_candidate(p, task)))
    return conditions


@lru_cache(maxsize=1024)
def task_actionable(p: Principal):
    """SQL condition on HumanTask for the tasks the principal may complete.

    A diagram may say who a task is for (Camunda's attributes): an assignee works it alone; else its
    candidate users, and the holders of its candidate groups' roles (within that role's scope, as
    for a lane), work it instead of its lane's role; else the lane's role does.
    """
    return or_(*actionable_parts(p).listed())


@dataclass(frozen=True)
class ActionableParts:
    """`task_actionable` in parts each read from an index, for the lists that read many open tasks
    (joined by OR, PostgreSQL filters every open task of the district instead). The principal works
    the tasks of `lanes` that are not `named`, and those `assigned` or `offered` to them; these
    three are disjoint. Tasks named for someone are few: a count of the lanes' own tasks is the
    lanes' count (read off the index alone) less the named ones among them."""

    lanes: ColumnElement[bool]  # the tasks of the principal's lanes, whomever the diagram names
    named: ColumnElement[bool]  # the tasks a diagram names an assignee or candidates for
    assigned: ColumnElement[bool]
    offered: ColumnElement[bool]

    def listed(self) -> tuple[ColumnElement[bool], ...]:
        """The three disjoint parts, each to be read in the inbox's order from its index."""
        return and_(self.lanes, ~self.named), self.assigned, self.offered

    def counted(self) -> list[tuple[ColumnElement[bool], int]]:
        """Conditions whose counts, with these signs, add up to the principal's tasks: the lanes'
        tasks, less those among them with an assignee and those offered to someone, plus the
        assigned and offered ones."""
        offered_any = exists().where(TaskOffer.task_id == HumanTask.id)
        return [(self.lanes, 1), (and_(self.lanes, HumanTask.assignee.is_not(None)), -1),
                (and_(self.lanes, HumanTask.assignee.is_(None), offered_any), -1),
                (self.assigned, 1), (self.offered, 1)]


# The offered tasks are found from the offers (few), not the other way round: their condition names
# its own task alias, so that it does not depend on the row of the outer query.
_OFFERED_TASK = aliased(HumanTask, name="offered_task")


@lru_cache(maxsize=1024)
def actionable_parts(p: Principal) -> ActionableParts:
    """Built once per principal (a request's principal is the same value every time): the conditions
    hold the principal's own values, and building them costs more than running the query."""
    by_lane = _role_works(p, HumanTask.role)
    offered_task = _OFFERED_TASK
    offers = [and_(TaskOffer.kind == "user", TaskOffer.name == p.username)]
    by_group = _role_works(p, TaskOffer.name, offered_task)
    if by_group:
        offers.append(and_(TaskOffer.kind == "group", or_(*by_group)))
    offered = (select(TaskOffer.task_id).join(offered_task, offered_task.id == TaskOffer.task_id)
               .where(offered_task.assignee.is_(None), or_(*offers)))
    return ActionableParts(
        lanes=or_(*by_lane) if by_lane else false(),
        named=or_(HumanTask.assignee.is_not(None), exists().where(TaskOffer.task_id == HumanTask.id)),
        assigned=HumanTask.assignee == p.username,
        offered=HumanTask.id.in_(offered))


@lru_cache(maxsize=1024)
def task_visible(p: Principal):
    """SQL condition on HumanTask for the tasks the principal may look at (not necessarily do)."""
    conditions: list[ColumnElement[bool]] = [task_actionable(p)]
    if p.has(*DISTRICT_WIDE):
        conditions.append(HumanTask.model_key.not_in(RESTRICTED_MODELS))
    if p.unit_id is not None and p.has(*UNIT_SCOPED):
        conditions.append(HumanTask.unit_id == p.unit_id)
    if p.has("leader") and p.portfolio:
        conditions.append(HumanTask.unit_id.in_(p.portfolio))
    return or_(*conditions)


def visible_task(session: Session, p: Principal, task_id: str,
                 *also: ColumnElement) -> tuple[HumanTask | None, bool, tuple]:
    """The task if the principal may look at it, whether they may complete it, and the values of the
    caller's further columns on it (`also`): one query, the one a completion starts with (a second
    one for the permission, or for what the completion needs to know of the task, would be a round
    trip per step)."""
    actionable = task_actionable(p)
    row = session.execute(select(HumanTask, actionable.label("actionable"), *also)
                          .where(HumanTask.id == task_id, task_visible(p))).first()
    return (row[0], bool(row[1]), tuple(row[2:])) if row is not None else (None, False, (None,) * len(also))


def actionable_ids(session: Session, p: Principal, task_ids) -> set[str]:
    rows = session.scalars(select(HumanTask.id).where(HumanTask.id.in_(list(task_ids)), task_actionable(p)))
    return set(rows)


def instance_scope(p: Principal):
    """SQL condition on ProcessInstance for the instances whose diagram and history the principal reads:
    those of units they may read, and those holding a task they may see; a clue's hand-over is the
    discipline inspection's alone."""
    holds_task = exists().where(HumanTask.instance_id == ProcessInstance.id, task_visible(p))
    readable = and_(ProcessInstance.model_key.not_in(RESTRICTED_MODELS),
                    or_(unit_scope(p, ProcessInstance.unit_id), holds_task))
    if p.has("discipline"):
        return or_(readable, ProcessInstance.model_key.in_(RESTRICTED_MODELS))
    return readable


def operated_instances(p: Principal):
    """SQL condition on ProcessInstance for the instances the principal may list and retry.

    Clue hand-overs stay with the discipline inspection, as everywhere else.
    """
    conditions: list[ColumnElement[bool]] = []
    if p.has(*OPERATORS):
        conditions.append(ProcessInstance.model_key.not_in(RESTRICTED_MODELS))
    if p.has("discipline"):
        conditions.append(ProcessInstance.model_key.in_(RESTRICTED_MODELS))
    return or_(*conditions) if conditions else false()


def migrated_instances(p: Principal):
    """SQL condition on ProcessInstance for the instances whose migration the principal sees or runs:
    every model's but the clue hand-over's, whose instances stay with the discipline inspection."""
    if p.has(*MIGRATION_READERS):
        return ProcessInstance.model_key.not_in(RESTRICTED_MODELS)
    return false()


def may_operate(p: Principal) -> bool:
    return p.has(*INSTANCE_WATCHERS)


def may_choose_versions(p: Principal) -> bool:
    """Whether the principal makes a model version current or retires one (the office only reads them)."""
    return p.has(*DESIGNERS)


# Messages and signals from outside (POST /messages, /signals): the office, designers and the
# administrator, whose API tokens outside systems call with. They reach any instance but a clue's
# hand-over (the discipline inspection's alone) and see only which instances they reached.
EVENT_SENDERS = ("office", "designer", "admin")


def may_send_events(p: Principal) -> bool:
    return p.has(*EVENT_SENDERS)


def event_reachable_instances(p: Principal):
    """SQL condition on ProcessInstance for the instances a message or signal of the principal reaches."""
    return ProcessInstance.model_key.not_in(RESTRICTED_MODELS) if may_send_events(p) else false()


def may_start_by_event(p: Principal, model_key: str) -> bool:
    """Whether the principal's message or signal may start an instance of the model."""
    return may_send_events(p) and model_key not in RESTRICTED_MODELS


# ---------------------------------------------------------------- clues, notices, letters
def clue_scope(p: Principal):
    """SQL condition on Clue for the clues a principal may know exist: the discipline inspection and
    the office (metadata, to approve the hand-over) see all, an inspector the clues they registered."""
    if p.has("discipline", "office"):
        return true()
    if p.has("inspector"):
        return Clue.registered_by == p.id
    return false()


def sees_clue_content(p: Principal, clue: Clue) -> bool:
    return p.has("discipline") or clue.registered_by == p.id


def may_read_clue_library(p: Principal) -> bool:
    return p.has(*CLUE_READERS)


def sees_clue_process(p: Principal) -> bool:
    """A clue's hand-over diagram and history are the discipline inspection's (see instance_scope)."""
    return p.has("discipline")


def may_register_clue(p: Principal, rnd: Round) -> bool:
    return is_inspector_of(p, rnd)


def notification_scope(p: Principal):
    """SQL condition on LeaderNotification: a leader's own; the office and leading group follow all."""
    if p.has(*DISTRICT_WIDE):
        return true()
    if p.has("leader"):
        return LeaderNotification.leader_id == p.id
    return false()


def may_read_notifications(p: Principal) -> bool:
    return p.has(*DISTRICT_WIDE, "leader")


def letter_scope(p: Principal):
    """SQL condition on RecommendationLetter: the office and leading group read all, a department its own."""
    if p.has(*DISTRICT_WIDE):
        return true()
    if p.has("department") and p.unit_id is not None:
        return RecommendationLetter.department_id == p.unit_id
    return false()


def may_read_letters(p: Principal) -> bool:
    return p.has(*DISTRICT_WIDE) or (p.has("department") and p.unit_id is not None)


# ---------------------------------------------------------------- documents
DOCUMENT_ISSUERS = ("office",)                         # 督办函 and 谈话提醒记录


def may_issue_documents(p: Principal) -> bool:
    return p.has(*DOCUMENT_ISSUERS)


def document_scope(p: Principal):
    """SQL condition on Document: who may read a case reads its documents; a recommendation letter's
    are read by who reads the letter (the office, the leading group, its department) and by who
    reads the case of that department in the letter's round."""
    of_readable_case = exists().where(Case.id == Document.case_id, case_scope(p))
    departments_case = exists().where(Case.round_id == RecommendationLetter.round_id,
                                      Case.unit_id == RecommendationLetter.department_id, case_scope(p))
    of_readable_letter = exists().where(RecommendationLetter.id == Document.letter_id,
                                        or_(letter_scope(p), departments_case))
    return or_(of_readable_case, of_readable_letter)


# ---------------------------------------------------------------- messages, urging, departments
URGERS = ("office",)                                  # 催办 a late unit; 回头看 a closed case
COMMENTERS = ("department",)                           # a functional department's comment on a case


def notice_scope(p: Principal):
    """SQL condition on Notice: everyone reads their own messages, and no one else's."""
    return Notice.user_id == p.id


def governed_case_scope(p: Principal):
    """SQL condition on Case for the cases a functional department reads because it governs their
    common problems (管行业必须管共性问题整改): cases of the units whose industry it governs
    (Unit.department_id) that were sent a common problem it leads or shares (协同责任部门) — a
    case published before lists were targeted was sent the whole list."""
    if not p.has(*COMMENTERS) or p.unit_id is None:
        return false()
    shares = exists().where(CoDepartment.common_problem_id == CommonProblem.id,
                            CoDepartment.department_id == p.unit_id)
    sent = or_(exists().where(CaseProblem.case_id == Case.id, CaseProblem.common_problem_id == CommonProblem.id)
               .correlate(Case, CommonProblem),
               ~exists().where(CaseProblem.case_id == Case.id).correlate(Case))
    return and_(exists().where(Unit.id == Case.unit_id, Unit.department_id == p.unit_id),
                exists().where(CommonProblem.round_id == Case.round_id, sent,
                               or_(CommonProblem.responsible_department_id == p.unit_id, shares)))


def may_list_governed_cases(p: Principal) -> bool:
    return p.has(*COMMENTERS) and p.unit_id is not None


def may_urge(p: Principal) -> bool:
    return p.has(*URGERS)


# ---------------------------------------------------------------- administration duties
def roles_refusal(roles: list[str]) -> str | None:
    """Why an account may not hold these roles together, as an error code, or None."""
    duties = [r for r in roles if r in ADMIN_DUTIES]
    if duties and len(roles) > 1:
        return "roles_exclusive"
    return None


def role_change_proposal_refusal(p: Principal, user_id: int) -> str | None:
    """Why the principal may not propose a change of this account's roles, as an error code, or None."""
    if not p.has(*ROLE_KEEPERS):
        return "role_required"
    if user_id == p.id:
        return "self_grant_refused"
    return None


def role_change_decision_refusal(p: Principal, change: RoleChange) -> str | None:
    """Why the principal may not approve or reject this proposal, as an error code, or None: nobody
    decides on their own roles or their own proposal, and the decider holds the other duty."""
    if not p.has(*ROLE_KEEPERS):
        return "role_required"
    if change.user_id == p.id:
        return "self_grant_refused"
    if change.proposed_by == p.id:
        return "own_proposal"
    other = "security_admin" if change.proposer_duty == "admin" else "admin"
    if not p.has(other):
        return "second_duty_required"
    return None


# ---------------------------------------------------------------- the second factor
def needs_second_factor(p: Principal, policy: bool) -> bool:
    """Whether the account must have a second factor: under the policy, for the roles that need one.
    Such an account may not turn its factor off, and does nothing else until it has one."""
    return policy and p.has(*TOTP_REQUIRED_ROLES)


def may_read_audit_log(p: Principal) -> bool:
    """The audit log is read, exported and verified by the audit administrator alone."""
    return p.has(*AUDIT_READERS)


# ---------------------------------------------------------------- accounts and units (the system administrator)
def initial_roles_refusal(roles: list[str]) -> str | None:
    """Why a new account (created by the system administrator, on a page, through the API or by the
    organisation import) may not be given these roles at once, as an error code, or None. Roles of
    the work take effect at creation; an administrator duty is granted only by a role change that
    the other duty approves (`role_change_decision_refusal`), so no one administrator makes another."""
    if any(r in ADMIN_DUTIES for r in roles):
        return "admin_duty_by_change"
    return roles_refusal(roles)


def account_edit_refusal(p: Principal, user_id: int, user_roles: list[str], deactivate: bool) -> str | None:
    """Why the principal may not edit this account (name, unit, enabled), as an error code, or None.
    Roles are never changed this way (see role_changes). The accounts of the administrator duties
    are left alone, so the system administrator cannot disable the one who checks them."""
    if not p.has(*ADMINISTRATORS):
        return "role_required"
    if user_id == p.id and deactivate:
        return "self_deactivation"
    if user_id != p.id and any(r in ADMIN_DUTIES for r in user_roles):
        return "admin_duty_protected"
    return None


def password_reset_refusal(p: Principal, user_id: int, user_roles: list[str]) -> str | None:
    """Why the principal may not reset this account's password, as an error code, or None: the
    system administrator resets the passwords of the accounts of the work; their own is changed on
    their account page, and another administrator duty's is not theirs to take over."""
    if not p.has(*ADMINISTRATORS):
        return "role_required"
    if user_id == p.id:
        return "own_password_reset"
    if any(r in ADMIN_DUTIES for r in user_roles):
        return "admin_duty_protected"
    return None


# ---------------------------------------------------------------- residents (群众反映, 整改公开, 满意度)
# Residents report, follow their report by its code and rate published rectifications without an
# account; everything they send is public input, everything they read is chosen for them.
RESIDENT_TRIAGERS = ("office",)       # read incoming reports; link, forward, reply; print the QR codes
DISCLOSURE_KEEPERS = ("office",)      # choose and approve what a round's disclosure page shows
PETITION_KEEPERS = ("office",)        # enter petition counts (信访量) per unit and month


def may_triage_reports(p: Principal) -> bool:
    return p.has(*RESIDENT_TRIAGERS)


def may_read_resident_report(p: Principal, forwarded_unit_id: int | None) -> bool:
    """The office reads every report; a unit reads one forwarded to it (its liaison and head work the
    task), with the photos, never the resident's contact."""
    if p.has(*RESIDENT_TRIAGERS):
        return True
    return forwarded_unit_id is not None and p.has("unit_liaison", "unit_head") and p.unit_id == forwarded_unit_id


def sees_resident_contact(p: Principal) -> bool:
    """The resident's contact is for the office alone, to ask back; a unit never gets it."""
    return p.has(*RESIDENT_TRIAGERS)


def may_keep_disclosures(p: Principal) -> bool:
    return p.has(*DISCLOSURE_KEEPERS)


def may_enter_petitions(p: Principal) -> bool:
    return p.has(*PETITION_KEEPERS)
