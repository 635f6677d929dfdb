"""Model scripts run with the safe environment: useful code works, attacks do not run."""
from __future__ import annotations

import json
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

# The project is not installed into the venv and setup.cfg sets no pytest pythonpath.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workflows import scripting, spiff_patches  # noqa: E402
from workflows.scripting import (  # noqa: E402
    SAFE_FUNCTIONS,
    ResourceLimitError,
    SafeEnvironment,
    UnsafeScriptError,
    check_expression,
    check_script,
    make_script_engine,
)


@pytest.fixture
def env():
    return SafeEnvironment()


# --- ordinary model code keeps working ---------------------------------------------------

@pytest.mark.parametrize("expression, expected", [
    ("amount * 2 + 1", 201),
    ("amount / 4 - 5 % 3", 23.0),
    ("2 ** 10", 1024),
    ("amount >= 100 and not urgent", True),
    ("0 < amount <= 100", True),
    ("urgent or tags[0] == 'safety'", True),
    ("'high' if amount > 50 else 'low'", "high"),
    ("order['lines'][1]['qty']", 5),
    ("order.get('missing', 'n/a')", "n/a"),
    ("len(tags) + sum([1, 2, 3])", 8),
    ("sorted(tags, reverse=True)", ["safety", "fire"]),
    ("[line['qty'] * 2 for line in order['lines'] if line['qty'] > 1]", [4, 10]),
    ("{k: v for k, v in order['meta'].items()}", {"site": "A1"}),
    ("'fire' in tags", True),
    ("tags[0].upper() + '-' + str(amount)", "SAFETY-100"),
    ("max(range(5)) + min(3, 4) + abs(-1) + round(2.6) + int('7')", 18),
    ("list(zip([1, 2], ['a', 'b']))", [(1, "a"), (2, "b")]),
    ("any(x > 3 for x in [1, 5]) and all([True, 1])", True),
])
def test_expressions_evaluate_against_task_data(env, expression, expected):
    data = {"amount": 100, "urgent": False, "tags": ["safety", "fire"],
            "order": {"lines": [{"qty": 2}, {"qty": 5}, {"qty": 1}], "meta": {"site": "A1"}}}
    assert check_expression(expression) == []
    assert env.evaluate(expression, data) == expected


def test_script_with_loops_branches_and_assignments(env):
    script = (
        "total = 0\n"
        "late = []\n"
        "for item in items:\n"
        "    if item['days'] > 3:\n"
        "        late.append(item['id'])\n"
        "    elif item['days'] == 3:\n"
        "        pass\n"
        "    total += item['days']\n"
        "summary = {'late': late, 'count': len(items)}\n"
        "summary['total'] = total\n"
        "summary['total'] *= 2\n"
        "first, second = items[0]['id'], items[1]['id']\n"
    )
    data = {"items": [{"id": "a", "days": 5}, {"id": "b", "days": 3}, {"id": "c", "days": 1}]}
    assert check_script(script) == []
    env.execute(script, data)
    assert data["summary"] == {"late": ["a"], "count": 3, "total": 18}
    assert (data["first"], data["second"], data["total"]) == ("a", "b", 9)


def test_external_context_is_readable_but_not_copied_into_task_data(env):
    data = {"x": 1}
    env.execute("y = x + threshold", data, {"threshold": 10})
    assert data == {"x": 1, "y": 11}
    assert env.evaluate("x < threshold", {"x": 1}, {"threshold": 10}) is True


def test_script_result_is_plain_data_without_helpers(env):
    data = {"items": [3, 1, 2]}
    env.execute("ordered = sorted(items)\nhow_many = len\ngen = (i for i in items)", data)
    assert data == {"items": [3, 1, 2], "ordered": [1, 2, 3]}
    assert not set(data) & (set(SAFE_FUNCTIONS) | {"__builtins__"})
    assert json.loads(json.dumps(data)) == data


def test_failing_script_leaves_task_data_untouched(env):
    data = {"items": [1]}
    with pytest.raises(NameError):
        env.execute("items.append(2)\ncount = 1\nboom = not_defined", data)
    assert data == {"items": [1]}


def test_expressions_cannot_mutate_task_data(env):
    assert check_expression("items.append(1)") == ["line 1: attribute '.append' not allowed"]
    with pytest.raises(UnsafeScriptError):
        env.evaluate("items.append(1)", {"items": []})
    assert check_script("items.append(1)") == []


def test_shallow_copy_hazard_script_cannot_mutate_shared_nested_data(env):
    shared = {"items": ["start"], "owner": {"name": "li"}}
    branch_a, branch_b = {"order": shared}, {"order": shared}  # what Spiff hands parallel branches
    env.execute("order['items'].append('a')\norder['owner']['name'] = 'wang'", branch_a)
    assert branch_a["order"] == {"items": ["start", "a"], "owner": {"name": "wang"}}
    assert branch_b["order"] == {"items": ["start"], "owner": {"name": "li"}}
    assert shared == {"items": ["start"], "owner": {"name": "li"}}


# --- dates -----------------------------------------------------------------------------

@pytest.fixture
def foreign_server_zone(monkeypatch):
    """Make the process' local zone New York, to prove it never leaks into the helpers."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("expression, expected", [
    ("days_after('2024-02-28T09:30:00+08:00', 2)", "2024-03-01T09:30:00+08:00"),
    ("days_before('2024-03-01T23:30:00-05:00', 1)", "2024-02-29T23:30:00-05:00"),
    ("days_after('2024-12-31T16:00:00Z', 1)", "2025-01-01T16:00:00+00:00"),
    ("days_after('2024-03-01T09:00:00', 1)", "2024-03-02T09:00:00+08:00"),  # naive = Shanghai
    ("days_before('2024-03-01', 1)", "2024-02-29T00:00:00+08:00"),
    ("days_after(due, n)", "2024-07-11T18:00:00+08:00"),
])
def test_date_helpers_keep_offset_and_read_naive_times_as_shanghai(foreign_server_zone, env,
                                                                   expression, expected):
    assert datetime(2024, 1, 1).astimezone().utcoffset() == timedelta(hours=-5)
    assert env.evaluate(expression, {"due": "2024-07-01T18:00:00", "n": 10}) == expected


def test_date_helpers_reject_bad_arguments(env):
    with pytest.raises(TypeError):
        env.evaluate("days_after('2024-03-01', '2')", {})
    with pytest.raises(ValueError):
        env.evaluate("days_after('next tuesday', 2)", {})


def test_now_uses_the_injected_clock_and_reports_utc(foreign_server_zone):
    shanghai_morning = datetime(2024, 5, 6, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    env = SafeEnvironment(clock=lambda: shanghai_morning)
    assert env.evaluate("now()", {}) == "2024-05-06T00:00:00+00:00"
    assert env.evaluate("days_after(now(), 1)", {}) == "2024-05-07T00:00:00+00:00"
    assert SafeEnvironment().evaluate("now()", {}).endswith("+00:00")


# --- attacks ---------------------------------------------------------------------------

ATTACK_EXPRESSIONS = [
    "__import__('os').system('id')",
    "().__class__.__mro__[1].__subclasses__()",
    "open('/etc/passwd').read()",
    "eval('1+1')",
    "exec('x=1')",
    "(lambda: 1)()",
    "getattr(1, '__class__')",
    "[c for c in ().__class__.__bases__[0].__subclasses__()]",
    "str.__dict__",
    "'{0.__class__}'.format(1)",
    "'{0.__class__}'.format_map({})",
    "f'{().__class__}'",
    "type(1)",
    "globals()",
    "len.__self__",
    "x._private",
]
ATTACK_SCRIPTS = [
    "import os",
    "from os import system",
    "while True: pass",
    "x = [1]; x.__class__",
    "def f(): pass",
    "class A: pass",
    "try:\n    pass\nexcept Exception:\n    pass",
    "with x: pass",
    "del x",
    "global y",
    "raise ValueError()",
    "x = [1]\nx.__class__ = dict",
    "len = __builtins__",
]


@pytest.mark.parametrize("attack", ATTACK_EXPRESSIONS)
def test_attack_expressions_are_rejected_and_do_not_run(env, attack):
    assert check_expression(attack)
    assert check_script(attack)
    with pytest.raises(UnsafeScriptError):
        env.evaluate(attack, {"x": [1]})
    data = {"x": [1]}
    with pytest.raises(UnsafeScriptError):
        env.execute(attack, data)
    assert data == {"x": [1]}


@pytest.mark.parametrize("attack", ATTACK_SCRIPTS)
def test_attack_scripts_are_rejected_and_do_not_run(env, attack):
    assert check_script(attack)
    data = {"x": [1]}
    with pytest.raises(UnsafeScriptError):
        env.execute(attack, data)
    assert data == {"x": [1]}


def test_problems_are_readable():
    assert check_expression("__import__('os').system('id')") == [
        "line 1: attribute '.system' not allowed", "line 1: name '__import__' not allowed"]
    assert check_script("x = 1\nwhile x: pass") == ["line 2: while loop not allowed"]
    assert check_script("import os") == ["line 1: import not allowed"]
    assert check_expression("1 +") == ["syntax error on line 1: invalid syntax"]
    assert check_expression("x = 1")[0].startswith("syntax error")
    assert check_expression("print(1)") == ["line 1: name 'print' not allowed"]
    assert check_expression("notify(1)") == ["line 1: calling 'notify' not allowed"]
    assert check_expression("notify(1)", functions=["notify"]) == []


def test_oversized_source_is_rejected(env):
    assert check_expression("'" + "a" * 20_001 + "'") == ["source is longer than 20000 characters"]
    with pytest.raises(UnsafeScriptError):
        env.execute("x = 1\n" * 5000, {})


def marker_payloads(marker):
    """Payloads that create `marker` when run by plain exec (proven by the control test)."""
    p = repr(str(marker))
    return [
        f"__import__('pathlib').Path({p}).touch()",
        f"open({p}, 'w').close()",
        f"eval(\"open({p}, 'w').close()\")",
        f"exec(\"open({p}, 'w').close()\")",
        f"import pathlib\npathlib.Path({p}).touch()",
        f"from pathlib import Path\nPath({p}).touch()",
        f"(lambda: open({p}, 'w').close())()",
        f"getattr(__builtins__, 'get')('open')({p}, 'w').close()",
        f"f\"{{open({p}, 'w').close()}}\"",
        "[c for c in ().__class__.__mro__[1].__subclasses__() if c.__name__ == '_wrap_close'][0]"
        f".__init__.__globals__['__builtins__']['open']({p}, 'w').close()",
    ]


@pytest.mark.parametrize("index", range(len(marker_payloads("m"))))
def test_marker_payloads_are_live_under_plain_exec(tmp_path, index):
    marker = tmp_path / "pwned"
    exec(marker_payloads(marker)[index], {})  # control: the payload really works unsandboxed
    assert marker.exists()


@pytest.mark.parametrize("index", range(len(marker_payloads("m"))))
def test_marker_payloads_do_not_run_in_safe_environment(tmp_path, env, index):
    marker = tmp_path / "pwned"
    payload = marker_payloads(marker)[index]
    assert check_script(payload)
    with pytest.raises(UnsafeScriptError):
        env.execute(payload, {})
    if "\n" not in payload:
        with pytest.raises(UnsafeScriptError):
            env.evaluate(payload, {})
    assert not marker.exists()


@pytest.mark.parametrize("attack", [
    "'a' * 10**10",
    "9**9**9",
    "10 ** 10 ** 10",
    "[0] * 10**7",
    "1 << 10**9",
    "range(10**9)",
    "range(10**30)",
    "'%0999999999d' % 1",
    "[1 for a in range(100000) for b in range(100000)]",
])
def test_resource_attacks_fail_fast(env, attack):
    started = time.perf_counter()
    with pytest.raises(UnsafeScriptError):
        env.evaluate(attack, {})
    assert time.perf_counter() - started < 5  # bounded, not hours; timings live in bench/


@pytest.mark.parametrize("attack", [
    "s = 'ab'\nfor i in range(100):\n    s = s + s",
    "s = 'ab'\nfor i in range(100):\n    s *= 2",
    "x = [1]\nfor i in range(100):\n    x += x",
    "x = 2\nfor i in range(100):\n    x = x * x",
    "for i in range(100000):\n    for j in range(100000):\n        pass",
])
def test_resource_attacks_in_loops_fail_fast(env, attack):
    started = time.perf_counter()
    with pytest.raises(ResourceLimitError):
        env.execute(attack, {})
    assert time.perf_counter() - started < 5  # bounded, not hours; timings live in bench/


@pytest.mark.parametrize("attack", [
    "x = ['a' * 10**6 for i in range(100)]",
    "x = [[0] * 10**6 for i in range(100)]",
    "x = [list(range(100000)) for i in range(200)]",
    "x = [2 ** 99000 for i in range(100000)]",
])
def test_many_legal_allocations_hit_the_per_evaluation_budget(env, attack):
    started = time.perf_counter()
    with pytest.raises(ResourceLimitError):
        env.execute(attack, {})
    assert time.perf_counter() - started < 5  # bounded, not hours; timings live in bench/


def test_ordinary_large_loops_stay_within_budget(env):
    data = {}
    env.execute("a = []\nb = []\nfor i in range(100000):\n    a.append(i)\n    b += [i]", data)
    assert len(data["a"]) == len(data["b"]) == 100_000
    env.execute("s = ''\nfor i in range(1000):\n    s = s + 'x'", data)
    assert data["s"] == "x" * 1000


def test_numbers_within_limits_still_work(env):
    assert env.evaluate("2 ** 64 * 3 + (1 << 10)", {}) == 3 * 2**64 + 1024
    assert env.evaluate("len('ab' * 1000) + len([0] * 1000)", {}) == 3000
    assert env.evaluate("17 % 5", {}) == 2
    with pytest.raises(TypeError):
        env.evaluate("sum([[1], [2]], [])", {})


# --- SpiffWorkflow integration ------------------------------------------------------------

def bpmn(process_body, process_id="proc"):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="defs" targetNamespace="http://example.com/rectiflow">
  <bpmn:process id="{process_id}" isExecutable="true">{process_body}</bpmn:process>
</bpmn:definitions>""".encode()


def single_script_bpmn(script):
    escaped = script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return bpmn(f"""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:scriptTask id="script"><bpmn:script>{escaped}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="end"/>
    <bpmn:endEvent id="end"/>""")


PARALLEL_BPMN = bpmn("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="branch_a"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="branch_b"/>
    <bpmn:scriptTask id="branch_a"><bpmn:script>order['items'].append('a')
order['owner']['name'] = 'wang'
seen_a = list(order['items'])</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="branch_b"><bpmn:script>order['items'].append('b')
seen_b = list(order['items'])
owner_b = order['owner']['name']</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="branch_a" targetRef="join"/>
    <bpmn:sequenceFlow id="f4" sourceRef="branch_b" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="end"/>
    <bpmn:endEvent id="end"/>""")


def start_workflow(xml, engine, **start_data):
    parser = CamundaParser()
    parser.add_bpmn_str(xml)
    workflow = BpmnWorkflow(parser.get_spec("proc"), script_engine=engine)
    workflow.get_tasks(state=TaskState.READY)[0].set_data(**start_data)
    return workflow


def task_data(workflow, name):
    [task] = [t for t in workflow.get_tasks() if t.task_spec.name == name]
    return task.data


def test_workflow_script_task_computes_with_safe_engine():
    workflow = start_workflow(single_script_bpmn("due = days_after(start, 3)\nbig = amount > 10"),
                              make_script_engine(), start="2024-03-01T09:00:00", amount=12)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert task_data(workflow, "end")["due"] == "2024-03-04T09:00:00+08:00"
    assert task_data(workflow, "end")["big"] is True


def test_workflow_attack_script_is_not_run_by_default_engine_control(tmp_path):
    marker = tmp_path / "pwned"
    workflow = start_workflow(single_script_bpmn(marker_payloads(marker)[0]), PythonScriptEngine())
    workflow.do_engine_steps()
    assert marker.exists()  # SpiffWorkflow's stock engine really runs uploaded Python


@pytest.mark.parametrize("index", range(len(marker_payloads("m"))))
def test_workflow_attack_script_fails_and_does_not_run(tmp_path, index):
    marker = tmp_path / "pwned"
    workflow = start_workflow(single_script_bpmn(marker_payloads(marker)[index]), make_script_engine())
    with pytest.raises(WorkflowTaskException) as raised:
        workflow.do_engine_steps()
    assert "not allowed" in str(raised.value)
    assert not marker.exists()
    assert not workflow.is_completed()
    assert [t.task_spec.name for t in workflow.get_tasks(state=TaskState.ERROR)] == ["script"]


def test_workflow_runtime_error_with_non_string_argument_is_a_task_error():
    # Stock 3.2 turns KeyError(1) into a TypeError while formatting the message.
    workflow = start_workflow(single_script_bpmn("x = table[1]"), make_script_engine(), table={})
    with pytest.raises(WorkflowTaskException, match="KeyError"):
        workflow.do_engine_steps()


def run_parallel(engine):
    workflow = start_workflow(PARALLEL_BPMN, engine, order={"items": ["start"], "owner": {"name": "li"}})
    workflow.do_engine_steps()
    assert workflow.is_completed()
    return workflow


def test_parallel_branches_do_not_leak_nested_mutations_into_each_other():
    workflow = run_parallel(make_script_engine())
    branch_a, branch_b = task_data(workflow, "branch_a"), task_data(workflow, "branch_b")
    # What each branch saw while it ran: only its own change.
    assert branch_a["seen_a"] == ["start", "a"]
    assert branch_b["seen_b"] == ["start", "b"]
    assert branch_b["owner_b"] == "li"
    assert branch_a["order"] == {"items": ["start", "a"], "owner": {"name": "wang"}}
    assert branch_b["order"]["items"] == ["start", "b"]
    end = task_data(workflow, "end")
    assert end["seen_a"] == ["start", "a"] and end["seen_b"] == ["start", "b"] and end["owner_b"] == "li"
    # The data the branches started from is intact.
    for name in ("start", "fork"):
        assert task_data(workflow, name)["order"] == {"items": ["start"], "owner": {"name": "li"}}


def test_join_merge_does_not_rewrite_a_finished_branchs_data():
    # The join inherits one branch's data and merges the other into it; with SpiffWorkflow's
    # one-level copy that merge wrote into the dict the finished branch still held.
    spiff_patches.apply()  # as every Engine does when it is made, whichever test made one first
    workflow = run_parallel(make_script_engine())
    assert task_data(workflow, "branch_b")["order"]["owner"] == {"name": "li"}


def test_the_deep_merge_patch_is_what_stops_the_leak(monkeypatch):
    import copy

    from SpiffWorkflow.util import deep_merge

    monkeypatch.setattr(deep_merge, "copy", copy.copy)  # SpiffWorkflow 3.2 as shipped
    seen = task_data(run_parallel(PythonScriptEngine()), "end")
    assert "a" in seen["seen_b"] or "b" in seen["seen_a"]  # one branch saw the other's append
    monkeypatch.setattr(deep_merge, "copy", copy.deepcopy)  # as workflows.spiff_patches sets it
    seen = task_data(run_parallel(PythonScriptEngine()), "end")
    assert seen["seen_a"] == ["start", "a"] and seen["seen_b"] == ["start", "b"]


@pytest.mark.parametrize("attack", [
    "x = [[0] * 10**6] * 30",                  # one row, aliased thirty times: stored as thirty
    "x = len(str([[0] * 10**5] * 30))",        # a call's result is paid for too
    "x = sorted(list(range(90000)) * 100)",
])
def test_aliased_and_converted_values_are_counted_in_full(env, attack):
    with pytest.raises(ResourceLimitError):
        env.execute(attack, {})


def test_lookups_on_existing_data_cost_nothing(env):
    context = {"items": [{"a": list(range(50000))}]}
    env.execute("n = 0\nfor i in range(500):\n    n = n + len(items[0].get('a'))", context)
    assert context["n"] == 500 * 50000


# --- CPU, memory and storable data ---------------------------------------------------------

BIG = "x = list(range(100000)) * 10\ny = list(x)\ns = 'ab' * 500000\n"


@pytest.mark.parametrize("work", [
    "max(x)", "min(x)", "sum(x)", "sorted(x)", "any(y)", "all(x)", "5 in x", "x == y", "x < y", "x.count(5)",
    "x.index(999999)", "len([*x])", "len(x[:])", "list(x)", "dict(zip(x, y))", "len(str(x))",
    "s.upper()", "s.split('a')", "'zz' in s", "len([v for v in x])", "sorted(x, key=str)",
])
def test_builtins_over_a_million_items_are_charged_per_item(env, work):
    started = time.perf_counter()
    with pytest.raises(ResourceLimitError):
        env.execute(BIG + f"for i in range(1000):\n    r = {work}", {})
    assert time.perf_counter() - started < 1


def test_a_script_stops_at_its_wall_clock_budget(env, monkeypatch):
    monkeypatch.setattr(scripting, "MAX_SECONDS", 0.05)
    started = time.perf_counter()
    with pytest.raises(scripting.ScriptTooSlow, match="longer than 0.05 s"):
        env.execute("for i in range(9):\n    for j in range(100000):\n        pass", {})
    assert time.perf_counter() - started < 0.5


def test_scripts_inside_one_account_share_its_time(env, monkeypatch):
    with scripting.script_account(seconds=0.05):
        with pytest.raises(scripting.ScriptTooSlow, match="0.05 s in all"):
            for _ in range(100):
                env.execute("for j in range(20000):\n    pass", {})


@pytest.mark.parametrize("attack", [
    "rows = []\nfor i in range(100000):\n    rows.append(str(i) * 500)",
    "x = list(range(100000))\nrows = []\nfor i in range(1000):\n    rows.append(x[:])",
    "x = [0] * 1000000\ny = [*x, *x, *x, *x, *x, *x, *x, *x, *x, *x]",
    "d = {}\nfor i in range(100000):\n    d[str(i)] = 'x' * 1000",
    "x = [[0] * 1000 for i in range(10000)]",
    "s = 'x' * 1000\nx = [s + str(i) for i in range(100000)]",
    "base = {'a': 'x' * 500}\nrows = []\nfor i in range(100000):\n    rows.append({**base, 'b': 'y' * 500})",
    "d = {}\nfor i in range(100000):\n    d.update({str(i): [0] * 500})",
])
def test_data_grown_in_a_script_fails_before_50_mb(env, attack):
    tracemalloc.start()
    try:
        with pytest.raises(ResourceLimitError):
            env.execute(attack, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"{peak / 1e6:.0f} MB"


@pytest.mark.parametrize("script, problem", [
    ("a = []\na.append(a)", "'a' containing itself"),
    ("a = {}\na['me'] = a", "'a' containing itself"),
    ("a = [1]\nb = {'x': [a]}\na.append(b)", "containing itself"),
    ("x = []\nfor i in range(1000):\n    x = [x]", "nested more than 100 levels"),
    ("x = b'ab'", "holding a bytes"),
    ("x = range(3)", "holding a range"),
    ("x = zip([1], [2])", "holding a zip"),
    ("x = {'a': 1}.keys()", "holding a dict_keys"),
    ("x = {(1, 2): 3}", "a tuple as a key"),
])
def test_data_a_script_cannot_store_is_refused_when_it_ends(env, script, problem):
    data = {"kept": [1]}
    with pytest.raises(scripting.ScriptDataError, match=problem):
        env.execute(script, data)
    assert data == {"kept": [1]}


def test_shared_values_sets_and_tuples_are_still_stored(env):
    data: dict = {}
    env.execute("y = [1]\nx = [y, y]\nz = {1, 2}\nt = (1, 2)\nk = {1: 'a', 'b': None}", data)
    assert data["x"] == [[1], [1]] and data["t"] == (1, 2)


def test_ordinary_work_on_a_few_thousand_items_stays_within_budget(env):
    data = {"items": [{"id": i, "days": i % 7, "name": "单位" + str(i)} for i in range(5000)]}
    env.execute(
        "late = [i['id'] for i in items if i['days'] > 3]\n"
        "by_days = sorted(items, key=len)[:10]\n"
        "names = {}\n"
        "for i in items:\n"
        "    names[i['name']] = i['days']\n"
        "    if i['id'] in late[:5] or i['name'] == '单位1':\n"
        "        names[i['name']] += 100\n"
        "total = sum([i['days'] for i in items]) + max(names.values())\n"
        "text = str(late[:100]).upper().split(',')\n", data)
    assert len(data["late"]) == len([i for i in range(5000) if i % 7 > 3])
    assert data["names"]["单位1"] == 101
