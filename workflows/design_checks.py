"""What a designer should hear about a diagram before it is deployed, beyond whether it parses.

Each check is a function of the parsed document returning findings `{"code", "element_id",
"message", ...}` (the extra values fill the translated sentence of the code). Errors refuse the
deploy: the diagram would stall or do something else than it shows. Warnings are legal BPMN
that is probably unintended; the deploy goes ahead once the designer confirms.
"""
from __future__ import annotations

from .parser import expression_body
from .scripting import expression_refusals

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"

_ACTIVITIES = ("task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
               "businessRuleTask", "callActivity", "subProcess", "transaction")
_EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
_GATEWAYS = ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway")
# The Camunda attributes that give a service task something to run; SpiffWorkflow runs none of them.
_SERVICE_IMPLEMENTATIONS = ("class", "delegateExpression", "expression", "type")
_ASSIGNMENT = ("assignee", "candidateUsers", "candidateGroups", "priority")


def _tag(el) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _b(name: str) -> str:
    return "{%s}%s" % (BPMN, name)


def _nodes(root, kinds):
    for kind in kinds:
        yield from root.iter(_b(kind))


def _has_definition(el, name: str) -> bool:
    return el.find(_b(name)) is not None


def _finding(code: str, el, message: str, **values) -> dict:
    return {"code": code, "element_id": el.get("id") if el is not None else None, "message": message, **values}


# ---------------------------------------------------------------- errors
def service_task_errors(root) -> list[dict]:
    """A service task never runs here: without an implementation it would stall the instance, and
    the implementations Camunda knows (a Java class, a delegate, an expression, an external topic)
    are not something this engine can call."""
    errors = []
    for el in _nodes(root, ("serviceTask",)):
        given = [a for a in _SERVICE_IMPLEMENTATIONS if el.get(CAMUNDA + a)] + \
                (["connector"] if el.find(f".//{CAMUNDA}connector") is not None else [])
        name = el.get("name") or el.get("id")
        if not given:
            errors.append(_finding("service_task_unimplemented", el,
                                   f"service task {name!r} has no implementation; model the work as a user task "
                                   "(someone does it) or a script task (the engine computes it)", name=name))
        else:
            errors.append(_finding("service_task_unsupported", el,
                                   f"service task {name!r}: camunda:{given[0]} is not run by this engine; use a "
                                   "user task or a script task", name=name, implementation=given[0]))
    return errors


def called_elements(root) -> list[tuple[str, str]]:
    """(call activity id, called process id) for each call to a process this document does not hold."""
    own = {p.get("id") for p in root.iter(_b("process"))}
    return [(el.get("id"), (el.get("calledElement") or "").strip()) for el in _nodes(root, ("callActivity",))
            if (el.get("calledElement") or "").strip() not in own]


def missing_call_errors(root, deployed) -> list[dict]:
    """Call activities whose called process is neither in the document nor a deployed model
    (`deployed(process_id)` says whether it is)."""
    errors = []
    for element_id, called in called_elements(root):
        el = root.find(f".//{_b('callActivity')}[@id='{element_id}']")
        if not called:
            errors.append(_finding("call_target_missing", el, "the call activity names no called process "
                                   "(calledElement)", called=""))
        elif not deployed(called):
            errors.append(_finding("called_model_missing", el, f"the called process {called!r} is not deployed; "
                                   "deploy that model first", called=called))
    return errors


def assignment_errors(root) -> list[dict]:
    """camunda:assignee, candidateUsers, candidateGroups and priority: expressions go through the
    same allow-list as every other expression, and a literal priority must be a whole number."""
    errors = []
    for el in _nodes(root, ("userTask",)):
        for attribute in _ASSIGNMENT:
            value = (el.get(CAMUNDA + attribute) or "").strip()
            if not value:
                continue
            if value.startswith("${"):
                for refusal in expression_refusals(expression_body(value)):
                    errors.append(_finding("assignment_refused", el, f"camunda:{attribute} {value[:80]!r} refused: "
                                           f"{refusal.text}", attribute=attribute, expression=value[:80],
                                           **refusal.as_error()))
            elif attribute == "priority" and not value.lstrip("-").isdigit():
                errors.append(_finding("priority_invalid", el, f"camunda:priority {value[:80]!r} is not a whole "
                                       "number or an expression", priority=value[:80]))
    return errors


def _flows(root) -> tuple[dict[str, int], dict[str, int]]:
    incoming: dict[str, int] = {}
    outgoing: dict[str, int] = {}
    for flow in root.iter(_b("sequenceFlow")):
        outgoing[flow.get("sourceRef")] = outgoing.get(flow.get("sourceRef"), 0) + 1
        incoming[flow.get("targetRef")] = incoming.get(flow.get("targetRef"), 0) + 1
    return incoming, outgoing


def _needs_incoming(el) -> bool:
    tag = _tag(el)
    if tag in ("startEvent", "boundaryEvent") or el.get("isForCompensation") == "true":
        return False
    if tag == "subProcess" and el.get("triggeredByEvent") == "true":
        return False
    return not (tag == "intermediateCatchEvent" and _has_definition(el, "linkEventDefinition"))


def _needs_outgoing(el) -> bool:
    tag = _tag(el)
    if tag == "endEvent" or el.get("isForCompensation") == "true":
        return False
    if tag == "subProcess" and el.get("triggeredByEvent") == "true":
        return False
    return not (tag == "intermediateThrowEvent" and _has_definition(el, "linkEventDefinition"))


def connection_errors(root) -> list[dict]:
    """A task, event or gateway that no flow reaches can never run: the designer meant to connect it.
    In a process or sub-process without a start event nothing is reached; the engine names that."""
    incoming, _ = _flows(root)
    return [_finding("element_unreachable", el, f"{_tag(el)} {el.get('name') or el.get('id')!r} has no incoming "
                     "sequence flow, so it never runs", name=el.get("name") or el.get("id"))
            for el in _nodes(root, _ACTIVITIES + _EVENTS + _GATEWAYS)
            if _needs_incoming(el) and not incoming.get(el.get("id"))
            and el.getparent().find(_b("startEvent")) is not None]


def design_errors(root, deployed) -> list[dict]:
    return service_task_errors(root) + missing_call_errors(root, deployed) + assignment_errors(root) \
        + connection_errors(root)


# ---------------------------------------------------------------- warnings
def dead_end_warnings(root) -> list[dict]:
    """No outgoing flow ends the path there (BPMN's implicit end); usually a flow was forgotten."""
    _, outgoing = _flows(root)
    return [_finding("element_dead_end", el, f"{_tag(el)} {el.get('name') or el.get('id')!r} has no outgoing "
                     "sequence flow; the path ends there", name=el.get("name") or el.get("id"))
            for el in _nodes(root, _ACTIVITIES + _EVENTS + _GATEWAYS)
            if _needs_outgoing(el) and not outgoing.get(el.get("id"))]


def unnamed_warnings(root) -> list[dict]:
    """An unnamed task shows in inboxes and histories as its technical id."""
    return [_finding("task_unnamed", el, f"{_tag(el)} {el.get('id')!r} has no name; people will see its id")
            for el in _nodes(root, _ACTIVITIES) if not (el.get("name") or "").strip()]


def _lanes(root) -> dict[str, str]:
    own = {}
    for lane in root.iter(_b("lane")):
        for ref in lane.findall(_b("flowNodeRef")):
            own[(ref.text or "").strip()] = lane.get("id")
    return own


def unassigned_warnings(root) -> list[dict]:
    """A user task in no lane, with no assignee or candidates, goes to the inspection office."""
    in_lane = _lanes(root)
    warnings = []
    for el in _nodes(root, ("userTask",)):
        if any(el.get(CAMUNDA + a) for a in ("assignee", "candidateUsers", "candidateGroups")):
            continue
        parent, laned = el, False
        while parent is not None and _tag(parent) != "process":
            if parent.get("id") in in_lane:
                laned = True
                break
            parent = parent.getparent()
        if not laned:
            warnings.append(_finding("user_task_unassigned", el, f"user task {el.get('name') or el.get('id')!r} "
                                     "has no lane, assignee or candidates; it goes to the inspection office",
                                     name=el.get("name") or el.get("id")))
    return warnings


def gateway_default_warnings(root) -> list[dict]:
    """With no default flow, an exclusive or inclusive gateway whose conditions all fail stops the instance."""
    _, outgoing = _flows(root)
    return [_finding("gateway_without_default", el, f"gateway {el.get('name') or el.get('id')!r} has "
                     f"{outgoing[el.get('id')]} outgoing flows but no default flow; when no condition holds the "
                     "instance stops there", name=el.get("name") or el.get("id"))
            for el in _nodes(root, ("exclusiveGateway", "inclusiveGateway"))
            if outgoing.get(el.get("id"), 0) > 1 and not el.get("default")]


def design_warnings(root) -> list[dict]:
    return dead_end_warnings(root) + unnamed_warnings(root) + unassigned_warnings(root) \
        + gateway_default_warnings(root)


# ---------------------------------------------------------------- what changes
def _elements(root) -> dict[str, tuple[str, str]]:
    """Flow elements and lanes by id: (kind, name)."""
    kinds = _ACTIVITIES + _EVENTS + _GATEWAYS + ("lane",)
    return {el.get("id"): (_tag(el), (el.get("name") or "").strip()) for el in _nodes(root, kinds) if el.get("id")}


def changes(current, new) -> dict[str, list[dict]]:
    """Elements added, removed and renamed from the current version (`current`, None for a new model)."""
    before = _elements(current) if current is not None else {}
    after = _elements(new)
    return {
        "added": [{"element_id": i, "kind": k, "name": n} for i, (k, n) in after.items() if i not in before],
        "removed": [{"element_id": i, "kind": k, "name": n} for i, (k, n) in before.items() if i not in after],
        "renamed": [{"element_id": i, "kind": k, "from": before[i][1], "to": n} for i, (k, n) in after.items()
                    if i in before and before[i][1] != n],
    }
