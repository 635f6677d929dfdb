"""Engine tables: model versions, instances and the indexes refreshed beside them.

The serialized workflow is the truth; every other table here is an index rebuilt from it
in the same transaction, so the inbox, timers and dashboards never deserialize workflows.
"""
from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns aware UTC values.

    SQLite keeps no zone, so a naive value read back would otherwise be taken for
    server-local time somewhere down the line.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class PlainState(str):
    """A state written as it is, uncompressed: the instances a publication writes by the thousand,
    where zlib would cost more time than their bytes (the first save of each compresses it)."""


class StateText(TypeDecorator):
    """An instance's serialized state, stored as zlib-compressed text (`z1:` and base64).

    A state is ~20 KB of JSON that compresses six to one; it is written on every step and read on
    every load, so the smaller row is cheaper to send, to log (WAL) and to keep. Rows written plain,
    by earlier releases or as `PlainState`, are read as they are. Readers always get the JSON text.
    """

    impl = Text
    cache_ok = True
    PREFIX = "z1:"
    SMALL = 512  # not worth compressing (and the empty state of an instance being created)

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, PlainState) or len(value) < self.SMALL:
            return None if value is None else str(value)
        return self.PREFIX + base64.b64encode(zlib.compress(value.encode(), 1)).decode("ascii")

    def process_result_value(self, value, dialect):
        if value is not None and value.startswith(self.PREFIX):
            return zlib.decompress(base64.b64decode(value[len(self.PREFIX):])).decode()
        return value


class EngineBase(DeclarativeBase):
    pass


class ModelVersion(EngineBase):
    """One deployed version of a process model (key = the main process id)."""

    __tablename__ = "wf_model_version"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(400))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[bytes] = mapped_column(LargeBinary)
    process_ids: Mapped[list] = mapped_column(JSON)
    # {"calls": {process id: model version id}, "decisions": {decision id: decision version id}}: the
    # versions its call activities and business-rule tasks run, pinned when it was deployed (the column's
    # first use, due dates, moved to the parser; earlier rows hold {}).
    task_meta: Mapped[dict] = mapped_column(JSON, default=dict)
    deployed_by: Mapped[str | None] = mapped_column(String(200))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # New instances start from the version of the key made current last: a deploy makes its version
    # current, a designer may go back to an earlier one. A count, not a time: deploys and choices are
    # ordered whatever the clocks say. Rows of earlier releases have none (read as 0: the newest wins).
    current_rank: Mapped[int | None] = mapped_column(Integer)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # no new instances start from it


class DecisionVersion(EngineBase):
    """One deployed version of a DMN decision (key = the decision id). A process model version pins
    the decision versions its business-rule tasks run (`ModelVersion.task_meta["decisions"]`)."""

    __tablename__ = "wf_decision_version"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(400))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    dmn_xml: Mapped[bytes] = mapped_column(LargeBinary)
    deployed_by: Mapped[str | None] = mapped_column(String(200))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    current_rank: Mapped[int] = mapped_column(Integer)  # the highest is current (a redeploy raises it again)


class ProcessInstance(EngineBase):
    __tablename__ = "wf_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("wf_model_version.id"), index=True)
    model_key: Mapped[str] = mapped_column(String(200), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # running|completed|error|suspended|cancelled
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    # The last failure of a timer step, kept until the instance next advances by a timer.
    error: Mapped[str | None] = mapped_column(Text)  # the engine's own words, for whoever repairs the model
    error_code: Mapped[str | None] = mapped_column(String(40))  # what pages word in the reader's language
    error_element: Mapped[str | None] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # none left: the office retries by hand
    state: Mapped[str] = mapped_column(StateText())  # SpiffWorkflow serialization, without the spec
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(EngineBase):
    """Index row of a user task; open while its SpiffWorkflow task is READY."""

    __tablename__ = "wf_human_task"
    __table_args__ = (
        Index("ix_wf_task_inbox", "state", "role", "unit_id", "due_at"),
        # the inbox's filter counts read this index alone (grouped in its order), not the table
        Index("ix_wf_task_facets", "state", "role", "unit_id", "model_key", "bpmn_id", "due_at"),
        # a district-wide role's queue (the office's tens of thousands of open tasks) in the inbox's
        # order: its first page is read off the index instead of sorting every open row of the role
        Index("ix_wf_task_queue", "state", "role", "due_at", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey("wf_instance.id"), index=True)
    model_key: Mapped[str] = mapped_column(String(200), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(200), index=True)
    step: Mapped[str | None] = mapped_column(String(100))  # the mechanism's step the element declares
    name: Mapped[str] = mapped_column(String(400))
    lane: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(50))
    unit_id: Mapped[int | None] = mapped_column(Integer)
    business_key: Mapped[str | None] = mapped_column(String(200))
    form_key: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), default="open")  # open|completed|cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(200))
    # camunda:assignee (a username): when set, that user alone works the task
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    priority: Mapped[int | None] = mapped_column(Integer)  # camunda:priority, higher first

    # Read only when a task is handed to named people; every list of tasks would otherwise pay a
    # second query for them.
    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan")
    offers: Mapped[list[TaskOffer]] = relationship(cascade="all, delete-orphan")


class TaskCandidate(EngineBase):
    """A user named for a task (e.g. the inspectors of one round)."""

    __tablename__ = "wf_task_candidate"

    task_id: Mapped[str] = mapped_column(ForeignKey("wf_human_task.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class TaskOffer(EngineBase):
    """A diagram's camunda:candidateUsers (kind `user`, a username) or candidateGroups (kind `group`,
    the role a group names): with any of these a task is for them, not for its lane's role."""

    __tablename__ = "wf_task_offer"

    task_id: Mapped[str] = mapped_column(ForeignKey("wf_human_task.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # user|group
    name: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class Timer(EngineBase):
    __tablename__ = "wf_timer"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("wf_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class MessageSubscription(EngineBase):
    __tablename__ = "wf_message_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("wf_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(10), default="message", server_default="message")  # message|signal
    name: Mapped[str] = mapped_column(String(200), index=True)
    # the key a message is matched on: what the catch event declares, else the instance's business key
    correlation_key: Mapped[str | None] = mapped_column(String(200), index=True)


class HistoryEntry(EngineBase):
    """Who did what when, in one instance."""

    __tablename__ = "wf_history"
    __table_args__ = (
        # the done list (已办): one user's completed tasks, newest first
        Index("ix_wf_history_actor", "actor", "event", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("wf_instance.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str | None] = mapped_column(String(200))
    # started|task_completed|timer_fired|message|completed|failed|retried|suspended|resumed|cancelled
    event: Mapped[str] = mapped_column(String(50))
    bpmn_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(400))
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict | None] = mapped_column(JSON)


def utcnow() -> datetime:
    return datetime.now(UTC)
