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

  // bpmn-js ships English labels only; Chinese pages get the common palette, context pad,
  // replace menu and properties panel labels translated (anything missing stays English).
  var ZH = {
    'Activate hand tool': '抓手工具', 'Activate lasso tool': '套索工具',
    'Activate create/remove space tool': '创建/移除空间', 'Activate global connect tool': '全局连线',
    'Create start event': '创建开始事件', 'Create intermediate/boundary event': '创建中间/边界事件',
    'Create end event': '创建结束事件', 'Create gateway': '创建网关', 'Create task': '创建任务',
    'Create expanded sub-process': '创建展开子流程', 'Create data object reference': '创建数据对象',
    'Create data store reference': '创建数据存储', 'Create pool/participant': '创建池/参与者',
    'Create group': '创建分组', 'Append end event': '追加结束事件', 'Append gateway': '追加网关',
    'Append task': '追加任务', 'Append intermediate/boundary event': '追加中间/边界事件',
    'Append receive task': '追加接收任务', 'Append timer intermediate catch event': '追加定时中间事件',
    'Append message intermediate catch event': '追加消息中间事件',
    'Append signal intermediate catch event': '追加信号中间事件',
    'Append conditional intermediate catch event': '追加条件中间事件',
    'Append compensation activity': '追加补偿活动', 'Add text annotation': '添加注释',
    'Add lane above': '在上方添加泳道', 'Add lane below': '在下方添加泳道',
    'Divide into two lanes': '拆分为两条泳道', 'Divide into three lanes': '拆分为三条泳道',
    'Change element': '更改类型', 'Delete': '删除', 'Connect to other element': '连接到其他元素',
    'Connect using association': '用关联连接', 'Connect using data input association': '用数据输入关联连接',
    'Search in diagram': '在图中搜索', 'Align elements': '对齐元素',
    'Distribute elements horizontally': '水平分布', 'Distribute elements vertically': '垂直分布',
    'Toggle non-interrupting': '切换非中断', 'Open {element}': '打开 {element}',
    'Loop': '循环', 'Parallel multi-instance': '并行多实例', 'Sequential multi-instance': '串行多实例',
    'Sequence flow': '顺序流', 'Default flow': '默认流', 'Conditional flow': '条件流',
    'Sub-process': '子流程', 'Task': '任务', 'User task': '用户任务', 'Script task': '脚本任务',
    'Service task': '服务任务', 'Send task': '发送任务', 'Receive task': '接收任务',
    'Manual task': '手工任务', 'Business rule task': '业务规则任务', 'Call activity': '调用活动',
    'Start event': '开始事件', 'End event': '结束事件', 'Exclusive gateway': '排他网关',
    'Parallel gateway': '并行网关', 'Inclusive gateway': '包容网关', 'Event-based gateway': '事件网关',
    'General': '常规', 'Name': '名称', 'ID': '标识', 'Documentation': '说明',
    'Element documentation': '元素说明', 'Process documentation': '流程说明',
    'Process name': '流程名称', 'Process ID': '流程标识', 'Executable': '可执行',
    'Version tag': '版本标签', 'Forms': '表单', 'Form': '表单', 'Form fields': '表单字段',
    'Form key': '表单键', 'Type': '类型', 'Label': '标签', 'Default value': '默认值',
    'Constraints': '约束', 'Properties': '属性', 'Values': '选项', 'Value': '值', 'Key': '键',
    'Extension properties': '扩展属性', 'User assignment': '办理人', 'Assignee': '办理人',
    'Candidate users': '候选用户', 'Candidate groups': '候选组', 'Due date': '到期时间',
    'Follow up date': '跟进时间', 'Priority': '优先级', 'Condition': '条件',
    'Condition expression': '条件表达式', 'Condition Expression': '条件表达式',
    'Script': '脚本', 'Format': '格式', 'Inline script': '内联脚本', 'Script type': '脚本类型',
    'Timer': '定时器', 'Date': '日期', 'Duration': '时长', 'Cycle': '周期', 'Message': '消息',
    'Signal': '信号', 'Error': '错误', 'Escalation': '升级', 'Multi-instance': '多实例',
    'Loop cardinality': '循环次数', 'Completion condition': '完成条件', 'Collection': '集合',
    'Element variable': '元素变量', 'Asynchronous continuations': '异步延续',
    'Asynchronous before': '之前异步', 'Asynchronous after': '之后异步',
    'Execution listeners': '执行监听器', 'Task listeners': '任务监听器', 'Inputs': '输入',
    'Outputs': '输出', 'Implementation': '实现', 'Create new ...': '新建…', '<none>': '<无>',
    'Generated Task Forms': '生成的任务表单', 'Embedded or External Task Forms': '嵌入或外部任务表单',
    'Camunda Forms': 'Camunda 表单', 'Job execution': '作业执行', 'History cleanup': '历史清理',
    'Tasklist': '任务列表', 'Startable': '可启动', 'Start initiator': '发起人', 'Initiator': '发起人',
    'Candidate starter': '候选发起人', 'Result variable': '结果变量', 'Variable name': '变量名',
    'string': '字符串', 'long': '整数', 'boolean': '布尔', 'date': '日期', 'enum': '枚举',
    // the properties panel's header names the element type in these words
    'User Task': '用户任务', 'Script Task': '脚本任务', 'Service Task': '服务任务', 'Send Task': '发送任务',
    'Receive Task': '接收任务', 'Manual Task': '手工任务', 'Business Rule Task': '业务规则任务',
    'Call Activity': '调用活动', 'Start Event': '开始事件', 'End Event': '结束事件',
    'Terminate End Event': '终止结束事件', 'Message Start Event': '消息开始事件', 'Timer Start Event': '定时开始事件',
    'Intermediate Throw Event': '中间抛出事件', 'Boundary Event': '边界事件',
    'Timer Boundary Event': '定时边界事件', 'Timer Boundary Event (Non Interrupting)': '定时边界事件（非中断）',
    'Message Boundary Event': '消息边界事件', 'Signal Intermediate Catch Event': '信号中间捕获事件',
    'Signal Intermediate Throw Event': '信号中间抛出事件', 'Message Intermediate Catch Event': '消息中间捕获事件',
    'Timer Intermediate Catch Event': '定时中间捕获事件', 'Signal End Event': '信号结束事件',
    'Exclusive Gateway': '排他网关', 'Parallel Gateway': '并行网关', 'Inclusive Gateway': '包容网关',
    'Event Based Gateway': '事件网关', 'Expanded Sub Process': '子流程（展开）',
    'Collapsed Sub Process': '子流程（折叠）', 'Event Sub Process': '事件子流程', 'Sequence Flow': '顺序流',
    'Default Flow': '默认流', 'Conditional Flow': '条件流', 'Collaboration': '协作', 'Participant': '参与者（池）',
    'Lane': '泳道', 'Process': '流程', 'Text Annotation': '注释', 'Group': '分组',
    'Data Object Reference': '数据对象', 'Data Store Reference': '数据存储',
    'Refers to the process variable name': '即流程变量名（任务数据的键）',
    'External task': '外部任务', 'Connector': '连接器', 'Field injections': '字段注入'
  };

  function translateModule(dict) {
    function translate(template, replacements) {
      var text = dict[template] || template;
      replacements = replacements || {};
      return text.replace(/{([^}]+)}/g, function (_, key) {
        return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : '{' + key + '}';
      });
    }
    return { translate: ['value', translate] };
  }

  var lang = (document.documentElement.lang || 'zh').toLowerCase();
  var extra = lang.indexOf('zh') === 0 ? [translateModule(ZH)] : [];
  var modeler = cfg.can_edit
    ? window.RectiflowModeler.createModeler('#rf-canvas', '#rf-properties', { additionalModules: extra })
    : window.RectiflowModeler.createViewer('#rf-canvas', { additionalModules: extra });

  var statusEl = document.getElementById('rf-status');
  var titleEl = document.getElementById('rf-current');
  var problemsEl = document.getElementById('rf-problems');
  var problemsListEl = document.getElementById('rf-problems-list');
  var sidebarEl = document.getElementById('rf-models');
  var current = { key: null, version: null, label: '' };
  var dirty = false;

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
      setStatus(warnings.length ? fmt(M.opened_with_warnings, { n: warnings.length }) : M.opened, warnings.length ? 'warn' : 'ok');
      return true;
    } catch (err) {
      setStatus(fmt(M.import_failed, { detail: err.message || String(err) }), 'error');
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

  async function postXml(url) {
    var xml = await currentXml();
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
    setStatus(n ? fmt(M.invalid, { n: n }) : M.valid, n ? 'error' : 'ok');
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

  async function deploy() {
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
      setStatus(fmt(M.deploy_refused, { n: r.body.errors.length }), 'error');
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

  // ---- wiring
  if (cfg.can_edit) {
    modeler.on('commandStack.changed', function () { dirty = true; });
    window.addEventListener('beforeunload', function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ''; }
    });
  }

  function on(id, event, handler) {
    var el = document.getElementById(id);
    if (el) { el.addEventListener(event, handler); }
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
    showProblems: showProblems, focusElement: focusElement, frame: frame, fit: fit,
    isDirty: function () { return dirty; }, current: function () { return current; }
  };

  var ready = cfg.initial ? openVersion(cfg.initial.key, cfg.initial.version) : Promise.resolve(false);
  ready.finally(function () { root.dataset.ready = 'true'; });
})();
