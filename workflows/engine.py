"""The engine facade the service uses: deploy, start, complete, timers, messages.

Every call works inside the caller's SQLAlchemy session and only flushes: the service's unit
of work owns the transaction. Each save writes the serialized workflow and rebuilds its index
rows (human tasks, timers, message subscriptions) in that same transaction; the instance row
carries a version counter, so two writers of one instance cannot both win (StaleDataError).
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessage
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ColumnElement, CursorResult, Select, delete, distinct, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import datacopy, fanout, serializer, spiff_patches
from . import forms as form_schemas
from .clock import Clock
from .registry import LoadedModel, ModelRegistry
from .scripting import (
    CALL_DATA,
    CALL_SECONDS,
    ScriptAccount,
    UnsafeScriptError,
    district_zone,
    make_script_engine,
    script_account,
)
from .steps import step_of
from .tables import (
    HistoryEntry,
    HumanTask,
    MessageSubscription,
    ModelVersion,
    PlainState,
    ProcessInstance,
    TaskCandidate,
    TaskOffer,
    Timer,
)

# TaskIterator stops silently at depth 1000; refuse well before an instance gets there.
MAX_TREE_DEPTH = 400
# A case's whole state is a few tens of kilobytes; far past that, a script is running away.
MAX_STATE_CHARS = 5_000_000
# One call runs an instance until it waits for a person, a timer or a message. The default
# models take a few dozen steps; a diagram that never waits must fail, not hold the request
# (and on SQLite every other writer) for ever.
MAX_STEPS = 10_000
MAX_SECONDS = 5.0
# A timer step that fails is tried again after 1, 2, 4, ... minutes, then left to the office.
TIMER_RETRIES = 5
RETRY_BASE = timedelta(minutes=1)


class EngineError(Exception):
    """`status` is the HTTP status the service answers with, `code` a stable name for clients."""

    status = 409
    code = "instance_conflict"


class UnknownModel(EngineError):
    status, code = 404, "unknown_model"


class TaskNotFound(EngineError):
    status, code = 404, "task_not_found"


class TaskNotOpen(EngineError):
    """The task exists but is no longer waiting for anyone (completed or cancelled)."""

    code = "task_not_open"


class InstanceNotFailed(EngineError):
    code = "instance_not_failed"


class InstanceSuspended(EngineError):
    """Suspended by an operator: nothing of it moves (tasks, timers) until it is resumed."""

    code = "instance_suspended"


class InstanceNotSuspended(EngineError):
    code = "instance_not_suspended"


class InstanceEnded(EngineError):
    """Completed or cancelled: there is nothing left to suspend, resume or cancel."""

    code = "instance_ended"


class InvalidTaskData(EngineError):
    status, code = 422, "invalid_task_data"

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("the data does not fit the task's form")


class WorkflowFailure(EngineError):
    """The diagram itself failed while running (a script or expression error, a stalled loop)."""

    status = 422

    def __init__(self, message: str, element_id: str | None = None, code: str = "workflow_failed"):
        self.element_id = element_id
        self.code = code
        super().__init__(message)


def _failure_code(exc: BaseException) -> str:
    """The code of the script limit behind a SpiffWorkflow error (script_too_slow, ...), else workflow_failed."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, UnsafeScriptError):
            return seen.code
        seen = seen.__cause__ or seen.__context__
    return "workflow_failed"


# What a waiting task listens for: ("message" or "signal", its name, the correlation key its element
# declares, or None for the instance's business key).
Subscribed = tuple[str, str, str | None]
CORRELATION_PROPERTY = "correlationKey"  # the camunda:property that names a catch event's own key


@dataclass(frozen=True)
class Trigger:
    """A message or signal that comes from outside the instance it reaches."""

    kind: str  # message | signal
    name: str
    payload: dict | None

    def caught_by(self, definition) -> bool:
        wanted = MessageEventDefinition if self.kind == "message" else SignalEventDefinition
        return isinstance(definition, wanted) and definition.name == self.name

    def event_for(self, definition) -> BpmnEvent:
        """The event as the catching definition reads it; either way its payload lands in the data
        under the message's or signal's name, and never overwrites the instance's own values (a
        case's deadline, its review's decision). 3.2's Camunda message (catch and start events) keeps
        the payload under a result variable; its plain message (a receive task's) and its signal set
        the payload's own keys."""
        payload = datacopy.deepcopy(self.payload or {})
        if isinstance(definition, CamundaMessage):
            return BpmnEvent(definition, payload={"payload": payload, "result_var": self.name})
        return BpmnEvent(definition, payload={self.name: payload})


def _thrown_signals(model: LoadedModel) -> frozenset[str]:
    """The signals the model's own throw and end events throw."""
    return frozenset(ts.event_definition.name for spec in [model.spec, *model.subprocess_specs.values()]
                     for ts in spec.task_specs.values()
                     if isinstance(ts, ThrowingEvent) and isinstance(ts.event_definition, SignalEventDefinition))


def _event_kind(definition) -> str | None:
    """"message" or "signal" for the event definitions outside callers can set off, else None."""
    if isinstance(definition, MessageEventDefinition):
        return "message"
    return "signal" if isinstance(definition, SignalEventDefinition) else None


def _catch(tasks: list, trigger: Trigger) -> None:
    """The trigger to the waiting tasks that catch it, as SpiffWorkflow's event manager hands an event on."""
    try:
        for task in tasks:
            task.task_spec.catch(task, trigger.event_for(task.task_spec.event_definition))
            task.task_spec._update(task)
    except SpiffWorkflowException as exc:
        raise WorkflowFailure(str(exc).split("\n")[0], tasks[0].task_spec.bpmn_id, _failure_code(exc)) from exc


@dataclass
class StepEvent:
    """Something the workflow did in one call that the service may act on."""

    kind: str  # task_completed | timer_fired | instance_completed | instance_cancelled
    bpmn_id: str | None
    name: str | None
    data: dict = field(default_factory=dict)
    step: str | None = None


@dataclass
class RunResult:
    instance: ProcessInstance
    events: list[StepEvent]
    opened: list[HumanTask] = field(default_factory=list)  # the task rows this run opened, in tree order
    closed: list[str] = field(default_factory=list)  # the ids of the task rows it completed or cancelled


@dataclass
class _Made:
    """An instance made in memory by `start_many`, before its rows are written."""

    state: str
    events: list[StepEvent]
    opened: list[dict]  # the human task rows' values, candidates among them
    timers: dict[str, tuple[str, datetime]]
    messages: dict[str, Subscribed]
    completed: bool

    def same_as(self, other: _Made) -> bool:
        """The same steps, data, events and index rows, task ids and change times aside."""
        def rows(made: _Made) -> tuple:
            return ([{k: v for k, v in r.items() if k != "id"} for r in made.opened],
                    sorted(made.timers.values()), sorted(made.messages.values(), key=repr), made.completed)
        return (fanout.canonical(self.state) == fanout.canonical(other.state) and self.events == other.events
                and rows(self) == rows(other))


@dataclass
class _Indexed:
    """The index rows of an instance as its loaded state implies them (see `Engine._indexed`)."""

    open_ids: set[str]  # the open human tasks
    timers: dict[str, tuple[str, datetime]]
    messages: dict[str, Subscribed]


def _names(value) -> list[str]:
    """Camunda's user and group lists: a comma-separated text, or a list an expression returned."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple, set)) else str(value).split(",")
    return [str(item).strip()[:200] for item in items if str(item).strip()]


def _all_tasks(workflow: BpmnWorkflow, **filters):
    tasks = list(workflow.get_tasks(**filters))
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.get_tasks(**filters))
    return tasks


def _engine_work_left(workflow: BpmnWorkflow) -> bool:
    """Whether a READY step is the engine's to run, read from the flat task maps (a walk of the task
    tree, which `do_engine_steps` begins with even when there is nothing to do, costs far more)."""
    return any(t.state == TaskState.READY and not t.task_spec.manual
               for wf in [workflow, *workflow.subprocesses.values()] for t in wf.tasks.values())


def _shape(model: LoadedModel) -> tuple:
    """The elements and flows of a model version, what a serialized state is read against; the
    scripts, expressions, names and forms inside the elements are left out."""
    return tuple(sorted(
        (name, tuple(sorted((ts.name, type(ts).__name__, tuple(sorted(o.name for o in ts.outputs)))
                            for ts in spec.task_specs.values())))
        for name, spec in [("", model.spec), *model.subprocess_specs.items()]))


def _may_fire(now: datetime) -> ColumnElement[bool]:
    """An instance whose due timers a sweep fires: running, or failed with its retry time come."""
    return or_(ProcessInstance.status == "running",
               (ProcessInstance.status == "error") & (ProcessInstance.retry_at <= now))


def _start_events(model: LoadedModel) -> list:
    """The start events of the model's main process."""
    return list(getattr(model.spec, "bpmn_start_events", []))


def _fire_cycle(task) -> None:
    """One firing of a cycle timer: a path leaves the event, and the timer waits for its next time
    with one repetition fewer; after the last one, or the first of an interrupting boundary event
    (its activity ends), the event itself completes. Marking it fired, as other timers are, would
    end the cycle at once and leave no path behind: 3.2 adds a cycle's paths only as it fires.
    A time missed by more than one interval is fired by the next sweeps, one repetition each."""
    value = dict(task._get_internal_data("event_value"))
    value["next"] = (datetime.fromisoformat(value["next"]) + timedelta(seconds=value["duration"])).isoformat()
    value["cycles"] -= 1
    if value["cycles"] == 0 or getattr(task.task_spec, "cancel_activity", False):
        task.internal_data.pop("event_value", None)
        task._set_internal_data(event_fired=True)
    else:
        task._set_internal_data(event_value=value)
    for output in task.task_spec.outputs:  # as CycleTimerEventDefinition.update_task does on its own clock
        child = task._add_child(output, TaskState.FUTURE)
        child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
        child.task_spec._update(child)


def _ready_human_tasks(workflow: BpmnWorkflow) -> list:
    """The READY manual tasks, read from the flat task maps, in the order of the task tree.

    Walking the tree (`get_tasks`) costs far more, and would visit a sub-process's tasks once for
    each workflow that holds it. With more than one task ready, they are put in the tree's order,
    the order their index rows have always been written in.
    """
    ready = [t for wf in [workflow, *workflow.subprocesses.values()] for t in wf.tasks.values()
             if t.state == TaskState.READY and t.task_spec.manual]
    if len(ready) > 1:
        ready = list({t.id: t for t in _all_tasks(workflow, state=TaskState.READY, manual=True)}.values())
    return ready


class Engine:
    def __init__(
        self,
        forms: form_schemas.FormLibrary,
        clock: Clock | None = None,
        role_for_lane: Callable[[str | None], str | None] = lambda lane: lane,
        naive_zone: str = "Asia/Shanghai",
        required_steps: dict[str, dict[str, str]] | None = None,
        max_steps: int = MAX_STEPS,
        max_seconds: float = MAX_SECONDS,
        timer_retries: int = TIMER_RETRIES,
        retry_base: timedelta = RETRY_BASE,
        script_seconds: float = CALL_SECONDS,
    ) -> None:
        spiff_patches.apply()  # before any workflow runs: task data copied deeply between tasks
        self.forms = forms
        self.max_steps, self.max_seconds = max_steps, max_seconds
        self.script_seconds = script_seconds
        self.timer_retries, self.retry_base = timer_retries, retry_base
        self.clock = clock or Clock()
        self.role_for_lane = role_for_lane
        self.naive_zone = district_zone(naive_zone)
        self.registry = ModelRegistry(forms, required_steps=required_steps)
        self.script_engine = make_script_engine(self.clock.now, self.naive_zone)
        # per model version: the names its expressions may read (None: its instances are never derived)
        self._names: dict[int, frozenset[str] | None] = {}
        # per model version: the signals its own throw and end events throw (a version never changes)
        self._thrown: dict[int, frozenset[str]] = {}

    def script_account(self):
        """Scripts run inside share one time and data budget (`scripting.script_account`): one engine
        call, or a service step with every call it sets off, such as a case started per unit."""
        return script_account(self.script_seconds, CALL_DATA)

    # ----------------------------------------------------------------- models
    def deploy(self, session: Session, xml: bytes, deployed_by: str | None = None):
        return self.registry.deploy(session, xml, deployed_by)

    def deploy_decision(self, session: Session, xml: bytes, deployed_by: str | None = None):
        return self.registry.deploy_decision(session, xml, deployed_by)

    # ----------------------------------------------------------------- instances
    def start(self, session: Session, key: str, data: dict, *, unit_id: int | None = None,
              business_key: str | None = None, actor: str | None = None,
              candidates: dict[str, list[int]] | None = None, trigger: Trigger | None = None) -> RunResult:
        """A new instance of the model's current version. With a `trigger` (a message or signal) it
        begins at the start event that catches it."""
        version_id = self.registry.current_id(session, key)
        if version_id is None:
            raise UnknownModel(f"no process model {key!r} is deployed")
        model = self.registry.load(session, version_id)
        now = self.clock.now()
        instance = ProcessInstance(
            model_version_id=version_id, model_key=key, business_key=business_key, unit_id=unit_id,
            status="running", state="", created_at=now, updated_at=now,
        )
        session.add(instance)
        session.flush()
        self._history(session, instance, "started", actor, data={"business_key": business_key})
        workflow, events = self._fresh(model, data, candidates or {}, trigger)
        return RunResult(instance, events, *self._save(session, instance, workflow, model, events, actor))

    def start_many(self, session: Session, key: str, data: list[dict], *, unit_ids: list[int | None],
                   business_keys: list[str | None], actor: str | None = None,
                   candidates: list[dict[str, list[int]] | None] | None = None) -> list[RunResult]:
        """Start one instance per entry of `data`, as `start` would one after the other, and return
        their results in that order. SpiffWorkflow runs once per group of instances that take the
        same path; the others are derived from that run (the rule is in `workflows.fanout`), and
        every row is written in bulk. A model the rule cannot vouch for runs instance by instance."""
        count = len(data)
        named = [c or {} for c in (candidates or [None] * count)]
        if not len(unit_ids) == len(business_keys) == len(named) == count:
            raise ValueError("start_many needs one unit id, business key and candidate list per instance")
        if not count:
            return []
        version_id = self.registry.current_id(session, key)
        if version_id is None:
            raise UnknownModel(f"no process model {key!r} is deployed")
        model = self.registry.load(session, version_id)
        try:
            parts = fanout.groups(self._referenced(version_id, model), data, named)
        except fanout.NotDerivable:
            return [self.start(session, key, data[i], unit_id=unit_ids[i], business_key=business_keys[i],
                               actor=actor, candidates=named[i]) for i in range(count)]
        made: list[_Made | None] = [None] * count
        with self.script_account() as account:  # one budget for the batch, or the caller's
            for group in parts:
                self._make_group(model, group, data, named, made, account)
        return self._write_many(session, version_id, key, made, unit_ids, business_keys, actor)

    def complete_task(self, session: Session, task_id: str, data: dict, *, actor: str,
                      check: Callable[[HumanTask, dict], None] | None = None) -> RunResult:
        """Complete a READY user task. `check` runs the caller's own rules once the data fits the form."""
        row = session.get(HumanTask, task_id)
        if row is None:
            raise TaskNotFound(f"task {task_id} does not exist")
        if row.state != "open":
            raise TaskNotOpen(f"task {task_id} is already {row.state}")
        instance = self._lock(session, row.instance_id)
        if instance.status == "suspended":
            raise InstanceSuspended(f"process instance {instance.id} is suspended; its tasks wait until it is resumed")
        model, workflow = self._load(session, instance)
        indexed = self._indexed(workflow)
        task = self._find_task(workflow, task_id)
        if task is None or task.state != TaskState.READY:
            raise TaskNotOpen(f"task {task_id} is no longer open")
        schema = self.forms.schema_for(task.task_spec)
        problems = form_schemas.validate(schema, data)
        if problems:
            raise InvalidTaskData(problems)
        if check is not None:
            check(row, data)
        # A fresh copy: in 3.2 sibling tasks may share nested objects with this one.
        task.data = datacopy.deepcopy(task.data)
        task.data.update(datacopy.deepcopy(data))
        try:
            with self.script_account():
                task.run()
        except SpiffWorkflowException as exc:
            raise WorkflowFailure(str(exc), task.task_spec.bpmn_id, _failure_code(exc)) from exc
        events = [StepEvent("task_completed", task.task_spec.bpmn_id, task.task_spec.bpmn_name,
                            datacopy.deepcopy(data), step_of(task.task_spec))]
        if instance.status == "error" and session.scalar(select(Timer.id).where(
                Timer.instance_id == instance.id, Timer.due_at <= self.clock.now()).limit(1)) is None:
            self._clear_failure(instance)  # what failed was a completion, and one has gone through now
        self._history(session, instance, "task_completed", actor, task.task_spec.bpmn_id,
                      task.task_spec.bpmn_name, task_id, data)
        events += self._run(workflow, model)
        return RunResult(instance, events, *self._save(session, instance, workflow, model, events, actor, indexed))

    def instance_data(self, session: Session, instance: ProcessInstance) -> dict:
        """The workflow's latest data (for detail views; the inbox never needs this)."""
        _, workflow = self._load(session, instance)
        data: dict = {}
        for task in _all_tasks(workflow, state=TaskState.READY | TaskState.WAITING | TaskState.COMPLETED):
            data.update(task.data)
        data.update(workflow.data)
        data.pop("__candidates__", None)
        return data

    def element_states(self, session: Session, instance: ProcessInstance) -> dict[str, list[str]]:
        """BPMN element ids by state, for drawing a running instance (a detail view, not the inbox)."""
        _, workflow = self._load(session, instance)
        states: dict[str, set[str]] = {"completed": set(), "active": set(), "waiting": set()}
        for wf in [workflow, *workflow.subprocesses.values()]:
            for task in wf.tasks.values():
                bpmn_id = getattr(task.task_spec, "bpmn_id", None)
                if not bpmn_id:
                    continue
                if task.state == TaskState.COMPLETED:
                    states["completed"].add(bpmn_id)
                elif task.state in (TaskState.READY, TaskState.STARTED):
                    states["active"].add(bpmn_id)
                elif task.state == TaskState.WAITING:
                    states["waiting"].add(bpmn_id)
        # an element running again (a loop's next pass) is shown by its live state
        states["completed"] -= states["active"] | states["waiting"]
        return {k: sorted(v) for k, v in states.items()}

    def task_form(self, session: Session, row: HumanTask) -> dict:
        instance = session.get_one(ProcessInstance, row.instance_id)
        model = self.registry.load(session, instance.model_version_id)
        spec = self._spec_by_bpmn_id(model, row.bpmn_id)
        return self.forms.schema_for(spec)

    # ----------------------------------------------------------------- timers
    def due_timer_instances(self, session: Session, now: datetime | None = None, limit: int = 500) -> list[int]:
        """Instances with a timer due, leaving out those whose last failure waits for its retry time
        (or, with its retries spent, for the office). Only candidates: each is fired after
        `claim_for_timers` has taken it, which says whether it is still for this sweep to fire."""
        now = now or self.clock.now()
        rows = session.execute(
            select(Timer.instance_id).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(Timer.due_at <= now, _may_fire(now))
            .group_by(Timer.instance_id).order_by(Timer.instance_id).limit(limit))
        return [r[0] for r in rows]

    def claim_for_timers(self, session: Session, instance_id: int, now: datetime | None = None) -> bool:
        """Take the instance for the rest of this transaction, to fire its timers in it; False when
        another transaction holds it (a worker firing it, a person completing one of its tasks) or
        when it may not fire now (its last failure waits for its retry time).

        The claim is the transaction's row lock and nothing else: it ends when the transaction
        commits, or rolls back because its process died, and the instance is then due again for
        whoever sweeps next. There is no lease to expire or to clean up.

        PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so sweeps in several processes share out the
        due instances without waiting for one another. SQLite has one writer at a time: a write to
        the row (when it may fire) takes that lock, waiting for it, and what this transaction reads
        afterwards is current; `fire_timers` then reads what is still due."""
        now = now or self.clock.now()
        mine = (ProcessInstance.id == instance_id, _may_fire(now))
        if session.get_bind().dialect.name == "sqlite":
            written = session.execute(update(ProcessInstance).where(*mine).values(id=ProcessInstance.id)
                                      .execution_options(synchronize_session=False))
            return cast(CursorResult, written).rowcount == 1
        return session.scalar(select(ProcessInstance.id).where(*mine).with_for_update(skip_locked=True)) is not None

    def record_failure(self, session: Session, instance_id: int, message: str, element_id: str | None,
                       now: datetime | None = None, code: str = "workflow_failed",
                       timed: bool = True) -> ProcessInstance:
        """Mark an instance whose step failed: its error, the element, and (a timer step, `timed`)
        when to try again; a step a person's completion ran is not retried by itself: the person
        completes again once the model is fixed (and an operator's retry moved it onto the fix).

        Runs in a transaction of its own, after the failed one rolled back, so the failure is
        kept although nothing of the step is.
        """
        now = now or self.clock.now()
        instance = self._lock(session, instance_id)
        if instance.status not in ("running", "error"):
            return instance  # suspended or ended meanwhile: nothing of it runs
        instance.failures = (instance.failures or 0) + 1
        instance.status, instance.error, instance.error_element = "error", message[:4000], element_id
        instance.error_code = code
        left = self.timer_retries - instance.failures
        instance.retry_at = now + self.retry_base * 2 ** (instance.failures - 1) if timed and left >= 0 else None
        self._history(session, instance, "failed", None, element_id, self.element_name(session, instance, element_id),
                      None, {
            "code": code, "message": message[:4000], "attempt": instance.failures,
            "retry_at": instance.retry_at.isoformat() if instance.retry_at else None})
        session.flush()
        return instance

    @staticmethod
    def _clear_failure(instance: ProcessInstance) -> None:
        instance.status, instance.error, instance.error_code, instance.error_element = "running", None, None, None
        instance.failures, instance.retry_at = 0, None

    def retry(self, session: Session, instance_id: int, actor: str) -> ProcessInstance:
        """Someone asks for a failed instance to be tried again now, with a fresh set of retries.

        A fix is deployed as a new version; an instance keeps its own version, so the retry would
        run the broken script again. When the current version has the same elements and flows as
        the instance's (only scripts, expressions, names or forms changed), the instance moves onto
        it first, and the retry runs the fixed step; a version whose shape changed is left to a
        migration."""
        instance = self._lock(session, instance_id)
        if instance.status != "error":
            raise InstanceNotFailed(f"process instance {instance_id} is {instance.status}, not failed")
        instance.failures, instance.retry_at = 0, self.clock.now()
        moved = self._onto_current(session, instance)
        self._history(session, instance, "retried", actor, data=moved)
        session.flush()
        return instance

    def _onto_current(self, session: Session, instance: ProcessInstance) -> dict | None:
        """Move the instance onto its model's current version when only what runs inside its
        elements differs; the versions moved between, or None when it stays."""
        current_id = self.registry.current_id(session, instance.model_key)
        if current_id is None or current_id == instance.model_version_id:
            return None
        old, new = self.registry.load(session, instance.model_version_id), self.registry.load(session, current_id)
        if _shape(old) != _shape(new):
            return None
        try:
            serializer.loads(instance.state, new.spec, new.subprocess_specs, self.script_engine)
        except Exception:  # noqa: BLE001 - a state the other version cannot read stays where it is
            return None
        numbers = dict(session.execute(select(ModelVersion.id, ModelVersion.version).where(
            ModelVersion.id.in_((instance.model_version_id, current_id)))).all())
        moved = {"from_version": numbers[instance.model_version_id], "to_version": numbers[current_id]}
        instance.model_version_id = current_id
        return moved

    def suspend(self, session: Session, instance_id: int, actor: str, reason: str) -> ProcessInstance:
        """Hold the instance: its tasks cannot be completed and its timers do not fire until resumed.
        A failure it had stays recorded, for when it resumes."""
        instance = self._lock(session, instance_id)
        self._refuse_ended(instance)
        if instance.status == "suspended":
            raise InstanceSuspended(f"process instance {instance_id} is suspended already")
        instance.status, instance.updated_at = "suspended", self.clock.now()
        self._history(session, instance, "suspended", actor, data={"reason": reason})
        session.flush()
        return instance

    def resume(self, session: Session, instance_id: int, actor: str, reason: str | None = None) -> ProcessInstance:
        """Let a suspended instance go on; timers that fell due meanwhile fire at the next sweep."""
        instance = self._lock(session, instance_id)
        if instance.status != "suspended":
            raise InstanceNotSuspended(f"process instance {instance_id} is {instance.status}, not suspended")
        instance.status, instance.updated_at = "error" if instance.error else "running", self.clock.now()
        self._history(session, instance, "resumed", actor, data={"reason": reason} if reason else None)
        session.flush()
        return instance

    def cancel(self, session: Session, instance_id: int, actor: str, reason: str) -> RunResult:
        """End the instance where it stands: its open tasks are cancelled (they leave every inbox),
        its timers and message subscriptions go; the state is kept as it was, for the record."""
        instance = self._lock(session, instance_id)
        self._refuse_ended(instance)
        now = self.clock.now()
        closed = list(session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                 HumanTask.state == "open")))
        if closed:
            session.execute(update(HumanTask).where(HumanTask.id.in_(closed)).values(state="cancelled", completed_at=now)
                            .execution_options(synchronize_session="fetch"))
        session.execute(delete(Timer).where(Timer.instance_id == instance_id))
        session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
        instance.status, instance.retry_at, instance.updated_at = "cancelled", None, now
        self._history(session, instance, "cancelled", actor, data={"reason": reason})
        session.flush()
        return RunResult(instance, [StepEvent("instance_cancelled", None, None, {"reason": reason})], [], closed)

    @staticmethod
    def _refuse_ended(instance: ProcessInstance) -> None:
        if instance.status in ("completed", "cancelled"):
            raise InstanceEnded(f"process instance {instance.id} is {instance.status}")

    def fire_timers(self, session: Session, instance_id: int, now: datetime | None = None) -> RunResult | None:
        """Fire the instance's timers due by `now` and run what follows them; None when none is due.

        The instance is locked before its timers are read: whoever fired them first (another
        process's sweep, or a completion whose run passed them) has committed by then, its timer
        rows are gone or moved, and no timer fires twice."""
        now = now or self.clock.now()
        instance = session.get(ProcessInstance, instance_id, with_for_update=True, populate_existing=True)
        if instance is None:
            return None
        due = {t.task_id: t for t in session.scalars(
            select(Timer).where(Timer.instance_id == instance_id, Timer.due_at <= now))}
        if not due:
            if instance.status == "error":  # what failed is no longer waiting
                self._clear_failure(instance)
            return None
        model, workflow = self._load(session, instance)
        events = []
        for task in list(workflow.event_manager.tasks.values()):
            timer = due.get(str(task.id))
            if timer is not None and task.state == TaskState.WAITING:
                # Our clock decides; SpiffWorkflow's own check reads the wall clock.
                if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
                    _fire_cycle(task)
                else:
                    task._set_internal_data(event_fired=True)
                events.append(StepEvent("timer_fired", timer.bpmn_id, task.task_spec.bpmn_name,
                                        step=step_of(task.task_spec)))
                self._history(session, instance, "timer_fired", None, timer.bpmn_id,
                              task.task_spec.bpmn_name, str(task.id), {"due_at": timer.due_at.isoformat()})
        events += self._run(workflow, model)  # _run refreshes timers, so the marked ones move
        if instance.status == "error":  # the step that failed before has now gone through
            self._clear_failure(instance)
        return RunResult(instance, events, *self._save(session, instance, workflow, model, events, None))

    def change_data(self, session: Session, instance_id: int, changes: dict, *, actor: str | None) -> RunResult:
        """Set values in a running instance's data (a deadline moved) and let what was computed from
        them follow: the date timers still waiting and the due dates of open user tasks.

        SpiffWorkflow 3.2 evaluates a timeDate expression once, when its timer starts waiting, and
        keeps the result in the waiting task's internal data (`event_value`); changing the data alone
        would leave every timer at its old point. So each waiting timeDate is evaluated again here
        against the changed data. Every task holding a changed name gets the new value, finished ones
        too: a loop's next pass and the instance's data view read theirs.
        """
        instance = self._lock(session, instance_id)
        if instance.status not in ("running", "error"):
            raise TaskNotOpen(f"process instance {instance_id} is {instance.status}")
        model, workflow = self._load(session, instance)
        fresh = datacopy.deepcopy(changes)
        for wf in [workflow, *workflow.subprocesses.values()]:
            if set(fresh) & set(wf.data):
                wf.data.update(datacopy.deepcopy(fresh))
            for task in wf.tasks.values():
                if set(fresh) & set(task.data):
                    task.data = datacopy.deepcopy(task.data)
                    task.data.update(datacopy.deepcopy(fresh))
        try:
            for task in workflow.event_manager.tasks.values():
                definition = getattr(task.task_spec, "event_definition", None)
                if task.state == TaskState.WAITING and isinstance(definition, TimeDateEventDefinition):
                    with self.script_account():
                        value = self.script_engine.evaluate(task, definition.expression)
                    task._set_internal_data(event_value=value)
        except SpiffWorkflowException as exc:
            element = getattr(getattr(exc, "task", None), "task_spec", None)
            raise WorkflowFailure(str(exc).split("\n")[0], getattr(element, "bpmn_id", None), "timer_invalid") from exc
        for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.state == "open")):
            task = self._find_task(workflow, row.id)
            if task is not None:
                row.due_at = self._due_at(task)
        self._history(session, instance, "data_changed", actor, data=changes)
        events = self._run(workflow, model)
        return RunResult(instance, events, *self._save(session, instance, workflow, model, events, actor))

    # ----------------------------------------------------------------- messages and signals
    def deliver_message(self, session: Session, name: str, correlation_key: str | None = None,
                        payload: dict | None = None, actor: str | None = None, *, business_key: str | None = None,
                        scope: ColumnElement[bool] | None = None) -> list[RunResult]:
        """Deliver a message to the waiting catch events, receive tasks and boundary events of that name
        whose key matches: `correlation_key` what the element declares (else the instance's business
        key), `business_key` the instance's own; with neither, none matches. `scope`, a condition on
        ProcessInstance, limits the instances further (whom the sender may reach). The payload lands
        in the instance's data under the message's name. One result per instance reached."""
        if correlation_key is None and business_key is None:
            return []
        query = self._waiting("message", name, scope)
        if correlation_key is not None:
            query = query.where(MessageSubscription.correlation_key == correlation_key)
        if business_key is not None:
            query = query.where(ProcessInstance.business_key == business_key)
        return self._deliver_all(session, query, Trigger("message", name, payload), actor)

    def broadcast_signal(self, session: Session, name: str, payload: dict | None = None, actor: str | None = None,
                         *, scope: ColumnElement[bool] | None = None) -> list[RunResult]:
        """Throw a signal to every instance waiting for it (`scope` as for messages); its payload lands
        in each instance's data under the signal's name.

        An instance whose own model throws the signal is left out: there the signal is the model's
        word to itself (a case's deadline passed, a review sent it back), and thrown from outside it
        would act in every case at once."""
        query = self._waiting("signal", name, scope)
        versions = session.scalars(select(ProcessInstance.model_version_id).distinct()
                                   .where(ProcessInstance.id.in_(query.with_only_columns(
                                       MessageSubscription.instance_id).scalar_subquery())))
        internal = [v for v in versions if name in self._thrown_by(session, v)]
        if internal:
            query = query.where(ProcessInstance.model_version_id.not_in(internal))
        return self._deliver_all(session, query, Trigger("signal", name, payload), actor)

    def start_events(self, session: Session, kind: str, name: str) -> list[str]:
        """The models whose current version begins with a message (kind "message") or signal start
        event of this name: what an incoming message or signal starts when no instance waits for it."""
        return list(dict.fromkeys(key for k, n, key in self.event_starts(session) if (k, n) == (kind, name)))

    def event_starts(self, session: Session) -> list[tuple[str, str, str]]:
        """(kind, name, model key) of every message and signal start event of the models' current versions."""
        found = []
        for key, version_id in self.registry.current_ids(session).items():
            for ts in _start_events(self.registry.load(session, version_id)):
                kind = _event_kind(ts.event_definition)
                if kind is not None:
                    found.append((kind, ts.event_definition.name, key))
        return found

    def awaited_events(self, session: Session, scope: ColumnElement[bool] | None = None) -> dict[tuple[str, str], int]:
        """How many instances wait for each message and signal, by (kind, name); `scope` as for
        messages, and the signals an instance's own model throws left out, as `broadcast_signal` leaves them."""
        rows = session.execute(
            select(MessageSubscription.kind, MessageSubscription.name, ProcessInstance.model_version_id,
                   func.count(distinct(MessageSubscription.instance_id)))
            .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
            .where(ProcessInstance.status.in_(("running", "error")), *([scope] if scope is not None else []))
            .group_by(MessageSubscription.kind, MessageSubscription.name, ProcessInstance.model_version_id))
        counts: Counter[tuple[str, str]] = Counter()
        for kind, name, version_id, waiting in rows:
            if kind == "signal" and name in self._thrown_by(session, version_id):
                continue
            counts[kind, name] += waiting
        return dict(counts)

    @staticmethod
    def _waiting(kind: str, name: str, scope: ColumnElement[bool] | None) -> Select[int, str]:
        query = (select(MessageSubscription.instance_id, MessageSubscription.task_id)
                 .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
                 .where(MessageSubscription.kind == kind, MessageSubscription.name == name,
                        ProcessInstance.status.in_(("running", "error"))))
        return query.where(scope) if scope is not None else query

    def _deliver_all(self, session: Session, query: Select[int, str], trigger: Trigger,
                     actor: str | None) -> list[RunResult]:
        waiting: dict[int, list[str]] = {}
        for instance_id, task_id in session.execute(query):
            waiting.setdefault(instance_id, []).append(task_id)
        results = []
        for instance_id in sorted(waiting):
            result = self._deliver(session, instance_id, waiting[instance_id], trigger, actor)
            if result is not None:
                results.append(result)
        return results

    def _deliver(self, session: Session, instance_id: int, task_ids: list[str], trigger: Trigger,
                 actor: str | None) -> RunResult | None:
        """The event to the instance's tasks that wait for it; None when none waits any more (another
        transaction delivered first, and this one read the rows before that one committed)."""
        instance = self._lock(session, instance_id)
        model, workflow = self._load(session, instance)
        indexed = self._indexed(workflow)
        tasks = [t for t in (self._find_task(workflow, task_id) for task_id in task_ids)
                 if t is not None and t.state == TaskState.WAITING]
        if not tasks:
            return None
        _catch(tasks, trigger)
        self._history(session, instance, trigger.kind, actor, tasks[0].task_spec.bpmn_id, trigger.name,
                      str(tasks[0].id), trigger.payload or {})
        events = self._run(workflow, model)
        return RunResult(instance, events, *self._save(session, instance, workflow, model, events, actor, indexed))

    # ----------------------------------------------------------------- internals
    def _fresh(self, model: LoadedModel, data: dict, candidates: dict,
               trigger: Trigger | None = None) -> tuple[BpmnWorkflow, list[StepEvent]]:
        """A new workflow of the model with this start data, run until it waits; with a `trigger`,
        the start event that catches it is then set off and the workflow run on."""
        workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=self.script_engine)
        workflow.data["__candidates__"] = candidates
        start = workflow.get_next_task(state=TaskState.READY)
        start.data.update(datacopy.deepcopy(data))
        events = self._run(workflow, model)
        if trigger is None:
            return workflow, events
        starts = [t for t in workflow.event_manager.tasks.values() if t.state == TaskState.WAITING
                  and t.task_spec in _start_events(model) and trigger.caught_by(t.task_spec.event_definition)]
        if not starts:
            raise WorkflowFailure(f"the model has no start event for the {trigger.kind} {trigger.name!r}",
                                  code="no_start_event")
        _catch(starts, trigger)
        return workflow, events + self._run(workflow, model)

    def _thrown_by(self, session: Session, version_id: int) -> frozenset[str]:
        if version_id not in self._thrown:
            self._thrown[version_id] = _thrown_signals(self.registry.load(session, version_id))
        return self._thrown[version_id]

    def _referenced(self, version_id: int, model: LoadedModel) -> frozenset[str]:
        if version_id not in self._names:
            specs = [model.spec, *model.subprocess_specs.values()]
            try:
                if any(text.startswith("${") for spec in specs for ts in spec.task_specs.values()
                       for text in (getattr(ts, "assignment", None) or {}).values()):
                    raise fanout.NotDerivable("who a task is for is worked out from each instance's data")
                self._names[version_id] = fanout.referenced_names(specs)
            except fanout.NotDerivable:
                self._names[version_id] = None
        names = self._names[version_id]
        if names is None:
            raise fanout.NotDerivable(f"model version {version_id} may read data no expression names")
        return names

    def _made(self, workflow: BpmnWorkflow, events: list[StepEvent]) -> _Made:
        """What a fresh run leaves to store: its state and its index rows."""
        state = self._state_text(workflow)
        candidates = workflow.data.get("__candidates__", {})
        opened = []
        for task in _ready_human_tasks(workflow):
            spec = task.task_spec
            role = self.role_for_lane(spec.lane)
            form = getattr(spec, "form", None)
            assignee, priority, offers = self._assignment(task)
            opened.append({
                "id": str(task.id), "bpmn_id": spec.bpmn_id, "step": step_of(spec),
                "name": spec.bpmn_name or spec.bpmn_id, "lane": spec.lane, "role": role,
                "form_key": form.key if form is not None and form.key else None, "due_at": self._due_at(task),
                "assignee": assignee, "priority": priority, "offers": offers,
                "candidates": [int(u) for u in candidates.get(role or "", [])]})
        timers, messages = self._waits(workflow)
        return _Made(state, events, opened, timers, messages, workflow.is_completed())

    def _make_group(self, model: LoadedModel, group: list[int], data: list[dict], named: list[dict],
                    made: list[_Made | None], account: ScriptAccount) -> None:
        """Run the group's first two instances; derive the rest from the first when the second, derived
        the same way, equals its own run (rule 3 of `workflows.fanout`), else run each.

        A derived instance is charged to the script account what the first run's scripts spent, as if
        it had run: when the account cannot pay for all of them, they run, and the limit is met
        exactly where running them one by one meets it."""
        first, rest = group[0], group[1:]
        seconds, volume = account.seconds_left, account.data_left
        workflow, events = self._fresh(model, data[first], named[first])
        made[first] = base = self._made(workflow, events)
        seconds, volume = seconds - account.seconds_left, volume - account.data_left  # what one run spent
        if not rest:
            return
        second = rest[0]
        made[second] = self._made(*self._fresh(model, data[second], named[second]))
        if len(rest) == 1:
            return
        keys = [k for k in data[first] if any(data[i][k] != data[first][k] for i in rest)]
        try:
            template = fanout.template(datacopy.deepcopy(serializer.to_dict(workflow)), data[first], keys)
            fanout.check_events(base.events, data[first], keys)
            if not made[second].same_as(self._derived(template, base, data[second])):  # type: ignore[union-attr]
                raise fanout.NotDerivable("a derived instance differs from its own run")
            derived = len(rest) - 1
            if account.seconds_left < seconds * derived or account.data_left < volume * derived:
                raise fanout.NotDerivable("the script account cannot pay for every instance")
        except fanout.NotDerivable:
            for i in rest[1:]:
                made[i] = self._made(*self._fresh(model, data[i], named[i]))
            return
        account.seconds_left -= seconds * derived
        account.data_left -= volume * derived
        for i in rest[1:]:
            made[i] = self._derived(template, base, data[i])

    def _derived(self, template: fanout.Template, base: _Made, data: dict) -> _Made:
        state, ids = template.derive(data)
        if len(state) > MAX_STATE_CHARS:
            self._too_large(state)
        events = [StepEvent(e.kind, e.bpmn_id, e.name, fanout.with_values(e.data, data, template.keys), e.step)
                  for e in base.events]
        opened = [{**row, "id": ids[row["id"]], "candidates": list(row["candidates"]), "offers": list(row["offers"])}
                  for row in base.opened]
        timers = {ids[task_id]: value for task_id, value in base.timers.items()}
        messages = {ids[task_id]: wait for task_id, wait in base.messages.items()}
        return _Made(state, events, opened, timers, messages, base.completed)

    def _write_many(self, session: Session, version_id: int, key: str, made: list[_Made | None],
                    unit_ids: list[int | None], business_keys: list[str | None], actor: str | None) -> list[RunResult]:
        """Every row of the instances made, table by table, in bulk; the instances and task rows handed
        back are detached objects of those rows (`fanout.detached`), not read back nor kept in the session."""
        now = self.clock.now()
        runs = [m for m in made if m is not None]
        session.flush()  # what the caller added first (the records these instances serve) is written first
        fanout.compress_fast(session)
        values = [{"model_version_id": version_id, "model_key": key, "business_key": business_key, "unit_id": unit_id,
                   "status": "completed" if run.completed else "running", "error": None, "error_code": None,
                   "error_element": None, "failures": 0, "retry_at": None, "state": PlainState(run.state), "lock_version": 1,
                   "created_at": now, "updated_at": now}
                  for run, unit_id, business_key in zip(runs, unit_ids, business_keys, strict=True)]
        ids = fanout.write_rows(session, ProcessInstance, values, with_ids=True)
        history, tasks, candidates, offers, timers, messages, results = [], [], [], [], [], [], []
        for instance_id, row, run in zip(ids, values, runs, strict=True):
            row["id"] = instance_id
            instance = fanout.detached(ProcessInstance, row)
            history.append({"instance_id": instance_id, "at": now, "actor": actor, "event": "started",
                            "bpmn_id": None, "name": None, "task_id": None,
                            "data": {"business_key": row["business_key"]}})
            if run.completed:
                history.append({"instance_id": instance_id, "at": now, "actor": actor, "event": "completed",
                                "bpmn_id": None, "name": None, "task_id": None, "data": None})
            opened = []
            for made_row in run.opened:
                task = {"id": made_row["id"], "instance_id": instance_id, "model_key": key, "bpmn_id": made_row["bpmn_id"],
                        "step": made_row["step"], "name": made_row["name"], "lane": made_row["lane"],
                        "role": made_row["role"], "unit_id": row["unit_id"], "business_key": row["business_key"],
                        "form_key": made_row["form_key"], "due_at": made_row["due_at"], "state": "open",
                        "created_at": now, "completed_at": None, "completed_by": None,
                        "assignee": made_row["assignee"], "priority": made_row["priority"]}
                tasks.append(task)
                named = [{"task_id": task["id"], "user_id": u} for u in made_row["candidates"]]
                candidates += named
                offered = [{"task_id": task["id"], "kind": kind, "name": name} for kind, name in made_row["offers"]]
                offers += offered
                opened.append(fanout.detached(HumanTask, {
                    **task, "candidates": [fanout.detached(TaskCandidate, c) for c in named],
                    "offers": [fanout.detached(TaskOffer, o) for o in offered]}))
            timers += [{"instance_id": instance_id, "task_id": task_id, "bpmn_id": bpmn_id, "due_at": due}
                       for task_id, (bpmn_id, due) in run.timers.items()]
            messages += [{"instance_id": instance_id, "task_id": task_id, "kind": kind, "name": name,
                          "correlation_key": key if key is not None else row["business_key"]}
                         for task_id, (kind, name, key) in run.messages.items()]
            results.append(RunResult(instance, run.events, opened))
        for model, rows in ((HistoryEntry, history), (HumanTask, tasks), (TaskCandidate, candidates),
                            (TaskOffer, offers), (Timer, timers), (MessageSubscription, messages)):
            fanout.write_rows(session, model, rows)
        return results

    @staticmethod
    def _lock(session: Session, instance_id: int) -> ProcessInstance:
        """Row-lock the instance where the database can (PostgreSQL); the version counter
        still guards SQLite and any path that did not lock."""
        return session.get_one(ProcessInstance, instance_id, with_for_update=True, populate_existing=True)

    def _load(self, session: Session, instance: ProcessInstance) -> tuple[LoadedModel, BpmnWorkflow]:
        model = self.registry.load(session, instance.model_version_id)
        workflow = serializer.loads(instance.state, model.spec, model.subprocess_specs, self.script_engine)
        return model, workflow

    @staticmethod
    def _find_task(workflow: BpmnWorkflow, task_id: str):
        try:
            uid = UUID(task_id)
        except (ValueError, TypeError):
            return None
        for wf in [workflow, *workflow.subprocesses.values()]:
            if uid in wf.tasks:
                return wf.tasks[uid]
        return None

    def element_name(self, session: Session, instance: ProcessInstance, bpmn_id: str | None) -> str | None:
        try:
            spec = self._spec_by_bpmn_id(self.registry.load(session, instance.model_version_id), bpmn_id or "")
        except TaskNotFound:
            return None
        return spec.bpmn_name

    def element_form(self, session: Session, instance: ProcessInstance, bpmn_id: str | None) -> dict:
        """The form schema of an element of the version the instance runs on ({} when it has none),
        so that data a completed task submitted can be shown under the form's own labels."""
        try:
            spec = self._spec_by_bpmn_id(self.registry.load(session, instance.model_version_id), bpmn_id or "")
            return self.forms.schema_for(spec)
        except Exception:  # noqa: BLE001 - an element or form gone from the model: no labels, not a failure
            return {}

    @staticmethod
    def _spec_by_bpmn_id(model: LoadedModel, bpmn_id: str):
        for spec in [model.spec, *model.subprocess_specs.values()]:
            for ts in spec.task_specs.values():
                if ts.bpmn_id == bpmn_id:
                    return ts
        raise TaskNotFound(f"the model has no task {bpmn_id!r}")

    def _run(self, workflow: BpmnWorkflow, model: LoadedModel) -> list[StepEvent]:
        events: list[StepEvent] = []
        ran: Counter[str] = Counter()
        deadline = time.monotonic() + self.max_seconds

        def did_complete(task):
            spec = task.task_spec
            ran[spec.bpmn_id or spec.name] += 1
            if ran.total() > self.max_steps or time.monotonic() > deadline:
                element = ran.most_common(1)[0][0]
                raise WorkflowFailure(
                    f"the instance ran {ran.total():,} steps without waiting for anyone (limits: "
                    f"{self.max_steps:,} steps, {self.max_seconds:g} s), most often at {element!r}; "
                    "a loop or timer in the diagram repeats without end", element, "step_limit")
            if getattr(spec, "bpmn_id", None) and not spec.manual:
                events.append(StepEvent("task_completed", spec.bpmn_id, spec.bpmn_name, datacopy.deepcopy(
                    {k: v for k, v in task.data.items() if k != "__candidates__"}), step_of(spec)))

        try:
            with self.script_account():
                workflow.do_engine_steps(did_complete_task=did_complete)  # ends by looking at the timers
                if _engine_work_left(workflow):  # a timer that is due now: run what follows it
                    workflow.do_engine_steps(did_complete_task=did_complete)
        except SpiffWorkflowException as exc:
            element = getattr(getattr(exc, "task", None), "task_spec", None)
            code = "timer_invalid" if isinstance(exc, spiff_patches.TimerValueError) else _failure_code(exc)
            raise WorkflowFailure(str(exc).split("\n")[0], getattr(element, "bpmn_id", None), code) from exc
        # Read the flat task maps: SpiffWorkflow's iterator no longer sees tasks this deep.
        unfinished = TaskState.READY | TaskState.WAITING | TaskState.STARTED
        live = [t for wf in [workflow, *workflow.subprocesses.values()] for t in wf.tasks.values()
                if t.state & unfinished]
        for task in live:
            if task.depth > MAX_TREE_DEPTH:
                raise WorkflowFailure(
                    f"the instance's task tree is {task.depth} levels deep at {task.task_spec.bpmn_id!r}; "
                    "a gateway loop-back repeats without bound — model the repetition as a sub-process "
                    "with standardLoopCharacteristics", task.task_spec.bpmn_id, "loop_too_deep")
        if workflow.is_completed():
            events.append(StepEvent("instance_completed", None, None))
        elif not any(t.state & (TaskState.READY | TaskState.WAITING) for t in live):
            # Nothing waits for a person, a timer or a message, yet the process has not ended:
            # saving this would answer "done" and leave the instance stuck for good.
            stuck = next((t.task_spec.bpmn_id for t in live if t.task_spec.bpmn_id), None)
            raise WorkflowFailure("the instance stopped before its end with nothing left to wait for"
                                  + (f" (at {stuck!r})" if stuck else ""), stuck, "instance_stalled")
        return events

    def _indexed(self, workflow: BpmnWorkflow) -> _Indexed:
        """What the index rows of a workflow just loaded say, read from its state instead of the tables.

        Every save rebuilds the rows from the state in the same transaction, so a loaded state and
        its rows agree; a save that knows them writes only the difference, without reading the rows.
        """
        open_ids = {str(t.id) for wf in [workflow, *workflow.subprocesses.values()] for t in wf.tasks.values()
                    if t.state == TaskState.READY and t.task_spec.manual}
        return _Indexed(open_ids, *self._waits(workflow))

    def _save(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow,
              model: LoadedModel, events: list[StepEvent], actor: str | None,
              indexed: _Indexed | None = None) -> tuple[list[HumanTask], list[str]]:
        """Store the state and bring the task, timer and message rows in line with it; the task rows
        opened and the ids of those closed, for the caller to tell people of. With `indexed` (what
        the rows said when the state was loaded) only the changes are written, and no row is read."""
        now = self.clock.now()
        instance.state = self._state_text(workflow)
        instance.updated_at = now
        if workflow.is_completed():
            instance.status = "completed"
            self._history(session, instance, "completed", actor)
        # the instance's version check first: a writer that lost the race fails on it (and is tried
        # again) before it writes index rows the winner has already written
        session.flush()
        if indexed is None:
            changes = self._index_human_tasks(session, instance, workflow, model, now)
            self._index_waits(session, instance, workflow)
        else:
            changes = self._update_human_tasks(session, instance, workflow, indexed.open_ids, now)
            self._update_waits(session, instance, workflow, indexed)
        session.flush()
        return changes

    def _state_text(self, workflow: BpmnWorkflow) -> str:
        state = serializer.dumps(workflow)
        if len(state) > MAX_STATE_CHARS:
            self._too_large(state)
        return state

    @staticmethod
    def _too_large(state: str) -> None:
        raise WorkflowFailure(f"the instance's data grew to {len(state):,} characters, over the limit of "
                              f"{MAX_STATE_CHARS:,}; a script is building more data than a case can hold",
                              code="state_too_large")

    def _index_human_tasks(self, session, instance, workflow, model, now) -> tuple[list[HumanTask], list[str]]:
        ready = {str(t.id): t for t in _ready_human_tasks(workflow)}
        open_rows = {r.id: r for r in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open"))}
        closed = []
        for task_id, row in open_rows.items():
            if task_id not in ready:
                closed.append(task_id)
                spiff_task = self._find_task(workflow, task_id)
                row.state = "completed" if spiff_task is not None and spiff_task.state == TaskState.COMPLETED \
                    else "cancelled"
                row.completed_at = now
        opened = [self._task_row(session, instance, workflow, task, task_id, now)
                  for task_id, task in ready.items() if task_id not in open_rows]
        return opened, closed

    def _update_human_tasks(self, session, instance, workflow, open_ids: set[str],
                            now) -> tuple[list[HumanTask], list[str]]:
        """`_index_human_tasks` for an instance whose open rows are known (`open_ids`): rows closed
        and opened are written, none read."""
        ready = {str(t.id): t for t in _ready_human_tasks(workflow)}
        closed = [task_id for task_id in open_ids if task_id not in ready]
        ends: dict[str, list[str]] = {}
        for task_id in closed:
            spiff_task = self._find_task(workflow, task_id)
            state = "completed" if spiff_task is not None and spiff_task.state == TaskState.COMPLETED else "cancelled"
            row = session.identity_map.get(session.identity_key(HumanTask, task_id))
            if row is not None:  # held by this session (the task being completed): keep it up to date
                row.state, row.completed_at = state, now
            else:
                ends.setdefault(state, []).append(task_id)
        for state, ids in ends.items():
            session.execute(update(HumanTask).where(HumanTask.id.in_(ids), HumanTask.state == "open")
                            .values(state=state, completed_at=now), execution_options={"synchronize_session": False})
        opened = [self._task_row(session, instance, workflow, task, task_id, now)
                  for task_id, task in ready.items() if task_id not in open_ids]
        return opened, closed

    def _task_row(self, session, instance, workflow, task, task_id: str, now) -> HumanTask:
        spec = task.task_spec
        role = self.role_for_lane(spec.lane)
        form = getattr(spec, "form", None)
        row = HumanTask(
            id=task_id, instance_id=instance.id, model_key=instance.model_key, bpmn_id=spec.bpmn_id,
            step=step_of(spec),
            name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane, role=role, unit_id=instance.unit_id,
            business_key=instance.business_key, form_key=form.key if form is not None and form.key else None,
            due_at=self._due_at(task), state="open", created_at=now,
        )
        row.assignee, row.priority, offers = self._assignment(task)
        named = workflow.data.get("__candidates__", {}).get(role or "", [])
        if named:
            row.candidates = [TaskCandidate(user_id=int(u)) for u in named]
        else:  # known to be none: no load when read, and no collection bookkeeping to write
            set_committed_value(row, "candidates", [])
        if offers:
            row.offers = [TaskOffer(kind=kind, name=name) for kind, name in offers]
        else:
            set_committed_value(row, "offers", [])
        session.add(row)
        return row

    def _assignment(self, task) -> tuple[str | None, int | None, list[tuple[str, str]]]:
        """The task's assignee, priority and offers (candidate users, and the roles its candidate groups
        name) from the diagram's camunda attributes, expressions evaluated against the task's data."""
        written = getattr(task.task_spec, "assignment", None) or {}
        if not written:
            return None, None, []
        values = {name: self._assignment_value(task, name, text) for name, text in written.items()}
        assignee = _names(values.get("assignee"))
        written_priority = values.get("priority")
        try:
            priority = int(written_priority) if written_priority not in (None, "") else None  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise WorkflowFailure(f"the priority of {task.task_spec.bpmn_id} is not a whole number: "
                                  f"{written_priority!r}", task.task_spec.bpmn_id, "priority_invalid") from exc
        offers = [("user", u) for u in _names(values.get("candidateUsers"))]
        offers += [("group", role) for role in dict.fromkeys(
            self.role_for_lane(g) for g in _names(values.get("candidateGroups"))) if role]
        return (assignee[0] if assignee else None), priority, sorted(set(offers))

    def _assignment_value(self, task, name: str, text: str):
        if not text.startswith("${"):
            return text
        try:
            return self.script_engine.evaluate(task, text[2:-1].strip())
        except SpiffWorkflowException as exc:
            raise WorkflowFailure(f"camunda:{name} of {task.task_spec.bpmn_id} cannot be worked out: {exc}",
                                  task.task_spec.bpmn_id, "assignment_invalid") from exc

    def _due_at(self, task) -> datetime | None:
        expression = getattr(task.task_spec, "due_date", None)
        if not expression:
            return None
        try:
            return self.parse_when(self.script_engine.evaluate(task, expression))
        except (SpiffWorkflowException, ValueError, TypeError) as exc:
            raise WorkflowFailure(f"the due date of {task.task_spec.bpmn_id} is not a time: {exc}",
                                  task.task_spec.bpmn_id, "due_date_invalid") from exc

    def parse_when(self, value) -> datetime | None:
        """An engine time value as aware UTC; naive values are read in the district's zone,
        never in the server's local zone (SpiffWorkflow 3.2 would use the latter)."""
        if value is None:
            return None
        if isinstance(value, dict):  # cycle timers keep {"next": ...}
            value = value.get("next")
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.naive_zone)
        return when.astimezone(UTC)

    def _waits(self, workflow) -> tuple[dict[str, tuple[str, datetime]], dict[str, Subscribed]]:
        """The timer (bpmn id, due time), message or signal each waiting task waits for, by task id."""
        timers: dict[str, tuple[str, datetime]] = {}
        messages: dict[str, Subscribed] = {}
        for task in workflow.event_manager.tasks.values():
            if task.state != TaskState.WAITING:
                continue
            definition = task.task_spec.event_definition
            if isinstance(definition, TimerEventDefinition):
                try:
                    due = self.parse_when(definition.details(task).value)
                except (ValueError, TypeError) as exc:
                    raise WorkflowFailure(f"the timer {task.task_spec.bpmn_id} has no valid time: {exc}",
                                          task.task_spec.bpmn_id, "timer_invalid") from exc
                if due is not None:
                    timers[str(task.id)] = (task.task_spec.bpmn_id, due)
            elif isinstance(definition, MessageEventDefinition):
                messages[str(task.id)] = ("message", definition.name, self._correlation_key(task))
            elif isinstance(definition, SignalEventDefinition):
                messages[str(task.id)] = ("signal", definition.name, None)
        return timers, messages

    def _correlation_key(self, task) -> str | None:
        """The key a message catch event declares (camunda:property correlationKey, an expression over
        the instance's data, as `case_no`), evaluated as it starts waiting; None: the business key."""
        expression = (getattr(task.task_spec, "extensions", None) or {}).get(CORRELATION_PROPERTY)
        if not expression:
            return None
        try:
            with self.script_account():
                value = self.script_engine.evaluate(task, expression)
        except SpiffWorkflowException as exc:
            raise WorkflowFailure(f"the correlation key of {task.task_spec.bpmn_id} cannot be worked out: "
                                  f"{str(exc).splitlines()[0]}", task.task_spec.bpmn_id, "correlation_key_invalid") from exc
        return None if value is None else str(value)[:200]

    def _index_waits(self, session, instance, workflow) -> None:
        """The instance's timer and message rows as its waiting tasks need them; rows that already
        say so are kept, the rest deleted or added."""
        timers, messages = self._waits(workflow)
        with session.no_autoflush:  # only this instance's index rows are read, and none is pending
            stored_timers = session.execute(select(Timer.id, Timer.task_id, Timer.bpmn_id, Timer.due_at)
                                            .where(Timer.instance_id == instance.id)).all()
            stored_messages = session.execute(
                select(MessageSubscription.id, MessageSubscription.task_id, MessageSubscription.kind,
                       MessageSubscription.name, MessageSubscription.correlation_key)
                .where(MessageSubscription.instance_id == instance.id)).all()
        stale = []
        for row_id, task_id, bpmn_id, due_at in stored_timers:
            if timers.get(task_id) == (bpmn_id, due_at):
                del timers[task_id]  # kept as it is
            else:
                stale.append(row_id)
        if stale:
            session.execute(delete(Timer).where(Timer.id.in_(stale)))
        stale = []
        for row_id, task_id, kind, name, correlation_key in stored_messages:
            wait = messages.get(task_id)
            if wait is not None and wait[:2] == (kind, name) and correlation_key == self._key(instance, wait):
                del messages[task_id]
            else:
                stale.append(row_id)
        if stale:
            session.execute(delete(MessageSubscription).where(MessageSubscription.id.in_(stale)))
        for task_id, (bpmn_id, due) in timers.items():
            session.add(Timer(instance_id=instance.id, task_id=task_id, bpmn_id=bpmn_id, due_at=due))
        for task_id, wait in messages.items():
            session.add(MessageSubscription(instance_id=instance.id, task_id=task_id, kind=wait[0], name=wait[1],
                                            correlation_key=self._key(instance, wait)))

    @staticmethod
    def _key(instance: ProcessInstance, wait: Subscribed) -> str | None:
        return wait[2] if wait[2] is not None else instance.business_key

    def _update_waits(self, session, instance, workflow, indexed: _Indexed) -> None:
        """`_index_waits` for an instance whose timer and message rows are known (`indexed`): the
        rows that no longer hold are deleted, the new ones added, none read."""
        timers, messages = self._waits(workflow)
        gone = [task_id for task_id, value in indexed.timers.items() if timers.get(task_id) != value]
        if gone:
            session.execute(delete(Timer).where(Timer.instance_id == instance.id, Timer.task_id.in_(gone)))
        gone = [task_id for task_id, wait in indexed.messages.items() if messages.get(task_id) != wait]
        if gone:
            session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id,
                                                              MessageSubscription.task_id.in_(gone)))
        new_timers = [{"instance_id": instance.id, "task_id": task_id, "bpmn_id": bpmn_id, "due_at": due}
                      for task_id, (bpmn_id, due) in timers.items() if indexed.timers.get(task_id) != (bpmn_id, due)]
        if new_timers:
            session.execute(insert(Timer), new_timers)
        new_messages = [{"instance_id": instance.id, "task_id": task_id, "kind": wait[0], "name": wait[1],
                         "correlation_key": self._key(instance, wait)}
                        for task_id, wait in messages.items() if indexed.messages.get(task_id) != wait]
        if new_messages:
            session.execute(insert(MessageSubscription), new_messages)

    def _history(self, session, instance, event, actor=None, bpmn_id=None, name=None,
                 task_id=None, data=None) -> None:
        session.add(HistoryEntry(instance_id=instance.id, at=self.clock.now(), actor=actor, event=event,
                                 bpmn_id=bpmn_id, name=name, task_id=task_id,
                                 data=datacopy.deepcopy(data) if data else None))
