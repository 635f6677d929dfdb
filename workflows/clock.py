"""The engine's notion of now.

Timers fire by this clock rather than by SpiffWorkflow's own wall-clock comparison, so an
operator (or a test) can move time forward and see exactly which warnings are due.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        self._offset += delta
        return self.now()

    def move_to(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._offset = when - datetime.now(UTC)
