/*
 * The process designer's modeler in Chinese: the `translate` service of bpmn-js (the documented
 * customTranslate pattern), given to the modeler at run time by designer.js on a Chinese page.
 *
 * bpmn-js, diagram-js and the properties panel pass every label, tooltip and validation message
 * through translate(template, replacements); this looks the English template up here and fills its
 * {name} parts. It is the whole dictionary: it replaces the smaller one built into the bundle
 * (frontend/src/translations/zh.js, which the next rebuild should take from here), so the bundle
 * need not be rebuilt for a text. Keys are bpmn-js's English templates exactly as the bundle passes
 * them; anything missing stays English, which tests/browser/test_designer_chinese.py looks for.
 */
(function () {
  'use strict';

  var ZH = {
    "Activate hand tool": "抓手工具",
    "Activate lasso tool": "套索工具",
    "Activate create/remove space tool": "创建/移除空间",
    "Activate global connect tool": "全局连线",
    "Create start event": "创建开始事件",
    "Create intermediate/boundary event": "创建中间/边界事件",
    "Create end event": "创建结束事件",
    "Create gateway": "创建网关",
    "Create task": "创建任务",
    "Create expanded sub-process": "创建展开子流程",
    "Create data object reference": "创建数据对象",
    "Create data store reference": "创建数据存储",
    "Create pool/participant": "创建池/参与者",
    "Create group": "创建分组",
    "Append end event": "追加结束事件",
    "Append gateway": "追加网关",
    "Append task": "追加任务",
    "Append intermediate/boundary event": "追加中间/边界事件",
    "Append receive task": "追加接收任务",
    "Append timer intermediate catch event": "追加定时中间事件",
    "Append message intermediate catch event": "追加消息中间事件",
    "Append signal intermediate catch event": "追加信号中间事件",
    "Append conditional intermediate catch event": "追加条件中间事件",
    "Append compensation activity": "追加补偿活动",
    "Add text annotation": "添加注释",
    "Add lane above": "在上方添加泳道",
    "Add lane below": "在下方添加泳道",
    "Divide into two lanes": "拆分为两条泳道",
    "Divide into three lanes": "拆分为三条泳道",
    "Change element": "更改类型",
    "Delete": "删除",
    "Connect to other element": "连接到其他元素",
    "Connect using association": "用关联连接",
    "Connect using data input association": "用数据输入关联连接",
    "Search in diagram": "在图中搜索",
    "Align elements": "对齐元素",
    "Distribute elements horizontally": "水平分布",
    "Distribute elements vertically": "垂直分布",
    "Toggle non-interrupting": "切换非中断",
    "Open {element}": "打开 {element}",
    "Loop": "循环",
    "Parallel multi-instance": "并行多实例",
    "Sequential multi-instance": "串行多实例",
    "Sequence flow": "顺序流",
    "Default flow": "默认流",
    "Conditional flow": "条件流",
    "Sub-process": "子流程",
    "Task": "任务",
    "User task": "用户任务",
    "Script task": "脚本任务",
    "Service task": "服务任务",
    "Send task": "发送任务",
    "Receive task": "接收任务",
    "Manual task": "手工任务",
    "Business rule task": "业务规则任务",
    "Call activity": "调用活动",
    "Start event": "开始事件",
    "End event": "结束事件",
    "Exclusive gateway": "排他网关",
    "Parallel gateway": "并行网关",
    "Inclusive gateway": "包容网关",
    "Event-based gateway": "事件网关",
    "General": "常规",
    "Name": "名称",
    "ID": "标识",
    "Documentation": "说明",
    "Element documentation": "元素说明",
    "Process documentation": "流程说明",
    "Process name": "流程名称",
    "Process ID": "流程标识",
    "Executable": "可执行",
    "Version tag": "版本标签",
    "Forms": "表单",
    "Form": "表单",
    "Form fields": "表单字段",
    "Form key": "表单键",
    "Type": "类型",
    "Label": "标签",
    "Default value": "默认值",
    "Constraints": "约束",
    "Properties": "属性",
    "Values": "选项",
    "Value": "值",
    "Key": "键",
    "Extension properties": "扩展属性",
    "User assignment": "办理人",
    "Assignee": "办理人",
    "Candidate users": "候选用户",
    "Candidate groups": "候选组",
    "Due date": "到期时间",
    "Follow up date": "跟进时间",
    "Priority": "优先级",
    "Condition": "条件",
    "Condition expression": "条件表达式",
    "Condition Expression": "条件表达式",
    "Script": "脚本",
    "Format": "格式",
    "Inline script": "内联脚本",
    "Script type": "脚本类型",
    "Timer": "定时器",
    "Date": "日期",
    "Duration": "时长",
    "Cycle": "周期",
    "Message": "消息",
    "Signal": "信号",
    "Error": "错误",
    "Escalation": "升级",
    "Multi-instance": "多实例",
    "Loop cardinality": "循环次数",
    "Completion condition": "完成条件",
    "Collection": "集合",
    "Element variable": "元素变量",
    "Asynchronous continuations": "异步延续",
    "Asynchronous before": "之前异步",
    "Asynchronous after": "之后异步",
    "Execution listeners": "执行监听器",
    "Task listeners": "任务监听器",
    "Inputs": "输入",
    "Outputs": "输出",
    "Implementation": "实现",
    "Create new ...": "新建…",
    "<none>": "<无>",
    "Generated Task Forms": "生成的任务表单",
    "Embedded or External Task Forms": "嵌入或外部任务表单",
    "Camunda Forms": "Camunda 表单",
    "Job execution": "作业执行",
    "History cleanup": "历史清理",
    "Tasklist": "任务列表",
    "Startable": "可启动",
    "Start initiator": "发起人",
    "Initiator": "发起人",
    "Candidate starter": "候选发起人",
    "Result variable": "结果变量",
    "Variable name": "变量名",
    "string": "字符串",
    "long": "整数",
    "boolean": "布尔",
    "date": "日期",
    "enum": "枚举",
    "User Task": "用户任务",
    "Script Task": "脚本任务",
    "Service Task": "服务任务",
    "Send Task": "发送任务",
    "Receive Task": "接收任务",
    "Manual Task": "手工任务",
    "Business Rule Task": "业务规则任务",
    "Call Activity": "调用活动",
    "Start Event": "开始事件",
    "End Event": "结束事件",
    "Terminate End Event": "终止结束事件",
    "Message Start Event": "消息开始事件",
    "Timer Start Event": "定时开始事件",
    "Intermediate Throw Event": "中间抛出事件",
    "Boundary Event": "边界事件",
    "Timer Boundary Event": "定时边界事件",
    "Timer Boundary Event (Non Interrupting)": "定时边界事件（非中断）",
    "Message Boundary Event": "消息边界事件",
    "Signal Intermediate Catch Event": "信号中间捕获事件",
    "Signal Intermediate Throw Event": "信号中间抛出事件",
    "Message Intermediate Catch Event": "消息中间捕获事件",
    "Timer Intermediate Catch Event": "定时中间捕获事件",
    "Signal End Event": "信号结束事件",
    "Exclusive Gateway": "排他网关",
    "Parallel Gateway": "并行网关",
    "Inclusive Gateway": "包容网关",
    "Event Based Gateway": "事件网关",
    "Expanded Sub Process": "子流程（展开）",
    "Collapsed Sub Process": "子流程（折叠）",
    "Event Sub Process": "事件子流程",
    "Sequence Flow": "顺序流",
    "Default Flow": "默认流",
    "Conditional Flow": "条件流",
    "Collaboration": "协作",
    "Participant": "参与者（池）",
    "Lane": "泳道",
    "Process": "流程",
    "Text Annotation": "注释",
    "Group": "分组",
    "Data Object Reference": "数据对象",
    "Data Store Reference": "数据存储",
    "Refers to the process variable name": "即流程变量名（任务数据的键）",
    "External task": "外部任务",
    "Connector": "连接器",
    "Field injections": "字段注入",
    "Create": "新建",
    "Update": "更新",
    "Delete item": "删除此项",
    "Create new list item": "新建列表项",
    "Toggle list item": "展开/收起此项",
    "Toggle section": "展开/收起本节",
    "Section contains edits": "本节有改动",
    "Section contains an error": "本节有错误",
    "Open pop-up editor": "在弹出编辑器中打开",
    "Opened in editor": "已在编辑器中打开",
    "List contains {numOfItems} item": "列表含 {numOfItems} 项",
    "List contains {numOfItems} items": "列表含 {numOfItems} 项",
    "Select an element to edit its properties.": "选择一个元素以编辑其属性。",
    "Multiple elements are selected. Select a single element to edit its properties.": "选中了多个元素。请只选择一个元素以编辑其属性。",
    "Open documentation": "打开说明文档",
    "<empty>": "<空>",
    "<custom type>": "<自定义类型>",
    "Custom type": "自定义类型",
    "ID must be a valid QName.": "标识须为合法的 QName。",
    "ID must be unique.": "标识不能重复。",
    "ID must not be empty.": "标识不能为空。",
    "ID must not contain prefix.": "标识不能带前缀。",
    "ID must not contain spaces.": "标识不能含空格。",
    "Unparsable FEEL expression.": "无法解析的 FEEL 表达式。",
    "FEEL expression is mandatory": "必须填写 FEEL 表达式",
    "FEEL expression": "FEEL 表达式",
    "Sub-process (collapsed)": "子流程（折叠）",
    "Sub-process (expanded)": "子流程（展开）",
    "Ad-hoc sub-process": "自由子流程",
    "Ad-hoc sub-process (collapsed)": "自由子流程（折叠）",
    "Ad-hoc sub-process (expanded)": "自由子流程（展开）",
    "Event sub-process": "事件子流程",
    "Transaction": "事务",
    "Empty pool/participant": "空池/参与者",
    "Expanded pool/participant": "展开的池/参与者",
    "Data object reference": "数据对象",
    "Data store reference": "数据存储",
    "Complex gateway": "复杂网关",
    "Boundary event": "边界事件",
    "Intermediate throw event": "中间抛出事件",
    "Terminate end event": "终止结束事件",
    "Message start event": "消息开始事件",
    "Timer start event": "定时开始事件",
    "Conditional start event": "条件开始事件",
    "Signal start event": "信号开始事件",
    "Error start event": "错误开始事件",
    "Escalation start event": "升级开始事件",
    "Compensation start event": "补偿开始事件",
    "Message start event (non-interrupting)": "消息开始事件（非中断）",
    "Timer start event (non-interrupting)": "定时开始事件（非中断）",
    "Conditional start event (non-interrupting)": "条件开始事件（非中断）",
    "Signal start event (non-interrupting)": "信号开始事件（非中断）",
    "Escalation start event (non-interrupting)": "升级开始事件（非中断）",
    "Message intermediate catch event": "消息中间捕获事件",
    "Message intermediate throw event": "消息中间抛出事件",
    "Timer intermediate catch event": "定时中间捕获事件",
    "Escalation intermediate throw event": "升级中间抛出事件",
    "Conditional intermediate catch event": "条件中间捕获事件",
    "Link intermediate catch event": "链接中间捕获事件",
    "Link intermediate throw event": "链接中间抛出事件",
    "Compensation intermediate throw event": "补偿中间抛出事件",
    "Signal intermediate catch event": "信号中间捕获事件",
    "Signal intermediate throw event": "信号中间抛出事件",
    "Message end event": "消息结束事件",
    "Escalation end event": "升级结束事件",
    "Error end event": "错误结束事件",
    "Cancel end event": "取消结束事件",
    "Compensation end event": "补偿结束事件",
    "Signal end event": "信号结束事件",
    "Message boundary event": "消息边界事件",
    "Message boundary event (non-interrupting)": "消息边界事件（非中断）",
    "Timer boundary event": "定时边界事件",
    "Timer boundary event (non-interrupting)": "定时边界事件（非中断）",
    "Escalation boundary event": "升级边界事件",
    "Escalation boundary event (non-interrupting)": "升级边界事件（非中断）",
    "Conditional boundary event": "条件边界事件",
    "Conditional boundary event (non-interrupting)": "条件边界事件（非中断）",
    "Error boundary event": "错误边界事件",
    "Cancel boundary event": "取消边界事件",
    "Signal boundary event": "信号边界事件",
    "Signal boundary event (non-interrupting)": "信号边界事件（非中断）",
    "Compensation boundary event": "补偿边界事件",
    "Activity reference": "活动引用",
    "Assignment type": "分配方式",
    "Binding": "绑定",
    "Business key": "业务键",
    "Business key expression": "业务键表达式",
    "Business ID": "业务标识",
    "Called element": "被调用元素",
    "Camunda Form": "Camunda 表单",
    "Camunda Form (embedded)": "Camunda 表单（嵌入）",
    "Camunda Form (linked)": "Camunda 表单（链接）",
    "Camunda user task": "Camunda 用户任务",
    "Cancel remaining instances": "取消其余实例",
    "Candidate starter groups": "候选发起组",
    "Candidate starter users": "候选发起用户",
    "Case ref": "案例引用",
    "Class": "类",
    "Code": "代码",
    "Code variable": "代码变量",
    "Config": "配置",
    "Connector ID": "连接器标识",
    "Created in": "创建于",
    "Custom form key": "自定义表单键",
    "DMN decision": "DMN 决策",
    "Decision ID": "决策标识",
    "Decision reference": "决策引用",
    "Define the name of the variable that will contain the error code.": "填写存放错误代码的变量名。",
    "Define the name of the variable that will contain the error message.": "填写存放错误消息的变量名。",
    "Define the name of the variable that will contain the escalation code.": "填写存放升级代码的变量名。",
    "Delegate Class": "委托类",
    "Delegate Expression": "委托表达式",
    "Delegate Variable Mapping": "委托变量映射",
    "Delegate expression": "委托表达式",
    "Documentation: Timer events": "说明文档：定时事件",
    "Documentation: Variable events": "说明文档：变量事件",
    "Event type": "事件类型",
    "Expression": "表达式",
    "External form reference": "外部表单引用",
    "External resource": "外部资源",
    "Field injection": "字段注入",
    "Form ID": "表单标识",
    "Form JSON configuration": "表单 JSON 配置",
    "Form reference": "表单引用",
    "Global error reference": "全局错误引用",
    "Global escalation reference": "全局升级引用",
    "Global message reference": "全局消息引用",
    "Global signal reference": "全局信号引用",
    "Headers": "消息头",
    "How to configure a timer": "如何配置定时器",
    "If turned on, all variables from the child process instance will be propagated to the parent process instance.": "开启后，子流程实例的全部变量都传回父流程实例。",
    "If turned on, all variables from the parent process instance will be propagated to the child process instance.": "开启后，父流程实例的全部变量都传给子流程实例。",
    "Otherwise, only variables defined via output mappings will be propagated.": "否则只传递输出映射中定义的变量。",
    "Otherwise, only variables defined via input mappings will be propagated.": "否则只传递输入映射中定义的变量。",
    "Implementation type": "实现方式",
    "Inherit from parent": "继承父级",
    "Input collection": "输入集合",
    "Input element": "输入元素",
    "Java class": "Java 类",
    "Job type": "作业类型",
    "Job worker": "作业处理器",
    "List": "列表",
    "List values": "列表值",
    "Listener ID": "监听器标识",
    "Listener type": "监听器类型",
    "Local": "本地",
    "Map": "映射",
    "Map decision result": "映射决策结果",
    "Map entries": "映射条目",
    "Message variable": "消息变量",
    "Output collection": "输出集合",
    "Output element": "输出元素",
    "Participant Name": "参与者名称",
    "Participant multiplicity": "参与者多重性",
    "Process variables": "流程变量",
    "Propagate all child process variables": "传回子流程全部变量",
    "Propagate all parent process variables": "传入父流程全部变量",
    "Propagate all variables": "传递全部变量",
    "Resource": "资源",
    "Retries": "重试次数",
    "Retry time cycle": "重试时间周期",
    "Scope": "作用域",
    "Source": "来源",
    "Source expression": "来源表达式",
    "Specify more than one group as a comma separated list.": "多个组用英文逗号分隔。",
    "Specify more than one user as a comma separated list.": "多个用户用英文逗号分隔。",
    "Specify more than one variable change event as a comma separated list. Variable change events are:": "多个变量变更事件用英文逗号分隔。变量变更事件有：",
    "String": "字符串",
    "String or expression": "字符串或表达式",
    "Subscription correlation key": "订阅关联键",
    "Target": "目标",
    "Tenant ID": "租户标识",
    "This maps to the process definition key.": "对应流程定义的键。",
    "Throw expression": "抛出表达式",
    "Time to live": "保留时长",
    "Timer documentation": "定时器说明文档",
    "Topic": "主题",
    "UTC plus 2 hours zone offset": "东二区时差（UTC+2）",
    "UTC time": "UTC 时间",
    "Variable assignment value": "变量赋值",
    "Variable events": "变量事件",
    "Version": "版本",
    "Wait for completion": "等待完成",
    "Before": "之前",
    "After": "之后",
    "Active elements collection": "活动元素集合",
    "A cycle defined as ISO 8601 repeating intervals format, or a cron expression.": "周期：ISO 8601 重复间隔格式，或 cron 表达式。",
    "A cycle defined as ISO 8601 repeating intervals format.": "周期：ISO 8601 重复间隔格式。",
    "A specific point in time defined as ISO 8601 combined date and time representation.": "某一时刻：ISO 8601 日期时间格式。",
    "A time duration defined as ISO 8601 durations format.": "时长：ISO 8601 时长格式。",
    "Exclusive": "排他",
    "Parallel": "并行",
    "Sequential": "串行",
    "None": "无",
    "All": "全部",
    "Event": "事件",
    "Gateway": "网关",
    "Activity": "活动",
    "Association": "关联",
    "Category": "类别",
    "Expanded": "展开",
    "Collapsed": "折叠",
    "Link": "链接",
    "Compensation": "补偿",
    "Conditional": "条件",
    "Cancel": "取消",
    "Non-interrupting": "非中断",
    "Interrupting": "中断",
    "Ad-hoc": "自由",
    "Errors": "错误",
    "Messages": "消息",
    "Signals": "信号",
    "Escalations": "升级",
    "Global": "全局",
    "Details": "详细信息",
    "Other": "其他",
    "Data": "数据",
    "Participants": "参与者",
    "Tasks": "任务",
    "Events": "事件",
    "Gateways": "网关",
    "Sub-processes": "子流程",
    "Data objects": "数据对象",
    "Data stores": "数据存储",
    "Artifacts": "工件",
    "Pools/Participants": "池/参与者",
    "Call activities": "调用活动",
    "Change type": "更改类型",
    "Append": "追加",
    "Search": "搜索",
    "No matching entries found.": "没有匹配项。",
    "Search for elements": "搜索元素",
    "Close": "关闭",
    "Remove": "移除",
    "Clear": "清除",
    "Create {type}": "创建{type}",
    "Append {type}": "追加{type}",
    "{eventType}: {type}": "{eventType}：{type}",
    "Attached to": "附着于",
    "Name of the variable": "变量名",
    "Data object": "数据对象",
    "Data store": "数据存储",
    "Message name": "消息名称",
    "Signal name": "信号名称",
    "Error code": "错误代码",
    "Error message": "错误消息",
    "Escalation code": "升级代码",
    "Escalation name": "升级名称",
    "Error name": "错误名称",
    "Timer type": "定时器类型",
    "Value type": "值类型",
    "Variable assignment type": "变量赋值方式",
    "Local variable name": "本地变量名",
    "Process variable name": "流程变量名",
    "Input mapping": "输入映射",
    "Output mapping": "输出映射",
    "Input": "输入",
    "Output": "输出",
    "In mapping": "传入映射",
    "Out mapping": "传出映射",
    "In mappings": "传入映射",
    "Out mappings": "传出映射",
    "Field": "字段",
    "Fields": "字段",
    "Listener": "监听器",
    "Event types": "事件类型",
    "Task listener": "任务监听器",
    "Execution listener": "执行监听器",
    "Delegate expression or class": "委托表达式或类",
    "Exclusive job": "独占作业",
    "Job priority": "作业优先级",
    "Task priority": "任务优先级",
    "External task priority": "外部任务优先级",
    "Collapsed pool/participant": "折叠的池/参与者",
    "Candidate starter configuration": "候选发起人配置",
    "Start event initiator": "开始事件发起人",
    "Validation": "校验",
    "Config name": "配置名",
    "Name or ID": "名称或标识",
    "Property": "属性",
    "Participant ID": "参与者标识",
    "Active elements": "活动元素",
    "Assignment": "分配",
    "Called decision": "被调用决策",
    "Completion": "完成",
    "Connector inputs": "连接器输入",
    "Connector outputs": "连接器输出",
    "In mapping propagation": "传入映射的传递",
    "Input propagation": "输入传递",
    "Out mapping propagation": "传出映射的传递",
    "Output propagation": "输出传递",
    "Task definition": "任务定义",
    "Align elements left": "左对齐",
    "Align elements center": "水平居中对齐",
    "Align elements right": "右对齐",
    "Align elements top": "顶端对齐",
    "Align elements middle": "垂直居中对齐",
    "Align elements bottom": "底端对齐",
    "The due date as an EL expression (e.g. ${someDate}) or an ISO date (e.g. 2015-06-26T09:54:00).": "到期时间：EL 表达式（如 ${someDate}）或 ISO 日期（如 2015-06-26T09:54:00）。",
    "The follow up date as an EL expression (e.g. ${someDate}) or an ISO date (e.g. 2015-06-26T09:54:00).": "跟进时间：EL 表达式（如 ${someDate}）或 ISO 日期（如 2015-06-26T09:54:00）。",
    "Click to set a dynamic value with FEEL expression": "点击改用 FEEL 表达式设置动态值",
    "Click to remove dynamic value with FEEL expression": "点击取消 FEEL 表达式动态值"
  };

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
