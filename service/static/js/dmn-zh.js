/*
 * The decision table editor in Chinese: dmn-js's `translate` service (the customTranslate pattern),
 * which decisions.js gives the editor on a Chinese page. dmn-js passes its labels, menu entries and
 * tooltips through translate(template, replacements); a template missing here stays English.
 */
(function () {
  'use strict';

  var ZH = {
    'When': '当', 'And': '且', 'Then': '则', 'Annotation': '注释', 'Annotations': '注释',
    'Hit policy': '命中策略', 'Hit policy:': '命中策略：',
    'Unique': '唯一（Unique）', 'First': '首个（First）', 'Priority': '优先级（Priority）', 'Any': '任意（Any）',
    'Collect': '汇集（Collect）', 'Rule order': '规则顺序（Rule order）', 'Output order': '输出顺序（Output order）',
    'Decision name': '决策名称', 'Decision name: ': '决策名称：',
    'Input': '输入', 'Output': '输出', 'Input label': '输入标签', 'Input label: ': '输入标签：',
    'Input expression': '输入表达式', 'Input expression: ': '输入表达式：', 'Input type': '输入类型',
    'Input values': '输入取值', 'Output label': '输出标签', 'Output label: ': '输出标签：',
    'Output name': '输出变量名', 'Output name: ': '输出变量名：', 'Output type': '输出类型', 'Output values': '输出取值',
    'Expression': '表达式', 'Expression language': '表达式语言',
    'Expression language: {expressionLanguageLabel}': '表达式语言：{expressionLanguageLabel}',
    'Change cell expression language': '更改单元格的表达式语言', 'Enter expression': '输入表达式',
    'Type': '类型', 'Value': '值', 'Values': '取值', 'No values': '无取值', 'Add values': '添加取值',
    'Predefined values': '预设取值', 'Add predefined values': '添加预设取值', 'Clear predefined values': '清除预设取值',
    'Custom values': '自定义取值', 'Strings must be in double quotes': '字符串须加双引号',
    'Add rule': '添加规则', 'Add rule above': '在上方添加规则', 'Add rule below': '在下方添加规则',
    'Remove rule': '删除规则', 'Copy rule': '复制规则', 'Cut rule': '剪切规则', 'Move rule': '移动规则',
    'Paste rule above': '粘贴规则到上方', 'Paste rule below': '粘贴规则到下方',
    'Add input': '添加输入列', 'Add output': '添加输出列',
    'Add input column left': '在左侧添加输入列', 'Add input column right': '在右侧添加输入列',
    'Add output column left': '在左侧添加输出列', 'Add output column right': '在右侧添加输出列',
    'Remove input column': '删除输入列', 'Remove output column': '删除输出列',
    'Copy input column': '复制输入列', 'Copy output column': '复制输出列',
    'Cut input column': '剪切输入列', 'Cut output column': '剪切输出列',
    'Paste input column left': '粘贴输入列到左侧', 'Paste input column right': '粘贴输入列到右侧',
    'Paste output column left': '粘贴输出列到左侧', 'Paste output column right': '粘贴输出列到右侧',
    'Add cell description': '添加单元格说明', 'Remove cell description': '删除单元格说明',
    'Edit': '编辑', 'Edit input': '编辑输入', 'Edit output': '编辑输出', 'Edit string': '编辑字符串',
    'Edit number': '编辑数字', 'Edit boolean': '编辑布尔值', 'Resize': '调整宽度',
    'Yes': '是', 'No': '否', 'Match one': '匹配其一', 'Match none': '均不匹配', 'Test type': '比较方式',
    'Comparison': '比较', 'Comparison operator': '比较运算符', 'Range': '区间', 'Equals': '等于',
    'Less': '小于', 'Less or equals': '小于或等于', 'Greater': '大于', 'Greater or equals': '大于或等于',
    'Include': '包含', 'Exclude': '不包含', 'Start value': '起始值', 'End value': '结束值',
    'String value': '字符串值', 'Boolean value': '布尔值', 'Set value': '设置值'
  };

  function translate(template, replacements) {
    replacements = replacements || {};
    var text = Object.prototype.hasOwnProperty.call(ZH, template) ? ZH[template] : template;
    return String(text).replace(/{([^}]+)}/g, function (_, key) {
      return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : '{' + key + '}';
    });
  }

  window.RectiflowDmnZh = { module: { translate: ['value', translate] } };
}());
