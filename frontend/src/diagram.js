/**
 * What the modeler and the read-only viewer share: the viewer itself, the page's language as a
 * translate module, and the markers that show a running instance's states and a model's errors.
 * Bundled twice: into rectiflow-modeler.js (the designer) and rectiflow-viewer.js (the instance
 * view, which needs no modeling tools or properties panel).
 *
 * Licence note: bpmn-js is distributed under the bpmn.io licence. The bpmn.io watermark that
 * bpmn-js draws in the canvas must stay fully visible: do not hide or cover it.
 */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import camundaModdleDescriptors from 'camunda-bpmn-moddle/resources/camunda.json';
import { DICTIONARIES, translateModule } from './translate';

const STATE_MARKERS = {
  completed: 'rf-completed',
  active: 'rf-active',
  waiting: 'rf-waiting'
};
const ERROR_MARKER = 'rf-error';
const ERROR_OVERLAY = 'rf-error';

/** The options bpmn-js does not know: `language` becomes a translate module (Chinese for 'zh'). */
function languageModules(opts) {
  const module = translateModule(opts.language);
  delete opts.language;
  return module ? [module] : [];
}

function resolveContainer(c, what) {
  const el = typeof c === 'string' ? document.querySelector(c) : c;
  if (!el) {
    throw new Error('RectiflowModeler: ' + what + ' not found: ' + c);
  }
  return el;
}

/**
 * Create a read-only bpmn-js NavigatedViewer (pan with the mouse, zoom with ctrl+wheel).
 * The camunda moddle extension is registered so camunda:* attributes survive a round trip.
 *
 * @param {Element|string} container
 * @param {Object} [options]  bpmn-js options; `language: 'zh'` as for createModeler
 * @return {NavigatedViewer}
 */
function createViewer(container, options) {
  const opts = Object.assign({}, options || {});
  const extraModules = languageModules(opts).concat(opts.additionalModules || []);
  const extraModdle = opts.moddleExtensions || {};
  delete opts.moddleExtensions;
  return new NavigatedViewer(Object.assign(opts, {
    container: resolveContainer(container, 'container'),
    additionalModules: extraModules,
    moddleExtensions: Object.assign({ camunda: camundaModdleDescriptors }, extraModdle)
  }));
}

function forEachElement(elementRegistry, fn) {
  elementRegistry.getAll().forEach(fn);
}

/**
 * Remove every rectiflow state marker (rf-completed / rf-active / rf-waiting).
 * @param {Modeler|NavigatedViewer} diagram
 */
function clearHighlight(diagram) {
  const canvas = diagram.get('canvas');
  const elementRegistry = diagram.get('elementRegistry');
  const classes = Object.values(STATE_MARKERS);
  forEachElement(elementRegistry, function(element) {
    classes.forEach(function(cls) {
      if (canvas.hasMarker(element, cls)) {
        canvas.removeMarker(element, cls);
      }
    });
  });
}

/**
 * Mark elements by run state. Replaces any earlier state markers.
 *
 * @param {Modeler|NavigatedViewer} diagram  after importXML has resolved
 * @param {{completed?: string[], active?: string[], waiting?: string[]}} state  BPMN element ids
 * @return {string[]} ids that do not exist in the diagram (ignored)
 */
function highlight(diagram, state) {
  const canvas = diagram.get('canvas');
  const elementRegistry = diagram.get('elementRegistry');
  const missing = [];
  clearHighlight(diagram);
  state = state || {};
  Object.keys(STATE_MARKERS).forEach(function(key) {
    (state[key] || []).forEach(function(id) {
      const element = elementRegistry.get(id);
      if (!element) {
        missing.push(id);
        return;
      }
      // an element can be both completed earlier and active now: the later state wins visually
      Object.values(STATE_MARKERS).forEach(function(cls) {
        if (canvas.hasMarker(element, cls)) {
          canvas.removeMarker(element, cls);
        }
      });
      canvas.addMarker(element, STATE_MARKERS[key]);
    });
  });
  return missing;
}

/**
 * Remove every rf-error marker and error overlay.
 * @param {Modeler|NavigatedViewer} diagram
 */
function clearErrors(diagram) {
  const canvas = diagram.get('canvas');
  const overlays = diagram.get('overlays');
  const elementRegistry = diagram.get('elementRegistry');
  overlays.remove({ type: ERROR_OVERLAY });
  forEachElement(elementRegistry, function(element) {
    if (canvas.hasMarker(element, ERROR_MARKER)) {
      canvas.removeMarker(element, ERROR_MARKER);
    }
  });
}

/**
 * Show validation errors on the diagram: marker `rf-error` plus an overlay with the message at
 * each element that exists. Replaces earlier errors. Messages are inserted as text, not HTML.
 *
 * @param {Modeler|NavigatedViewer} diagram
 * @param {Array<{element_id: string, message: string}>} errors
 * @return {Array<{element_id: string, message: string}>} errors whose element does not exist
 *         (show them elsewhere on the page)
 */
function markErrors(diagram, errors) {
  const canvas = diagram.get('canvas');
  const overlays = diagram.get('overlays');
  const elementRegistry = diagram.get('elementRegistry');
  const unplaced = [];
  const byElement = new Map();

  clearErrors(diagram);

  (errors || []).forEach(function(err) {
    const id = err && err.element_id;
    const element = id ? elementRegistry.get(id) : null;
    if (!element) {
      unplaced.push(err);
      return;
    }
    if (!byElement.has(id)) {
      byElement.set(id, { element: element, messages: [] });
    }
    byElement.get(id).messages.push(String(err.message == null ? '' : err.message));
  });

  byElement.forEach(function(entry) {
    const element = entry.element;
    canvas.addMarker(element, ERROR_MARKER);

    const box = document.createElement('div');
    box.className = 'rf-error-overlay';
    entry.messages.forEach(function(msg) {
      const line = document.createElement('div');
      line.className = 'rf-error-message';
      line.textContent = msg;
      box.appendChild(line);
    });
    box.title = entry.messages.join('\n');

    const isConnection = !!element.waypoints;
    overlays.add(element, ERROR_OVERLAY, {
      position: isConnection ? { top: 0, left: 0 } : { bottom: -4, left: 0 },
      html: box
    });
  });

  return unplaced;
}

export {
  DICTIONARIES as dictionaries,
  camundaModdleDescriptors,
  createViewer,
  highlight,
  clearHighlight,
  markErrors,
  clearErrors,
  languageModules,
  resolveContainer,
  NavigatedViewer
};
