"""The designer deploys only after confirming: the server's warnings and what changes against the
current version are shown in a dialog first, on a desktop and on a phone."""
from __future__ import annotations

import bpmn_snippets as B
import pytest
from lxml import etree
from playwright.sync_api import expect
from sqlalchemy import select
from support.browser import DESKTOP, PHONE
from test_deploy_checks import simple

from workflows.tables import ModelVersion


def drawn(xml: bytes) -> bytes:
    """The diagram with a row of shapes and straight edges, so that bpmn-js can show it."""
    root = etree.fromstring(xml)
    bpmn, di, dc = ("http://www.omg.org/spec/BPMN/20100524/MODEL", "http://www.omg.org/spec/BPMN/20100524/DI",
                    "http://www.omg.org/spec/DD/20100524/DC")
    process = root.find(f"{{{bpmn}}}process")
    diagram = etree.SubElement(root, f"{{{di}}}BPMNDiagram", id="diagram")
    plane = etree.SubElement(diagram, f"{{{di}}}BPMNPlane", id="plane", bpmnElement=process.get("id"))
    centre = {}
    nodes = [el for el in process if el.get("id") and not el.tag.endswith(("sequenceFlow", "laneSet"))]
    for n, el in enumerate(nodes):
        x, y, w, h = 60 + n * 160, 80, 100, 80
        shape = etree.SubElement(plane, f"{{{di}}}BPMNShape", id=f"{el.get('id')}_di", bpmnElement=el.get("id"))
        etree.SubElement(shape, f"{{{dc}}}Bounds", x=str(x), y=str(y), width=str(w), height=str(h))
        centre[el.get("id")] = (x + w // 2, y + h // 2)
    for flow in process.iter(f"{{{bpmn}}}sequenceFlow"):
        edge = etree.SubElement(plane, f"{{{di}}}BPMNEdge", id=f"{flow.get('id')}_di", bpmnElement=flow.get("id"))
        for end in ("sourceRef", "targetRef"):
            x, y = centre[flow.get(end)]
            etree.SubElement(edge, "{http://www.omg.org/spec/DD/20100524/DI}waypoint", x=str(x), y=str(y))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


V1 = simple("checked_flow", '<bpmn:userTask id="a" name="初审"/><bpmn:userTask id="b" name="复审"/>',
            B.flow("f1", "start", "a") + B.flow("f2", "a", "b") + B.flow("f3", "b", "end"), ["a", "b"])
V2 = simple("checked_flow", '<bpmn:userTask id="a" name="初审（改）"/><bpmn:userTask id="c"/>',
            B.flow("f1", "start", "a") + B.flow("f2", "a", "c") + B.flow("f3", "c", "end"), ["a", "c"])


def versions(ctx) -> list[int]:
    with ctx.db.read() as s:
        return list(s.scalars(select(ModelVersion.version).where(ModelVersion.key == "checked_flow")))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_deploy_shows_warnings_and_changes_and_waits_for_confirmation(live_app, live_server, new_context, guard,
                                                                       sign_in, shoot, viewport):
    ctx = live_app.extensions["rectiflow"]
    if not versions(ctx):
        ctx.db.transaction(lambda s: ctx.engine.deploy(s, drawn(V1), deployed_by="designer1"))
    page = guard.watch(new_context(viewport=viewport).new_page())
    sign_in(page, "designer1", "/designer/?key=checked_flow&version=1")
    expect(page.locator("#rf-designer")).to_have_attribute("data-ready", "true")
    page.evaluate("xml => window.rfDesigner.modeler.importXML(xml)", drawn(V2).decode())
    page.get_by_role("button", name="部署为新版本").click()
    confirm = page.get_by_role("dialog", name="部署为新版本？")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("1 条警告：仍要部署吗？")
    expect(confirm).to_contain_text("该任务没有名称")
    expect(confirm).to_contain_text("与当前第 1 版相比：")
    expect(confirm).to_contain_text("新增：（未命名） (c)")
    expect(confirm).to_contain_text("删除：复审 (b)")
    expect(confirm).to_contain_text("改名：初审 → 初审（改）（a）")
    expect(confirm.get_by_role("button", name="取消")).to_be_focused()  # with warnings, declining is the default
    expect(page.locator("#rf-problems-list li")).to_have_count(1)  # the warning is also listed at its element
    name = "designer-deploy-confirmation" + ("" if viewport == DESKTOP else "-phone")
    shoot(page, name)
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(page.locator("#rf-status")).to_have_text("未部署。")
    assert versions(ctx) == [1]
    page.get_by_role("button", name="部署为新版本").click()
    confirm.get_by_role("button", name="部署", exact=True).click()
    expect(page.locator("#rf-status")).to_have_text("已部署：checked_flow 第 2 版。")
    assert versions(ctx) == [1, 2]
