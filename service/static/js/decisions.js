/*
 * rectiflow decisions page: dmn-js's decision table editor on /designer/decisions.
 *
 * The page renders the deployed decisions and a JSON config block (#rf-decisions-config: URLs,
 * rights, translated messages); this script owns the editor. A deploy goes to the server, which
 * runs every check (the script sandbox for each expression, the hit policy); its refusals come back
 * worded in the page's language and are listed by the cell or column they name. No inline script
 * and no eval: the page works under script-src 'self'.
 */
(function () {
  'use strict';

  var root = document.getElementById('rf-decisions');
  var configEl = document.getElementById('rf-decisions-config');
  if (!root || !configEl || !window.RectiflowDmn) {
    return;
  }
  var cfg = JSON.parse(configEl.textContent);
  var M = cfg.messages || {};
  // The engine runs every entry as a Python expression (in its script sandbox), so cells are edited as
  // the plain text they are: dmn-js's FEEL editor (CodeMirror) would also insert a <style> element,
  // which the page's Content-Security-Policy does not allow.
  // On a Chinese page, dmn-js's own labels and menus come from dmn-zh.js (loaded by the page).
  var zh = window.RectiflowDmnZh && String(cfg.language || '').toLowerCase().indexOf('zh') === 0
    ? [window.RectiflowDmnZh.module] : [];
  var editor = new window.RectiflowDmn.DecisionTableModeler({
    container: '#rf-dmn-canvas',
    common: {
      expressionLanguages: { options: [{ label: 'Python', value: 'python' }], defaults: { editor: 'python' } }
    },
    decisionTable: { additionalModules: zh }  // dmn-js takes a view's modules here, never from `common`
  });
  var statusEl = document.getElementById('rf-status');
  var titleEl = document.getElementById('rf-current');
  var problemsEl = document.getElementById('rf-problems');
  var problemsListEl = document.getElementById('rf-problems-list');
  var current = { key: null, label: '' };
  var dirty = false;

  function fmt(template, values) {
    return String(template || '').replace(/{(\w+)}/g, function (_, k) {
      return values && values[k] !== undefined ? values[k] : '{' + k + '}';
    });
  }

  function counted(message, n) {
    return typeof message === 'string' ? message : (n === 1 ? message.one : message.other);
  }

  function setStatus(text, kind) {
    statusEl.textContent = text || '';
    statusEl.className = 'rf-status' + (kind ? ' rf-status-' + kind : '');
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  function showProblems(errors) {
    problemsListEl.textContent = '';
    problemsEl.hidden = !errors.length;
    errors.forEach(function (e) {
      var li = document.createElement('li');
      li.className = 'rf-problem rf-problem-error';
      var where = document.createElement('code');
      where.className = 'rf-problem-doc';
      where.textContent = e.element_id || M.whole_document;
      li.appendChild(where);
      var text = document.createElement('span');
      text.className = 'rf-problem-message';
      text.textContent = e.message || '';
      li.appendChild(text);
      problemsListEl.appendChild(li);
    });
  }

  async function open(xml, label, key) {
    try {
      await editor.importXML(xml);
    } catch (err) {
      setStatus(fmt(M.import_failed, { detail: (err && err.message) || String(err) }), 'error');
      return false;
    }
    current = { key: key, label: label };
    titleEl.textContent = label;
    dirty = false;
    showProblems([]);
    var active = editor.getActiveViewer();
    if (active) {
      active.on('elements.changed', function () { dirty = true; });
    }
    setStatus('', '');
    return true;
  }

  function mayDiscard() {
    return !dirty || window.confirm(M.discard_changes);
  }

  async function load(key, version) {
    setStatus(M.loading, '');
    var response = await fetch(fmt(cfg.urls.dmn, { key: encodeURIComponent(key), version: version }),
                               { credentials: 'same-origin', redirect: 'error' })
      .catch(function () { return { ok: false, status: 0 }; });
    if (!response.ok) {
      setStatus(fmt(M.load_failed, { status: response.status }), 'error');
      return;
    }
    await open(await response.text(), fmt(M.opened, { key: key, version: version }), key);
  }

  async function deploy() {
    setStatus(M.deploying, '');
    var xml = (await editor.saveXML({ format: true })).xml;
    var response = await fetch(cfg.urls.deploy, {
      method: 'POST', credentials: 'same-origin', body: xml, redirect: 'error',
      headers: { 'Content-Type': 'application/xml', 'X-CSRFToken': csrfToken(), Accept: 'application/json',
                 'X-Requested-With': 'XMLHttpRequest' }
    }).catch(function () { return null; });
    var body = null;
    try { body = response ? await response.json() : null; } catch (e) { body = null; }
    if (!response || !body) {
      setStatus(fmt(M.request_failed, { status: response ? response.status : 0, detail: '' }), 'error');
      return;
    }
    if (response.status === 201 || response.status === 200) {
      dirty = false;
      // the page lists the new version: go to it (the server renders the list)
      setStatus(fmt(response.status === 201 ? M.deployed : M.unchanged, body), 'ok');
      window.location.assign(body.url);
      return;
    }
    var errors = Array.isArray(body.errors) ? body.errors : [];
    showProblems(errors);
    setStatus(errors.length ? fmt(counted(M.deploy_refused, errors.length), { n: errors.length })
      : fmt(M.request_failed, { status: response.status, detail: body.detail || '' }), 'error');
  }

  async function download() {
    var xml = (await editor.saveXML({ format: true })).xml;
    var link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([xml], { type: 'application/xml' }));
    link.download = (current.key || 'decision') + '.dmn';
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function on(id, event, handler) {
    var el = document.getElementById(id);
    if (el) {
      el.addEventListener(event, handler);
    }
  }

  on('rf-dmn-deploy', 'click', deploy);
  on('rf-dmn-download', 'click', download);
  on('rf-dmn-new', 'submit', async function (event) {
    event.preventDefault();
    if (!event.target.reportValidity() || !mayDiscard()) {
      return;
    }
    var params = new URLSearchParams(new FormData(event.target));
    var response = await fetch(cfg.urls.template + '?' + params.toString(), { credentials: 'same-origin' })
      .catch(function () { return { ok: false, status: 0 }; });
    if (!response.ok) {
      setStatus(fmt(M.load_failed, { status: response.status }), 'error');
      return;
    }
    var key = params.get('key');
    await open(await response.text(), fmt(M.new_label, { key: key }), key);
  });
  on('rf-dmn-upload', 'change', async function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file || !mayDiscard()) {
      return;
    }
    await open(await file.text(), fmt(M.file_label, { name: file.name }), file.name.replace(/\.[^.]*$/, ''));
    event.target.value = '';
  });
  window.addEventListener('beforeunload', function (event) {
    if (dirty) {
      event.preventDefault();
    }
  });

  if (cfg.initial) {
    load(cfg.initial.key, cfg.initial.version);
  }
}());
