/**
 * rectiflow browser bundle: bpmn-js modeler (Camunda 7 properties panel) and viewer.
 *
 * Built by ../build.sh into service/static/vendor/bpmn/rectiflow-modeler.js as an IIFE that sets
 * `window.RectiflowModeler`. See service/static/vendor/README.md for the page-side contract.
 *
 * Licence note: bpmn-js is distributed under the bpmn.io licence. The bpmn.io watermark that
 * bpmn-js draws in the canvas must stay fully visible: do not hide or cover it.
 */
import Modeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule
} from 'bpmn-js-properties-panel';
import CamundaPlatformBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import {
  NavigatedViewer,
  camundaModdleDescriptors,
  clearErrors,
  clearHighlight,
  createViewer,
  dictionaries,
  highlight,
  languageModules,
  markErrors,
  resolveContainer
} from './diagram';

/**
 * Create a bpmn-js Modeler with the Camunda Platform 7 properties panel.
 *
 * @param {Element|string} container          element (or CSS selector) that hosts the canvas; give it a height
 * @param {Element|string} [propertiesContainer] element (or selector) that hosts the properties panel
 * @param {Object} [options]                   extra bpmn-js options; `additionalModules` are appended,
 *                                             `moddleExtensions` are merged; `language: 'zh'` shows
 *                                             the modeler's own texts in Chinese
 * @return {Modeler}
 */
function createModeler(container, propertiesContainer, options) {
  const opts = Object.assign({}, options || {});
  const extraModules = languageModules(opts).concat(opts.additionalModules || []);
  const extraModdle = opts.moddleExtensions || {};
  delete opts.additionalModules;
  delete opts.moddleExtensions;

  const config = Object.assign(opts, {
    container: resolveContainer(container, 'container'),
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaPlatformBehaviorsModule
    ].concat(extraModules),
    moddleExtensions: Object.assign({ camunda: camundaModdleDescriptors }, extraModdle)
  });
  if (propertiesContainer) {
    config.propertiesPanel = Object.assign({}, opts.propertiesPanel || {}, {
      parent: resolveContainer(propertiesContainer, 'propertiesContainer')
    });
  }
  return new Modeler(config);
}

export {
  dictionaries,
  createModeler,
  createViewer,
  highlight,
  clearHighlight,
  markErrors,
  clearErrors,
  Modeler,
  NavigatedViewer
};
