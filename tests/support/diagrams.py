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
