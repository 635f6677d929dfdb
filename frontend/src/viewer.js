/**
 * rectiflow browser bundle for reading a diagram: the bpmn-js NavigatedViewer with the instance
 * state and error markers, without the modeling tools and properties panel of rectiflow-modeler.js.
 *
 * Built by ../build.sh into service/static/vendor/bpmn/rectiflow-viewer.js as an IIFE that sets
 * `window.RectiflowViewer` (createViewer, highlight, clearHighlight, markErrors, clearErrors, as
 * RectiflowModeler has them).
 */
export { createViewer, highlight, clearHighlight, markErrors, clearErrors, dictionaries } from './diagram';
