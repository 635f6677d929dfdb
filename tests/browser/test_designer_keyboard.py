"""The designer without a pointer: bpmn-js's keyboard bindings on the canvas (find an element,
rename it, move it, change its type, undo), and for what the keys cannot do the diagram's XML in a text pane,
which the server checks as it checks a deployment before it replaces the open diagram."""
from __future__ import annotations

from playwright.sync_api import expect
from support.axe import violations
from support.browser import PHONE

ELEMENTS = "() => window.rfDesigner.modeler.get('elementRegistry').filter(e => e.type !== 'label').length"
NAMES = """() => window.rfDesigner.modeler.get('elementRegistry').filter(e => e.businessObject.name)
    .map(e => e.businessObject.name)"""
FIRST_TASK = """() => window.rfDesigner.modeler.get('elementRegistry')
    .filter(e => e.type === 'bpmn:UserTask' && e.businessObject.name)[0].businessObject.name"""
POSITION = "() => window.rfDesigner.modeler.get('selection').get()[0].x"
SELECTED = "() => window.rfDesigner.modeler.get('selection').get().map(e => e.businessObject.name || e.type)"


def _becomes(page, read: str, want) -> None:
    """Wait until `read` (a function in the page) gives `want`: a key's effect on the diagram may be
    drawn after the key press returns."""
    try:
        page.wait_for_function(f"want => JSON.stringify(({read})()) === JSON.stringify(want)", arg=want,
                               timeout=5000)
    except Exception:
        raise AssertionError(f"{read} gives {page.evaluate(read)!r}, not {want!r}") from None


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element is focused (as someone without a pointer gets there)."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_the_canvas_works_with_the_keyboard(live_app, live_server, new_context, guard, sign_in, shoot):
    page = guard.watch(new_context().new_page())
    sign_in(page, "designer1", "/designer/")
    expect(page.locator("#rf-designer")).to_have_attribute("data-ready", "true")
    expect(page.locator("#rf-keys summary")).to_have_text("键盘操作")
    task = page.evaluate(FIRST_TASK)
    before = page.evaluate(ELEMENTS)

    _tab_to(page, "#rf-canvas svg")  # the canvas is a Tab stop
    page.keyboard.press("Control+f")  # find the task by its name, Enter selects it
    page.keyboard.type(task)  # Chinese comes from an input method, whose last key searches
    page.keyboard.press("End")
    expect(page.locator(".djs-search-result").first).to_contain_text(task)
    page.keyboard.press("Enter")
    _becomes(page, SELECTED, [task])

    page.keyboard.press("e")  # rename it where it is
    page.keyboard.press("Control+a")
    page.keyboard.type("键盘改名的任务")
    page.keyboard.press("Enter")  # … and leave the editing
    expect(page.locator("#rf-canvas")).to_contain_text("键盘改名的任务")
    _becomes(page, SELECTED, ["键盘改名的任务"])
    _becomes(page, "() => window.rfDesigner.isDirty()", True)
    x = page.evaluate(POSITION)
    page.keyboard.press("ArrowRight")  # the arrows move the selected element
    page.wait_for_function(f"x => ({POSITION})() > x", arg=x, timeout=5000)
    page.keyboard.press("r")  # its type changes from a menu to search in, in Chinese
    menu = page.locator(".djs-popup")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text("服务任务")
    shoot(page, "designer-keyboard-replace-menu")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    _becomes(page, ELEMENTS, before)

    page.keyboard.press("Control+z")  # undo: the move, then the name
    page.wait_for_function(f"() => ({POSITION})() === {x}")
    page.keyboard.press("Control+z")
    expect(page.locator("#rf-canvas")).not_to_contain_text("键盘改名的任务")


def test_the_xml_pane_applies_checked_xml_only(live_app, live_server, new_context, guard, sign_in, shoot):
    page = guard.watch(new_context().new_page())
    sign_in(page, "designer1", "/designer/")
    expect(page.locator("#rf-designer")).to_have_attribute("data-ready", "true")
    names = page.evaluate(NAMES)
    task = page.evaluate(FIRST_TASK)

    _tab_to(page, "#rf-xml-pane > summary")
    page.keyboard.press("Enter")  # open the pane: the open diagram's XML, in a labelled text box
    xml_box = page.get_by_label("当前流程图的 BPMN XML")
    page.wait_for_function("document.getElementById('rf-xml').value.includes('bpmn:definitions')")
    xml = xml_box.input_value()
    assert f'name="{task}"' in xml

    # a broken diagram: a flow to an element that is not there, so the element it led to is reached
    # by nothing. The server refuses it, the refusal is announced beside the box, the open diagram
    # stays as it was
    broken = xml.replace('targetRef="', 'targetRef="nowhere_', 1)
    xml_box.fill(broken)
    _tab_to(page, "#rf-xml-apply")
    page.keyboard.press("Enter")
    status = page.locator("#rf-xml-status")
    expect(status).to_contain_text("XML 未应用")
    expect(status).to_contain_text("没有流入的顺序流，永远不会执行")  # the deploy check's refusal, by its code
    expect(status).to_have_attribute("role", "status")
    expect(xml_box).to_be_focused()
    assert page.evaluate(NAMES) == names
    assert not page.evaluate("window.rfDesigner.isDirty()")
    page.locator("#rf-keys > summary").click()  # the keyboard help open too
    assert violations(page) == []  # the pane, its refusal and the help pass axe
    shoot(page, "designer-xml-refused")

    # a renamed task: checked, applied, the canvas shows it (not deployed yet)
    xml_box.fill(xml.replace(f'name="{task}"', 'name="经 XML 改名的任务"'))
    _tab_to(page, "#rf-xml-apply")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("已通过校验并应用")
    expect(page.locator("#rf-canvas")).to_contain_text("经 XML 改名的任务")
    assert page.evaluate("window.rfDesigner.isDirty()")
    assert 'name="经 XML 改名的任务"' in xml_box.input_value()
    shoot(page, "designer-xml-applied")

    phone = guard.watch(new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                    storage_state=page.context.storage_state()).new_page())
    phone.goto(f"{live_server}/designer/")
    expect(phone.locator("#rf-designer")).to_have_attribute("data-ready", "true")
    phone.locator("#rf-xml-pane > summary").click()
    phone.wait_for_function("document.getElementById('rf-xml').value.includes('bpmn:definitions')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    canvas = phone.locator("#rf-canvas").bounding_box()
    assert canvas is not None and canvas["width"] > 300, canvas  # the whole width, the panel below it
    assert violations(phone) == []
    shoot(phone, "designer-xml-phone", full_page=True)


def test_readers_read_the_xml(live_app, live_server, new_context, guard, sign_in):
    page = guard.watch(new_context().new_page())
    sign_in(page, "office1", "/designer/")
    expect(page.locator("#rf-designer")).to_have_attribute("data-ready", "true")
    page.locator("#rf-xml-pane > summary").click()
    xml_box = page.get_by_label("当前流程图的 BPMN XML")
    page.wait_for_function("document.getElementById('rf-xml').value.includes('bpmn:definitions')")
    expect(xml_box).to_have_attribute("readonly", "")
    expect(page.locator("#rf-xml-apply")).to_have_count(0)
