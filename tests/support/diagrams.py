"""Shipped diagrams altered for a test."""
from __future__ import annotations

import re

from service.context import BPMN_DIR


def poisoned_model(unit_id: int) -> bytes:
    """The shipped unit_rectification whose green warning divides by zero for one unit."""
    xml = (BPMN_DIR / "unit_rectification.bpmn").read_text(encoding="utf-8")
    poisoned, n = re.subn(r"<bpmn:script>warned = \{'green': True\}</bpmn:script>",
                          f"<bpmn:script>warned = {{'green': 1 / (unit_id - {unit_id}) or True}}</bpmn:script>", xml)
    assert n == 1
    return poisoned.encode()


def with_script(model: str, element_id: str, script: str) -> bytes:
    """The shipped `model` whose script task `element_id` runs `script` instead of its own."""
    xml = (BPMN_DIR / f"{model}.bpmn").read_text(encoding="utf-8")
    escaped = script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    pattern = rf'(<bpmn:scriptTask id="{element_id}"[^>]*>.*?<bpmn:script>).*?(</bpmn:script>)'
    changed, n = re.subn(pattern, lambda m: m.group(1) + escaped + m.group(2), xml, count=1, flags=re.S)
    assert n == 1
    return changed.encode()


def round_with_timer(kind: str, value: str) -> bytes:
    """The shipped inspection_round with a non-interrupting reminder timer on record_findings."""
    xml = (BPMN_DIR / "inspection_round.bpmn").read_text(encoding="utf-8")
    reminder = f"""
    <bpmn:boundaryEvent id="remind" name="催办" cancelActivity="false" attachedToRef="record_findings">
      <bpmn:outgoing>f_remind</bpmn:outgoing>
      <bpmn:timerEventDefinition id="remind_timer">
        <bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="note" scriptFormat="python"><bpmn:incoming>f_remind</bpmn:incoming>
      <bpmn:outgoing>f_noted</bpmn:outgoing><bpmn:script>reminded = True</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="noted"><bpmn:incoming>f_noted</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_remind" sourceRef="remind" targetRef="note" />
    <bpmn:sequenceFlow id="f_noted" sourceRef="note" targetRef="noted" />
  </bpmn:process>"""
    return xml.replace("</bpmn:process>", reminder, 1).encode()
