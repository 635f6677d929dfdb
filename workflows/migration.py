"""Moving a running workflow onto another version of its model (and back).

SpiffWorkflow 3.2's `diff_workflow` aligns the old version's task specs with the new one's (by BPMN
id first, then by position). Its `migrate_workflow` then resets every READY and WAITING task: a
person's open task would come back under a new task id (losing its inbox row, its draft and its due
date) and a waiting timer would start counting again. Here nothing live is reset: a READY or
WAITING task keeps its id, data and internal data (a timer's due time, `event_value`), and takes
the new version's spec of its element. Only what has not happened yet, the predicted tasks below
the live ones, is dropped and predicted again from the new diagram.

That is sound only when each live and each finished task has its element in the new version, with
the same kind of element; an instance where that fails cannot move and the obstacle says why.
"""
from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import serializer
from .engine import Engine, EngineError
from .registry import LoadedModel
from .steps import step_of
from .tables import HumanTask, ModelVersion, ProcessInstance

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
NOT_YET = TaskState.PREDICTED_MASK | TaskState.FUTURE


@dataclass(frozen=True)
class Obstacle:
    """Why an instance cannot move: `code` is stable (pages word it), the element is what a designer clicks."""

    # open_element_removed | finished_element_removed | element_type_changed | boundary_events_changed |
    # subprocess_removed
    code: str
    element_id: str | None = None
    element_name: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """What must come through a move unchanged: the open user tasks, the timers with their due
    values and the message waits, each by task id."""

    open_tasks: frozenset[str]
    waits: frozenset[tuple[str, str]]


def _element(task) -> tuple[str | None, str | None]:
    """The BPMN element of a task; None for SpiffWorkflow's own helper specs (a boundary event's split)."""
    spec = task.task_spec
    return getattr(spec, "bpmn_id", None), getattr(spec, "bpmn_name", None)


def _events_changed(task, new, alignment: dict) -> bool:
    """Whether events were attached to a live task that had none: SpiffWorkflow runs a task with
    boundary events under a split it must have passed, which this instance never did."""
    parent = alignment.get(task.parent.id) if task.parent is not None else None
    return (parent is not None and parent not in new.inputs
            and any(isinstance(spec, BoundaryEventSplit) for spec in new.inputs))


def _plans(workflow: BpmnWorkflow, spec, subprocess_specs: dict) -> tuple[list, list[Obstacle]]:
    """For the top workflow and each sub-process: (workflow, its new spec, the alignment of its old
    task specs); and the obstacles found on the way."""
    registry = serializer.spec_registry()
    plans, found = [], []
    parts = [(workflow, spec), *[(sub, subprocess_specs.get(sub.spec.name)) for sub in workflow.subprocesses.values()]]
    for wf, new_spec in parts:
        if new_spec is None:
            owner = workflow.get_task_from_id(next(k for k, v in workflow.subprocesses.items() if v is wf))
            found.append(Obstacle("subprocess_removed", *_element(owner)))
            continue
        diff = SpecDiff(registry, wf.spec, new_spec)
        alignment = {}
        for task in wf.tasks.values():
            new = diff.alignment.get(task.task_spec, new_spec.task_specs.get(task.task_spec.name))
            alignment[task.id] = new
            if new is None:
                if task.has_state(LIVE):
                    found.append(Obstacle("open_element_removed", *_element(task)))
                elif task.has_state(TaskState.FINISHED_MASK):
                    found.append(Obstacle("finished_element_removed", *_element(task)))
            elif task.has_state(LIVE) and "typename" in diff.comparisons.get(task.task_spec, []):
                found.append(Obstacle("element_type_changed", *_element(task)))
        for task in wf.tasks.values():
            new = alignment[task.id]
            if new is not None and task.has_state(LIVE) and _events_changed(task, new, alignment):
                found.append(Obstacle("boundary_events_changed", *_element(task)))
        plans.append((wf, new_spec, alignment))
    rank = {"subprocess_removed": 0, "open_element_removed": 1, "element_type_changed": 2, "boundary_events_changed": 2}
    unique = sorted(dict.fromkeys(found), key=lambda o: (rank.get(o.code, 3), o.element_id is None))
    named = [o for o in unique if o.element_id is not None]
    return plans, named or unique  # SpiffWorkflow's own helper specs go with the elements named


def move(workflow: BpmnWorkflow, spec, subprocess_specs: dict) -> list[Obstacle]:
    """Put the workflow onto `spec` in place, unless something stands in the way (then it is left
    as it was and the obstacles are returned)."""
    plans, found = _plans(workflow, spec, subprocess_specs)
    if found:
        return found
    workflow.subprocess_specs = subprocess_specs
    for wf, new_spec, alignment in plans:
        wf.spec = new_spec
        for task_id, new in alignment.items():
            if task_id not in wf.tasks:
                continue  # went with a predicted parent
            if new is None:  # only predicted tasks are left without an element (see _plans)
                wf._remove_task(task_id)
            else:
                wf.tasks[task_id].task_spec = new
        if wf.last_task is not None and wf.last_task.id not in wf.tasks:
            wf.last_task = None
    for wf, _, _ in plans:
        for task in list(wf.tasks.values()):
            # predict again what follows each live task that nothing has followed yet (a person's
            # task, a waiting event, a running sub-process); the task itself, its data and timer stay
            if task.has_state(LIVE) and all(c.has_state(NOT_YET) for c in task.children):
                task._drop_children(force=True)
                task.task_spec._predict(task, mask=NOT_YET | task.state)
    return []


def snapshot(workflow: BpmnWorkflow) -> Snapshot:
    tasks = [t for wf in [workflow, *workflow.subprocesses.values()] for t in wf.tasks.values()]
    open_tasks = frozenset(str(t.id) for t in tasks if t.state == TaskState.READY and t.task_spec.manual)
    waits = frozenset((str(t.id), repr(t.internal_data.get("event_value")))
                      for t in workflow.event_manager.tasks.values() if t.state == TaskState.WAITING)
    return Snapshot(open_tasks, waits)


# ---------------------------------------------------------------- instances (through the engine's own session calls)
class MigrationRefused(EngineError):
    """The instance cannot move onto that version; `obstacles` say why."""

    status, code = 422, "migration_refused"

    def __init__(self, found: list[Obstacle]):
        self.obstacles = found
        super().__init__("the instance cannot move: " + ", ".join(f"{o.code} at {o.element_id}" for o in found))


def _not_running(instance: ProcessInstance) -> list[Obstacle]:
    """An instance in error waits for its repair first; a suspended one for whoever suspended it."""
    return [Obstacle("instance_in_error" if instance.status == "error" else "instance_not_running",
                     instance.error_element)]


def _moved(engine: Engine, instance: ProcessInstance, workflow: BpmnWorkflow,
           target: LoadedModel) -> tuple[BpmnWorkflow | None, list[Obstacle]]:
    """The workflow as it runs on `target` after the move, read back from its saved form as the
    engine will read it, or the obstacles. A move that would change an open task, a timer's due
    time or a message wait is refused (`state_not_aligned`) rather than saved."""
    if instance.status != "running":
        return None, _not_running(instance)
    before = snapshot(workflow)
    found = move(workflow, target.spec, target.subprocess_specs)
    if found:
        return None, found
    try:
        state = serializer.dumps(workflow)
        again = serializer.loads(state, target.spec, target.subprocess_specs, engine.script_engine)
    except Exception:  # noqa: BLE001 - whatever SpiffWorkflow cannot read back stays where it is
        return None, [Obstacle("state_not_aligned")]
    if snapshot(again) != before:
        return None, [Obstacle("state_not_aligned")]
    return again, []


def instance_obstacles(engine: Engine, session: Session, instance: ProcessInstance, to_version_id: int) -> list[Obstacle]:
    """Why the instance cannot move onto the version (empty: it can); nothing is written."""
    if instance.status != "running":
        return _not_running(instance)
    _, workflow = engine._load(session, instance)
    return _moved(engine, instance, workflow, engine.registry.load(session, to_version_id))[1]


def migrate_instance(engine: Engine, session: Session, instance_id: int, to_version_id: int, *,
                     actor: str | None, event: str = "migrated") -> tuple[int, int]:
    """Move the instance onto the version, keeping its open tasks (ids, due dates, drafts), timers and
    message waits; its history records the move. Returns (from version id, to version id); a move
    onto the version it is on already changes nothing."""
    instance = engine._lock(session, instance_id)
    from_id = instance.model_version_id
    if from_id == to_version_id:
        return from_id, to_version_id
    _, workflow = engine._load(session, instance)
    target = engine.registry.load(session, to_version_id)
    moved, found = _moved(engine, instance, workflow, target)
    if moved is None:
        raise MigrationRefused(found)
    numbers = dict(session.execute(select(ModelVersion.id, ModelVersion.version)
                                   .where(ModelVersion.id.in_([from_id, to_version_id]))).all())
    instance.model_version_id = to_version_id
    engine._save(session, instance, moved, target, [], actor)
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")):
        task = engine._find_task(moved, row.id)
        spec = task.task_spec
        form = getattr(spec, "form", None)
        row.bpmn_id, row.name, row.lane, row.step = spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, spec.lane, step_of(spec)
        row.role = engine.role_for_lane(spec.lane)
        row.form_key = form.key if form is not None and form.key else None
    engine._history(session, instance, event, actor, name=f"v{numbers.get(from_id)} → v{numbers.get(to_version_id)}", data={
        # "__" keys: kept for a rollback, not shown as submitted data
        "__from_version_id": from_id, "__to_version_id": to_version_id,
        "__from_version": numbers.get(from_id), "__to_version": numbers.get(to_version_id)})
    session.flush()
    return from_id, to_version_id
