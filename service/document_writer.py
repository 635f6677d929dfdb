"""The layout of an official document (公文) as a .docx: the issuing body's red head, the number,
the title, the addressee, the body, the signature and the date.

It knows python-docx and nothing of the mechanism: `service.documents` says what a document holds
as a `Draft`. The same draft gives the same bytes: the core properties carry the document's date,
and the package's zip entries that date as their time, so no clock or random id reaches the file.
"""
from __future__ import annotations

import copy
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache

from docx import Document as new_docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.coreprops import CoreProperties
from docx.opc.oxml import serialize_part_xml
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from lxml import etree

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
    body: list = [
        _line(draft.issuer, size=22, bold=True, color=RED, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER),
        _line(draft.number, size=16, align=WD_ALIGN_PARAGRAPH.CENTER, rule=True),
        _line(draft.title, size=22, bold=True, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER),
    ]
    if draft.addressee:
        body.append(_line(draft.addressee + "："))
    for block in draft.blocks:
        if isinstance(block, Heading):
            body.append(_line(block.text, font=HEADING_FONT))
        elif isinstance(block, Paragraph):
            body.append(_line(block.text, indent=True))
        else:
            body.append(_table(block))
    body += [_line(""), _line(draft.signature, align=WD_ALIGN_PARAGRAPH.RIGHT),
             _line(cn_date(draft.issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT)]
    return _package(_document_xml(body), _core_xml(draft), draft.issued_on)


@cache
def _blank():
    """The styled empty document every render starts from: parsing python-docx's template and styling
    it costs more than copying the result. Its core properties are made here too."""
    doc = new_docx()
    _base_style(doc)
    _prune(doc)
    doc.core_properties.title = ""
    return doc


@cache
def _blank_entries() -> tuple[tuple[str, bytes], ...]:
    """The blank document's package entries as python-docx writes them, in its order. Only the body
    (word/document.xml) and the core properties differ from one document to the next: the styles,
    theme, fonts and relationships are these bytes every time."""
    out = io.BytesIO()
    _blank().save(out)
    with zipfile.ZipFile(out) as package:
        return tuple((entry.filename, package.read(entry.filename)) for entry in package.infolist())


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


# A document has a few formats and many paragraphs: each format's paragraph is made once with
# python-docx (`_prototype`), and every paragraph of that format is a copy of it with its text.
def _line(text: str, *, size: int = 16, bold: bool = False, color: RGBColor | None = None,
          font: str = BODY_FONT, align=None, indent: bool = False, rule: bool = False):
    paragraph = copy.deepcopy(_prototype(size, bold, str(color) if color is not None else None, font, align,
                                         indent, rule))
    _put_text(paragraph.find(_R), text)
    return paragraph


@cache
def _prototype(size: int, bold: bool, color: str | None, font: str, align, indent: bool, rule: bool):
    """A paragraph (w:p) of one format holding one empty run."""
    paragraph = new_docx().add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)  # two characters, as 公文 do
    run = paragraph.add_run()
    run.font.size = Pt(size)
    run.bold = bold or None
    if color is not None:
        run.font.color.rgb = RGBColor.from_string(color)
    _east_asian(run._element.get_or_add_rPr(), font)
    if rule:
        _rule(paragraph)
    return paragraph._p


_R, _T, _BR, _TAB = qn("w:r"), qn("w:t"), qn("w:br"), qn("w:tab")
_PRESERVE = "{http://www.w3.org/XML/1998/namespace}space"
_BREAKS = re.compile(r"(\n|\t)")


def _put_text(run, text: str) -> None:
    """The run's text, as python-docx's `Run.text` writes it: a line break and a tab are elements."""
    for piece in _BREAKS.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        if piece == "\n":
            etree.SubElement(run, _BR)
        elif piece == "\t":
            etree.SubElement(run, _TAB)
        elif piece:
            t = etree.SubElement(run, _T)
            t.text = piece
            if piece != piece.strip():
                t.set(_PRESERVE, "preserve")


def _rule(paragraph) -> None:
    """The red line under the head (版头分隔线)."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(name), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _table(block: Table):
    table = copy.deepcopy(_table_prototype(len(block.headers)))
    header, row = table.findall(qn("w:tr"))
    table.remove(row)
    _fill(header, block.headers)
    for values in block.rows:
        table.append(_fill(copy.deepcopy(row), values))
    return table


def _fill(row, values: tuple[str, ...]):
    for cell, text in zip(row.iter(qn("w:tc")), values, strict=True):
        _put_text(cell.find(qn("w:p")).find(_R), text)
    return row


@cache
def _table_prototype(columns: int):
    """A grid table (w:tbl) of `columns` columns, centred, as python-docx lays it out on the page:
    a header row of bold runs and one row of plain runs, all empty."""
    table = copy.deepcopy(_blank()).add_table(rows=2, cols=columns)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for n, cell in enumerate(table._cells):
        bold = n < columns
        cell.paragraphs[0]._p.append(copy.deepcopy(_prototype(12, bold, None, BODY_FONT, None, False, False)
                                                   .find(_R)))
    return table._tbl


def _document_xml(blocks: list) -> bytes:
    document = copy.deepcopy(_blank().element)
    body = document.find(qn("w:body"))
    section = body.find(qn("w:sectPr"))
    for block in blocks:
        section.addprevious(block)
    return serialize_part_xml(document)


def _core_xml(draft: Draft) -> bytes:
    when = datetime.combine(draft.issued_on, time())
    element = copy.deepcopy(_blank().core_properties._element)
    props = CoreProperties(element)
    props.title = f"{draft.title}（{draft.number}）"
    props.subject = draft.subject or draft.title
    props.author = props.last_modified_by = draft.issuer
    props.identifier = draft.number
    props.keywords = "；".join(draft.keywords)
    props.comments = ""
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    return serialize_part_xml(element)


def _package(document: bytes, core: bytes, day: date) -> bytes:
    """The package with this document's body and core properties, each entry stamped with the
    document's date instead of the moment it was written: the same draft gives the same bytes."""
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    replaced = {"word/document.xml": document, "docProps/core.xml": core}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, blob in _blank_entries():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, replaced.get(name, blob))
    return out.getvalue()
