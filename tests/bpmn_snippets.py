"""Small BPMN documents for engine tests, written out in full so each test reads as a diagram."""
from __future__ import annotations

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  id="defs_{pid}" targetNamespace="http://bpmn.io/schema/bpmn">
"""


def doc(pid: str, body: str, extra: str = "", name: str = "") -> bytes:
    return (HEAD.format(pid=pid) + extra
            + f'<bpmn:process id="{pid}" name="{name or pid}" isExecutable="true">{body}</bpmn:process>'
            + "</bpmn:definitions>").encode()


def flow(fid: str, src: str, dst: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}"/>'
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            f'</bpmn:sequenceFlow>')


def one_task(pid: str = "simple", task_name: str = "审核", lane: str = "巡察办") -> bytes:
    body = f"""
      <bpmn:laneSet id="ls"><bpmn:lane id="lane_office" name="{lane}">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>task</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
      <bpmn:startEvent id="start"/>
      <bpmn:userTask id="task" name="{task_name}">
        <bpmn:extensionElements><camunda:formData>
          <camunda:formField id="ok" label="通过" type="boolean">
            <camunda:validation><camunda:constraint name="required"/></camunda:validation>
          </camunda:formField>
        </camunda:formData></bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:endEvent id="end"/>
      {flow("f1", "start", "task")}{flow("f2", "task", "end")}"""
    return doc(pid, body)


def with_script(script: str, pid: str = "scripted") -> bytes:
    body = f"""
      <bpmn:startEvent id="start"/>
      <bpmn:userTask id="first" name="先办"/>
      <bpmn:scriptTask id="calc" name="计算" scriptFormat="python"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
      <bpmn:userTask id="second" name="后办"/>
      <bpmn:endEvent id="end"/>
      {flow("f1", "start", "first")}{flow("f2", "first", "calc")}{flow("f3", "calc", "second")}{flow("f4", "second", "end")}"""
    return doc(pid, body)


def with_condition(condition: str, pid: str = "conditional") -> bytes:
    body = f"""
      <bpmn:startEvent id="start"/>
      <bpmn:exclusiveGateway id="gw" default="f_default"/>
      <bpmn:userTask id="yes" name="是"/>
      <bpmn:endEvent id="end"/>
      {flow("f1", "start", "gw")}{flow("f_cond", "gw", "yes", condition)}{flow("f_default", "gw", "end")}
      {flow("f3", "yes", "end")}"""
    return doc(pid, body)


def parallel(n: int, pid: str = "fanout") -> bytes:
    tasks = "".join(f'<bpmn:userTask id="t{i}" name="并行{i}"/>' for i in range(n))
    flows = "".join(flow(f"in{i}", "split", f"t{i}") + flow(f"out{i}", f"t{i}", "join") for i in range(n))
    body = f"""
      <bpmn:startEvent id="start"/><bpmn:parallelGateway id="split"/>{tasks}<bpmn:parallelGateway id="join"/>
      <bpmn:userTask id="after" name="汇总"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "split")}{flows}{flow("f2", "join", "after")}{flow("f3", "after", "end")}"""
    return doc(pid, body)


def parallel_scripts(pid: str = "branches") -> bytes:
    body = f"""
      <bpmn:startEvent id="start"/><bpmn:parallelGateway id="split"/>
      <bpmn:scriptTask id="branch_a" scriptFormat="python"><bpmn:script>shared["items"].append("a")</bpmn:script></bpmn:scriptTask>
      <bpmn:scriptTask id="branch_b" scriptFormat="python"><bpmn:script>shared["items"].append("b")</bpmn:script></bpmn:scriptTask>
      <bpmn:parallelGateway id="join"/><bpmn:userTask id="after" name="汇总"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "split")}{flow("fa", "split", "branch_a")}{flow("fb", "split", "branch_b")}
      {flow("fa2", "branch_a", "join")}{flow("fb2", "branch_b", "join")}{flow("f2", "join", "after")}
      {flow("f3", "after", "end")}"""
    return doc(pid, body)


def timer(expression: str, pid: str = "timed") -> bytes:
    body = f"""
      <bpmn:startEvent id="start"/>
      <bpmn:intermediateCatchEvent id="wait" name="等待">
        <bpmn:timerEventDefinition id="td"><bpmn:timeDate xsi:type="bpmn:tFormalExpression">{expression}</bpmn:timeDate></bpmn:timerEventDefinition>
      </bpmn:intermediateCatchEvent>
      <bpmn:userTask id="after" name="到期后"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "wait")}{flow("f2", "wait", "after")}{flow("f3", "after", "end")}"""
    return doc(pid, body)


def message(pid: str = "waiting") -> bytes:
    body = f"""
      <bpmn:startEvent id="start"/>
      <bpmn:intermediateCatchEvent id="wait" name="等待通知">
        <bpmn:messageEventDefinition id="md" messageRef="msg"/>
      </bpmn:intermediateCatchEvent>
      <bpmn:userTask id="after" name="收到后"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "wait")}{flow("f2", "wait", "after")}{flow("f3", "after", "end")}"""
    return doc(pid, body, extra='<bpmn:message id="msg" name="cases_closed"/>')


def loop_back(limit: int, pid: str = "looping") -> bytes:
    """A gateway loop-back: each pass deepens SpiffWorkflow's task tree."""
    body = f"""
      <bpmn:startEvent id="start"/>
      <bpmn:scriptTask id="count" scriptFormat="python"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
      <bpmn:exclusiveGateway id="again" default="f_done"/>
      <bpmn:userTask id="after" name="完成"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "count")}{flow("f2", "count", "again")}
      {flow("f_loop", "again", "count", f"n &lt; {limit}")}{flow("f_done", "again", "after")}
      {flow("f3", "after", "end")}"""
    return doc(pid, body)


def form_task(fields: str, pid: str = "constrained", lane: str = "巡察办") -> bytes:
    """One office task whose camunda:formData holds the given formField elements, as Modeler writes them."""
    body = f"""
      <bpmn:laneSet id="ls"><bpmn:lane id="lane_office" name="{lane}">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>task</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
      <bpmn:startEvent id="start"/>
      <bpmn:userTask id="task" name="登记">
        <bpmn:extensionElements><camunda:formData>{fields}</camunda:formData></bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:endEvent id="end"/>
      {flow("f1", "start", "task")}{flow("f2", "task", "end")}"""
    return doc(pid, body)


def _timer(kind: str, value: str) -> str:
    return (f'<bpmn:timerEventDefinition id="td"><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}'
            f'</bpmn:{kind}></bpmn:timerEventDefinition>')


def timer_catch(kind: str, value: str, pid: str = "ticking") -> bytes:
    """An intermediate timer, its value as Camunda Modeler writes it; each firing opens a task."""
    body = f"""
      <bpmn:startEvent id="start"/>
      <bpmn:intermediateCatchEvent id="wait" name="等待">{_timer(kind, value)}</bpmn:intermediateCatchEvent>
      <bpmn:userTask id="after" name="到期后"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "wait")}{flow("f2", "wait", "after")}{flow("f3", "after", "end")}"""
    return doc(pid, body)


def timer_start(kind: str, value: str, pid: str = "scheduled") -> bytes:
    """A process that begins with a timer start event."""
    body = f"""
      <bpmn:startEvent id="start" name="定时开始">{_timer(kind, value)}</bpmn:startEvent>
      <bpmn:userTask id="after" name="开始后"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "after")}{flow("f2", "after", "end")}"""
    return doc(pid, body)


def boundary_timer(kind: str, value: str, interrupting: bool = False, pid: str = "reminded") -> bytes:
    """A user task with a timer on its edge; each firing opens a reminder task."""
    body = f"""
      <bpmn:startEvent id="start"/>
      <bpmn:userTask id="work" name="办理"/>
      <bpmn:boundaryEvent id="remind" name="催办" cancelActivity="{str(interrupting).lower()}" attachedToRef="work">
        {_timer(kind, value)}</bpmn:boundaryEvent>
      <bpmn:userTask id="reminder" name="催办提醒"/><bpmn:endEvent id="reminded_end"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "work")}{flow("f2", "work", "end")}
      {flow("f3", "remind", "reminder")}{flow("f4", "reminder", "reminded_end")}"""
    return doc(pid, body)


def reported(pid: str = "outside_report") -> bytes:
    """Begun by a message from outside; a receive task waits for more evidence, matched on the case
    number the first message carried (its correlation key); the review can be withdrawn by a message."""
    body = f"""
      <bpmn:startEvent id="start" name="收到举报"><bpmn:messageEventDefinition id="md_start" messageRef="m_report"/></bpmn:startEvent>
      <bpmn:receiveTask id="await_evidence" name="等待补充材料" messageRef="m_evidence">
        <bpmn:extensionElements><camunda:properties>
          <camunda:property name="correlationKey" value="report_received['case_no']"/>
        </camunda:properties></bpmn:extensionElements>
      </bpmn:receiveTask>
      <bpmn:userTask id="review" name="审查"/>
      <bpmn:boundaryEvent id="withdrawn" name="撤回" attachedToRef="review">
        <bpmn:messageEventDefinition id="md_withdrawn" messageRef="m_withdrawn"/></bpmn:boundaryEvent>
      <bpmn:endEvent id="end"/><bpmn:endEvent id="end_withdrawn"/>
      {flow("f1", "start", "await_evidence")}{flow("f2", "await_evidence", "review")}{flow("f3", "review", "end")}
      {flow("f4", "withdrawn", "end_withdrawn")}"""
    return doc(pid, body, extra='<bpmn:message id="m_report" name="report_received"/>'
                                '<bpmn:message id="m_evidence" name="evidence_received"/>'
                                '<bpmn:message id="m_withdrawn" name="report_withdrawn"/>')


def watched(pid: str = "flood_watch") -> bytes:
    """Begun by a message; then waits for a signal that every watching instance hears."""
    body = f"""
      <bpmn:startEvent id="start"><bpmn:messageEventDefinition id="md_start" messageRef="m_watch"/></bpmn:startEvent>
      <bpmn:intermediateCatchEvent id="warned" name="汛情预警"><bpmn:signalEventDefinition id="sd" signalRef="s_flood"/>
      </bpmn:intermediateCatchEvent>
      <bpmn:userTask id="respond" name="响应预警"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "warned")}{flow("f2", "warned", "respond")}{flow("f3", "respond", "end")}"""
    return doc(pid, body, extra='<bpmn:message id="m_watch" name="watch_started"/>'
                                '<bpmn:signal id="s_flood" name="flood_warning"/>')


def alarmed(pid: str = "flood_assessment") -> bytes:
    """Begun by a signal."""
    body = f"""
      <bpmn:startEvent id="start"><bpmn:signalEventDefinition id="sd" signalRef="s_flood"/></bpmn:startEvent>
      <bpmn:userTask id="assess" name="评估汛情"/><bpmn:endEvent id="end"/>
      {flow("f1", "start", "assess")}{flow("f2", "assess", "end")}"""
    return doc(pid, body, extra='<bpmn:signal id="s_flood" name="flood_warning"/>')
