"""Why the engine refuses a part of a diagram, as a stable code with its values.

A deploy error names its kind by `code` (script_refused, timer_refused, ...); a `Refusal` is the
reason inside it: `reason_code` plus the values a sentence needs (a line, a name, a timer's text),
so a page can word the reason in its reader's language by code. `text` is the same reason in
English, kept as `reason` for API clients, logs and tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Refusal:
    code: str
    text: str
    params: dict = field(default_factory=dict)

    def as_error(self) -> dict:
        """The fields a deploy error carries for this reason."""
        return {"reason_code": self.code, "reason": self.text, **self.params}
