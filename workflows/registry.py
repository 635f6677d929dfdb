"""Process models and their versions: validate on deploy, cache parsed specs per version.

A version is immutable once deployed; instances keep the version they started on. The raw
XML is kept so designers can reopen exactly what was deployed.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import decisions as dmn
from . import forms as form_schemas
from .design_checks import called_elements, design_errors
from .parser import Parser, expression_body, literal_timers
from .refusals import Refusal
from .scripting import expression_refusals, script_refusals
from .steps import STEP_PROPERTY, declared_steps
from .tables import DecisionVersion, ModelVersion, utcnow
from .timer_checks import literal_value, timer_problem
from .xml_safety import UnsafeXMLError, parse_xml

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
CAMUNDA = "{%s}" % NS["camunda"]

# Elements whose text SpiffWorkflow evaluates as an expression, and those it executes.
_TIMER_TAGS = ("timeDate", "timeDuration", "timeCycle")
_EXPRESSION_TAGS = ("conditionExpression", *_TIMER_TAGS, "loopCondition", "completionCondition", "loopCardinality")
_SCRIPT_TAGS = ("script",)

# How the BPMN schema's complaints (lxml's error types) are named, so a page can word them itself.
_SCHEMA_REFUSALS = (
    ("SCHEMAV_ELEMENT_CONTENT", "schema_element_misplaced"),
    ("SCHEMAV_CVC_COMPLEX_TYPE_4", "schema_attribute_missing"),
    ("SCHEMAV_CVC_COMPLEX_TYPE_3_2", "schema_attribute_unknown"),
    ("SCHEMAV_CVC_COMPLEX_TYPE_2", "schema_content_invalid"),
    ("SCHEMAV_CVC_ELT_1", "schema_element_unknown"),
    ("SCHEMAV_CVC_IDC", "schema_reference_broken"),
    ("SCHEMAV_CVC_", "schema_value_invalid"),
    ("", "schema_invalid"),
)
# SpiffWorkflow's parser says why it cannot run a diagram only in English prose: the refusals a
# designer meets, recognised by their wording (this table is the one place that reads it); any
# other is `spiff_refused` (the last row), with SpiffWorkflow's words kept as `reason`.
_SPIFF_REFUSALS = (
    ("No start event found", "spiff_no_start_event"),
    ("Exactly one start event is required in a SubWorkflow", "spiff_subprocess_start_events"),
    ("is not executable", "spiff_not_executable"),
    ("Non-default exclusive outgoing sequence flow without condition", "spiff_flow_without_condition"),
    ('No "calledElement" attribute', "spiff_call_activity_target"),
    ("No Script Provided", "spiff_script_missing"),
    ("There is no support implemented for this task type", "spiff_task_type_unsupported"),
    ("Duplicate process ID", "spiff_duplicate_process"),
    ("When looking for a task spec", "spiff_reference_broken"),
    ("messageRef", "spiff_message_missing"),
    ("Message identifier is missing", "spiff_message_missing"),
    ("Time Specification", "spiff_timer_invalid"),
    ("Conditional event definition with missing condition", "spiff_condition_missing"),
    ("Ad hoc subprocesses", "spiff_ad_hoc_unsupported"),
    ("", "spiff_refused"),
)


class DeployError(ValueError):
    """The diagram cannot be deployed; `errors` name the offending elements."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(f"{e['element_id'] or '-'}: {e['message']}" for e in errors))


def _refused(element_id: str | None, code: str, refusal: Refusal, message: str, **params) -> dict:
    """A deploy error: its kind (`code`), the element, and why by `reason_code` with its values."""
    return {"element_id": element_id, "code": code, "message": message, **params, **refusal.as_error()}


def schema_refusal(entry) -> Refusal:
    code = next(c for prefix, c in _SCHEMA_REFUSALS if entry.type_name.startswith(prefix))
    return Refusal(code, entry.message, {"line": entry.line})


def spiff_refusal(reason: str) -> Refusal:
    code = next(c for words, c in _SPIFF_REFUSALS if words in reason)
    return Refusal(code, reason)


@dataclass
class LoadedModel:
    """A parsed version, shared by all threads; it holds no ORM object on purpose."""

    version_id: int
    key: str
    spec: object
    subprocess_specs: dict


_validator_lock = threading.Lock()
_xsd: etree.XMLSchema | None = None


def _schema() -> etree.XMLSchema:
    global _xsd
    with _validator_lock:
        if _xsd is None:
            _xsd = etree.XMLSchema(etree.parse(XSD_PATH))
        return _xsd


def _owner_id(el) -> str | None:
    """The id of the nearest BPMN element that carries one (the thing a designer clicks)."""
    while el is not None:
        if isinstance(el.tag, str) and el.get("id"):
            return el.get("id")
        el = el.getparent()
    return None


def _event_id(timer_el) -> str | None:
    """The event a timer value belongs to (what the designer sees), not its inner definition."""
    definition = timer_el.getparent()
    event = definition.getparent() if definition is not None else None
    return (event.get("id") if event is not None else None) or _owner_id(timer_el)


def _element_at_line(root, line: int) -> str | None:
    best = None
    for el in root.iter():
        if isinstance(el.tag, str) and el.sourceline and el.sourceline <= line and el.get("id"):
            best = el.get("id")
        elif el.sourceline and el.sourceline > line:
            break
    return best


def check_document(root) -> list[dict]:
    """Structural and safety problems of one BPMN document, each by element id."""
    errors: list[dict] = []
    schema = _schema()
    if not schema.validate(etree.ElementTree(root)):
        for entry in schema.error_log:
            errors.append(_refused(_element_at_line(root, entry.line), "bpmn_schema", schema_refusal(entry),
                                   f"line {entry.line}: {entry.message}"))
    for tag in _SCRIPT_TAGS:
        for el in root.iter("{%s}%s" % (NS["bpmn"], tag)):
            for refusal in script_refusals(el.text or ""):
                errors.append(_refused(_owner_id(el), "script_refused", refusal, f"script refused: {refusal.text}"))
    for tag in _EXPRESSION_TAGS:
        for el in root.iter("{%s}%s" % (NS["bpmn"], tag)):
            body = expression_body(el.text)
            if tag in _TIMER_TAGS and literal_value(body) is not None:
                continue  # ISO text as Camunda Modeler writes it: checked as a time below, run quoted
            for refusal in expression_refusals(body):
                errors.append(_refused(_owner_id(el), "expression_refused", refusal,
                                       f"expression {body[:80]!r} refused: {refusal.text}", expression=body[:80]))
    for tag in _TIMER_TAGS:
        for el in root.iter("{%s}%s" % (NS["bpmn"], tag)):
            timer = timer_problem(tag, expression_body(el.text))
            if timer:
                errors.append(_refused(_event_id(el), "timer_refused", timer, f"timer refused: {timer.text}"))
    for el in root.iter("{%s}userTask" % NS["bpmn"]):
        due = el.get(CAMUNDA + "dueDate")
        if due:
            for refusal in expression_refusals(expression_body(due)):
                errors.append(_refused(el.get("id"), "due_date_refused", refusal,
                                       f"due date {due[:80]!r} refused: {refusal.text}", expression=due[:80]))
    for el in root.iter():
        expression = el.get(CAMUNDA + "expression") if isinstance(el.tag, str) else None
        if expression:  # e.g. the payload of a Camunda message throw
            for refusal in expression_refusals(expression_body(expression)):
                errors.append(_refused(_owner_id(el), "expression_refused", refusal,
                                       f"expression {expression[:80]!r} refused: {refusal.text}",
                                       expression=expression[:80]))
    for el in root.iter(CAMUNDA + "property"):
        if el.get("name") == "correlationKey":  # a message catch event's own key (Engine._correlation_key)
            value = expression_body(el.get("value"))
            refusals = expression_refusals(value) if value else [Refusal("expression_empty", "it is empty")]
            for refusal in refusals:
                errors.append(_refused(_owner_id(el), "expression_refused", refusal,
                                       f"correlation key {value[:80]!r} refused: {refusal.text}",
                                       expression=value[:80]))
    # Camunda listeners, connectors and input/output scripts are never run by SpiffWorkflow; refuse
    # them rather than deploy a diagram whose behaviour differs from what the designer sees.
    for tag in ("executionListener", "taskListener", "connector", "script"):
        for el in root.iter(CAMUNDA + tag):
            errors.append({"element_id": _owner_id(el), "code": "unsupported_extension",
                           "message": f"camunda:{tag} is not supported by this engine", "tag": tag})
    return errors


def main_process_id(root) -> tuple[str, str]:
    processes = root.findall("bpmn:process", NS)
    if not processes:
        raise DeployError([{"element_id": None, "code": "no_process", "message": "the document has no bpmn:process"}])
    executable = [p for p in processes if p.get("isExecutable", "true").lower() == "true"] or processes
    main = executable[0]
    return main.get("id"), main.get("name") or main.get("id")


def parse_specs(root, process_id: str, called: list | tuple = (), decisions: list | tuple = ()):
    """The specs of the document's process `process_id`, with those of the deployed models its call
    activities call (`called`: their parsed documents), which a call activity runs as subworkflows,
    and its business-rule tasks each holding its decision table (`decisions`: parsed DMN documents)."""
    parser = Parser()
    try:
        for n, decision in enumerate(decisions):
            parser.add_dmn_xml(decision, filename=f"decision-{n}.dmn")
        parser.add_bpmn_xml(root, filename=f"{process_id}.bpmn")
        for n, other in enumerate(called):
            parser.add_bpmn_xml(other, filename=f"called-{n}.bpmn")
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        reason = str(exc).split("\n")[0]
        raise DeployError([_refused(exc.id or None, "unrunnable", spiff_refusal(reason), reason)]) from exc
    except SpiffWorkflowException as exc:
        raise DeployError([_refused(None, "unrunnable", spiff_refusal(str(exc)), str(exc))]) from exc
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise DeployError([_refused(None, "unrunnable", spiff_refusal(repr(exc)),
                                    f"unrunnable diagram: {exc!r}")]) from exc
    specs = [spec, *subprocess_specs.values()]
    literal_timers(specs)
    for document in (root, *called):
        ids = {el.get("id") for tag in ("process", "subProcess", "transaction")
               for el in document.iter("{%s}%s" % (NS["bpmn"], tag))}
        own = [s for s in specs if s.name in ids]
        _apply_own_lanes(document, own)
        _apply_own_properties(document, own)
    _connect_loops(specs)
    return spec, subprocess_specs


def _apply_own_properties(root, specs) -> None:
    """Each element keeps only its own camunda:properties.

    SpiffWorkflow 3.2's Camunda parser gathers the properties of a node and of everything nested
    in it, so a sub-process would carry the declared steps of the tasks inside it (and seem to
    carry out the last of them when it completes).
    """
    own = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id"):
            props = el.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)
            own[el.get("id")] = {p.get("name"): p.get("value") for p in props}
    for spec in specs:
        for ts in spec.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None)
            if bpmn_id is not None:
                ts.extensions = dict(own.get(bpmn_id, {}))


def _connect_loops(specs) -> None:
    """Wire every loop and multi-instance task to its child's completion now, not on first use.

    SpiffWorkflow 3.2 connects a loop's child to the loop only when the loop creates a child on
    that very spec object; its own spec deserializer wires them up front. A spec parsed afresh
    (after a restart, or once the cache let it go) would otherwise never hear a running child
    finish: the loop stays STARTED for ever and everything after it is silently skipped.
    """
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, LoopTask):
                child = spec.task_specs[task_spec.task_spec]
                if not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)


def _apply_own_lanes(root, specs) -> None:
    """A node's own lane wins over the one SpiffWorkflow copies down from an enclosing sub-process.

    bpmn-js adds a sub-process to whatever lane it is dropped in; without this, moving a sub-process
    in the modeler would silently move every task inside it to another role's inbox.
    """
    own = {}
    for lane in root.iter("{%s}lane" % NS["bpmn"]):  # document order: nested lanes come later and win
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            own[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    for spec in specs:
        for ts in spec.task_specs.values():
            if getattr(ts, "bpmn_id", None) in own:
                ts.lane = own[ts.bpmn_id]


# The order that puts a key's current version first (among those not retired).
CURRENT_FIRST = (func.coalesce(ModelVersion.current_rank, 0).desc(), ModelVersion.version.desc())


class ModelRegistry:
    def __init__(self, forms=None, cache_size: int = 64, required_steps: dict[str, dict[str, str]] | None = None) -> None:
        """`required_steps`: per model key, the steps a version must declare, each with why it is needed."""
        self.forms = forms
        self.required_steps = required_steps or {}
        self._cache: OrderedDict[int, LoadedModel] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def validate(self, xml: bytes, session: Session | None = None):
        """Every check a deploy makes, without saving: returns (root, key, name, spec, subprocess_specs)
        or raises DeployError naming the offending elements. Without a session no model is deployed,
        so a call to another model is refused."""
        if isinstance(xml, str):
            xml = xml.encode("utf-8")
        try:
            root = parse_xml(xml)
        except UnsafeXMLError as exc:
            raise DeployError([_refused(None, "unsafe_xml", exc.refusal, str(exc))]) from exc
        if dmn.is_dmn(root):
            raise DeployError([{"element_id": None, "code": "dmn_not_process",
                                "message": "this is a DMN document: deploy it as a decision"}])
        key, name = main_process_id(root)
        calls = self._calls(session, root) if session is not None else {}
        decisions = self._decisions(session, root, calls) if session is not None else {}
        errors = (check_document(root) + design_errors(root, calls.__contains__)
                  + dmn.missing_decision_errors(root, decisions.__contains__))
        if errors:
            raise DeployError(errors)
        spec, subprocess_specs = parse_specs(root, key, self._called_documents(session, calls),
                                             self._decision_documents(session, decisions))
        errors = self._check_forms(spec, subprocess_specs) + self._check_steps(key, spec, subprocess_specs)
        if errors:
            raise DeployError(errors)
        return root, key, name, spec, subprocess_specs

    def _check_steps(self, key: str, spec, subprocess_specs) -> list[dict]:
        needed = self.required_steps.get(key, {})
        declared = declared_steps([spec, *subprocess_specs.values()])
        return [{"element_id": None, "code": "step_missing", "step": step,
                 "message": f"the model declares no step {step!r} (camunda:property {STEP_PROPERTY!r} on an "
                            f"element), which the service needs: {why}"}
                for step, why in needed.items() if step not in declared]

    def deploy(self, session: Session, xml: bytes, deployed_by: str | None = None) -> tuple[ModelVersion, bool]:
        """Returns (version, created). Identical content returns the existing version."""
        if isinstance(xml, str):
            xml = xml.encode("utf-8")
        digest = self._digest(session, xml)
        existing = session.scalar(select(ModelVersion).where(ModelVersion.sha256 == digest))
        if existing is not None:
            return existing, False
        root, key, name, spec, subprocess_specs = self.validate(xml, session)
        number = (session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.key == key)) or 0) + 1
        calls = self._calls(session, root)
        version = ModelVersion(
            key=key, name=name, version=number, sha256=digest, bpmn_xml=xml,
            process_ids=[p.get("id") for p in root.findall("bpmn:process", NS)],
            deployed_by=deployed_by, deployed_at=utcnow(), current_rank=self.next_rank(session, key),
            task_meta={"calls": calls, "decisions": self._decisions(session, root, calls)},
        )
        session.add(version)
        session.flush()
        self._remember(LoadedModel(version.id, key, spec, subprocess_specs))
        return version, True

    def _check_forms(self, spec, subprocess_specs) -> list[dict]:
        if self.forms is None:
            return []
        errors = []
        for s in [spec, *subprocess_specs.values()]:
            for ts in s.task_specs.values():
                form = getattr(ts, "form", None)
                if form is not None and form.key and not self.forms.exists(form.key):
                    errors.append({"element_id": ts.bpmn_id, "code": "form_missing", "form": form.key,
                                   "message": f"form {form.key!r} does not exist under bpmn/forms"})
                elif form is not None and not form.key:
                    try:
                        form_schemas.schema_from_fields(form.fields)
                    except form_schemas.ConstraintError as exc:
                        errors.append({"element_id": ts.bpmn_id, "code": "form_constraint_invalid",
                                       "field": exc.field, "constraint": exc.constraint, "message": str(exc)})
        return errors

    def load(self, session: Session, version_id: int) -> LoadedModel:
        with self._lock:
            cached = self._cache.get(version_id)
            if cached is not None:
                self._cache.move_to_end(version_id)
                return cached
        version = session.get_one(ModelVersion, version_id)
        root = parse_xml(version.bpmn_xml)
        calls = (version.task_meta or {}).get("calls", {})
        decisions = (version.task_meta or {}).get("decisions", {})
        spec, subprocess_specs = parse_specs(root, version.key, self._called_documents(session, calls),
                                             self._decision_documents(session, decisions))
        loaded = LoadedModel(version.id, version.key, spec, subprocess_specs)
        self._remember(loaded)
        return loaded

    def _calls(self, session: Session, root) -> dict[str, int]:
        """The deployed version each called process runs on, by process id: the current version of the
        model of that key, and what that version's own calls were pinned to when it was deployed.
        A version keeps these for good, so a running instance never finds its called model changed."""
        calls: dict[str, int] = {}
        for _, called in called_elements(root):
            version = self.latest(session, called) if called else None
            if version is None or called in calls:
                continue
            calls[called] = version.id
            for inner, inner_id in (version.task_meta or {}).get("calls", {}).items():
                calls.setdefault(inner, inner_id)
        return calls

    def _digest(self, session: Session, xml: bytes) -> str:
        """What tells two versions apart: the diagram, and the decision versions it would run (the same
        diagram deployed again once a decision has a new version is a new version running it)."""
        digest = hashlib.sha256(xml)
        try:
            decisions = self._decisions(session, parse_xml(xml))
        except (UnsafeXMLError, etree.LxmlError):
            decisions = {}  # refused by `validate`
        if decisions:
            digest.update(repr(sorted(decisions.items())).encode())
        return digest.hexdigest()

    def _decisions(self, session: Session, root, calls: dict[str, int] | None = None) -> dict[str, int]:
        """The decision version each business-rule task runs, by decision id: the current version of that
        decision, and those the called models' versions pinned when they were deployed."""
        refs = {ref for _, ref in dmn.decision_refs(root) if ref}
        pinned = self.current_decision_ids(session, refs) if refs else {}
        called_ids = set((self._calls(session, root) if calls is None else calls).values())
        if called_ids:
            metas: list[dict] = list(session.scalars(select(ModelVersion.task_meta)
                                                     .where(ModelVersion.id.in_(called_ids))))
            for meta in metas:
                for key, version_id in (meta or {}).get("decisions", {}).items():
                    pinned.setdefault(key, version_id)
        return pinned

    @staticmethod
    def _decision_documents(session: Session | None, decisions: dict[str, int]) -> list:
        if not decisions or session is None:
            return []
        rows = session.scalars(select(DecisionVersion.dmn_xml).where(DecisionVersion.id.in_(set(decisions.values()))))
        return [parse_xml(xml) for xml in rows]

    def validate_decision(self, xml: bytes):
        """Every check a decision's deploy makes: returns (root, decision id, name) or raises DeployError."""
        try:
            root = parse_xml(xml)
        except UnsafeXMLError as exc:
            raise DeployError([_refused(None, "unsafe_xml", exc.refusal, str(exc))]) from exc
        if not dmn.is_dmn(root):
            raise DeployError([{"element_id": None, "code": "dmn_required",
                                "message": "the document is not DMN (its root is not a DMN definitions element)"}])
        errors = dmn.check_document(root)
        if errors:
            raise DeployError(errors)
        key, name = dmn.decision_of(root)
        try:
            parser = Parser()
            parser.add_dmn_xml(root, filename=f"{key}.dmn")
            parser.dmn_parsers[key].parse()
        except (ValidationException, SpiffWorkflowException) as exc:
            reason = str(exc).split("\n")[0]
            raise DeployError([_refused(None, "unrunnable", spiff_refusal(reason), reason)]) from exc
        except (KeyError, AttributeError, TypeError, ValueError, IndexError) as exc:
            raise DeployError([_refused(None, "unrunnable", spiff_refusal(repr(exc)),
                                        f"unrunnable decision: {exc!r}")]) from exc
        return root, key, name

    def deploy_decision(self, session: Session, xml: bytes,
                        deployed_by: str | None = None) -> tuple[DecisionVersion, bool, list[ModelVersion]]:
        """Returns (version, created, the process model versions now running it); the version is current
        either way (identical content is the existing version made current again). The current version
        of every process model that runs another version of the decision is deployed again pinned to this
        one, so new instances run it; running instances keep the version they started with."""
        if isinstance(xml, str):
            xml = xml.encode("utf-8")
        root, key, name = self.validate_decision(xml)
        digest = hashlib.sha256(xml).hexdigest()
        rank = (session.scalar(select(func.max(DecisionVersion.current_rank)).where(DecisionVersion.key == key)) or 0) + 1
        version = session.scalar(select(DecisionVersion).where(DecisionVersion.key == key, DecisionVersion.sha256 == digest))
        created = version is None
        if version is None:
            number = (session.scalar(select(func.max(DecisionVersion.version)).where(DecisionVersion.key == key)) or 0) + 1
            version = DecisionVersion(key=key, name=name, version=number, sha256=digest, dmn_xml=xml,
                                      deployed_by=deployed_by, deployed_at=utcnow(), current_rank=rank)
            session.add(version)
        elif version.current_rank != rank - 1:
            version.current_rank = rank
        session.flush()
        models = []
        for model in self._models_using(session, key, version.id):
            repinned, new = self.deploy(session, model.bpmn_xml, deployed_by)
            if not new:  # back to a decision version it ran before: that model version runs again
                repinned.retired_at = None
                repinned.current_rank = self.next_rank(session, repinned.key)
            models.append(repinned)
        session.flush()
        return version, created, models

    def _models_using(self, session: Session, decision: str, version_id: int) -> list[ModelVersion]:
        """The current version of each process model whose business-rule tasks run another version of `decision`."""
        current = session.scalars(select(ModelVersion).where(ModelVersion.id.in_(self.current_ids(session).values()))
                                  .order_by(ModelVersion.key))
        return [v for v in current if (pinned := (v.task_meta or {}).get("decisions", {}))
                and decision in pinned and pinned[decision] != version_id]

    @staticmethod
    def _called_documents(session: Session | None, calls: dict[str, int]) -> list:
        if not calls or session is None:
            return []
        rows = session.scalars(select(ModelVersion.bpmn_xml).where(ModelVersion.id.in_(set(calls.values()))))
        return [parse_xml(xml) for xml in rows]

    def _remember(self, loaded: LoadedModel) -> None:
        with self._lock:
            self._cache[loaded.version_id] = loaded
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def current_id(self, session: Session, key: str) -> int | None:
        """The id of the version of `key` new instances start from, without reading its row (the
        diagram is cached): the one made current last, never a retired one."""
        return session.scalar(select(ModelVersion.id).where(ModelVersion.key == key, ModelVersion.retired_at.is_(None))
                              .order_by(*CURRENT_FIRST).limit(1))

    @staticmethod
    def current_ids(session: Session) -> dict[str, int]:
        """`current_id` of every model key, in one query, by key in order."""
        return _first_of_each_key(session.execute(
            select(ModelVersion.key, ModelVersion.id).where(ModelVersion.retired_at.is_(None))
            .order_by(ModelVersion.key, *CURRENT_FIRST)))

    @staticmethod
    def current_decision_ids(session: Session, keys: set[str] | None = None) -> dict[str, int]:
        """The current version of each decision (of those `keys`), by key in order: its highest rank."""
        query = select(DecisionVersion.key, DecisionVersion.id).order_by(DecisionVersion.key,
                                                                         DecisionVersion.current_rank.desc())
        if keys is not None:
            query = query.where(DecisionVersion.key.in_(keys))
        return _first_of_each_key(session.execute(query))

    @staticmethod
    def next_rank(session: Session, key: str) -> int:
        """The rank that puts a version of `key` before every other (see ModelVersion.current_rank)."""
        return (session.scalar(select(func.max(func.coalesce(ModelVersion.current_rank, 0)))
                               .where(ModelVersion.key == key)) or 0) + 1

    def latest(self, session: Session, key: str) -> ModelVersion | None:
        return session.scalar(select(ModelVersion).where(ModelVersion.key == key)
                              .order_by(ModelVersion.version.desc()).limit(1))


def _first_of_each_key(rows: Iterable[Any]) -> dict[str, int]:
    """The id on the first row of each key, from (key, id) rows in order of key, then preference."""
    first: dict[str, int] = {}
    for key, version_id in rows:
        first.setdefault(key, version_id)
    return first
