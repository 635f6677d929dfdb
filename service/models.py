"""The domain: organisation, rounds and their problem library, per-unit cases and their records.

Workflow state lives in the engine's tables; what the office reports on lives here, as rows
that can be counted and filtered without touching a workflow.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workflows.tables import UTCDateTime

ROLES = {
    "office": "巡察办",
    "inspector": "巡察组成员",
    "leading_group": "巡察工作领导小组",
    "leader": "分管区领导",
    "department": "职能部门",
    "unit_liaison": "单位联络员",
    "unit_head": "单位主要负责人",
    "discipline": "纪委监委",
    "designer": "流程设计",
    "admin": "系统管理员",
    "security_admin": "安全管理员",
    "audit_admin": "审计管理员",
    "auditor": "审计",
}
UNIT_KINDS = ("department", "street", "community", "company", "office", "leading_group", "discipline")
# Units that receive every published list and rectify against it.
RECTIFYING_KINDS = ("department", "street", "community", "company")


class RoundStatus(StrEnum):
    DISCOVERING = "discovering"  # inspectors record problems
    LISTING = "listing"          # the office distils the list, the leading group approves it
    PUBLISHED = "published"      # every unit rectifies
    CLOSED = "closed"


class CaseStatus(StrEnum):
    SELF_CHECK = "self_check"
    RECTIFYING = "rectifying"
    FILED = "filed"
    RETURNED = "returned"
    CLOSED = "closed"


class ItemStatus(StrEnum):
    """How far one common problem's rectification has come in a unit."""

    DONE = "done"
    ONGOING = "ongoing"
    NOT_DONE = "not_done"


class WarningLevel(StrEnum):
    """The supervision ladder's colours, in the order they escalate."""

    NONE = "none"
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        return list(WarningLevel).index(self)

    def escalated_to(self, level: WarningLevel) -> WarningLevel:
        """A warning only ever rises: a late green timer never lowers a red case."""
        return level if level.rank > self.rank else self


class ProblemSource(StrEnum):
    INSPECTION = "inspection"
    RESIDENT_REPORT = "resident_report"
    AUDIT = "audit"


class DocumentKind(StrEnum):
    """The documents the service writes, each numbered in its own sequence per year."""

    RECOMMENDATION_LETTER = "recommendation_letter"  # 巡察建议书, to a responsible department
    TRACKING_LETTER = "tracking_letter"              # 督办函, to a late unit
    REPORT = "report"                                # 整改报告, what a unit files
    TALK_RECORD = "talk_record"                      # 谈话提醒记录


class KeyKind(StrEnum):
    """What a process instance is about: the record its business key names."""

    ROUND = "round"
    CASE = "case"
    LETTER = "letter"
    CLUE = "clue"
    MEASURE = "measure"  # a measure followed after its case closed (measure_followup)
    RESIDENT_REPORT = "resident_report"  # a resident's report forwarded to a unit (resident_report)


@dataclass(frozen=True)
class BusinessKey:
    """`case:12`: the record a process instance works on, as the engine stores it."""

    kind: KeyKind
    id: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> BusinessKey | None:
        kind, _, ident = (text or "").partition(":")
        if kind not in KeyKind.__members__.values() or not ident.isdigit():
            return None
        return cls(KeyKind(kind), int(ident))


CASE_STATUSES = tuple(CaseStatus)
DOCUMENT_KINDS = tuple(DocumentKind)
WARNINGS = tuple(WarningLevel)
PROBLEM_SOURCES = tuple(ProblemSource)


class Base(DeclarativeBase):
    pass


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    industry: Mapped[str | None] = mapped_column(String(100))
    # The functional department that governs this unit's industry (the "解铃人").
    department_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", use_alter=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The generation of the account's page sessions: a session carries the one it began in, and
    # logout or a password change moves it on, which ends every session of the older one.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Kept for databases of earlier releases; failed logins are counted in LoginThrottle now.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when an administrator created the account or reset its password (a temporary password):
    # until its holder sets a password of their own, the account does nothing else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])


class LoginThrottle(Base):
    """Failed logins by the username tried, whether or not an account has that name, so that a
    lockout says nothing about which usernames exist. Keyed by the name's SHA-256: any text fits."""

    __tablename__ = "login_throttle"

    name_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    # guesses counted towards the lockout, each counted before its password is checked
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the last guess counted: a name not tried for the lockout window is forgotten (auth.forget_idle_names)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TotpFactor(Base):
    """An account's second factor: a TOTP secret (RFC 6238, base32) as authenticator apps keep it.
    Pending until a code from the app confirms it; once active, a login needs a code, and
    `last_step` (the 30-second time step of the last code accepted) refuses a code used before."""

    __tablename__ = "totp_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the token last let a request in, to within auth.TOKEN_USE_PRECISION (not written on
    # every request); None until its first use.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordHistory(Base):
    """The account's recent passwords (argon2 hashes, never the passwords), the current one
    included: a new password may not be one of them. Kept to auth.PASSWORD_HISTORY per account."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)  # the order they were set in
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    hash: Mapped[str] = mapped_column(String(200))
    # None for a password set before passwords were kept here (found current at the first change)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Round(Base):
    __tablename__ = "inspection_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # discovering -> listing -> published -> closed
    status: Mapped[str] = mapped_column(String(20), default="discovering")
    process_instance_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    inspected: Mapped[list[RoundUnit]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    inspectors: Mapped[list[RoundInspector]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def accepts_findings(self) -> bool:
        """Problems and clues are recorded until the list is published."""
        return self.status in (RoundStatus.DISCOVERING, RoundStatus.LISTING)

    def has_inspector(self, user_id: int) -> bool:
        return any(i.user_id == user_id for i in self.inspectors)


class RoundUnit(Base):
    __tablename__ = "round_unit"

    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)


class RoundInspector(Base):
    __tablename__ = "round_inspector"

    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)


class Problem(Base):
    __tablename__ = "problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(30))
    common_problem_id: Mapped[int | None] = mapped_column(ForeignKey("common_problem.id"), index=True)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Recurrence (问题反弹): the earlier case that closed a similar problem of the same unit, or the
    # case a follow-up re-check (回头看) reopened; `recurrence` says which (service.insight.Recurrence).
    recurring_of_case_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    recurrence: Mapped[str | None] = mapped_column(String(20))


class CommonProblem(Base):
    __tablename__ = "common_problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100))
    responsible_department_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who it goes to: None (or nothing chosen) for every rectifying unit, else
    # {"kinds", "industries", "parent_ids", "unit_ids"}; a unit matching any of them receives it.
    targets: Mapped[dict | None] = mapped_column(JSON)

    co_departments: Mapped[list[CoDepartment]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                              order_by="CoDepartment.department_id")

    @property
    def co_department_ids(self) -> list[int]:
        return [c.department_id for c in self.co_departments]

    def department_ids(self) -> list[int]:
        """The lead department first, then the co-responsible ones: each gets a recommendation letter."""
        return [self.responsible_department_id, *(d for d in self.co_department_ids
                                                  if d != self.responsible_department_id)]


class CoDepartment(Base):
    """A co-responsible functional department (协同责任部门) of a common problem, beside its lead."""

    __tablename__ = "common_problem_co_department"

    common_problem_id: Mapped[int] = mapped_column(ForeignKey("common_problem.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)


class CaseProblem(Base):
    """A common problem sent to a case at publication: what the unit self-checks, rectifies and files.
    A case without such rows (published before lists were targeted) received the whole list."""

    __tablename__ = "case_common_problem"

    case_id: Mapped[int] = mapped_column(ForeignKey("rectification_case.id"), primary_key=True)
    common_problem_id: Mapped[int] = mapped_column(ForeignKey("common_problem.id"), primary_key=True, index=True)


class Case(Base):
    """One unit's rectification against one published list."""

    __tablename__ = "rectification_case"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="self_check", index=True)
    warning: Mapped[str] = mapped_column(String(10), default="none")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    process_instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Instances this case ran before a follow-up re-check reopened it; their history stays readable.
    previous_instance_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    @property
    def pass_number(self) -> int:
        """Which rectification pass the case is in: 1, then one more for each follow-up re-check."""
        return len(self.previous_instance_ids or []) + 1

    # Still the unit's to do: a filing under review or a closed case is not late.
    OPEN_STATUSES = (CaseStatus.SELF_CHECK, CaseStatus.RECTIFYING, CaseStatus.RETURNED)

    @hybrid_method
    def is_overdue(self, now: datetime) -> bool:
        """Late: past its deadline and not yet filed (in Python and, on the class, in SQL)."""
        return self.status in self.OPEN_STATUSES and self.due_at < now

    @is_overdue.inplace.expression  # type: ignore[attr-defined]  # mypy does not see through hybrid_method
    @classmethod
    def _is_overdue_in_sql(cls, now: datetime):
        return and_(cls.status.in_(cls.OPEN_STATUSES), cls.due_at < now)


class SelfCheckItem(Base):
    __tablename__ = "self_check_item"
    __table_args__ = (UniqueConstraint("case_id", "common_problem_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    common_problem_id: Mapped[int] = mapped_column(ForeignKey("common_problem.id"))
    applicable: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    problems_found: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[str] = mapped_column(Text, default="")


class RectificationItem(Base):
    __tablename__ = "rectification_item"
    __table_args__ = (UniqueConstraint("case_id", "common_problem_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    common_problem_id: Mapped[int] = mapped_column(ForeignKey("common_problem.id"))
    status: Mapped[str] = mapped_column(String(20))  # done|ongoing|not_done
    # Why an applicable common problem has no measure (this pass); a filing needs a measure or this.
    reason: Mapped[str | None] = mapped_column(Text)

    measures: Mapped[list[Measure]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    institutions: Mapped[list[Institution]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class Measure(Base):
    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("rectification_item.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date | None] = mapped_column(Date)
    # The rectification pass that recorded it (see Case.pass_number); a re-check adds, never replaces.
    pass_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A measure due after its case closed is followed up (measures.py): its process, when the unit
    # reported it done (with evidence) and when it was found overdue.
    followup_instance_id: Mapped[int | None] = mapped_column(Integer)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_comment: Mapped[str | None] = mapped_column(Text)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def followup(self) -> str | None:
        """Where a followed-up measure stands: open, overdue or done; None when not followed up."""
        if self.followup_instance_id is None:
            return None
        return "done" if self.done_at else "overdue" if self.overdue_at else "open"


class Institution(Base):
    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("rectification_item.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    pass_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class EvidenceBlob(Base):
    """File content, stored once per SHA-256 so a re-upload costs nothing."""

    __tablename__ = "evidence_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_item.id"))
    # The common problem the file is evidence for (its item's, or chosen before the item exists:
    # a unit uploads while it first rectifies); None for the case as a whole.
    common_problem_id: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("evidence_blob.sha256"))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_date: Mapped[date | None] = mapped_column(Date)  # the date the document itself bears
    # The followed-up measure the file shows done (uploaded with its follow-up task open); else None.
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measure.id"), index=True)
    # The latest review (accepted|rejected); every review, this one included, is in `reviews`.
    review: Mapped[str | None] = mapped_column(String(20))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    reviews: Mapped[list[EvidenceReview]] = relationship(order_by="EvidenceReview.id", lazy="selectin")


class EvidenceReview(Base):
    """One review of an evidence file by the office; a later review is added, never written over."""

    __tablename__ = "evidence_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    result: Mapped[str] = mapped_column(String(20))  # accepted|rejected
    comment: Mapped[str | None] = mapped_column(Text)
    # None for a review made before reviews were kept one by one, taken over from the evidence row
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExtensionRequest(Base):
    """A unit's request for more time to file (延期申请), decided by the office; an approval moves
    the case's deadline and its warning timers."""

    __tablename__ = "extension_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|approved|refused
    requested_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_before: Mapped[datetime] = mapped_column(UTCDateTime())  # the deadline when it was asked for
    due_after: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the deadline it was moved to
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opinion: Mapped[str | None] = mapped_column(Text)


class Filing(Base):
    __tablename__ = "filing"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    filed_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attest_comment: Mapped[str | None] = mapped_column(Text)
    pass_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # see Case.pass_number
    result: Mapped[str | None] = mapped_column(String(20))  # accepted|returned
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_comment: Mapped[str | None] = mapped_column(Text)


class SupervisionAction(Base):
    """A step of the supervision ladder: warnings, tracking letters, talks, inspections."""

    __tablename__ = "supervision_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    target_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    detail: Mapped[str | None] = mapped_column(Text)
    # How the step ended (service.supervision_steps.OUTCOMES): a letter awaiting its reply, replied or
    # left unanswered; a check passed or failed. None for a step that has no outcome (a warning).
    outcome: Mapped[str | None] = mapped_column(String(20))
    # By when the unit must answer (a tracking letter).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the step's form recorded, field by field (the talk's people, the inspectors chosen…).
    data: Mapped[dict | None] = mapped_column(JSON)


class RecommendationLetter(Base):
    __tablename__ = "recommendation_letter"
    __table_args__ = (UniqueConstraint("round_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    common_problem_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="sent")  # sent|planned|reported|accepted
    process_instance_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # the 巡察建议书 issued with it (see service.documents)
    documents: Mapped[list[Document]] = relationship(
        primaryjoin="RecommendationLetter.id == foreign(Document.letter_id)", order_by="Document.id", viewonly=True,
        lazy="selectin")


class Document(Base):
    """A generated .docx, kept as issued: its bytes and their SHA-256 never change, so every
    download is the same file. Numbered `光巡建〔2026〕3号`: `seq` counts per kind and year."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("kind", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation_letter.id"), index=True)
    filing_id: Mapped[int | None] = mapped_column(ForeignKey("filing.id"))
    # the supervision step the document was issued for (the supervision list shows its number)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_action.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)  # the date the document bears (local)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class LeaderNotification(Base):
    __tablename__ = "leader_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="list")  # list|yellow_warning|red_warning|talk_reminder|talk_record
    case_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_case.id"))
    unit_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The leader's instruction (批示) written when signing for it; the office and the unit read it.
    instruction: Mapped[str | None] = mapped_column(Text)


class Notice(Base):
    """One message in a person's message centre (消息): a new task, a return, a warning, an urge,
    a published list, a leader's instruction, a department's comment. What it is about is named by
    the ids it carries; its words are the page's (by `kind`), besides `detail`, which is what
    someone wrote (a return's reason, an urge's comment)."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_round.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_case.id"))
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("leader_notification.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # the unit it is about
    subject: Mapped[str | None] = mapped_column(String(400))  # a task's name, as its diagram words it
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseComment(Base):
    """A functional department's comment (意见) on a case of a unit whose common problems it governs;
    the unit reads it on its case page."""

    __tablename__ = "case_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rectification_case.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Clue(Base):
    """A problem clue; `content` is for the discipline role only."""

    __tablename__ = "clue"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    summary: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    registered_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # registered -> handed_over -> received -> disposed, or not_handed_over
    status: Mapped[str] = mapped_column(String(20), default="registered")
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disposition: Mapped[str | None] = mapped_column(String(30))  # case_filed|preliminary_check|closed
    people_count: Mapped[int] = mapped_column(Integer, default=0)
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    process_instance_id: Mapped[int | None] = mapped_column(Integer)


class InspectorProfile(Base):
    """The inspector talent pool (巡察人才库): who can inspect what, and whom they must not."""

    __tablename__ = "inspector_profile"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    home_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    # Units this inspector may not inspect (conflict of interest), besides the home unit.
    conflict_unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)


class InspectorDeclaration(Base):
    """One version of an inspector's pool entry, as someone set it: every change is added, so a
    conflict of interest once declared stays on record after it is taken off the profile."""

    __tablename__ = "inspector_declaration"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    home_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    conflict_unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    # None for the entry as it stood before versions were kept, taken over at its first change
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Expert(Base):
    """The co-audit expert pool (协审人才库)."""

    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200))
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoundExpert(Base):
    """A co-audit expert assigned to a round (协审人才库 → the round's audit support)."""

    __tablename__ = "round_expert"

    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id"), primary_key=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditFinding(Base):
    """An audit finding, linked to the inspection problem it corroborates (巡审结合)."""

    __tablename__ = "audit_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    audit_ref: Mapped[str | None] = mapped_column(String(100))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"), index=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One event of the audit log (GB/T 22239 security audit): rows are only ever appended.

    `hash` is HMAC-SHA256, under a key kept outside the database, over the previous row's hash and
    this row's own content (`service.audit.canonical`); ids run 1, 2, 3 … without gaps, so an
    altered, deleted or inserted row breaks the chain (`rectiflow audit verify`)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str | None] = mapped_column(String(80), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(10))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The audit log's one head row: its latest id and hash. Every append locks it first, so appends
    are made one at a time and the chain never forks.

    `base_id` and `base_hash` are the last entry removed when the entries past their retention were
    pruned (`rectiflow audit prune`): the chain now starts after it. Verification accepts that cut
    only when a sealed `audit_pruned` entry names exactly this base."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    base_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    base_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")


class RoleChange(Base):
    """A change of an account's roles, proposed by one administrator and in force only once an
    administrator of the other duty approves it (the two-person rule of 三员分立)."""

    __tablename__ = "role_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    roles_before: Mapped[list[str]] = mapped_column(JSON)
    roles_after: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending, approved, rejected
    proposed_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    proposer_duty: Mapped[str] = mapped_column(String(20))  # the duty it was proposed under: admin or security_admin
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    comment: Mapped[str | None] = mapped_column(String(500))


class TaskDraft(Base):
    """What one user has typed into a task's form and saved without submitting (暂存): kept per task
    and user, restored when the form opens again, and dropped when the task is completed."""

    __tablename__ = "task_draft"
    __table_args__ = (UniqueConstraint("task_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobKind(StrEnum):
    PUBLICATION = "publication"
    MIGRATION = "migration"  # running instances moved to another version of their model


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Base):
    """Work too long for one request (a list's publication to every unit), done in committed chunks
    outside it; `done` of `total` is its progress, `heartbeat` says its runner is still alive."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)          # publication
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED, index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # What the job works through, fixed when it is created (a publication: the units and the deadline).
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime())
    runner: Mapped[str | None] = mapped_column(String(40))            # who holds it: a new one takes over when stale
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------- residents (群众反映, 整改公开, 满意度)
class ResidentReportStatus(StrEnum):
    """Where a resident's report stands, as the resident reads it by the tracking code."""

    RECEIVED = "received"    # 已受理: the office has not acted yet
    LINKED = "linked"        # 已纳入巡察问题: recorded as a problem of a round
    FORWARDED = "forwarded"  # 已交办: a unit handles it by a deadline
    HANDLED = "handled"      # the unit has answered; the office may still reply and close
    CLOSED = "closed"        # 已办结: the office replied


RESIDENT_REPORT_STATUSES = tuple(ResidentReportStatus)


class ResidentReport(Base):
    """A report by a resident, made without an account. The tracking code is the resident's only
    handle on it: long and random, so that codes cannot be guessed or walked through. The contact
    and the address key are personal data: never shown publicly, never disclosed."""

    __tablename__ = "resident_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(50))
    place: Mapped[str] = mapped_column(String(200), default="")  # the street or unit as the resident wrote it
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)    # from the QR code or chosen
    round_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_round.id"), index=True)  # from the QR code
    description: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=ResidentReportStatus.RECEIVED, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # A keyed hash of the submitting address: counts repeated submissions (the challenge), reveals no address.
    source_key: Mapped[str] = mapped_column(String(32), index=True)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"))
    forwarded_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    forward_deadline: Mapped[date | None] = mapped_column(Date)
    process_instance_id: Mapped[int | None] = mapped_column(Integer)
    unit_reply: Mapped[str | None] = mapped_column(Text)   # what the unit answered the office (internal)
    reply: Mapped[str | None] = mapped_column(Text)        # the office's reply to the resident (public by code)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    photos: Mapped[list[ResidentPhoto]] = relationship(order_by="ResidentPhoto.id", lazy="selectin",
                                                       cascade="all, delete-orphan")
    steps: Mapped[list[ResidentReportStep]] = relationship(order_by="ResidentReportStep.id", lazy="selectin",
                                                           cascade="all, delete-orphan")


class ResidentPhoto(Base):
    """A resident's photo as the service re-encoded it (JPEG, no metadata): the uploaded file itself,
    with its camera data and location, is never kept."""

    __tablename__ = "resident_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("resident_report.id"), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class ResidentReportStep(Base):
    """One step of a report's handling, as the resident sees it by the code: a kind and a time (no
    names of staff or units), and the office's reply on the closing step."""

    __tablename__ = "resident_report_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("resident_report.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # received | linked | forwarded | handled | closed
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class ResidentChallenge(Base):
    """A challenge answered (a sum made here, no outside service, that an address which submitted
    several reports works out before the next): its nonce is kept until the challenge expires, so
    one answer never lets two reports through."""

    __tablename__ = "resident_challenge"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Disclosure(Base):
    """A round's public rectification page (整改公开): the office chooses the items and approves the
    page; nothing is public before `published_at`. Items hold copies of the words the office chose,
    so a later edit of a case never changes what was published."""

    __tablename__ = "disclosure"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), unique=True)
    introduction: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    items: Mapped[list[DisclosureItem]] = relationship(order_by="DisclosureItem.position", lazy="selectin",
                                                       cascade="all, delete-orphan")


class DisclosureItem(Base):
    """One line of a disclosure: a unit's rectification of a common problem, with the status and the
    measures as the office worded them for the public."""

    __tablename__ = "disclosure_item"
    __table_args__ = (UniqueConstraint("disclosure_id", "common_problem_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), index=True)
    common_problem_id: Mapped[int] = mapped_column(ForeignKey("common_problem.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))  # ItemStatus
    measures: Mapped[str] = mapped_column(Text, default="")
    shown: Mapped[bool] = mapped_column(Boolean, default=False)


class Rating(Base):
    """A resident's satisfaction (1-5) with a published rectification (an item) or with the handling
    of their own report (by its code): one per code, one per device and item."""

    __tablename__ = "resident_rating"
    __table_args__ = (UniqueConstraint("item_id", "device_key"), UniqueConstraint("report_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure_item.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("resident_report.id"))
    # What the rating is counted against on the dashboard, fixed when it is given.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    device_key: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class PetitionCount(Base):
    """Petitions (信访量) a unit received in a month, as the office enters them from the petition
    bureau's figures: the trend shows whether rectification eased what people complain about."""

    __tablename__ = "petition_count"
    __table_args__ = (UniqueConstraint("unit_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    count: Mapped[int] = mapped_column(Integer)
    entered_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
