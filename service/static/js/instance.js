/*
 * rectiflow instance view: the diagram of the model version an instance runs on, with the
 * engine's element states drawn on it (completed / active / waiting) and the element where a
 * failed instance stopped, read-only.
 *
 * The server embeds the states in #rf-instance-config (it asks the engine once, while
 * rendering); the XML is fetched from the instance's own URL, which applies the same
 * need-to-know rule as the page. History rows carry the BPMN id of their element: clicking one
 * scrolls the diagram to it.
 */
(function () {
  'use strict';

  var configEl = document.getElementById('rf-instance-config');
  var root = document.getElementById('rf-instance');
  if (!configEl || !root || !window.RectiflowViewer) {
    return;
  }
  var cfg = JSON.parse(configEl.textContent);
  var viewer = window.RectiflowViewer.createViewer('#rf-instance-canvas');
  var statusEl = document.getElementById('rf-instance-status');
  var focused = null;

  function focusElement(id) {
    var registry = viewer.get('elementRegistry');
    var canvas = viewer.get('canvas');
    var element = registry.get(id);
    if (focused && registry.get(focused)) {
      canvas.removeMarker(focused, 'rf-focus');
    }
    focused = null;
    if (!element) {
      return false;
    }
    canvas.scrollToElement(element);
    canvas.addMarker(element, 'rf-focus');
    focused = id;
    return true;
  }

  /** Fit the diagram, keeping the bottom-right corner (the bpmn.io watermark) free of shapes. */
  function fit() {
    window.rectiflowFit(viewer.get('canvas'), { left: 24, right: 96, pad: 16, center: true });
  }

  async function load() {
    var response = await fetch(cfg.urls.bpmn, { credentials: 'same-origin', redirect: 'error',
                                                headers: { 'X-Requested-With': 'XMLHttpRequest' } })
      .catch(function () { return { ok: false }; });
    if (!response.ok) {
      statusEl.textContent = cfg.messages.load_failed;
      return;
    }
    try {
      await viewer.importXML(await response.text());
    } catch (err) {
      statusEl.textContent = cfg.messages.load_failed + ' ' + (err.message || '');
      return;
    }
    fit();
    var missing = window.RectiflowViewer.highlight(viewer, cfg.states);
    if (cfg.failure && cfg.failure.element_id) {  // where the instance's last timed step failed
      window.RectiflowViewer.markErrors(viewer, [cfg.failure]);
    }
    statusEl.textContent = missing.length ? cfg.messages.missing.replace('{ids}', missing.join(', ')) : '';
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-element-id]');
    if (button) {
      focusElement(button.dataset.elementId);
    }
  });

  window.rfInstance = { viewer: viewer, focusElement: focusElement };
  load().finally(function () { root.dataset.ready = 'true'; });
})();
