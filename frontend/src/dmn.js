/**
 * rectiflow browser bundle: the dmn-js decision table editor alone (no DRD, literal expression or
 * boxed expression views: the engine runs one decision table per DMN document).
 *
 * Built by ../build.sh into service/static/vendor/dmn/rectiflow-dmn.js as an IIFE that sets
 * `window.RectiflowDmn`; service/static/js/decisions.js uses it. dmn-js is distributed under the
 * bpmn.io licence: the watermark it draws must stay fully visible.
 */
import EditingManager from 'dmn-js-shared/lib/base/EditingManager';
import DecisionTableEditor from 'dmn-js-decision-table/lib/Editor';
import { is } from 'dmn-js-shared/lib/util/ModelUtil';

export class DecisionTableModeler extends EditingManager {
  _getViewProviders() {
    return [{
      id: 'decisionTable',
      constructor: DecisionTableEditor,
      opens(element) {
        return is(element, 'dmn:Decision') && is(element.decisionLogic, 'dmn:DecisionTable');
      }
    }];
  }
}
