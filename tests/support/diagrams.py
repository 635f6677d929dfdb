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
