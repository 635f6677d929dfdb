"""The documents the mechanism issues, as numbered .docx files kept as issued.

巡察建议书 (`recommendation_letter`) goes with each recommendation letter to its department; 整改报告
(`report`) is what a unit files, written when its head attests and files; 督办函 (`tracking_letter`)
and 谈话提醒记录 (`talk_record`) are the office's supervision of a late unit. Each is generated once,
numbered in its kind's sequence for the year (光巡建〔2026〕3号) and stored with its SHA-256: every
download is those bytes. What a document holds is decided here; its layout is `document_writer`'s.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask import Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import access, audit, cases, downloads
from .auth import Principal
from .context import Context
from .db import lock_sequence
from .document_writer import Block, Draft, Heading, Paragraph, Table, cn_date, render
from .errors import Forbidden, NotFound, Unprocessable
from .models import (
    Case,
    CommonProblem,
    Document,
    DocumentKind,
    Evidence,
    Filing,
    Problem,
    RecommendationLetter,
    RectificationItem,
    Round,
    SelfCheckItem,
    SupervisionAction,
    Unit,
    User,
)
from .organisation import unit_name
from .validation import MAX_INT, required_text

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLES = {DocumentKind.RECOMMENDATION_LETTER: "巡察建议书", DocumentKind.TRACKING_LETTER: "督办函",
          DocumentKind.REPORT: "整改报告", DocumentKind.TALK_RECORD: "谈话提醒记录"}
STATUS_WORDS = {"self_check": "对照自查", "rectifying": "整改中", "filed": "已备案", "returned": "退回整改",
                "closed": "已销号", "done": "已完成", "ongoing": "推进中", "not_done": "未完成"}
MAX_TEXT = 2000
MAX_REPLY_DAYS = 90


# ---------------------------------------------------------------- issuing
def issue_recommendation_letter(ctx: Context, s: Session, p: Principal | None, letter: RecommendationLetter,
                                action: SupervisionAction | None = None) -> Document:
    """巡察建议书 to the letter's department: the round, the common problems it governs, the units
    concerned and what it is asked to do by when."""
    rnd = s.get_one(Round, letter.round_id)
    governed = _common_problems(s, letter.round_id, letter.common_problem_ids)
    department = unit_name(s, letter.department_id)
    found_in = _names(s, select(Problem.unit_id).where(Problem.common_problem_id.in_([c.id for c in governed])))
    industry = _names(s, select(Unit.id).where(Unit.department_id == letter.department_id, Unit.active.is_(True)))
    issued_on = _today(ctx)
    plan_by = issued_on + timedelta(days=ctx.settings.plan_days)

    def blocks(number: str) -> tuple[Block, ...]:
        return (
            Paragraph(f"根据区委巡察工作安排，{rnd.name}形成的共性问题清单已经区委巡察工作领导小组审定。按照“管行业必须管"
                      f"共性问题整改”的要求，现将你单位主管行业领域的{len(governed)}项共性问题及整改建议函告如下。"),
            Heading("一、共性问题"),
            Table(("序号", "共性问题", "类别", "问题表现"),
                  tuple((str(i), c.title, c.category, c.description or "") for i, c in enumerate(governed, 1))),
            Heading("二、涉及单位"),
            Paragraph(f"巡察发现上述问题的单位：{'、'.join(found_in) or '无'}。"),
            Paragraph(f"你单位主管行业领域的单位：{'、'.join(industry) or '无'}。全区各单位均须对照上述问题自查整改。"),
            Heading("三、整改建议"),
            Paragraph(f"请你单位于{cn_date(plan_by)}前制定专项治理方案，牵头开展本行业领域专项治理，督促指导涉及单位对照"
                      f"自查、举一反三、建章立制，并将专项治理情况及时报区委巡察办。"),
        )

    return _issue(ctx, s, p, DocumentKind.RECOMMENDATION_LETTER, issued_on, round_id=letter.round_id,
                  letter_id=letter.id, action_id=action.id if action is not None else None, addressee=department,
                  blocks=blocks, keywords=(rnd.name, department, *[c.title for c in governed]))


def issue_report(ctx: Context, s: Session, p: Principal | None, case: Case, filing: Filing) -> Document:
    """整改报告: what the unit files: its self-check, measures, institutions, the evidence with each
    file's SHA-256, the head's attestation and the filing date."""
    rnd = s.get_one(Round, case.round_id)
    unit = unit_name(s, case.unit_id)
    titles = {c.id: c.title for c in _common_problems(s, case.round_id)}
    checks = s.scalars(select(SelfCheckItem).where(SelfCheckItem.case_id == case.id)
                       .order_by(SelfCheckItem.common_problem_id)).all()
    items = s.scalars(select(RectificationItem).where(RectificationItem.case_id == case.id)
                      .order_by(RectificationItem.common_problem_id)).all()
    files = s.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)).all()
    head = s.get(User, filing.filed_by) if filing.filed_by else None
    filed_on = filing.filed_at.astimezone(ctx.zone).date()
    current = case.pass_number
    measures = tuple((titles.get(i.common_problem_id, ""), m.description, m.deadline.isoformat() if m.deadline else "",
                      STATUS_WORDS.get(i.status, i.status)) for i in items for m in i.measures if m.pass_number == current)
    institutions = tuple((titles.get(i.common_problem_id, ""), t.title)
                         for i in items for t in i.institutions if t.pass_number == current)

    def blocks(number: str) -> tuple[Block, ...]:
        attest = (f"本单位主要负责人{head.name if head else ''}承诺：以上整改情况及所附佐证材料真实、准确、完整，"
                  f"如有不实，愿承担相应责任。")
        return (
            Paragraph(f"按照{rnd.name}共性问题清单的要求，{unit}对照{len(titles)}项共性问题逐项开展自查整改，"
                      f"现将整改情况报告如下。" + (f"（第{current}次整改）" if current > 1 else "")),
            Heading("一、对照自查情况"),
            Table(("序号", "共性问题", "是否存在", "发现问题数", "自查情况"),
                  tuple((str(n), titles.get(c.common_problem_id, ""), "存在" if c.applicable else "不存在",
                         str(c.problems_found), c.findings if c.applicable else (c.reason or c.findings))
                        for n, c in enumerate(checks, 1))),
            Heading("二、整改措施"),
            Table(("共性问题", "整改措施", "完成时限", "整改状态"), measures) if measures else Paragraph("无。"),
            Heading("三、完善制度"),
            Table(("共性问题", "制度名称"), institutions) if institutions else Paragraph("无。"),
            Heading("四、佐证材料"),
            Table(("序号", "文件名", "大小（字节）", "SHA-256"),
                  tuple((str(n), f.filename, str(f.size), f.sha256) for n, f in enumerate(files, 1))),
            Heading("五、真实性承诺"),
            Paragraph(attest),
            *([Paragraph(f"说明：{filing.attest_comment}")] if filing.attest_comment else []),
            Paragraph(f"备案日期：{cn_date(filed_on)}"),
        )

    return _issue(ctx, s, p, DocumentKind.REPORT, filed_on, round_id=case.round_id, case_id=case.id,
                  filing_id=filing.id, addressee=ctx.settings.document_issuer, blocks=blocks, signature=unit,
                  keywords=(rnd.name, unit, *titles.values()))


def issue_tracking_letter(ctx: Context, s: Session, p: Principal | None, case: Case, *, demand: str,
                          reply_days: int | None = None, action: SupervisionAction | None = None) -> Document:
    """督办函 to a late unit: its case, the common problems, how many days it is overdue, what the office
    demands and by when it replies (`reply_days`, else RECTIFLOW_REPLY_DAYS). The letter belongs to the
    tracking step `action` (the supervision list shows it with the number); without one, the step is
    recorded here."""
    _may_issue(p)
    demand = _text("demand", demand)
    days = ctx.settings.reply_days if reply_days is None else reply_days
    if not 1 <= days <= MAX_REPLY_DAYS:
        raise Unprocessable.on_field("reply_days", "out_of_range", f"between 1 and {MAX_REPLY_DAYS} days",
                                     f"the reply is due 1 to {MAX_REPLY_DAYS} days after the letter, not {days}")
    rnd = s.get_one(Round, case.round_id)
    unit = unit_name(s, case.unit_id)
    titles = [c.title for c in _common_problems(s, case.round_id)]
    issued_on = _today(ctx)
    due_on = case.due_at.astimezone(ctx.zone).date()
    overdue = max((issued_on - due_on).days, 0)
    reply_by = issued_on + timedelta(days=days)
    action = action or _action(ctx, s, p, case, "tracking_letter", demand)

    def blocks(number: str) -> tuple[Block, ...]:
        return (
            Paragraph(f"按照{rnd.name}共性问题清单的要求，你单位应于{cn_date(due_on)}前完成整改并报送整改报告。截至"
                      f"{cn_date(issued_on)}，已逾期{overdue}天，整改尚未备案（整改案件第{case.id}号，当前状态："
                      f"{STATUS_WORDS.get(case.status, case.status)}）。"),
            Heading("一、需整改的共性问题"),
            Table(("序号", "共性问题"), tuple((str(i), t) for i, t in enumerate(titles, 1))),
            Heading("二、督办要求"),
            Paragraph(demand),
            Heading("三、回复时限"),
            Paragraph(f"请于{cn_date(reply_by)}前将整改进展及逾期原因书面回复区委巡察办。"),
        )

    return _issue(ctx, s, p, DocumentKind.TRACKING_LETTER, issued_on, round_id=case.round_id, case_id=case.id,
                  action_id=action.id, addressee=unit, blocks=blocks, keywords=(rnd.name, unit, *titles))


def issue_talk_record(ctx: Context, s: Session, p: Principal | None, case: Case, *, talked_with: str, talked_by: str,
                      talked_at: date, summary: str,
                      action: SupervisionAction | None = None) -> Document:
    """谈话提醒记录 of a talk with a still-late unit's head: who talked with whom, when, and what was said.
    The record belongs to the talk's supervision step `action` (shown with the number); without one, the
    step is recorded here."""
    _may_issue(p)
    talked_with, talked_by = _text("talked_with", talked_with), _text("talked_by", talked_by)
    summary = (summary or "").strip()
    if len(summary) > MAX_TEXT:
        raise Unprocessable.on_field("summary", "too_long", f"at most {MAX_TEXT} characters")
    if isinstance(talked_at, datetime):
        talked_at = talked_at.astimezone(ctx.zone).date()
    rnd = s.get_one(Round, case.round_id)
    unit = unit_name(s, case.unit_id)
    titles = [c.title for c in _common_problems(s, case.round_id)]
    issued_on = _today(ctx)
    overdue = max((talked_at - case.due_at.astimezone(ctx.zone).date()).days, 0)
    action = action or _action(ctx, s, p, case, "talk_reminder",
                               f"{talked_by} 于 {talked_at.isoformat()} 与 {talked_with} 谈话：{summary}".rstrip("："))

    def blocks(number: str) -> tuple[Block, ...]:
        return (
            Table(("项目", "内容"), (
                ("谈话时间", cn_date(talked_at)), ("谈话人", talked_by), ("谈话对象", talked_with),
                ("所在单位", unit), ("巡察轮次", rnd.name),
                ("事由", f"共性问题整改逾期{overdue}天未备案（整改案件第{case.id}号）"))),
            Heading("一、涉及的共性问题"),
            Table(("序号", "共性问题"), tuple((str(i), t) for i, t in enumerate(titles, 1))),
            Heading("二、谈话要点"),
            Paragraph(summary or "（未记录）"),
        )

    return _issue(ctx, s, p, DocumentKind.TALK_RECORD, issued_on, round_id=case.round_id, case_id=case.id,
                  action_id=action.id, addressee="", blocks=blocks, keywords=(rnd.name, unit, *titles))


def _issue(ctx: Context, s: Session, p: Principal | None, kind: DocumentKind, issued_on: date, *, round_id: int,
           addressee: str, blocks: Callable[[str], tuple[Block, ...]], keywords: tuple[str, ...],
           signature: str | None = None, case_id: int | None = None, letter_id: int | None = None,
           filing_id: int | None = None, action_id: int | None = None) -> Document:
    """Number, write and keep one document. The kind's sequence for the year is taken first, so two
    documents issued at once get consecutive numbers (the unique kind+year+seq is the last guard)."""
    year = issued_on.year
    lock_sequence(s, Document, f"document:{kind}:{year}")
    last = s.scalar(select(Document.seq).where(Document.kind == kind, Document.year == year)
                    .order_by(Document.seq.desc()).limit(1)) or 0
    seq = last + 1
    number = f"{ctx.settings.document_prefixes[kind]}〔{year}〕{seq}号"
    title = TITLES[kind]
    data = render(Draft(ctx.settings.document_issuer, number, title, addressee, blocks(number),
                        signature or ctx.settings.document_issuer, issued_on, title, keywords))
    document = Document(kind=kind, number=number, year=year, seq=seq, title=title, round_id=round_id,
                        case_id=case_id, letter_id=letter_id, filing_id=filing_id, action_id=action_id,
                        issued_on=issued_on, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                        content=data, created_at=ctx.now(), created_by=p.id if p else None)
    s.add(document)
    s.flush()
    return document


def _may_issue(p: Principal | None) -> None:
    if p is not None and not access.may_issue_documents(p):
        raise Forbidden("the inspection office issues tracking letters and talk records", code="role_required",
                        roles=list(access.DOCUMENT_ISSUERS))


def _text(field: str, value: str) -> str:
    return required_text(field, value, "value_required", "write what it is", MAX_TEXT)


def _action(ctx: Context, s: Session, p: Principal | None, case: Case, kind: str, detail: str) -> SupervisionAction:
    action = SupervisionAction(round_id=case.round_id, case_id=case.id, target_unit_id=case.unit_id, kind=kind,
                               at=ctx.now(), actor_id=p.id if p else None, detail=detail)
    s.add(action)
    s.flush()
    return action


def _today(ctx: Context) -> date:
    return ctx.now().astimezone(ctx.zone).date()


def _common_problems(s: Session, round_id: int, ids: list[int] | None = None) -> list[CommonProblem]:
    query = select(CommonProblem).where(CommonProblem.round_id == round_id)
    if ids is not None:
        query = query.where(CommonProblem.id.in_(ids))
    return list(s.scalars(query.order_by(CommonProblem.id)))


def _names(s: Session, unit_ids) -> list[str]:
    return list(s.scalars(select(Unit.name).where(Unit.id.in_(unit_ids)).order_by(Unit.code)))


# ---------------------------------------------------------------- reading
def case_documents(s: Session, p: Principal, case_id: int) -> list[Document]:
    """A case's documents for whoever may read the case: its report(s), tracking letters and talk
    records, and the recommendation letter its unit received as a department in the same round."""
    return of_case(s, cases.get_case(s, p, case_id))


def of_case(s: Session, case: Case) -> list[Document]:
    """The documents of a case the reader may already read (see `case_documents`)."""
    letters = select(RecommendationLetter.id).where(RecommendationLetter.round_id == case.round_id,
                                                    RecommendationLetter.department_id == case.unit_id)
    return list(s.scalars(select(Document).where(or_(Document.case_id == case.id, Document.letter_id.in_(letters)))
                          .order_by(Document.created_at, Document.id)))


def content(s: Session, p: Principal, document_id: int) -> tuple[Document, bytes]:
    """A document as issued, for whoever may read its case or letter (404 for anyone else); the
    download goes on the audit log."""
    document = None
    if -MAX_INT <= document_id <= MAX_INT:
        document = s.scalar(select(Document).where(Document.id == document_id, access.document_scope(p)))
    if document is None:
        raise NotFound(f"document {document_id} does not exist")
    audit.record(s, "document_downloaded", p, f"document:{document.id}",
                 detail={"number": document.number, "sha256": document.sha256})
    return document, document.content


def filename(document: Document) -> str:
    """`巡察建议书-光巡建〔2026〕3号.docx`."""
    return f"{document.title}-{document.number}.docx"


def download(document: Document, data: bytes) -> Response:
    return Response(data, mimetype=DOCX, headers={
        "Content-Disposition": downloads.disposition(filename(document), f"document-{document.id}.docx"),
        "X-Content-Type-Options": "nosniff", "X-Document-SHA256": document.sha256,
        "Cache-Control": "private, no-store"})


def document_json(d: Document, ctx: Context) -> dict:
    return {"id": d.id, "kind": d.kind, "number": d.number, "sha256": d.sha256, "title": d.title,
            "size": d.size, "issued_on": d.issued_on.isoformat(), "created_at": ctx.local_iso(d.created_at),
            "case_id": d.case_id, "letter_id": d.letter_id}
