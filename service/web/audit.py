"""审计日志: the audit log's page, for the audit administrator alone (`service.audit_log` checks,
reads and records; everyone else gets a 403). Entries newest first with filters, in words rather
than codes; the filtered entries as an Excel workbook or CSV (the API's export is the same file);
and a button that verifies the whole chain and says where it breaks, if it does."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from .. import audit, audit_log, downloads, lists
from ..errors import ApiError
from ..models import AuditEntry
from . import ctx, page_number, principal
from .i18n import LABELS, _, format_datetime, label, pgettext, tc
from .problems import error_text, errors_of

bp: Blueprint = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50
MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}


@bp.before_request
def only_the_audit_administrator():
    audit_log.admit(ctx(), principal())


@bp.get("/")
def index():
    c, p, page = ctx(), principal(), page_number()
    errors: dict[str, list[str]] = {}
    with c.db.read() as s:
        try:
            found = audit_log.listing(s, p, request.args, c.zone, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        except ApiError as exc:
            if exc.status == 403:
                raise
            errors, found = errors_of(exc, "from"), None
        actions = audit_log.actions(s, p)
        items = [readable(e) for e in found.entries] if found else []
    known = sorted(set(actions) | set(LABELS["audit_action"]), key=lambda code: label("audit_action", code))
    query = found.filters.query() if found else {}
    return render_template("audit/index.html", items=items, total=found.total if found else 0, page=page,
                           page_size=PAGE_SIZE, query=query, args=request.args, actions=known,
                           outcomes=audit.OUTCOMES, errors=errors, export_limit=audit_log.EXPORT_LIMIT,
                           retention_days=c.settings.audit_retention_days), (422 if errors else 200)


@bp.get("/export.<any(xlsx, csv):fmt>")
def export(fmt: str):
    c, p = ctx(), principal()
    with c.db.read() as s:
        found = audit_log.for_export(s, p, request.args, c.zone)
    content = export_file(found.entries, fmt)
    audit_log.exported(c, p, found.filters, fmt, len(found.entries))
    return download(content, fmt)


@bp.post("/verify")
def verify():
    c = ctx()
    verdict = audit_log.check(c, principal())
    flash(verdict_text(verdict), "success" if verdict.ok else "error")
    return redirect(url_for("audit.index"))


# ------------------------------------------------------------------ entries in words
def verdict_text(verdict: audit.Verdict) -> str:
    if verdict.ok:
        text = _("The audit log is whole: %(count)s entries verified.", count=verdict.count)
        if verdict.base_id:
            text += " " + _("It starts after entry %(id)s; the entries before it were removed when their "
                            "retention ended.", id=verdict.base_id)
        return text
    return _("The audit log is broken at entry %(id)s: %(why)s. %(count)s entries before it verified.",
             id=verdict.bad_id, why=break_text(verdict.why, verdict.values), count=verdict.count)


def break_text(why: str, values: dict) -> str:
    text = LABELS["audit_break"].get(why)
    return str(text) % _Blank(values) if text is not None else why


class _Blank(dict):
    def __missing__(self, key):
        return "?"


def _time(entry: AuditEntry) -> str:
    """To the second, in the configured zone: the log is read for what happened when."""
    return format_datetime(entry.at, "yyyy-MM-dd HH:mm:ss")


def _target(target: str | None) -> str:
    """`user:office1` as 账号 office1; a target of no known kind as it is."""
    if not target:
        return "—"
    kind, _sep, rest = target.partition(":")
    if kind not in LABELS["audit_target"]:
        return target
    if not rest:
        return label("audit_target", kind)
    if kind == "list":
        rest = label("list", rest) if rest in LABELS["list"] else rest
    return f"{label('audit_target', kind)} {rest}"


def _value(key: str, value) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None or value == "" or value == []:
        return "—"
    if key == "code":  # why a request was refused
        if value == "unauthorized":  # a login: the service does not say which of the two was wrong
            return _("Wrong username or password")
        return error_text(str(value), None, str(value))
    if key in ("before", "after") and isinstance(value, list):
        return "、".join(label("role", v) for v in value)
    if key == "lists" and isinstance(value, list):
        return "、".join(label("list", v) for v in value)
    if key == "action":
        return label("audit_action", value)
    if key == "task":
        return tc(str(value))
    if key == "outcome":
        return label("audit_outcome", value)
    if key == "cutoff":
        try:
            return format_datetime(datetime.fromisoformat(str(value)), "yyyy-MM-dd HH:mm:ss")
        except ValueError:
            return str(value)
    if key == "via" and value == "cli":
        return _("the command line")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def detail_pairs(entry: AuditEntry) -> list[tuple[str, str]]:
    """An entry's detail as (what, value) pairs in words; a verification's verdict as a sentence."""
    detail = dict(entry.detail or {})
    if entry.action == "audit_verified":
        if detail.get("whole"):
            pairs = [(pgettext("audit detail", "Result"), _("Whole")),
                     (label("audit_detail", "count"), str(detail.get("count", "")))]
        else:
            values = dict(detail, id=detail.get("bad_id"))
            pairs = [(pgettext("audit detail", "Result"), _("Broken at entry %(id)s", id=detail.get("bad_id"))),
                     (pgettext("audit detail", "Reason"), break_text(str(detail.get("why")), values))]
        if detail.get("base"):
            pairs.append((label("audit_detail", "base"), str(detail["base"])))
        return pairs
    if detail.get("task"):  # a task's name from its diagram says more than the step's code
        detail.pop("step", None)
    return [(label("audit_detail", key), _value(key, value)) for key, value in detail.items()]


def readable(entry: AuditEntry) -> dict:
    return {"id": entry.id, "at": _time(entry), "actor": entry.actor or _("System"),
            "address": entry.address or "—", "action": entry.action, "action_label": label("audit_action", entry.action),
            "target": _target(entry.target), "outcome": entry.outcome,
            "outcome_label": label("audit_outcome", entry.outcome), "detail": detail_pairs(entry)}


# ------------------------------------------------------------------ exports
def _columns() -> tuple[lists.Column, ...]:
    return (lists.Column("id", _("No."), 8), lists.Column("at", pgettext("audit log", "Time"), 20),
            lists.Column("actor", pgettext("audit log", "By"), 14),
            lists.Column("address", pgettext("audit log", "Address"), 16),
            lists.Column("action_label", pgettext("audit log", "Action"), 18),
            lists.Column("target", pgettext("audit log", "Target"), 28),
            lists.Column("outcome_label", pgettext("audit log", "Outcome"), 8),
            lists.Column("detail", pgettext("audit log", "Detail"), 50),
            lists.Column("hash", pgettext("audit log", "Hash"), 66))


def export_file(entries: list[AuditEntry], fmt: str) -> bytes:
    """The entries as the page words them, one row each, as a workbook or CSV (both through
    service.lists, which keeps a cell from running as a formula)."""
    rows = []
    for entry in entries:
        row = readable(entry)
        row["detail"] = "；".join(f"{k}：{v}" for k, v in row["detail"])
        row["hash"] = entry.hash
        rows.append(row)
    spec = lists.ListSpec(_("Audit log"), _columns(), lambda *a: rows)
    return lists.workbook(spec, rows) if fmt == "xlsx" else lists.csv_table(spec, rows)


def download(content: bytes, fmt: str) -> Response:
    """The export as a file named in the page's language and dated (审计日志-2026-05-01.xlsx)."""
    c = ctx()
    day = c.clock.now().astimezone(c.zone).date().isoformat()
    name = f"{_('Audit log')}-{day}.{fmt}"
    return Response(content, mimetype=MIMETYPES[fmt],
                    headers={"Content-Disposition": downloads.disposition(name, f"audit-log-{day}.{fmt}")})
