"""What every service function needs: settings, database, engine, clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from config import Settings
from workflows.clock import Clock
from workflows.engine import Engine
from workflows.forms import FormLibrary

from .access import ADMIN_DUTIES
from .db import Database
from .models import ROLES

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
DEFAULT_MODELS = ("inspection_round", "unit_rectification", "recommendation_letter", "clue_handover",
                  "measure_followup", "resident_report")
_ROLE_BY_NAME = {name: code for code, name in ROLES.items()}


def role_for_lane(lane: str | None) -> str:
    """The role that works a lane's tasks.

    A task in no lane, or in a lane that names no role (a diagram drawn elsewhere), goes to the
    office, which can always see and redistribute it; no task is left without anyone to do it.
    """
    return lane_role(lane) or "office"


def lane_role(lane: str | None) -> str | None:
    """A lane names a role by code (`office`), Chinese name (`巡察办`) or both (`巡察办 (office)`)."""
    if not lane:
        return None
    lane = lane.strip()
    code = _lane_code(lane)
    return None if code in ("designer", *ADMIN_DUTIES) else code


def _lane_code(lane: str) -> str | None:
    if lane in ROLES:
        return lane
    if lane in _ROLE_BY_NAME:
        return _ROLE_BY_NAME[lane]
    for code in ROLES:
        if lane.endswith(f"({code})") or lane.endswith(f"（{code}）"):
            return code
    return None


@dataclass
class Context:
    settings: Settings
    db: Database
    engine: Engine
    clock: Clock

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def now(self) -> datetime:
        return self.clock.now()

    def local_iso(self, when: datetime) -> str:
        return when.astimezone(self.zone).isoformat()


def make_context(settings: Settings, clock: Clock | None = None) -> Context:
    # The steps the service reacts to live with their handlers, which need this module's Context.
    from .workflow_events import required_steps

    clock = clock or Clock()
    engine = Engine(FormLibrary(BPMN_DIR / "forms"), clock, role_for_lane, naive_zone=settings.timezone,
                    required_steps=required_steps(), timer_retries=settings.timer_retries)
    return Context(settings, Database(settings.database_url, settings.audit_key, clock), engine, clock)


def deploy_default_models(ctx: Context) -> list[tuple[str, int, bool]]:
    """Deploy the shipped diagrams; unchanged files are not new versions, so this is idempotent."""
    deployed = []
    for key in DEFAULT_MODELS:
        xml = (BPMN_DIR / f"{key}.bpmn").read_bytes()

        def deploy(s, xml: bytes = xml):
            return ctx.engine.deploy(s, xml, deployed_by="system")
        version, created = ctx.db.transaction(deploy)
        deployed.append((version.key, version.version, created))
    return deployed
