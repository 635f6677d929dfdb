"""The process designer's modeler speaks Chinese on a Chinese page: the palette, the context pad,
the replace menu, the properties panel (every group opened, for each kind of element in the model)
and its validation messages; on an English page it stays English."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select
from support.browser import DESKTOP, PHONE
from support.chinese import COLLECT, findings

from service.models import User

SELECT_AND_OPEN = """
async (id) => {
  const d = window.rfDesigner, m = d.modeler;
  const element = id ? m.get('elementRegistry').get(id) : m.get('canvas').getRootElement();
  await d.frame();
  m.get('selection').select(id ? element : []);
  await d.frame();
  for (const header of document.querySelectorAll('#rf-properties .bio-properties-panel-group-header:not(.open)')) {
    header.click();
  }
  await d.frame();
  for (const item of document.querySelectorAll('#rf-properties .bio-properties-panel-collapsible-entry-header')) {
    item.click();
  }
  await d.frame();
}
"""

# one element of each kind the model holds (the panel shows different groups for each)
ONE_OF_EACH_KIND = """
() => {
  const seen = new Set(), ids = [];
  for (const e of window.rfDesigner.modeler.get('elementRegistry').getAll()) {
    const kind = e.type + (e.businessObject.eventDefinitions || []).map(d => d.$type).join();
    if (!seen.has(kind) && e.type !== 'label') { seen.add(kind); ids.push(e.id); }
  }
  return ids;
}
"""


# Elements of the kinds the default models lack, made in the first pool: their panels have groups
# of their own (timers, messages, scripts, called elements, implementations, ...).
MORE_KINDS = [
    ("bpmn:ServiceTask", None), ("bpmn:ScriptTask", None), ("bpmn:SendTask", None), ("bpmn:ReceiveTask", None),
    ("bpmn:BusinessRuleTask", None), ("bpmn:ManualTask", None), ("bpmn:CallActivity", None),
    ("bpmn:SubProcess", None), ("bpmn:InclusiveGateway", None), ("bpmn:EventBasedGateway", None),
    ("bpmn:IntermediateCatchEvent", "bpmn:TimerEventDefinition"),
    ("bpmn:IntermediateCatchEvent", "bpmn:MessageEventDefinition"),
    ("bpmn:IntermediateCatchEvent", "bpmn:SignalEventDefinition"),
    ("bpmn:IntermediateCatchEvent", "bpmn:ConditionalEventDefinition"),
    ("bpmn:IntermediateThrowEvent", "bpmn:EscalationEventDefinition"),
    ("bpmn:EndEvent", "bpmn:ErrorEventDefinition"), ("bpmn:EndEvent", "bpmn:TerminateEventDefinition"),
    ("bpmn:DataObjectReference", None), ("bpmn:DataStoreReference", None),
]
MAKE = """
([type, definition]) => {
  const m = window.rfDesigner.modeler, reg = m.get('elementRegistry');
  const pool = reg.filter(e => e.type === 'bpmn:Participant')[0] || m.get('canvas').getRootElement();
  const lane = reg.filter(e => e.type === 'bpmn:Lane' && e.parent === pool)[0] || pool;
  const shape = m.get('elementFactory').createShape(definition ? {type, eventDefinitionType: definition} : {type});
  const made = m.get('modeling').createShape(shape, {x: lane.x + 60, y: lane.y + lane.height / 2}, lane);
  return made.id;
}
"""


def _open(page, live_server, query="?key=unit_rectification"):
    page.goto(f"{live_server}/designer/{query}")
    expect(page.locator("#rf-designer")).to_have_attribute("data-ready", "true")


def test_the_modeler_is_chinese(live_app, live_server, new_context, guard, sign_in, shoot, tmp_path):
    ctx = live_app.extensions["rectiflow"]
    with ctx.db.read() as s:
        names = frozenset(s.scalars(select(User.username)))
    page = guard.watch(new_context(viewport=DESKTOP).new_page())
    sign_in(page, "designer1")
    _open(page, live_server)
    expect(page.locator(".djs-palette .entry[data-action='create.task']")).to_have_attribute("aria-label", "创建任务")
    english = {}
    keys = page.eval_on_selector_all("#rf-models a[data-key]", "links => [...new Set(links.map(a => a.dataset.key))]")
    assert len(keys) >= 4, keys
    for key in keys:  # every element kind of every default model, each with its panel opened up
        _open(page, live_server, f"?key={key}")
        ids = page.evaluate(ONE_OF_EACH_KIND)
        assert len(ids) > 4, (key, ids)
        for element_id in [None] + ids:
            page.evaluate(SELECT_AND_OPEN, element_id)
            english.update({f"{key} {element_id}: {f}": 1 for f in findings(page.evaluate(COLLECT), names)})
    _open(page, live_server)
    for kind in MORE_KINDS:
        made = page.evaluate(MAKE, list(kind))
        page.evaluate(SELECT_AND_OPEN, made)
        english.update({f"{kind}: {f}": 1 for f in findings(page.evaluate(COLLECT), names)})
        page.evaluate("id => window.rfDesigner.modeler.get('modeling').removeElements([window.rfDesigner.modeler"
                      ".get('elementRegistry').get(id)])", made)

    # the popup menus of the context pad (change type, append ...) of every element kind
    _open(page, live_server)
    for element_id in page.evaluate(ONE_OF_EACH_KIND):
        page.evaluate(SELECT_AND_OPEN, element_id)
        for action in ("replace", "append"):
            entry = page.locator(f".djs-context-pad.open .entry[data-action='{action}']")
            if entry.count() == 0:
                continue
            entry.click()
            expect(page.locator(".djs-popup")).to_be_visible()
            english.update({f"{element_id} {action}: {f}": 1 for f in findings(page.evaluate(COLLECT), names)})
            page.keyboard.press("Escape")

    # the context pad and the replace menu of a user task
    task = page.evaluate("window.rfDesigner.modeler.get('elementRegistry').filter(e => e.type === 'bpmn:UserTask')[0].id")
    page.evaluate(SELECT_AND_OPEN, task)
    pad = page.locator(".djs-context-pad.open")
    expect(pad).to_be_visible()
    expect(pad.locator(".entry[data-action='delete']")).to_have_attribute("title", "删除")
    pad.locator(".entry[data-action='replace']").click()
    menu = page.locator(".djs-popup")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text("子流程（折叠）")
    english.update({f"replace menu: {f}": 1 for f in findings(page.evaluate(COLLECT), names)})
    shoot(page, "designer-zh-replace-menu")
    page.keyboard.press("Escape")

    # a validation message of the properties panel
    page.evaluate(SELECT_AND_OPEN, task)
    field_id = page.locator("#rf-properties input[name='id']")
    field_id.fill("has space")
    expect(page.locator("#rf-properties .bio-properties-panel-error")).to_have_text("标识不能含空格。")
    english.update({f"validation: {f}": 1 for f in findings(page.evaluate(COLLECT), names)})
    assert english == {}, "English in the modeler:\n" + "\n".join(english)
    shoot(page, "designer-zh-desktop")

    # a file bpmn-js cannot open: the reason in Chinese too
    page.on("dialog", lambda dialog: dialog.accept())  # the open diagram has changes: discard them
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<notbpmn/>", encoding="utf-8")
    page.set_input_files("#rf-upload", str(broken))
    expect(page.locator("#rf-status")).to_have_text("无法打开该流程图：文件不是 BPMN 2.0 流程图（找不到 bpmn:Definitions）")

    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, "designer1")
    _open(phone, live_server)
    shoot(phone, "designer-zh-phone")


def test_the_modeler_stays_english_on_an_english_page(live_app, live_server, new_context, guard, sign_in):
    page = guard.watch(new_context(viewport=DESKTOP).new_page())
    sign_in(page, "designer1")
    page.get_by_role("button", name="English").click()
    _open(page, live_server)
    expect(page.locator(".djs-palette .entry[data-action='create.task']")).to_have_attribute("aria-label", "Create task")
