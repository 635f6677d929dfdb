"""The `content` catalogue's extractor: texts of the process models and forms that the pages show.

`pybabel extract -F babel-content.cfg bpmn` calls `extract` for each BPMN file and form schema
(see `make translations`). What it yields is what `tc()` translates: process, user task and lane
names, Camunda form field labels and their choices, and the titles and descriptions of the JSON
Schema forms (field titles, choice titles). Their msgids are the Chinese texts as written.
"""
from __future__ import annotations

import json

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
# (element, attribute) pairs whose text a page shows through tc()
SHOWN = ((f"{{{BPMN}}}process", "name"), (f"{{{BPMN}}}userTask", "name"), (f"{{{BPMN}}}lane", "name"),
         (f"{{{CAMUNDA}}}formField", "label"), (f"{{{CAMUNDA}}}value", "name"))


def extract(fileobj, keywords, comment_tags, options):
    """Babel's extraction protocol: (line, function, message, comments) for each text."""
    data = fileobj.read()
    if data.lstrip().startswith(b"<"):
        yield from _from_bpmn(data)
    else:
        yield from _from_form(data.decode("utf-8"))


def _from_bpmn(data: bytes):
    root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    for tag, attribute in SHOWN:
        for el in root.iter(tag):
            text = el.get(attribute)
            if text:
                yield el.sourceline or 0, None, text, []


def _from_form(text: str):
    def walk(node):
        if isinstance(node, dict):
            for key in ("title", "description"):
                if isinstance(node.get(key), str) and node[key]:
                    yield node[key]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for message in walk(json.loads(text)):
        at = text.find(json.dumps(message, ensure_ascii=False))
        yield (text.count("\n", 0, at) + 1 if at >= 0 else 0), None, message, []
