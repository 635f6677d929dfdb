/*
 * rectiflow process designer: the bpmn-js modeler (Camunda 7 properties panel) on /designer/.
 *
 * The page renders the model list and a JSON config block (#rf-designer-config: URLs, rights,
 * translated messages); this script owns the canvas. Validation and deployment happen on the
 * server, which runs exactly the checks a deploy runs, so what passes here deploys. Errors come
 * back as {element_id, message}: those whose element exists are drawn on the diagram
 * (RectiflowModeler.markErrors), every error is also listed beside it, so nothing is lost when an
 * error names no element. No inline script and no eval: the page works under script-src 'self'.
 */
(function () {
  'use strict';

  var root = document.getElementById('rf-designer');
  var configEl = document.getElementById('rf-designer-config');
  if (!root || !configEl || !window.RectiflowModeler) {
    return;
  }
  var cfg = JSON.parse(configEl.textContent);
  var M = cfg.messages || {};

  // bpmn-js draws its palette, context pad, menus, properties panel and its validation messages in
  // English; on a Chinese page the dictionary of modeler-zh.js (loaded by the page) turns them
  // Chinese, in place of the copy built into the bundle, which may be older.
  var options = { language: cfg.language };
  var zh = window.RectiflowModelerZh && String(cfg.language || '').toLowerCase().indexOf('zh') === 0
    ? window.RectiflowModelerZh : null;
  if (zh) {
    options = { additionalModules: [zh.module] };
    zh.watch('#rf-properties');
  }
  // the keyboard bindings (diagram-js binds them to the canvas's <svg>, which takes the focus with
  // Tab; its `bindTo` option is gone): find, replace, direct editing, delete, undo, arrows, zoom;
  // the page lists them. Adding shapes and flows needs a pointer there: the XML pane does it.
  options.keyboard = { bind: true };
  var modeler = cfg.can_edit
    ? window.RectiflowModeler.createModeler('#rf-canvas', '#rf-properties', options)
    : window.RectiflowModeler.createViewer('#rf-canvas', options);

  // diagram-js gives the canvas its focus back a moment after a menu (replace, change type) closes:
  // until then a key pressed at once, as a keyboard user may, would reach the page, not the diagram
  modeler.get('eventBus').on('popupMenu.close', function () { modeler.get('canvas').focus(); });

  var statusEl = document.getElementById('rf-status');
  var titleEl = document.getElementById('rf-current');
  var problemsEl = document.getElementById('rf-problems');
  var problemsListEl = document.getElementById('rf-problems-list');
  var sidebarEl = document.getElementById('rf-models');
  var current = { key: null, version: null, label: '' };
  var dirty = false;

  /** A counted text: the page's config gives {one, other}; English has a singular. */
  function counted(message, n) {
    return typeof message === 'string' ? message : (n === 1 ? message.one : message.other);
  }

  function fmt(template, values) {
    return String(template || '').replace(/{(\w+)}/g, function (_, k) {
      return values && values[k] !== undefined ? values[k] : '{' + k + '}';
    });
  }

  function setStatus(text, kind) {
    statusEl.textContent = text || '';
    statusEl.className = 'rf-status' + (kind ? ' rf-status-' + kind : '');
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  function frame() {
    // the properties panel subscribes in a deferred effect: wait before selecting from code
    return new Promise(function (resolve) { requestAnimationFrame(function () { setTimeout(resolve); }); });
  }

  function clearProblems() {
    var wasShown = !problemsEl.hidden;
    problemsListEl.textContent = '';
    problemsEl.hidden = true;
    window.RectiflowModeler.clearErrors(modeler);
    if (wasShown) {
      modeler.get('canvas').resized();
    }
  }

  function focusElement(id) {
    var element = modeler.get('elementRegistry').get(id);
    if (!element) {
      return;
    }
    var canvas = modeler.get('canvas');
    if (canvas.scrollToElement) {
      canvas.scrollToElement(element);
    }
    if (cfg.can_edit) {
      modeler.get('selection').select(element);
    }
  }

  /** Draw errors on the diagram and list them all (warnings too) beside it. */
  function showProblems(errors, warnings) {
    clearProblems();
    errors = errors || [];
    warnings = warnings || [];
    var unplaced = window.RectiflowModeler.markErrors(modeler, errors);
    var entries = errors.map(function (e) { return { e: e, level: 'error' }; })
      .concat(warnings.map(function (w) { return { e: w, level: 'warning' }; }));
    entries.forEach(function (entry) {
      var li = document.createElement('li');
      li.className = 'rf-problem rf-problem-' + entry.level;
      var tag = document.createElement('span');
      tag.className = 'rf-problem-level';
      tag.textContent = entry.level === 'error' ? M.error : M.warning;
      li.appendChild(tag);
      if (entry.e.element_id) {
        var link = document.createElement('button');
        link.type = 'button';
        link.className = 'rf-linklike';
        link.textContent = entry.e.element_id;
        link.addEventListener('click', function () { focusElement(entry.e.element_id); });
        li.appendChild(link);
        if (entry.level === 'error' && unplaced.indexOf(entry.e) !== -1) {
          li.appendChild(document.createTextNode(' ' + M.not_on_diagram));
        }
      } else {
        var none = document.createElement('span');
        none.className = 'rf-problem-doc';
        none.textContent = M.whole_document;
        li.appendChild(none);
      }
      var msg = document.createElement('span');
      msg.className = 'rf-problem-message';
      msg.textContent = entry.e.message;
      li.appendChild(msg);
      problemsListEl.appendChild(li);
    });
    problemsEl.hidden = entries.length === 0;
    modeler.get('canvas').resized();  // the list above the canvas changed its height
    return unplaced;
  }

  /**
   * Fit the whole diagram into the canvas, leaving the palette's strip free on the left and the
   * bpmn.io watermark's corner free on the right, so no shape starts underneath either
   * (bpmn-js's own fit-viewport ignores both).
   */
  function fit() {
    var palette = root.querySelector('.djs-palette');
    var left = (palette ? palette.getBoundingClientRect().width + 16 : 0) + 16;
    window.rectiflowFit(modeler.get('canvas'), { left: left, right: 96, pad: 24 });  // watermark ~70 px
  }

  function setCurrent(key, version, label) {
    current = { key: key, version: version, label: label };
    titleEl.textContent = label;
    var links = sidebarEl ? sidebarEl.querySelectorAll('[data-version-link]') : [];
    Array.prototype.forEach.call(links, function (a) {
      var on = a.dataset.key === String(key) && a.dataset.version === String(version);
      a.classList.toggle('rf-current-version', on);
      if (on) { a.setAttribute('aria-current', 'true'); } else { a.removeAttribute('aria-current'); }
    });
  }

  function confirmDiscard() {
    return !dirty || window.confirm(M.discard_changes);
  }

  async function openXml(xml, key, version, label) {
    clearProblems();
    try {
      var result = await modeler.importXML(xml);
      fit();
      setCurrent(key, version, label);
      dirty = false;
      var warnings = (result && result.warnings) || [];
      setStatus(warnings.length ? fmt(counted(M.opened_with_warnings, warnings.length), { n: warnings.length }) : M.opened, warnings.length ? 'warn' : 'ok');
      return true;
    } catch (err) {
      var detail = err.message || String(err);
      if (zh) {  // the library's reason, in Chinese words
        detail = zh.importError(detail);
      }
      setStatus(fmt(M.import_failed, { detail: detail }), 'error');
      return false;
    }
  }

  async function openVersion(key, version) {
    var url = fmt(cfg.urls.bpmn, { key: encodeURIComponent(key), version: version });
    setStatus(M.loading, '');
    var response = await fetch(url, { credentials: 'same-origin', redirect: 'error',
                                      headers: { Accept: 'application/xml', 'X-Requested-With': 'XMLHttpRequest' } })
      .catch(function () { return { ok: false, status: 0 }; });
    if (!response.ok) {
      setStatus(fmt(M.load_failed, { status: response.status }), 'error');
      return false;
    }
    var ok = await openXml(await response.text(), key, version, fmt(M.version_label, { key: key, version: version }));
    if (ok && window.history && window.history.replaceState) {
      var params = new URLSearchParams(window.location.search);
      params.set('key', key);
      params.set('version', version);
      window.history.replaceState(null, '', '?' + params.toString());
    }
    return ok;
  }

  async function currentXml() {
    return (await modeler.saveXML({ format: true })).xml;
  }

  async function postXml(url, text) {
    var xml = text === undefined ? await currentXml() : text;
    var response = await fetch(url, {
      method: 'POST', credentials: 'same-origin', body: xml, redirect: 'error',
      headers: {
        'Content-Type': 'application/xml', 'X-CSRFToken': csrfToken(), Accept: 'application/json',
        'X-Requested-With': 'XMLHttpRequest'  // an expired session answers 401, not the login page
      }
    }).catch(function () { return null; });
    if (!response) {
      return { status: 0, body: { detail: M.load_failed.replace('{status}', '0') } };
    }
    var body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!body || typeof body !== 'object') {
      // never read a non-JSON answer (a login page, a proxy error) as "no errors"
      return { status: response.ok ? 502 : response.status, body: { detail: response.statusText || '' } };
    }
    return { status: response.status, body: body };
  }

  async function validate() {
    setStatus(M.validating, '');
    var r = await postXml(cfg.urls.validate);
    if (r.status !== 200 || !Array.isArray(r.body.errors)) {
      setStatus(fmt(M.request_failed, { status: r.status, detail: r.body.detail || '' }), 'error');
      return r;
    }
    showProblems(r.body.errors, r.body.warnings);
    var n = (r.body.errors || []).length;
    setStatus(n ? fmt(counted(M.invalid, n), { n: n }) : M.valid, n ? 'error' : 'ok');
    return r;
  }

  async function refreshSidebar(key, version) {
    if (!sidebarEl || !cfg.urls.models) {
      return;
    }
    var response = await fetch(cfg.urls.models, { credentials: 'same-origin', redirect: 'error',
                                                  headers: { 'X-Requested-With': 'XMLHttpRequest' } })
      .catch(function () { return { ok: false }; });
    if (response.ok) {
      sidebarEl.innerHTML = await response.text();  // server-rendered, escaped by Jinja
      setCurrent(key, version, current.label);
      var group = sidebarEl.querySelector('details[data-key="' + CSS.escape(key) + '"]');
      if (group) { group.open = true; }
    }
  }

  function listItem(list, text) {
    var li = document.createElement('li');
    li.textContent = text;
    list.appendChild(li);
  }

  function elementText(change) {
    return (change.name || M.unnamed) + ' (' + change.element_id + ')';
  }

  /* The confirmation shows the warnings the designer accepts and what changes against the current
     version; it resolves true when "Deploy" closed it (Escape and "Cancel" leave it undeployed). */
  function confirmDeploy(review) {
    var dialog = document.getElementById('rf-confirm');
    var warnings = review.warnings || [];
    var warningsPart = document.getElementById('rf-confirm-warnings');
    var warningsList = document.getElementById('rf-confirm-warnings-list');
    warningsList.textContent = '';
    warningsPart.hidden = warnings.length === 0;
    document.getElementById('rf-confirm-warnings-title').textContent =
      fmt(counted(M.confirm_warnings, warnings.length), { n: warnings.length });
    warnings.forEach(function (w) {
      listItem(warningsList, (w.element_id ? w.element_id + ': ' : '') + w.message);
    });
    var changes = review.changes || { added: [], removed: [], renamed: [] };
    var list = document.getElementById('rf-confirm-changes-list');
    list.textContent = '';
    document.getElementById('rf-confirm-base').textContent = review.current_version
      ? fmt(M.changes_base, { version: review.current_version }) : M.changes_new;
    if (review.current_version) {
      changes.added.forEach(function (c) { listItem(list, fmt(M.change_added, { element: elementText(c) })); });
      changes.removed.forEach(function (c) { listItem(list, fmt(M.change_removed, { element: elementText(c) })); });
      changes.renamed.forEach(function (c) {
        listItem(list, fmt(M.change_renamed, { old: c.from || M.unnamed, 'new': c.to || M.unnamed, id: c.element_id }));
      });
      if (!list.children.length) {
        listItem(list, M.changes_none);
      }
    }
    list.hidden = !list.children.length;
    dialog.returnValue = '';
    return new Promise(function (resolve) {
      dialog.addEventListener('close', function () { resolve(dialog.returnValue === 'deploy'); }, { once: true });
      dialog.showModal();
      document.getElementById(warnings.length ? 'rf-confirm-cancel' : 'rf-confirm-ok').focus();
    });
  }

  /* A deployment makes a new current version (new instances start on it): the server's checks run first,
     errors stop it, and the designer confirms the warnings and the changes before it goes ahead. */
  async function deploy() {
    setStatus(M.validating, '');
    var checked = await postXml(cfg.urls.validate);
    if (checked.status !== 200 || !Array.isArray(checked.body.errors)) {
      setStatus(fmt(M.request_failed, { status: checked.status, detail: checked.body.detail || '' }), 'error');
      return checked;
    }
    var errors = checked.body.errors;
    showProblems(errors, checked.body.warnings);
    if (errors.length) {
      setStatus(fmt(counted(M.deploy_refused, errors.length), { n: errors.length }), 'error');
      return checked;
    }
    setStatus('', '');
    if (!(await confirmDeploy(checked.body))) {
      setStatus(M.deploy_cancelled, '');
      return null;
    }
    setStatus(M.deploying, '');
    var r = await postXml(cfg.urls.deploy);
    if (r.status === 200 || r.status === 201) {
      clearProblems();
      dirty = false;
      var b = r.body;
      var label = fmt(M.version_label, { key: b.key, version: b.version });
      setCurrent(b.key, b.version, label);
      setStatus(fmt(b.created ? M.deployed : M.unchanged, { key: b.key, version: b.version }), 'ok');
      root.dataset.deployedVersion = b.version;
      await refreshSidebar(b.key, b.version);
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, '', '?key=' + encodeURIComponent(b.key) + '&version=' + b.version);
      }
    } else if (r.status === 422 && r.body.errors) {
      showProblems(r.body.errors, []);
      setStatus(fmt(counted(M.deploy_refused, r.body.errors.length), { n: r.body.errors.length }), 'error');
    } else {
      setStatus(fmt(M.request_failed, { status: r.status, detail: r.body.detail || '' }), 'error');
    }
    return r;
  }

  async function download() {
    var xml = await currentXml();
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([xml], { type: 'application/xml' }));
    a.download = (current.key || 'diagram') + (current.version ? '-v' + current.version : '') + '.bpmn';
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  async function newDiagram(form) {
    if (!confirmDiscard()) {
      return false;
    }
    var params = new URLSearchParams(new FormData(form));
    var response = await fetch(cfg.urls.template + '?' + params.toString(), {
      credentials: 'same-origin', redirect: 'error', headers: { 'X-Requested-With': 'XMLHttpRequest' }
    }).catch(function () { return { ok: false, status: 0, json: function () { return Promise.resolve({}); } }; });
    if (!response.ok) {
      var body = {};
      try { body = await response.json(); } catch (e) { body = {}; }
      setStatus(body.detail || fmt(M.load_failed, { status: response.status }), 'error');
      return false;
    }
    var key = params.get('key');
    var ok = await openXml(await response.text(), key, null, fmt(M.new_label, { key: key }));
    if (ok) { dirty = true; }
    return ok;
  }

  async function upload(file) {
    if (!file || !confirmDiscard()) {
      return false;
    }
    if (file.size > cfg.max_bytes) {
      setStatus(fmt(M.too_large, { kb: Math.round(cfg.max_bytes / 1024) }), 'error');
      return false;
    }
    var ok = await openXml(await file.text(), null, null, fmt(M.file_label, { name: file.name }));
    if (ok) { dirty = true; }
    return ok;
  }

  function on(id, event, handler) {
    var el = document.getElementById(id);
    if (el) { el.addEventListener(event, handler); }
  }

  // ---- the diagram's XML in a text pane: what the keys cannot do on the canvas (adding a shape,
  // drawing a flow between two elements) is done in the XML, which the server checks as it
  // checks a deployment before it replaces the open diagram; the result is announced in the pane.
  var xmlPane = document.getElementById('rf-xml-pane');
  var xmlText = document.getElementById('rf-xml');
  var xmlStatus = document.getElementById('rf-xml-status');
  var xmlEdited = false;

  function setXmlStatus(text, kind) {
    xmlStatus.textContent = text || '';
    xmlStatus.className = 'rf-status' + (kind ? ' rf-status-' + kind : '');
  }

  /** Show the open diagram's XML in the pane (not over what someone is editing there). */
  async function showXml(force) {
    if (!xmlPane || !xmlPane.open || (xmlEdited && !force)) {
      return;
    }
    xmlText.value = current.label ? await currentXml() : '';
    xmlEdited = false;
  }

  async function applyXml() {
    var xml = xmlText.value;
    if (!xml.trim()) {
      setXmlStatus(M.xml_empty, 'error');
      xmlText.focus();
      return null;
    }
    setXmlStatus(M.validating, '');
    var r = await postXml(cfg.urls.validate, xml);
    if (r.status !== 200 || !Array.isArray(r.body.errors)) {
      setXmlStatus(fmt(M.request_failed, { status: r.status, detail: r.body.detail || '' }), 'error');
      return r;
    }
    var errors = r.body.errors;
    if (errors.length) {  // the open diagram stays as it was; the errors are listed above the canvas
      showProblems(errors, r.body.warnings);
      setXmlStatus(fmt(counted(M.xml_refused, errors.length), { n: errors.length }) + ' ' +
                   errors.map(function (e) { return (e.element_id ? e.element_id + ': ' : '') + e.message; }).join('；'),
                   'error');
      xmlText.focus();
      return r;
    }
    var label = current.label || fmt(M.file_label, { name: 'XML' });
    var ok = await openXml(xml, current.key, current.version, label);
    if (!ok) {
      setXmlStatus(statusEl.textContent, 'error');
      xmlText.focus();
      return r;
    }
    dirty = true;
    xmlEdited = false;
    showProblems([], r.body.warnings);
    setXmlStatus(M.xml_applied, 'ok');
    return r;
  }

  if (xmlPane) {
    xmlPane.addEventListener('toggle', function () { showXml(false); });
    xmlText.addEventListener('input', function () { xmlEdited = true; });
    modeler.on('import.done', function () { setTimeout(function () { showXml(false); }); });
    modeler.on('commandStack.changed', function () { showXml(false); });
  }
  on('rf-xml-apply', 'click', applyXml);
  on('rf-xml-reload', 'click', function () { showXml(true).then(function () { setXmlStatus('', ''); }); });

  // ---- wiring
  if (cfg.can_edit) {
    modeler.on('commandStack.changed', function () { dirty = true; });
    window.addEventListener('beforeunload', function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ''; }
    });
  }

  on('rf-validate', 'click', validate);
  on('rf-deploy', 'click', deploy);
  on('rf-download', 'click', download);
  on('rf-new-form', 'submit', function (event) { event.preventDefault(); newDiagram(event.target); });
  on('rf-upload', 'change', function (event) {
    upload(event.target.files[0]).finally(function () { event.target.value = ''; });
  });
  if (sidebarEl) {
    sidebarEl.addEventListener('click', function (event) {
      var link = event.target.closest('[data-version-link]');
      if (!link) { return; }
      event.preventDefault();
      if (confirmDiscard()) {
        openVersion(link.dataset.key, link.dataset.version);
      }
    });
  }

  // the handle browser tests (and curious designers in the console) drive the page with
  window.rfDesigner = {
    modeler: modeler, openVersion: openVersion, openXml: openXml, validate: validate, deploy: deploy,
    showProblems: showProblems, focusElement: focusElement, frame: frame, fit: fit, applyXml: applyXml,
    isDirty: function () { return dirty; }, current: function () { return current; }
  };

  var ready = cfg.initial ? openVersion(cfg.initial.key, cfg.initial.version) : Promise.resolve(false);
  ready.finally(function () { root.dataset.ready = 'true'; });
})();
