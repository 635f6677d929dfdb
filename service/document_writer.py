"""The layout of an official document (公文) as a .docx: the issuing body's red head, the number,
the title, the addressee, the body, the signature and the date.

It knows python-docx and nothing of the mechanism: `service.documents` says what a document holds
as a `Draft`. The same draft gives the same bytes: the core properties carry the document's date,
and the package's zip entries that date as their time, so no clock or random id reaches the file.
"""
from __future__ import annotations

import copy
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache

from docx import Document as new_docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

BODY_FONT = "仿宋"      # 公文 body: FangSong
TITLE_FONT = "宋体"     # titles: SimSun (方正小标宋 where installed is not assumed)
HEADING_FONT = "黑体"   # first-level headings: SimHei
RED = RGBColor(0xC0, 0x00, 0x00)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Heading | Paragraph | Table


@dataclass(frozen=True)
class Draft:
    issuer: str                 # the issuing body, the document's red head
    number: str                 # 光巡建〔2026〕3号
    title: str                  # 巡察建议书
    addressee: str              # 区住房和建设局 (the line ending in a colon); empty for a record
    blocks: tuple[Block, ...]
    signature: str              # who signs at the end
    issued_on: date
    subject: str = ""           # the core properties' subject (the kind of document)
    keywords: tuple[str, ...] = field(default_factory=tuple)


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render(draft: Draft) -> bytes:
    doc = copy.deepcopy(_blank())
    _line(doc, draft.issuer, size=22, bold=True, color=RED, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER)
    _rule(_line(doc, draft.number, size=16, align=WD_ALIGN_PARAGRAPH.CENTER))
    _line(doc, draft.title, size=22, bold=True, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER)
    if draft.addressee:
        _line(doc, draft.addressee + "：")
    for block in draft.blocks:
        if isinstance(block, Heading):
            _line(doc, block.text, font=HEADING_FONT)
        elif isinstance(block, Paragraph):
            _line(doc, block.text, indent=True)
        else:
            _table(doc, block)
    _line(doc, "")
    _line(doc, draft.signature, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _line(doc, cn_date(draft.issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    _properties(doc, draft)
    out = io.BytesIO()
    doc.save(out)
    return _fixed_times(out.getvalue(), draft.issued_on)


@cache
def _blank():
    """The styled empty document every render starts from: parsing python-docx's template and styling
    it costs more than copying the result. Its core properties are made here too, so a copy never
    adds a part to the shared original."""
    doc = new_docx()
    _base_style(doc)
    _prune(doc)
    doc.core_properties.title = ""
    return doc


# The styles a document uses, and those Word falls back on (the defaults). python-docx's template
# brings 164 styles (350 KB of XML), Word 2010's copy of them (440 KB) and a thumbnail, all written
# and compressed again for every document although none of them shows in it.
KEPT_STYLES = frozenset({"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "TableGrid"})
DROPPED_PARTS = ("/stylesWithEffects", "/customXml", "/thumbnail")


def _prune(doc) -> None:
    styles = doc.styles.element
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in KEPT_STYLES:
            styles.remove(style)
    latent = styles.find(qn("w:latentStyles"))
    if latent is not None:
        styles.remove(latent)
    for owner in (doc.part, doc.part.package):
        for rid, rel in list(owner.rels.items()):
            if rel.reltype.endswith(DROPPED_PARTS):
                del owner.rels[rid]


def _base_style(doc) -> None:
    style = doc.styles["Normal"]
    style.font.name = BODY_FONT
    style.font.size = Pt(16)  # 三号
    _east_asian(style.element.get_or_add_rPr(), BODY_FONT)


def _east_asian(rpr, font: str) -> None:
    """Chinese text takes the east-Asian font slot, which python-docx's `font.name` does not set."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(slot), font)


def _line(doc, text: str, *, size: int = 16, bold: bool = False, color: RGBColor | None = None,
          font: str = BODY_FONT, align=None, indent: bool = False):
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)  # two characters, as 公文 do
    _run(paragraph, text, size, bold, font, str(color) if color is not None else None)
    return paragraph


def _run(paragraph, text: str, size: int, bold: bool, font: str, color: str | None) -> None:
    """A run of text with its formatting copied from a prepared one: a document has a few formats
    and many runs, and python-docx sets each property element by element."""
    run = paragraph.add_run(text)
    run._r.insert(0, copy.deepcopy(_run_format(size, bold, font, color)))


@cache
def _run_format(size: int, bold: bool, font: str, color: str | None):
    """The run properties (w:rPr) of one format, made once with python-docx."""
    run = new_docx().add_paragraph().add_run()
    run.font.size = Pt(size)
    run.bold = bold or None
    if color is not None:
        run.font.color.rgb = RGBColor.from_string(color)
    rpr = run._element.get_or_add_rPr()
    _east_asian(rpr, font)
    return rpr


def _rule(paragraph) -> None:
    """The red line under the head (版头分隔线)."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(name), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _table(doc, block: Table) -> None:
    table = doc.add_table(rows=1 + len(block.rows), cols=len(block.headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # the table's cells in one pass: `row.cells` walks the whole table for every row
    cells = iter(table._cells)
    for text in block.headers:
        _cell(next(cells), text, bold=True)
    for row in block.rows:
        for text in row:
            _cell(next(cells), text)


def _cell(cell, text: str, bold: bool = False) -> None:
    _run(cell.paragraphs[0], text, 12, bold, BODY_FONT, None)


def _properties(doc, draft: Draft) -> None:
    when = datetime.combine(draft.issued_on, time())
    props = doc.core_properties
    props.title = f"{draft.title}（{draft.number}）"
    props.subject = draft.subject or draft.title
    props.author = props.last_modified_by = draft.issuer
    props.identifier = draft.number
    props.keywords = "；".join(draft.keywords)
    props.comments = ""
    props.created = props.modified = props.last_printed = when
    props.revision = 1


def _fixed_times(package: bytes, day: date) -> bytes:
    """The package again, each entry stamped with the document's date instead of the moment it was
    written, in the same order and with the same compression."""
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry.filename))
    return out.getvalue()
