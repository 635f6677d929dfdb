/**
 * Stands in, in rectiflow-modeler.js only, for the code editors that @bpmn-io/properties-panel
 * imports: CodeMirror (with its Lezer grammars), the FEEL editor and the FEEL templating editor.
 * The panel opens them only for Camunda 8 FEEL fields and its JSON/FEEL pop-up editor; the
 * Camunda 7 panel the designer uses has none of those fields, so about half a megabyte of
 * editor code would travel to every designer on the slow line for nothing. build.sh maps each
 * editor package here (esbuild --alias); the names are the ones the panel imports.
 *
 * Two of them run when the panel's code is loaded (Annotation.define, jsonParseLinter), so they
 * return inert values; everything else refuses, which would show at once in the designer tests
 * should a future panel version start to use an editor for a Camunda 7 field.
 */
function unavailable() {
  throw new Error('rectiflow: the code editors are not part of this bundle (frontend/src/stubs/code-editors.js)');
}

const facet = { of: unavailable, define: unavailable };

// @codemirror/state
export const Annotation = { define: function() { return {}; } };
export const EditorState = { create: unavailable, tabSize: facet, readOnly: facet };

// @codemirror/view
export const EditorView = Object.assign(unavailable, {
  lineWrapping: null, updateListener: facet, domEventHandlers: unavailable, theme: unavailable
});
export const keymap = facet;
export {
  unavailable as highlightSpecialChars,
  unavailable as drawSelection,
  unavailable as placeholder,
  unavailable as lineNumbers
};

// @codemirror/language, @codemirror/autocomplete, @codemirror/commands, @codemirror/lint
export const defaultHighlightStyle = null;
export const foldKeymap = [];
export const closeBracketsKeymap = [];
export const defaultKeymap = [];
export const historyKeymap = [];
export {
  unavailable as syntaxHighlighting,
  unavailable as foldGutter,
  unavailable as bracketMatching,
  unavailable as closeBrackets,
  unavailable as history,
  unavailable as linter
};

// @codemirror/lang-json: the panel makes its JSON linter when it loads
export function jsonParseLinter() {
  return unavailable;
}
export { unavailable as json };

// @bpmn-io/feelers-editor, @bpmn-io/feel-editor
export { unavailable as FeelersEditor, unavailable as default };
