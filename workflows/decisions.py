"""DMN decision tables: what a deploy checks in a DMN document, and which decisions a BPMN uses.

SpiffWorkflow's DMN engine runs every input expression, input entry and output entry with the
workflow's script engine, so each goes through our sandbox at run time; a deploy refuses up front
what the sandbox would refuse then, and what SpiffWorkflow 3.2 cannot run as the table says: a hit
policy other than UNIQUE, FIRST or COLLECT (it would take the first match for PRIORITY, ANY, RULE
ORDER and OUTPUT ORDER), a COLLECT aggregation (it never aggregates), several decisions in one
document, a decision without a decision table or with a FEEL-only entry such as `[1..5]`.
"""
from __future__ import annotations

import re
import threading

from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS

from .refusals import Refusal
from .scripting import expression_refusals

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")
# SpiffWorkflow puts the input's value where an entry writes `?` (outside quotes), as its DMNEngine does.
_QUESTION = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')

_schemas: dict[str, etree.XMLSchema] = {}
_schema_lock = threading.Lock()


def is_dmn(root) -> bool:
    """Whether a parsed document is DMN of any version (its root is a DMN `definitions`), not BPMN."""
    name = etree.QName(root)
    return name.localname == "definitions" and "omg.org/spec/DMN/" in (name.namespace or "")


def _schema(namespace: str) -> etree.XMLSchema | None:
    path = SCHEMAS.get(namespace) or SCHEMAS.get(namespace + "/")
    if path is None:
        return None
    with _schema_lock:
        if path not in _schemas:
            _schemas[path] = etree.XMLSchema(etree.parse(path))  # its imports resolve beside the file
        return _schemas[path]


def _error(element, code: str, refusal: Refusal | None, message: str, **params) -> dict:
    owner = element
    while owner is not None and not owner.get("id"):
        owner = owner.getparent()
    return {"element_id": owner.get("id") if owner is not None else None, "code": code, "message": message,
            **params, **(refusal.as_error() if refusal else {})}


def _text(element, ns: str) -> str:
    node = element.find(f"{{{ns}}}text")
    return (node.text or "").strip() if node is not None else ""


def entry_refusals(text: str) -> list[Refusal]:
    """An input entry as SpiffWorkflow runs it: `?` stands for the input, an entry starting with an
    operator (`> 3`) is put after the input, any other (`"fast"`) is compared with it."""
    if _QUESTION.search(text):
        return expression_refusals(_QUESTION.sub("dmninputexpr", text))
    whole = expression_refusals(text)
    if whole and whole[0].code == "script_syntax_error" and not expression_refusals(f"dmninputexpr {text}"):
        return []
    return whole


def decision_of(root) -> tuple[str, str]:
    """(decision id, name) of a DMN document that passed `check_document`."""
    ns = etree.QName(root).namespace
    decision = root.find(f"{{{ns}}}decision")
    return decision.get("id"), decision.get("name") or decision.get("id")


def check_document(root) -> list[dict]:
    """Why a DMN document cannot be deployed, each by element id and code; empty when it can."""
    ns = etree.QName(root).namespace
    errors: list[dict] = []
    schema = _schema(ns)
    if schema is None:
        return [_error(root, "dmn_version_unsupported", None, f"DMN namespace {ns!r} is not supported", namespace=ns)]
    if not schema.validate(etree.ElementTree(root)):
        for entry in schema.error_log:
            errors.append({"element_id": None, "code": "dmn_schema", "line": entry.line, "reason_code": "schema_invalid",
                           "reason": entry.message, "message": f"line {entry.line}: {entry.message}"})
        return errors
    decisions = root.findall(f"{{{ns}}}decision")
    if len(decisions) != 1:
        return [_error(root, "dmn_decision_count", None, f"a DMN document must hold exactly one decision, not "
                                                          f"{len(decisions)}", count=len(decisions))]
    tables = decisions[0].findall(f"{{{ns}}}decisionTable")
    if len(tables) != 1:
        return [_error(decisions[0], "dmn_table_missing", None, "the decision must be one decision table")]
    table = tables[0]
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        errors.append(_error(table, "dmn_hit_policy_unsupported", None, f"hit policy {policy} is not supported "
                                                                         "(UNIQUE, FIRST, COLLECT are)", policy=policy))
    if table.get("aggregation"):
        errors.append(_error(table, "dmn_aggregation_unsupported", None,
                             f"COLLECT {table.get('aggregation')} is not supported", aggregation=table.get("aggregation")))
    for inp in table.findall(f"{{{ns}}}input"):
        expression = inp.find(f"{{{ns}}}inputExpression")
        text = _text(expression, ns) if expression is not None else ""
        refusals = expression_refusals(text) if text else [Refusal("expression_empty", "it is empty")]
        errors += [_error(inp, "expression_refused", r, f"input expression {text[:80]!r} refused: {r.text}",
                          expression=text[:80]) for r in refusals]
    if not table.findall(f"{{{ns}}}output"):
        errors.append(_error(table, "dmn_output_missing", None, "the decision table has no output"))
    for rule in table.findall(f"{{{ns}}}rule"):
        for entry in rule.findall(f"{{{ns}}}inputEntry"):
            text = _text(entry, ns)
            if text and text != "-":
                errors += [_error(entry, "expression_refused", r, f"input entry {text[:80]!r} refused: {r.text}",
                                  expression=text[:80]) for r in entry_refusals(text)]
        for entry in rule.findall(f"{{{ns}}}outputEntry"):
            text = _text(entry, ns)
            if text:
                errors += [_error(entry, "expression_refused", r, f"output entry {text[:80]!r} refused: {r.text}",
                                  expression=text[:80]) for r in expression_refusals(text)]
    return errors


def decision_refs(root) -> list[tuple[str, str]]:
    """(business-rule task id, decision id) for each business-rule task of a BPMN document."""
    return [(el.get("id"), (el.get(CAMUNDA + "decisionRef") or "").strip())
            for el in root.iter(f"{{{BPMN}}}businessRuleTask")]


def missing_decision_errors(root, deployed) -> list[dict]:
    """Business-rule tasks whose decision is not deployed (`deployed(decision_id)` says whether it is)."""
    return [{"element_id": task_id, "code": "decision_missing", "decision": ref,
             "message": f"the decision {ref!r} is not deployed; deploy its DMN document first" if ref
             else "the business-rule task names no decision (camunda:decisionRef)"}
            for task_id, ref in decision_refs(root) if not ref or not deployed(ref)]
