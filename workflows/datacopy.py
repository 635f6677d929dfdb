"""A deep copy for task data, as `copy.deepcopy` makes it, without its cost on plain data.

Task data is copied whole many times per call (from task to task, into each step's event). It is
almost always JSON-like: dicts, lists, strings, numbers. Those are copied here directly; anything
else goes to `copy.deepcopy` with the same memo, so shared and recursive references come out as
`copy.deepcopy` makes them.
"""
from __future__ import annotations

import copy
from typing import Any

_ATOMIC = frozenset({str, int, float, bool, type(None), bytes})


def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    cls = type(value)
    if cls in _ATOMIC:
        return value
    if memo is None:
        memo = {}
    if cls is dict:
        done = memo.get(id(value))
        if done is not None:
            return done
        result: dict = {}
        memo[id(value)] = result
        for k, v in value.items():
            result[k if type(k) in _ATOMIC else deepcopy(k, memo)] = v if type(v) in _ATOMIC else deepcopy(v, memo)
        return result
    if cls is list:
        done = memo.get(id(value))
        if done is not None:
            return done
        items: list = []
        memo[id(value)] = items
        for v in value:
            items.append(v if type(v) in _ATOMIC else deepcopy(v, memo))
        return items
    return copy.deepcopy(value, memo)
