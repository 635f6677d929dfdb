"""Every page family in Chromium, in Chinese and in English, under the Content-Security-Policy the
service sends with its pages: login, inbox (and its htmx filter), a task form with an evidence
upload, the case file, rounds with findings and the distillation (htmx preview), the designer
(palette, context pad, replace menu, label editing, the properties panel, a drilled-down
sub-process), an instance's diagram, the dashboard's charts with their tooltips, and an error page.
The shared guard fails the test on any policy violation, script error, request leaving the service,
or page sent without the policy; here the pages are also checked to do their work."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from support.browser import assert_translated
from support.district import PASSWORD
from support.rounds import case_of, complete, publish_round, record_problems, start_round

EVIDENCE = b"%PDF-1.4\n% rectiflow csp walk\n" + b"0" * 50_000

# a process with a collapsed sub-process (its own plane): bpmn-js shows a drill-down button on it
SUBPROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs_nested" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="nested_check" name="Nested" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:subProcess id="inner" name="Inner steps">
      <bpmn:startEvent id="inner_start"/>
      <bpmn:userTask id="inner_task" name="Look"/>
      <bpmn:endEvent id="inner_end"/>
      <bpmn:sequenceFlow id="if1" sourceRef="inner_start" targetRef="inner_task"/>
      <bpmn:sequenceFlow id="if2" sourceRef="inner_task" targetRef="inner_end"/>
    </bpmn:subProcess>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inner"/>
    <bpmn:sequenceFlow id="f2" sourceRef="inner" targetRef="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d_main">
    <bpmndi:BPMNPlane id="p_main" bpmnElement="nested_check">
      <bpmndi:BPMNShape id="s_start" bpmnElement="start">
        <dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="s_inner" bpmnElement="inner" isExpanded="false">
        <dc:Bounds x="190" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="s_end" bpmnElement="end">
        <dc:Bounds x="350" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="e_f1" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="190" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="e_f2" bpmnElement="f2"><di:waypoint x="290" y="118"/><di:waypoint x="350" y="118"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
  <bpmndi:BPMNDiagram id="d_inner">
    <bpmndi:BPMNPlane id="p_inner" bpmnElement="inner">
      <bpmndi:BPMNShape id="s_inner_start" bpmnElement="inner_start">
        <dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="s_inner_task" bpmnElement="inner_task">
        <dc:Bounds x="190" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="s_inner_end" bpmnElement="inner_end">
        <dc:Bounds x="350" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="e_if1" bpmnElement="if1"><di:waypoint x="136" y="118"/><di:waypoint x="190" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="e_if2" bpmnElement="if2"><di:waypoint x="290" y="118"/><di:waypoint x="350" y="118"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def log_in_by_form(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator(".login-card button[type=submit]").click()
    page.wait_for_url(f"{base}/inbox")


def sign_out(page, base: str) -> None:
    page.locator(".topbar form[action$='/logout'] button").click()
    page.wait_for_url(f"{base}/login")


def test_every_page_family_works_under_the_policy(live_app, live_server, new_context, guard, sign_in, shoot,
                                                  tmp_path):
    # The policy and the assets are the same in both languages; the other browser tests walk English
    # pages under the same guard, so this long walk runs once, in the default language.
    lang = "zh"
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    base = live_server
    published, commons = publish_round(ctx, d)
    unit = d.units[2]
    code = d.codes[unit].lower()
    complete(ctx, f"{code}_liaison", "self_check", {"items": [
        {"common_problem_id": cid, "applicable": True, "problems_found": 1, "findings": "发现问题"}
        for cid in commons]}, unit_id=unit)
    distilling = start_round(ctx, d, "区委第二轮巡察")
    record_problems(ctx, d, distilling)
    complete(ctx, "inspector0", "record_findings", {})
    finding = start_round(ctx, d, "区委第三轮巡察")

    page = guard.watch(new_context().new_page())
    page.on("dialog", lambda dialog: dialog.accept())

    # login, in the language chosen on the login page itself
    response = page.goto(f"{base}/login")
    assert "default-src 'self'" in response.header_value("content-security-policy")
    if lang == "en":
        page.locator(".lang-switch button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")
    page.locator("#username").fill("nobody")
    page.locator("#password").fill("wrong")
    page.locator(".login-card button[type=submit]").click()
    expect(page.locator("#login-error")).to_be_visible()
    assert_translated(page)
    shoot(page, f"csp-login-{lang}", full_page=True)

    # a unit's liaison: inbox, the rectification form with an upload and repeatable rows, the case file
    log_in_by_form(page, base, f"{code}_liaison")
    expect(page.locator("tbody tr")).to_have_count(1)
    assert_translated(page)
    shoot(page, f"csp-inbox-{lang}", full_page=True)
    page.locator("tbody tr a").first.click()
    page.wait_for_url(re.compile(r"/tasks/"))  # loaded: the page's scripts listen before a file is picked
    expect(page.locator("#f-items-list > li")).to_have_count(2)
    page.locator("#evidence-file").set_input_files(files=[{"name": "report.pdf", "mimeType": "application/pdf",
                                                           "buffer": EVIDENCE}])
    expect(page.locator("#evidence-file-name")).to_have_text("report.pdf")
    page.locator("form[data-upload] button[type=submit]").click()
    expect(page.locator("#evidence-list li", has_text="report.pdf")).to_be_visible()
    expect(page.locator(".upload-percent")).to_have_text("100%")
    row = page.locator("#f-items-list > li").first
    row.locator("[data-add-row]").first.click()
    expect(row.locator("#f-items-0-measures-1-description")).to_be_focused()
    assert_translated(page)
    shoot(page, f"csp-task-upload-{lang}", full_page=True)
    page.goto(f"{base}/cases/{case_of(ctx, published, unit).id}")
    expect(page.locator(".case-file")).to_contain_text("report.pdf")
    assert_translated(page)
    shoot(page, f"csp-case-{lang}", full_page=True)
    sign_out(page, base)

    # an inspector: the rounds and the findings page
    sign_in(page, "inspector0")
    page.goto(f"{base}/rounds")
    expect(page.locator("main")).to_contain_text("区委第三轮巡察")
    assert_translated(page)
    page.goto(f"{base}/rounds/{finding}/findings")
    page.locator("#fld-unit_id").select_option(str(d.units[0]))
    page.locator("#fld-category").fill("工程建设")
    page.locator("#fld-description").fill("工程项目未按规定公开招标")
    page.locator("form:has(#fld-description) button[type=submit]").click()
    expect(page.locator("#problems")).to_contain_text("工程项目未按规定公开招标")
    assert_translated(page)
    shoot(page, f"csp-findings-{lang}", full_page=True)

    # the office: the inbox filter (htmx), the distillation's preview (htmx), instances, dashboard
    sign_in(page, "office1")
    page.locator("#filter-task").select_option("distill_list")
    expect(page).to_have_url(f"{base}/inbox?process=&task=distill_list&unit=&sort=")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.goto(f"{base}/rounds/{distilling}/distill")
    expect(page.locator("#recipients .tag-new")).to_have_count(0)
    page.locator("#cp-responsible_department_id").select_option(str(d.departments[0]))
    expect(page.locator("#recipients .tag-new")).to_have_count(1)  # the preview follows the choice
    assert_translated(page)
    shoot(page, f"csp-distill-{lang}", full_page=True)

    page.goto(f"{base}/instances/?status=running")
    expect(page.locator("tbody tr").first).to_be_visible()
    assert_translated(page)
    page.locator("tbody tr a").first.click()
    expect(page.locator("#rf-instance")).to_have_attribute("data-ready", "true")
    expect(page.locator("#rf-instance .djs-element.rf-completed").first).to_be_attached()
    expect(page.locator(".bjs-powered-by")).to_be_visible()
    assert_translated(page)
    shoot(page, f"csp-instance-{lang}", full_page=True)

    page.goto(f"{base}/dashboard/?round_id={published}")
    expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")
    charts = page.evaluate("Object.keys(window.rfDashboard.charts).sort()")
    assert "rf-chart-progress" in charts
    for chart in charts:
        expect(page.locator(f"#{chart} canvas").first).to_be_visible()
        assert page.evaluate(f"window.rfDashboard.charts['{chart}'].getOption().tooltip[0].renderMode") == "richText"
        page.evaluate(f"window.rfDashboard.charts['{chart}'].dispatchAction("
                      "{type: 'showTip', seriesIndex: 0, dataIndex: 0})")
    progress = page.locator("#rf-chart-progress")
    box = progress.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)  # a real hover, too
    assert_translated(page)
    shoot(page, f"csp-dashboard-{lang}")

    # an error page
    response = page.goto(f"{base}/cases/999999")
    assert response.status == 404
    assert "frame-ancestors 'none'" in response.header_value("content-security-policy")
    expect(page.locator(".error-page h1")).to_be_visible()
    assert_translated(page)
    shoot(page, f"csp-error-{lang}", full_page=True)

    # a designer: the modeler with its palette, context pad, menus, label editing, properties panel
    sign_in(page, "designer1")
    upload = tmp_path / "nested.bpmn"
    upload.write_text(SUBPROCESS, encoding="utf-8")
    page.goto(f"{base}/designer/")
    expect(page.locator("#rf-designer")).to_have_attribute("data-ready", "true")
    page.set_input_files("#rf-upload", str(upload))
    expect(page.locator("#rf-current")).to_contain_text("nested.bpmn")
    page.locator(".bjs-drilldown").first.click()  # into the sub-process: the breadcrumbs show the way back
    expect(page.locator(".bjs-breadcrumbs li")).to_have_count(2)
    expect(page.locator('.djs-element[data-element-id="inner_task"]')).to_be_visible()
    shoot(page, f"csp-designer-drilldown-{lang}")

    page.goto(f"{base}/designer/?key=unit_rectification")
    expect(page.locator("#rf-designer")).to_have_attribute("data-ready", "true")
    expect(page.locator(".bjs-powered-by")).to_be_visible()
    # the palette: pick a task, hover it over the canvas, drop the idea
    canvas = page.locator("#rf-canvas").bounding_box()
    page.locator(".djs-palette .entry.bpmn-icon-task").click()
    page.mouse.move(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    page.mouse.move(canvas["x"] + canvas["width"] / 2 + 20, canvas["y"] + canvas["height"] / 2 + 10)
    page.keyboard.press("Escape")
    # an element's context pad, its replace menu, and editing its label in place
    task = page.locator('.djs-element.djs-shape[data-element-id="self_check"]')
    task.click()
    pad = page.locator(".djs-context-pad")
    expect(pad).to_be_visible()
    pad.locator('.entry[data-action="replace"]').click()
    expect(page.locator(".djs-popup")).to_be_visible()
    page.locator(".djs-popup input").fill("user")
    shoot(page, f"csp-designer-menu-{lang}")
    page.keyboard.press("Escape")
    expect(page.locator(".djs-popup")).to_have_count(0)
    task.dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    expect(editor).to_be_visible()
    page.keyboard.press("End")
    page.keyboard.type("!")
    page.locator("#rf-current").click()  # leaving the label ends the editing
    expect(editor).to_be_hidden()
    # the properties panel: a group opened and a checkbox ticked
    page.evaluate("""async () => {
      const m = window.rfDesigner.modeler;
      m.get('selection').select(m.get('elementRegistry').get('self_check'));
      await window.rfDesigner.frame();
    }""")
    panel = page.locator("#rf-properties")
    expect(panel.locator(".bio-properties-panel-header")).to_be_visible()
    panel.locator('[data-group-id="group-CamundaPlatform__AsynchronousContinuations"] '
                  '.bio-properties-panel-group-header').click()
    panel.locator("#bio-properties-panel-asynchronousContinuationBefore").check()
    assert page.evaluate("window.rfDesigner.modeler.get('elementRegistry').get('self_check')"
                         ".businessObject.get('camunda:asyncBefore')") is True
    assert page.evaluate("window.rfDesigner.modeler.get('elementRegistry').get('self_check')"
                         ".businessObject.name").endswith("!")
    page.locator("#rf-validate").click()  # the server's answer (a fetch) lands in the status line
    expect(page.locator("#rf-status")).to_have_class(re.compile(r"rf-status-(ok|warn|error)"))
    assert_translated(page)
    shoot(page, f"csp-designer-{lang}")

