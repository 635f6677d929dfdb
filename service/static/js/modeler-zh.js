/*
 * The process designer's modeler in Chinese: the `translate` service of bpmn-js (the documented
 * customTranslate pattern), given to the modeler at run time by designer.js on a Chinese page.
 *
 * bpmn-js, diagram-js and the properties panel pass every label, tooltip and validation message
 * through translate(template, replacements); this looks the English template up here and fills its
 * {name} parts, from the dictionary built into the bundle (frontend/src/translations/zh.js: change
 * it there and run frontend/build.sh). Keys are bpmn-js's English templates
 * exactly as the bundle passes them; anything missing stays English, which
 * tests/browser/test_designer_chinese.py looks for.
 */
(function () {
  'use strict';

  // The dictionary is the bundle's own (frontend/src/translations/zh.js, built into
  // rectiflow-modeler.js, which the page loads first): one dictionary, in one place.
  var bundle = window.RectiflowModeler || {};
  var ZH = (bundle.dictionaries && bundle.dictionaries.zh) || {};

  function translate(template, replacements) {
    replacements = replacements || {};
    var text = Object.prototype.hasOwnProperty.call(ZH, template) ? ZH[template] : template;
    return String(text).replace(/{([^}]+)}/g, function (_, key) {
      return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : '{' + key + '}';
    });
  }

  // The templates with {name} parts, as patterns that match the English they become once filled.
  var FILLED = Object.keys(ZH).filter(function (k) { return /{[^}]+}/.test(k); }).map(function (k) {
    var names = [];
    var source = k.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?{([^}]+)\\?}/g, function (_, name) {
      names.push(name);
      return '(.+?)';
    });
    return { re: new RegExp('^' + source + '$'), names: names, key: k };
  });

  /** The Chinese of an English text the modeler put on the page, filled or not; null if none. */
  function chinese(text) {
    var trimmed = String(text).trim();
    if (Object.prototype.hasOwnProperty.call(ZH, trimmed)) {
      return ZH[trimmed];
    }
    for (var i = 0; i < FILLED.length; i++) {
      var m = FILLED[i].re.exec(trimmed);
      if (m) {
        var values = {};
        FILLED[i].names.forEach(function (name, j) { values[name] = m[j + 1]; });
        return translate(FILLED[i].key, values);
      }
    }
    return null;
  }

  var ATTRIBUTES = ['title', 'aria-label', 'placeholder'];

  function translateTree(root) {
    if (root.nodeType === 3) {
      var t = chinese(root.nodeValue);
      if (t !== null && t !== root.nodeValue) { root.nodeValue = t; }
      return;
    }
    if (root.nodeType !== 1) {
      return;
    }
    var elements = [root].concat(Array.prototype.slice.call(root.querySelectorAll('*')));
    elements.forEach(function (el) {
      ATTRIBUTES.forEach(function (name) {
        var value = el.getAttribute(name);
        var t = value && chinese(value);
        if (t && t !== value) { el.setAttribute(name, t); }
      });
      // a list item's header shows the item's own name or key from the diagram: data, not UI text
      if (el.classList.contains('bio-properties-panel-collapsible-entry-header-title')) {
        el.setAttribute('translate', 'no');
      }
      Array.prototype.forEach.call(el.childNodes, function (child) {
        if (child.nodeType === 3) { translateTree(child); }
      });
    });
  }

  /**
   * Some parts of the properties panel word their buttons and tooltips with the library's built-in
   * English instead of the modeler's translate service (the section toggles, "Create", the list
   * counts); this keeps the panel's texts Chinese as it renders them.
   */
  function watch(container) {
    var el = typeof container === 'string' ? document.querySelector(container) : container;
    if (!el || !window.MutationObserver) {
      return;
    }
    translateTree(el);
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        if (r.type === 'attributes' || r.type === 'characterData') {
          translateTree(r.target);
        } else {
          Array.prototype.forEach.call(r.addedNodes, translateTree);
        }
      });
    }).observe(el, { subtree: true, childList: true, characterData: true, attributes: true,
                     attributeFilter: ATTRIBUTES });
  }

  /** Why bpmn-js could not open a file, in Chinese (its own message is English and technical). */
  function importError(message) {
    var text = String(message || '');
    if (/failed to parse document as <bpmn:Definitions>/.test(text)) {
      return '文件不是 BPMN 2.0 流程图（找不到 bpmn:Definitions）';
    }
    if (/no diagram to display|no process or collaboration to display/.test(text)) {
      return '文件中没有可显示的流程图';
    }
    if (/unparsable content|unexpected end of file|unclosed|missing|illegal|mismatch/.test(text)) {
      return '文件不是格式正确的 XML';
    }
    return '文件不是有效的 BPMN 2.0 流程图';
  }

  window.RectiflowModelerZh = {
    importError: importError,
    dictionary: ZH,
    translate: translate,
    watch: watch,
    chinese: chinese,
    /** the bpmn-js module: additionalModules: [RectiflowModelerZh.module] */
    module: { translate: ['value', translate] }
  };
}());
