"""The office's four lists over one problem library, as rows and as Excel ledgers (台账).

Each list is a set of columns (key, Chinese header, width, labels for its codes) and a query;
the JSON rows and the workbook come from the same rows, so what is downloaded is what is shown.
Rows carry codes (`resident_report`, `closed`, `warning_red`) for clients and pages to act on;
the workbook, read by people, shows each code's Chinese label.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import cast

from sqlalchemy import exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from . import access, audit
from .auth import Principal
from .context import Context
from .errors import Forbidden, NotFound
from .models import (
    Case,
    CaseProblem,
    CommonProblem,
    Document,
    Evidence,
    Problem,
    RectificationItem,
    Round,
    SupervisionAction,
    Unit,
    User,
)
from .organisation import unit_names

SOURCE_LABELS = {"inspection": "巡察发现", "resident_report": "群众反映", "audit": "审计发现"}
STATUS_LABELS = {"done": "已完成", "ongoing": "推进中", "not_done": "未完成", "self_check": "对照自查",
                 "rectifying": "整改中", "filed": "已备案", "returned": "退回整改", "closed": "已销号"}
ACTION_LABELS = {"warning_green": "绿色提醒", "warning_yellow": "黄色预警", "warning_red": "红色逾期",
                 "tracking_letter": "跟踪督办函", "talk_reminder": "谈话提醒", "special_inspection": "专项督查",
                 "recheck": "回头看", "recommendation_letter": "巡察建议书", "governance_plan": "专项治理方案",
                 "governance_report": "专项治理情况", "governance_evaluated": "治理成效评估", "urge": "催办",
                 "extension_approved": "延期获批", "extension_refused": "延期未获批", "measure_done": "措施报告完成",
                 "measure_overdue": "措施逾期",
                 "tracking_reply": "督办函答复", "tracking_reply_late": "督办函逾期未复", "inspection_check": "专项督查核查"}
RECURRING_LABELS = {"recurring": "问题反弹"}
FOLLOWUP_LABELS = {"open": "未到期（跟踪中）", "overdue": "逾期未完成", "done": "已报告完成"}
OUTCOME_LABELS = {"awaiting_reply": "待答复", "replied": "已答复", "reply_late": "逾期未复", "recorded": "已记录",
                  "assigned": "已指派", "passed": "通过", "failed": "未通过（退回整改）"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int = 14
    labels: dict | None = None  # code -> what the workbook shows

    def cell(self, value):
        return self.labels.get(value, value) if self.labels else value


@dataclass(frozen=True)
class ListSpec:
    title: str
    columns: tuple[Column, ...]
    rows: Callable[[Context, Session, Principal, Filters], list[dict]]


def _local(ctx: Context, when) -> str:
    return when.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M") if when else ""


@dataclass(frozen=True)
class Filters:
    """What a list can be narrowed by; each list applies the filters that mean something for it."""

    round_id: int | None = None
    unit_id: int | None = None
    industry: str | None = None
    status: str | None = None
    department_id: int | None = None
    overdue: bool | None = None

    def apply(self, query, *, round_col=None, unit=None, department_col=None, status_col=None, case=None, now=None):
        if self.round_id is not None and round_col is not None:
            query = query.where(round_col == self.round_id)
        if self.unit_id is not None and unit is not None:
            query = query.where(unit.id == self.unit_id)
        if self.industry and unit is not None:
            query = query.where(unit.industry == self.industry)
        if self.department_id is not None and department_col is not None:
            query = query.where(department_col == self.department_id)
        if self.status and status_col is not None:
            query = query.where(status_col == self.status)
        if self.overdue is not None and case is not None:
            late = case.is_overdue(now)
            query = query.where(late if self.overdue else not_(late))
        return query


def _problems(ctx, s, p, f: Filters):
    query = (select(Problem, Round.name, Unit.name, CommonProblem.title)
             .join(Round, Round.id == Problem.round_id).join(Unit, Unit.id == Problem.unit_id)
             .outerjoin(CommonProblem, CommonProblem.id == Problem.common_problem_id)
             .where(access.unit_scope(p, Problem.unit_id), access.findings_scope(p)).order_by(Problem.id))
    query = f.apply(query, round_col=Problem.round_id, unit=Unit,
                    department_col=CommonProblem.responsible_department_id)
    return [{"id": pr.id, "round": rname, "unit": uname, "description": pr.description, "category": pr.category,
             "source": pr.source, "common_problem": ctitle or "",
             "recorded_at": _local(ctx, pr.recorded_at)}
            for pr, rname, uname, ctitle in s.execute(query)]


def _responsibilities(ctx, s, p, f: Filters):
    dept = aliased(Unit)
    # each case with the common problems sent to it (the whole list for a case of an untargeted era)
    sent = or_(exists().where(CaseProblem.case_id == Case.id, CaseProblem.common_problem_id == CommonProblem.id),
               ~exists().where(CaseProblem.case_id == Case.id))
    query = (select(Case, Unit, CommonProblem, dept.name)
             .join(Unit, Unit.id == Case.unit_id)
             .join(CommonProblem, CommonProblem.round_id == Case.round_id)
             .join(dept, dept.id == CommonProblem.responsible_department_id)
             .where(access.case_scope(p), sent).order_by(Case.id, CommonProblem.id))
    query = f.apply(query, round_col=Case.round_id, unit=Unit, department_col=CommonProblem.responsible_department_id,
                    status_col=Case.status, case=Case, now=ctx.now())
    rows = s.execute(query).all()
    staff = _staff(s, {c.unit_id for c, *_ in rows})
    leaders = {u.id: u.name for u in s.scalars(select(User).where(User.id.in_({u.leader_id for _, u, *_ in rows
                                                                               if u.leader_id})))}
    sharing = unit_names(s, {d for _, _, cp, _ in rows for d in cp.co_department_ids})
    return [{"case_id": case.id, "unit": unit.name, "common_problem": cp.title,
             "head": staff.get((unit.id, "unit_head"), ""), "liaison": staff.get((unit.id, "unit_liaison"), ""),
             "leader": leaders.get(unit.leader_id, ""), "department": dname,
             "co_departments": "；".join(sharing.get(d, "") for d in cp.co_department_ids)}
            for case, unit, cp, dname in rows]


def _staff(s: Session, unit_ids) -> dict:
    found: dict[tuple[int | None, str], str] = {}
    for user in s.scalars(select(User).where(User.unit_id.in_(unit_ids)).order_by(User.id)):
        for role in ("unit_head", "unit_liaison"):
            if role in user.roles:
                found.setdefault((user.unit_id, role), user.name)
    return found


def _rectifications(ctx, s, p, f: Filters):
    evidence = (select(Evidence.case_id, func.count(Evidence.id).label("n")).group_by(Evidence.case_id).subquery())
    query = (select(RectificationItem, Case, Unit.name, CommonProblem.title, evidence.c.n)
             .join(Case, Case.id == RectificationItem.case_id).join(Unit, Unit.id == Case.unit_id)
             .join(CommonProblem, CommonProblem.id == RectificationItem.common_problem_id)
             .outerjoin(evidence, evidence.c.case_id == Case.id)
             .where(access.case_scope(p)).order_by(Case.id, CommonProblem.id))
    query = f.apply(query, round_col=Case.round_id, unit=Unit, department_col=CommonProblem.responsible_department_id,
                    status_col=RectificationItem.status, case=Case, now=ctx.now())
    found = s.execute(query).all()
    recurring = _recurring_items(s, [case for _, case, *_ in found])
    rows = []
    for item, case, uname, title, n in found:
        current = case.pass_number
        measures = [m for m in item.measures if m.pass_number == current]
        earlier = [m for m in item.measures if m.pass_number < current]
        followed = [m for m in measures if m.followup]
        rows.append({
            "case_id": case.id, "unit": uname, "common_problem": title,
            # this pass's measures and institutions (after a follow-up re-check, the re-check's own)
            "measures": "；".join(m.description for m in measures),
            "deadlines": "；".join(m.deadline.isoformat() for m in measures if m.deadline),
            "institutions": "；".join(i.title for i in item.institutions if i.pass_number == current),
            "status": item.status, "case_status": case.status,
            "evidence": n or 0, "filed_at": _local(ctx, case.filed_at), "closed_at": _local(ctx, case.closed_at),
            # what earlier passes did, each marked with its pass: a re-check adds to it, never replaces it
            "pass_number": current,
            "earlier_measures": "；".join(f"{_pass_label(m.pass_number)}{m.description}" for m in earlier),
            "earlier_institutions": "；".join(f"{_pass_label(i.pass_number)}{i.title}"
                                            for i in item.institutions if i.pass_number < current),
            # measures due after close-out: the item shows its most pressing one (overdue, open, done)
            "followup": max((m.followup or "" for m in followed), key=lambda f: _FOLLOWUP_RANK.get(f, 0), default=""),
            "followup_measures": "；".join(f"【{FOLLOWUP_LABELS[m.followup or '']}】{m.description}"
                                          f"（{m.deadline.isoformat() if m.deadline else ''}）" for m in followed),
            # 问题反弹: the unit's problem behind it recurs, or a 回头看 reopened the case
            "recurring": "recurring" if current > 1 or (case.unit_id, item.common_problem_id) in recurring else ""})
    return rows


def _recurring_items(s: Session, cases: list[Case]) -> set[tuple[int, int]]:
    """(unit, common problem) pairs of these cases' rounds where a problem of the unit grouped into
    the common problem is flagged recurring (service.insight)."""
    if not cases:
        return set()
    return {(unit_id, cid) for unit_id, cid in cast(list[tuple[int, int]], s.execute(
        select(Problem.unit_id, Problem.common_problem_id).where(
            Problem.round_id.in_({c.round_id for c in cases}), Problem.unit_id.in_({c.unit_id for c in cases}),
            Problem.recurring_of_case_id.is_not(None), Problem.common_problem_id.is_not(None))).all())}


_FOLLOWUP_RANK = {"overdue": 3, "open": 2, "done": 1}


def _pass_label(number: int) -> str:
    return "【首次整改】" if number == 1 else f"【第{number}次整改】"


def _supervision(ctx, s, p, f: Filters):
    actor = aliased(User)
    query = (select(SupervisionAction, Unit.name, actor.name, Document.id, Document.number, Document.sha256)
             .outerjoin(Unit, Unit.id == SupervisionAction.target_unit_id)
             .outerjoin(actor, actor.id == SupervisionAction.actor_id)
             .outerjoin(Document, Document.action_id == SupervisionAction.id)
             .where(access.unit_scope(p, SupervisionAction.target_unit_id))
             .order_by(SupervisionAction.at, SupervisionAction.id))
    query = f.apply(query, round_col=SupervisionAction.round_id, unit=Unit, status_col=SupervisionAction.kind)
    # the document a step issued (巡察建议书, 督办函, 谈话提醒记录): its number and fingerprint
    return [{"id": a.id, "at": _local(ctx, a.at), "kind": a.kind, "target": uname or "",
             "actor": aname, "detail": a.detail or "", "outcome": a.outcome or "", "due": _local(ctx, a.due_at),
             "document_id": document_id, "document_number": number or "", "document_sha256": sha256 or ""}
            for a, uname, aname, document_id, number, sha256 in s.execute(query)]


LISTS = {
    "problems": ListSpec("问题清单", (
        Column("id", "编号", 8), Column("round", "巡察轮次", 16), Column("unit", "被巡察单位", 24),
        Column("description", "问题描述", 50), Column("category", "类别", 12), Column("source", "来源", 10, SOURCE_LABELS),
        Column("common_problem", "归入共性问题", 30), Column("recorded_at", "记录时间", 18)), _problems),
    "responsibilities": ListSpec("责任清单", (
        Column("case_id", "案件编号", 10), Column("unit", "责任单位", 24), Column("common_problem", "共性问题", 30),
        Column("head", "主要负责人", 12), Column("liaison", "联络员", 12), Column("leader", "分管区领导", 16),
        Column("department", "责任职能部门", 20), Column("co_departments", "协同责任部门", 24)),
        _responsibilities),
    "rectifications": ListSpec("整改清单", (
        Column("case_id", "案件编号", 10), Column("unit", "单位", 24), Column("common_problem", "共性问题", 30),
        Column("measures", "整改措施", 50), Column("deadlines", "完成时限", 14), Column("institutions", "完善制度", 30),
        Column("status", "整改状态", 10, STATUS_LABELS), Column("case_status", "案件状态", 10, STATUS_LABELS),
        Column("evidence", "佐证材料数", 10),
        Column("filed_at", "备案时间", 18), Column("closed_at", "销号时间", 18),
        Column("earlier_measures", "回头看前的整改措施", 40), Column("earlier_institutions", "回头看前的完善制度", 30),
        Column("followup", "销号后措施跟踪", 14, FOLLOWUP_LABELS), Column("followup_measures", "跟踪中的措施", 40),
        Column("recurring", "问题反弹", 10, RECURRING_LABELS)),
        _rectifications),
    "supervision": ListSpec("督查清单", (
        Column("id", "编号", 8), Column("at", "时间", 18), Column("kind", "督查方式", 12, ACTION_LABELS),
        Column("target", "督查对象", 24), Column("actor", "督查人", 12, {None: "系统"}),
        Column("detail", "情况", 40), Column("outcome", "结果", 14, OUTCOME_LABELS),
        Column("due", "答复期限", 18), Column("document_number", "文书文号", 18),
        Column("document_sha256", "文书SHA-256", 66)), _supervision),
}


def rows(ctx: Context, s: Session, p: Principal, name: str, round_id: int | None = None,
         filters: Filters | None = None) -> tuple[ListSpec, list[dict]]:
    spec = LISTS.get(name)
    if spec is None:
        raise NotFound(f"no list {name!r}; lists are {', '.join(LISTS)}")
    if not access.may_read_lists(p):
        raise Forbidden("the lists are for the office, leaders and units")
    filters = filters or Filters(round_id=round_id)
    return spec, spec.rows(ctx, s, p, filters)


CELL_LIMIT = 32_767  # the most characters an Excel cell holds; openpyxl cuts the rest without a word
CUT_MARK = "…【超出 Excel 单元格长度，以下已截断】"
# Text a spreadsheet would read as a formula (OWASP CSV/formula injection), and the control
# characters a worksheet cannot hold at all.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNWRITABLE = re.compile(r"[\000-\010\013\014\016-\037]")


def _write(cell, value) -> None:
    """A value as the workbook's reader should see it: numbers as numbers, text always as text
    (never evaluated, even once edited), and a cell too long for Excel visibly cut."""
    if not isinstance(value, str):
        cell.value = value
        return
    text = _UNWRITABLE.sub("\ufffd", value)
    if len(text) > CELL_LIMIT:
        text = text[:CELL_LIMIT - len(CUT_MARK)] + CUT_MARK
    cell.value = text
    cell.data_type = "s"  # openpyxl would store "=..." as a formula
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True  # Excel's own mark for "typed as text": editing the cell keeps it text


def _csv_cell(value):
    """A value for a CSV file that a spreadsheet may open: text it would run as a formula starts
    with an apostrophe (OWASP's advice), and characters a worksheet cannot hold are replaced."""
    if not isinstance(value, str):
        return "" if value is None else value
    text = _UNWRITABLE.sub("\ufffd", value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_table(spec: ListSpec, data: list[dict]) -> bytes:
    """The rows of a workbook's sheet as CSV: UTF-8 with a byte-order mark (without one, Excel reads
    Chinese as mojibake), the header row first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in spec.columns])
    for row in data:
        writer.writerow([_csv_cell(column.cell(row[column.key])) for column in spec.columns])
    return out.getvalue().encode("utf-8-sig")


def exported(ctx: Context, p: Principal, names: list[str], content: bytes, filters: Filters | None = None,
             searched: str | None = None) -> bytes:
    """Lists leaving the service as a workbook: recorded in the audit log (in a transaction of its
    own: reading them changes nothing), with the filters they were narrowed by and the words the
    rows were searched for (the dashboard's search box)."""
    detail = {"lists": names, **{k: v for k, v in asdict(filters or Filters()).items() if v is not None}}
    if searched:
        detail["searched"] = searched
    audit.event(ctx.db, "list_exported", p, f"list:{names[0] if len(names) == 1 else 'ledger'}", detail=detail)
    return content


def workbook(spec: ListSpec, data: list[dict]) -> bytes:
    return ledger([(spec, data)])


def ledger(sheets: list[tuple[ListSpec, list[dict]]]) -> bytes:
    """One sheet per list: bold Chinese headers, a frozen header row, set column widths."""
    from openpyxl import Workbook  # imported here: a process that never exports need not load it
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for spec, data in sheets:
        ws = wb.create_sheet(spec.title)
        ws.append([c.header for c in spec.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(horizontal="center", vertical="center")
        for number, row in enumerate(data, start=2):
            for index, column in enumerate(spec.columns, start=1):
                _write(ws.cell(number, index), column.cell(row[column.key]))
        for index, column in enumerate(spec.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- file names of downloads
LEDGER_TITLE = "整改工作台账"
def round_name(s: Session, round_id: int | None) -> str | None:
    """A round's name for a file name; None for every round or a round that is not there."""
    return s.scalar(select(Round.name).where(Round.id == round_id)) if round_id is not None else None


def export_name(title: str, round_title: str | None, extension: str, searched: str | None = None) -> str:
    """`问题清单-2026年第二轮巡察.xlsx`: what the file holds, the round it is narrowed to (全部轮次
    otherwise) and what the rows were searched for."""
    parts = [title, round_title or "全部轮次"] + ([f"含“{searched[:20]}”"] if searched else [])
    return "-".join(parts) + "." + extension
