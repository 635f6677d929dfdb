"""The one correction this engine makes to SpiffWorkflow 3.2, applied by the Engine when it is made.

3.2 passes task data from task to task with `DeepMerge`, which copies nested dicts and lists
only one level deep: parallel branches, and a join and the branches it merged, end up holding
the same nested objects, so a change in one silently rewrites the others' data. Making that
copy deep is the whole fix; the scripting environment and task completion also copy, so data
stays separate even if this patch were dropped by a future SpiffWorkflow. The copy is
`datacopy.deepcopy`: what `copy.deepcopy` makes, at less cost on plain data.
"""
from __future__ import annotations

from SpiffWorkflow.util import deep_merge

from . import datacopy

_applied = False


def apply() -> None:
    global _applied
    if not _applied:
        deep_merge.copy = datacopy.deepcopy
        _applied = True
