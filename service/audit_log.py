"""The audit log for its one reader, the audit administrator (GB/T 22239: readable and exportable by
the audit administrator alone): entries filtered and paged, every matching entry for an export, and
the chain verified on demand. Exports and verifications are themselves recorded on the log.

The chain's own mechanics (appending, sealing, verifying, pruning) are `service.audit`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from . import access, audit
from .auth import Principal
from .context import Context
from .errors import BadRequest, Forbidden, Unprocessable
from .models import AuditEntry

# The most entries one export holds (a workbook of them takes seconds and a few hundred MB to
# build): a larger selection is refused, to be narrowed by its dates.
EXPORT_LIMIT = 20_000
FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class Listing:
    filters: audit.Filters
    entries: list[AuditEntry]  # newest first
    total: int                 # entries matching the filters


def require_reader(p: Principal) -> None:
    if not access.may_read_audit_log(p):
        raise Forbidden("only an audit administrator reads the audit log", code="audit_admin_required")


def admit(ctx: Context, p: Principal) -> None:
    """`require_reader` at the door of the page or the API, where a refusal goes on the log itself:
    who tried to read the audit log without the role is a security event too."""
    with audit.refusals(ctx.db, "audit_log_refused", p, "audit-log"):
        require_reader(p)


def parse_filters(args: Mapping[str, str]) -> audit.Filters:
    """The filters of a query (`action`, `actor`, `outcome`, `from`, `to`: days as YYYY-MM-DD);
    every value that is not valid is named, as a field problem."""
    problems = []

    def day(name: str) -> date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problems.append({"field": name, "code": "not_a_date", "message": f"must be a date like 2026-12-31, "
                                                                             f"got {raw[:40]!r}"})
            return None

    outcome = args.get("outcome") or None
    if outcome is not None and outcome not in audit.OUTCOMES:
        problems.append({"field": "outcome", "code": "enum", "message": f"must be one of {', '.join(audit.OUTCOMES)}"})
        outcome = None
    date_from, date_to = day("from"), day("to")
    if date_from and date_to and date_to < date_from:
        problems.append({"field": "to", "code": "dates_reversed", "message": "must not be before from"})
    if problems:
        raise BadRequest("the filters are not valid", problems, code="invalid_query")
    return audit.Filters(action=(args.get("action") or "").strip()[:40] or None,
                         actor=(args.get("actor") or "").strip()[:80] or None,
                         outcome=outcome, date_from=date_from, date_to=date_to)


def listing(s: Session, p: Principal, args: Mapping[str, str], zone: ZoneInfo, limit: int, offset: int) -> Listing:
    """One page of the entries the query's filters select, newest first."""
    require_reader(p)
    filters = parse_filters(args)
    entries, total = audit.search(s, filters, zone, limit, offset)
    return Listing(filters, entries, total)


def actions(s: Session, p: Principal) -> list[str]:
    """The actions the log holds, to filter by."""
    require_reader(p)
    return audit.actions(s)


def for_export(s: Session, p: Principal, args: Mapping[str, str], zone: ZoneInfo) -> Listing:
    """Every entry the query's filters select, newest first; more than EXPORT_LIMIT are refused."""
    require_reader(p)
    filters = parse_filters(args)
    entries, total = audit.search(s, filters, zone, EXPORT_LIMIT + 1)
    if total > EXPORT_LIMIT:
        raise Unprocessable(f"{total} entries match; an export holds at most {EXPORT_LIMIT}: narrow the dates",
                            code="export_too_large", limit=EXPORT_LIMIT, total=total)
    return Listing(filters, entries, total)


def exported(ctx: Context, p: Principal, filters: audit.Filters, fmt: str, count: int) -> None:
    """An export leaves the service: on the log, with its filters and how many entries it holds
    (in a transaction of its own: reading the log changes nothing)."""
    audit.event(ctx.db, "audit_exported", p, "audit-log", detail={**filters.query(), "format": fmt, "rows": count})


def check(ctx: Context, p: Principal) -> audit.Verdict:
    """Verify the whole chain now; the verdict goes on the log as well."""
    require_reader(p)
    with ctx.db.read() as s:
        verdict = audit.verify(s, ctx.settings.require_audit_key())
    detail: dict = {"whole": verdict.ok, "count": verdict.count}
    if verdict.base_id:
        detail["base"] = verdict.base_id
    if not verdict.ok:
        detail.update(verdict.values, bad_id=verdict.bad_id, why=verdict.why)
        detail.pop("id", None)
    audit.event(ctx.db, "audit_verified", p, "audit-log", detail=detail)
    return verdict
