"""Parsing of uploaded BPMN/DMN XML that does not trust the upload.

SpiffWorkflow's ``add_bpmn_str``/``add_bpmn_file``/``add_dmn_*`` use lxml's default parser,
which expands internal entities and reads the DTD. A BPMN or DMN document never needs a
DTD, so instead of trying to process one safely we refuse any DOCTYPE or ENTITY outright:
that closes billion-laughs and XXE (file or network) in one rule and fails in
microseconds. Parse here and hand the tree to ``parser.add_bpmn_xml`` / ``add_dmn_xml``.

The pre-scan is deliberately blunt: it also refuses the text ``<!DOCTYPE`` inside a
comment or CDATA section, which no real model contains.
"""
from __future__ import annotations

import re

from lxml import etree

from .refusals import Refusal

# NUL bytes are stripped before scanning so UTF-16/UTF-32 encoded declarations match too.
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UnsafeXMLError(ValueError):
    """The upload was refused; ``message`` is fit to show to whoever uploaded it, ``refusal`` says
    why by code (`Refusal`), for a page in another language."""

    def __init__(self, message: str, code: str, **params):
        super().__init__(message)
        self.message = message
        self.refusal = Refusal(code, message, params)


def _parser(encoding: str | None) -> etree.XMLParser:
    # A fresh parser per call: lxml parsers keep state and are not thread-safe.
    return etree.XMLParser(
        encoding=encoding, resolve_entities=False, no_network=True, load_dtd=False,
        dtd_validation=False, huge_tree=False, remove_comments=False,
    )


def parse_xml(data: bytes | str, max_bytes: int = 5_000_000) -> etree._Element:
    if isinstance(data, str):
        # lxml refuses str input that carries an encoding declaration, so parse the
        # UTF-8 bytes and tell the parser to ignore whatever the declaration claims.
        raw, encoding = data.encode("utf-8"), "utf-8"
    elif isinstance(data, (bytes, bytearray)):
        raw, encoding = bytes(data), None
    else:
        raise UnsafeXMLError(f"expected XML as bytes or str, got {type(data).__name__}", "xml_not_text")
    if len(raw) > max_bytes:
        raise UnsafeXMLError(f"XML document is {len(raw)} bytes; the limit is {max_bytes}", "xml_too_large",
                             size=len(raw), limit=max_bytes)
    if not raw.strip():
        raise UnsafeXMLError("XML document is empty", "xml_empty")
    if _DECLARATION.search(raw.replace(b"\x00", b"")):
        raise UnsafeXMLError("XML documents with a DOCTYPE or ENTITY declaration are not accepted", "xml_doctype")
    try:
        root = etree.fromstring(raw, _parser(encoding))
    except etree.XMLSyntaxError as err:
        detail = re.sub(r"\s*,?\s*line \d+, column \d+$", "", err.msg or "").strip() or "unreadable"
        raise UnsafeXMLError(f"malformed XML at line {err.lineno}: {detail}", "xml_malformed",
                             line=err.lineno) from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:  # an encoding the scan missed
        raise UnsafeXMLError("XML documents with a DOCTYPE or ENTITY declaration are not accepted", "xml_doctype")
    return root
