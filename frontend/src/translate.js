/**
 * The `translate` service of bpmn-js in a page's language (the documented customTranslate
 * pattern of the bpmn-js i18n example). bpmn-js, diagram-js and
 * the properties panel pass every label and tooltip through `translate(template, replacements)`;
 * this looks the English template up in the language's dictionary and fills `{name}` parts.
 */
import zh from './translations/zh';

/** The dictionaries by language; the page's own scripts read them too (RectiflowModeler.dictionaries). */
export const DICTIONARIES = { zh: zh };

/**
 * @param {string} [language] the page's language: 'zh' (or 'zh-CN', 'zh_Hans_CN') or 'en'
 * @return {Object|null} a bpmn-js module overriding `translate`, or null where English is meant
 */
export function translateModule(language) {
  const dictionary = DICTIONARIES[String(language || '').toLowerCase().split(/[-_]/)[0]];
  if (!dictionary) {
    return null;
  }
  function customTranslate(template, replacements) {
    replacements = replacements || {};
    const text = Object.prototype.hasOwnProperty.call(dictionary, template) ? dictionary[template] : template;
    return text.replace(/{([^}]+)}/g, function(_, key) {
      return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : '{' + key + '}';
    });
  }
  return { translate: [ 'value', customTranslate ] };
}
