"""The process designer in Chromium: a designer adds a user task to the office lane of
unit_rectification with the bpmn-js APIs and the properties panel, deploys it, and the next
published list puts that task into the office's inbox. Also: Camunda Modeler files open, server
validation lands on the diagram, and the office only looks."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select
from support.browser import assert_translated
from support.rounds import publish_round

from workflows.registry import NS
from workflows.tables import HumanTask, ModelVersion
from workflows.xml_safety import parse_xml

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "bpmn-samples" / "miwg-camunda-modeler"
OUR_KEYS = re.compile(r"\b(?:designer|instance|dashboard)\.[a-z_]+(?:\.[a-z_]+)*\b")

# Insert a user task right after the start event, in the lane named 巡察办: find a free spot in
# that lane (no shape, label or flow underneath), create the task there, re-route the start
# event's outgoing flow through it. Only public bpmn-js services are used.
ADD_OFFICE_TASK = """
async ({laneName, taskId}) => {
  const d = window.rfDesigner, m = d.modeler;
  const reg = m.get('elementRegistry'), modeling = m.get('modeling'), factory = m.get('elementFactory');
  const lane = reg.filter(e => e.type === 'bpmn:Lane' && e.businessObject.name === laneName)[0];
  const start = reg.filter(e => e.type === 'bpmn:StartEvent' && e.parent.type === 'bpmn:Participant')[0];
  const oldFlow = start.outgoing[0], next = oldFlow.target;
  const W = 100, H = 80, PAD = 16;
  const sx = start.x + start.width / 2;
  const obstacles = reg.filter(e => e !== lane && e !== oldFlow && !['bpmn:Lane', 'bpmn:Participant'].includes(e.type)
                                    && (e.waypoints || typeof e.width === 'number'));
  const hits = (x, y) => obstacles.some(e => {
    if (e.waypoints) {
      return e.waypoints.slice(1).some((p, i) => {
        const q = e.waypoints[i];
        return Math.max(p.x, q.x) >= x - PAD && Math.min(p.x, q.x) <= x + W + PAD
            && Math.max(p.y, q.y) >= y - PAD && Math.min(p.y, q.y) <= y + H + PAD;
      });
    }
    return e.x < x + W + PAD && e.x + e.width > x - PAD && e.y < y + H + PAD && e.y + e.height > y - PAD;
  });
  // best: straight below the start event (a straight flow in); else the free spot nearest to it
  const candidates = [];
  for (let y = lane.y + PAD; y + H + PAD <= lane.y + lane.height; y += 10) {
    candidates.push({x: sx - W / 2, y, dist: y - start.y - 1e6});
    for (let x = lane.x + 40; x + W + PAD <= lane.x + lane.width; x += 10) {
      candidates.push({x, y, dist: Math.hypot(x - start.x, y - start.y)});
    }
  }
  candidates.sort((a, b) => a.dist - b.dist);
  const spot = candidates.find(c => c.y > start.y + start.height && !hits(c.x, c.y))
            || candidates.find(c => !hits(c.x, c.y));
  if (!spot) { throw new Error('no free spot in the lane'); }
  modeling.removeElements([oldFlow]);
  const task = modeling.createShape(factory.createShape({ type: 'bpmn:UserTask' }),
                                    { x: spot.x + W / 2, y: spot.y + H / 2 }, lane);
  modeling.updateProperties(task, { id: taskId });
  const flowIn = modeling.connect(start, task);
  const flowOut = modeling.connect(task, next);
  const tx = task.x + task.width / 2, ty = task.y + task.height / 2, nx = next.x + next.width / 2;
  if (Math.abs(tx - sx) < 1 && task.y > start.y) {  // tidy right angles instead of the layouter's detours
    modeling.updateWaypoints(flowIn, [{x: sx, y: start.y + start.height}, {x: sx, y: task.y}]);
    if (next.x >= task.x + task.width && next.y + next.height < ty) {
      modeling.updateWaypoints(flowOut, [{x: task.x + task.width, y: ty}, {x: nx, y: ty},
                                         {x: nx, y: next.y + next.height}]);
    }
  }
  await d.frame();
  m.get('selection').select(task);
  await d.frame();
  return { id: task.id, next: next.id, lanes: reg.filter(e => e.type === 'bpmn:Lane'
      && e.businessObject.flowNodeRef.some(r => r.id === taskId)).map(e => e.businessObject.name) };
}
"""

# Centre the view on one element at 100 % so a screenshot can be read.
SHOW_AT_FULL_SIZE = """
(id) => {
  const m = window.rfDesigner.modeler, canvas = m.get('canvas'), e = m.get('elementRegistry').get(id);
  const outer = canvas.viewbox().outer;
  canvas.viewbox({ x: e.x + e.width / 2 - outer.width * 0.45, y: e.y + e.height / 2 - outer.height / 2,
                   width: outer.width, height: outer.height });
}
"""


def _status(page):
    return page.locator("#rf-status")


def _open(page, base, query=""):
    page.goto(f"{base}/designer/{query}")
    expect(page.locator("#rf-designer")).to_have_attribute("data-ready", "true")


def test_designer_adds_an_office_task_and_new_instances_put_it_in_the_office_inbox(
        live_app, live_server, new_context, guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    base = live_server
    page = guard.watch(new_context().new_page())
    sign_in(page, "designer1")
    _open(page, base, "?key=unit_rectification")
    expect(page.locator("#rf-current")).to_contain_text("unit_rectification")
    expect(page.locator(".bjs-powered-by")).to_be_visible()  # the bpmn.io watermark, as its licence wants

    added = page.evaluate(ADD_OFFICE_TASK, {"laneName": "巡察办", "taskId": "office_precheck"})
    assert added["id"] == "office_precheck" and added["lanes"] == ["巡察办"]

    # name and form field through the Camunda 7 properties panel, as a designer would
    panel = page.locator("#rf-properties")
    expect(panel.locator(".bio-properties-panel-header")).to_contain_text("用户任务")
    panel.locator('[data-group-id="group-general"] .bio-properties-panel-group-header').click()  # 常规
    name = panel.locator("#bio-properties-panel-name")
    name.fill("巡察办预审")
    panel.locator('[data-group-id="group-CamundaPlatform__Form"] .bio-properties-panel-group-header').click()  # 表单
    panel.locator("#bio-properties-panel-formType").select_option(label="生成的任务表单")
    form_fields = panel.locator('[data-group-id="group-CamundaPlatform__FormData"]')
    form_fields.locator(".bio-properties-panel-add-entry").click()
    entry = "#bio-properties-panel-office_precheck-formField-0-formField"
    field_id = panel.locator(entry + "ID")
    expect(field_id).to_be_visible()
    field_id.fill("precheck_ok")
    panel.locator(entry + "Label").fill("预审通过")
    panel.locator(entry + "Type").select_option("boolean")
    expect(form_fields.locator(".bio-properties-panel-list-badge")).to_have_text("1")
    page.wait_for_function("""() => {
      const bo = window.rfDesigner.modeler.get('elementRegistry').get('office_precheck').businessObject;
      const data = (bo.extensionElements && bo.extensionElements.values || [])
        .find(v => v.$type === 'camunda:FormData');
      return bo.name === '巡察办预审' && data && data.fields.length === 1 && data.fields[0].id === 'precheck_ok'
        && data.fields[0].label === '预审通过' && data.fields[0].type === 'boolean';
    }""")

    page.get_by_role("button", name="校验").click()
    expect(_status(page)).to_have_text("校验通过，可以部署。")

    # deploying asks first, naming what changes: declined, nothing is deployed
    page.get_by_role("button", name="部署为新版本").click()
    confirm = page.get_by_role("dialog", name="部署为新版本？")
    expect(confirm).to_contain_text("新增：巡察办预审 (office_precheck)")
    confirm.get_by_role("button", name="取消").click()
    expect(_status(page)).to_have_text("未部署。")
    with ctx.db.read() as s:
        assert s.scalar(select(ModelVersion.id).where(ModelVersion.key == "unit_rectification",
                                                      ModelVersion.version == 2)) is None
    page.get_by_role("button", name="部署为新版本").click()
    confirm.get_by_role("button", name="部署", exact=True).click()
    expect(_status(page)).to_have_text("已部署：unit_rectification 第 2 版。")
    expect(page.locator("#rf-current")).to_have_text("unit_rectification · 第 2 版")
    expect(page.locator('#rf-models a[data-key="unit_rectification"][data-version="2"]')).to_have_attribute(
        "aria-current", "true")
    page.evaluate(SHOW_AT_FULL_SIZE, "office_precheck")
    page.evaluate("window.rfDesigner.modeler.get('contextPad').close()")  # keep the flows in view
    assert_translated(page)
    assert OUR_KEYS.findall(page.inner_text("body")) == []
    shoot(page, "designer-modeler")
    with ctx.db.read() as s:
        v2 = s.scalar(select(ModelVersion).where(ModelVersion.key == "unit_rectification",
                                                 ModelVersion.version == 2))
        assert v2.deployed_by == "designer1"
    root = parse_xml(v2.bpmn_xml)
    office_lane = root.find(".//bpmn:lane[@name='巡察办']", NS)
    assert "office_precheck" in [ref.text for ref in office_lane.findall("bpmn:flowNodeRef", NS)]
    task_el = root.find(".//bpmn:userTask[@id='office_precheck']", NS)
    assert task_el.get("name") == "巡察办预审"
    assert task_el.find(".//{%s}formField" % NS["camunda"]).get("id") == "precheck_ok"

    # the next published list starts every unit's instance on version 2
    publish_round(ctx, d)
    with ctx.db.read() as s:
        prechecks = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "office_precheck",
                                                      HumanTask.state == "open")).all()
        assert len(prechecks) == len(d.units) and {t.role for t in prechecks} == {"office"}
        assert s.scalar(select(HumanTask.id).where(HumanTask.bpmn_id == "self_check")) is None

    sign_in(page, "office1")
    inbox_rows = page.get_by_role("link", name="巡察办预审")
    expect(inbox_rows.first).to_be_visible()
    expect(inbox_rows).to_have_count(len(d.units))
    inbox_rows.first.click()
    expect(page.get_by_text("预审通过").first).to_be_visible()  # the form field designed above

    # a unit's liaison has nothing yet: the office's new step comes first
    sign_in(page, f"{d.codes[d.units[2]].lower()}_liaison")
    expect(page.get_by_role("link", name="对照自查")).to_have_count(0)

    # and the instance view draws the new task as the active element
    instance_id = prechecks[0].instance_id
    sign_in(page, "office1")
    page.goto(f"{base}/instances/{instance_id}")
    expect(page.locator("#rf-instance")).to_have_attribute("data-ready", "true")
    expect(page.locator('[data-element-id="office_precheck"].rf-active, '
                        '.djs-element.rf-active[data-element-id="office_precheck"]')).to_have_count(1)
    assert OUR_KEYS.findall(page.inner_text("body")) == []
    shoot(page, "instance-view", full_page=True)


def test_camunda_modeler_files_open_and_server_errors_land_on_the_diagram(live_app, live_server, new_context,
                                                                          guard, sign_in, shoot, tmp_path):
    base = live_server
    page = guard.watch(new_context().new_page())
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    sign_in(page, "designer1")
    _open(page, base)
    samples = sorted(SAMPLES.glob("*-export.bpmn")) if SAMPLES.exists() else []
    for path in samples:
        page.set_input_files("#rf-upload", str(path))
        expect(page.locator("#rf-current")).to_contain_text(path.name)
        expect(_status(page)).to_contain_text("已打开")
        assert page.evaluate("window.rfDesigner.modeler.get('elementRegistry').getAll().length") > 3, path.name
    # an upload is not deployed yet: opening the next one asked before discarding it
    assert len(dialogs) == max(len(samples) - 1, 0) and all("未部署" in m for m in dialogs)

    hostile = tmp_path / "hostile.bpmn"
    hostile.write_text(HOSTILE, encoding="utf-8")
    page.set_input_files("#rf-upload", str(hostile))
    expect(_status(page)).to_contain_text("已打开")
    page.get_by_role("button", name="校验").click()
    expect(_status(page)).to_have_class(re.compile("rf-status-error"))
    overlay = page.locator(".rf-error-overlay")
    expect(overlay).to_have_count(1)  # every refusal of the script task, in one box at that task
    expect(overlay).to_contain_text("脚本被拒绝")
    # each reason worded in Chinese by its code; only the script's own names stay as written
    assert page.locator(".rf-error-message").all_inner_texts() == [
        "脚本被拒绝：第 1 行：不允许使用属性 .system", "脚本被拒绝：第 1 行：不允许使用名称 __import__"]
    problems = page.locator("#rf-problems-list li")
    expect(problems.first).to_contain_text("calc")
    assert problems.count() == page.locator(".rf-error-message").count() >= 1
    page.get_by_role("button", name="部署为新版本").click()
    expect(_status(page)).to_contain_text("部署被拒绝")
    shoot(page, "designer-validation")
    ctx = live_app.extensions["rectiflow"]
    with ctx.db.read() as s:
        assert s.scalar(select(ModelVersion.id).where(ModelVersion.key == "hostile")) is None

    # a new diagram from the template deploys as version 1 of its own key
    page.get_by_text("新建流程图").click()
    page.get_by_label("流程标识（英文）").fill("special_check")
    page.get_by_label("流程名称").fill("专项督查")
    page.get_by_role("button", name="创建", exact=True).click()
    expect(page.locator("#rf-current")).to_contain_text("special_check")
    page.get_by_role("button", name="部署为新版本").click()
    confirm = page.get_by_role("dialog", name="部署为新版本？")
    expect(confirm).to_contain_text("新模型")
    confirm.get_by_role("button", name="部署", exact=True).click()
    expect(_status(page)).to_have_text("已部署：special_check 第 1 版。")


def test_office_sees_versions_read_only(live_app, live_server, new_context, guard, sign_in):
    base = live_server
    page = guard.watch(new_context().new_page())
    sign_in(page, "office1")
    _open(page, base, "?key=clue_handover&version=1")
    expect(page.locator("#rf-current")).to_have_text("clue_handover · 第 1 版")
    expect(page.get_by_role("button", name="部署为新版本")).to_have_count(0)
    expect(page.get_by_role("button", name="校验")).to_have_count(0)
    expect(page.locator(".djs-palette")).to_have_count(0)
    expect(page.locator(".bjs-powered-by")).to_be_visible()
    assert_translated(page)


HOSTILE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs_hostile" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="calc" name="计算" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>__import__('os').system('id')</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc" />
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="hostile">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start">
      <dc:Bounds x="180" y="100" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="calc_di" bpmnElement="calc">
      <dc:Bounds x="270" y="78" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="end_di" bpmnElement="end">
      <dc:Bounds x="430" y="100" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1">
      <di:waypoint x="216" y="118" /><di:waypoint x="270" y="118" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2">
      <di:waypoint x="370" y="118" /><di:waypoint x="430" y="118" /></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
