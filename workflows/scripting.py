"""Sandboxed scripts and expressions for uploaded BPMN/DMN models.

SpiffWorkflow's default environment hands every scriptTask, gateway condition and DMN
cell to plain ``eval``/``exec`` with full builtins, so uploading a model would be the
same as uploading Python. Here every source is first checked against an AST allow-list:
no imports, no names or attributes starting with ``_`` (the road to
``().__class__.__subclasses__()``), no introspection builtins, and no calls except to
named helpers and a few harmless str/list/dict methods.

The tree is then rewritten so the operators that can allocate without bound
(``+ * ** << %``), ``range()`` and every loop go through checked helpers, which cap each
result and charge a per-evaluation budget: a model author should get a clear error, not a
worker stuck building ``'a' * 10**10``. This is defence in depth, not an OS sandbox --
copying existing data (``list(x)``, ``sorted(x)``) is not metered, and a script can spend
a second or so of CPU inside the budgets -- so workers should also run under process limits.
"""
from __future__ import annotations

import ast
import copy
import functools
import operator
import types
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import datacopy

MAX_SOURCE_CHARS = 20_000   # therefore also the longest possible string literal
MAX_ITEMS = 1_000_000       # longest str/bytes/list/tuple that + or * may build
MAX_INT_BITS = 100_000      # ~30k decimal digits
MAX_RANGE = 100_000
MAX_ITERATIONS = 1_000_000  # per evaluation, summed over all loops and comprehensions
MAX_BUILT = 10_000_000      # per evaluation: items built by + * and range(), ints in 64-bit words

FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "open", "compile", "getattr", "setattr", "delattr", "hasattr", "globals",
    "locals", "vars", "type", "__import__", "breakpoint", "input", "help", "dir", "memoryview",
    "object", "super", "print", "exit", "quit",
})
# Expressions (conditions, DMN cells) run on live task data, so they only get methods that
# cannot change it; scripts run on a private copy and may also mutate.
PURE_METHODS = frozenset({"get", "keys", "values", "items", "copy", "count", "index", "split",
                          "strip", "lstrip", "rstrip", "lower", "upper", "startswith", "endswith"})
MUTATING_METHODS = frozenset({"append", "insert", "pop", "remove", "update", "setdefault"})

_EXPR_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.expr_context, ast.BinOp, ast.UnaryOp,
    ast.BoolOp, ast.Compare, ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.IfExp,
    ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred, ast.ListComp,
    ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.Call, ast.keyword,
    ast.Attribute,
)
_STMT_NODES = (ast.Module, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.Pass, ast.Break,
               ast.Continue, ast.Expr)
_NODE_NAMES = {
    ast.Import: "import", ast.ImportFrom: "import", ast.Lambda: "lambda", ast.While: "while loop",
    ast.FunctionDef: "def", ast.AsyncFunctionDef: "def", ast.ClassDef: "class", ast.Try: "try",
    ast.JoinedStr: "f-string (use str() and +)", ast.NamedExpr: "walrus operator", ast.With: "with",
    ast.Delete: "del", ast.Raise: "raise", ast.Global: "global", ast.Nonlocal: "nonlocal",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Await: "await", ast.Return: "return",
}


class UnsafeScriptError(ValueError):
    """A script or expression was refused; the message is meant for the model author."""


class ResourceLimitError(UnsafeScriptError):
    """A script tried to build (or loop over) something beyond the limits above."""


# --- runtime guards, reachable from scripts only through the rewritten tree ---------------

_OPERATORS = {"+": (operator.add, operator.iadd), "*": (operator.mul, operator.imul),
              "**": (operator.pow, operator.ipow), "<<": (operator.lshift, operator.ilshift),
              "%": (operator.mod, operator.imod)}


def _length(x):
    return len(x) if isinstance(x, (str, bytes, list, tuple)) else None


def _size(x):
    return x.bit_length() // 64 if isinstance(x, int) else _length(x) or 0


_NESTED = (str, bytes, list, tuple, dict, set, frozenset)


def _deep_size(x, limit):
    """Items x holds, nested containers and string lengths included; stops once past `limit`,
    so measuring a runaway value costs no more than the budget it is measured against."""
    total, pending = 0, [x]
    while pending and total <= limit:
        item = pending.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
            continue
        if not isinstance(item, (list, tuple, dict, set, frozenset)):
            total += _size(item) if isinstance(item, int) else 0
            continue
        total += len(item)  # each element counts once; only nested ones are opened
        children: list | tuple
        if isinstance(item, dict):
            children = list(item.values())
        else:
            children = item if isinstance(item, (list, tuple)) else list(item)
        # A long list is opened only when its ends hold containers: scanning a million plain
        # numbers element by element would cost more than building them did.
        if total <= limit and (len(children) <= 10_000 or isinstance(children[0], _NESTED)
                               or isinstance(children[-1], _NESTED)):
            pending.extend(c for c in children if isinstance(c, _NESTED) and len(c) > 1)
    return total


def _checked_op(sym, a, b, inplace=False):
    ints = isinstance(a, int) and isinstance(b, int)
    if sym == "**":
        too_big = ints and b > 0 and abs(a) > 1 and b * a.bit_length() > MAX_INT_BITS
    elif sym == "<<":
        too_big = ints and a != 0 and b + a.bit_length() > MAX_INT_BITS
    elif sym == "*":
        seq, n = (a, b) if _length(a) is not None else (b, a)
        if _length(seq) is not None and isinstance(n, int):
            too_big = _length(seq) * n > MAX_ITEMS
        else:
            too_big = ints and a.bit_length() + b.bit_length() > MAX_INT_BITS
    elif sym == "+":
        too_big = None not in (_length(a), _length(b)) and _length(a) + _length(b) > MAX_ITEMS
    elif isinstance(a, (str, bytes)):  # '%0999999999d' % 1 allocates a gigabyte
        raise UnsafeScriptError("%-formatting of strings is not allowed; use str() and +")
    else:
        too_big = False
    if too_big:
        raise ResourceLimitError(f"the result of '{sym}' would exceed the size limit")
    return _OPERATORS[sym][inplace](a, b)


def _capped_range(*args):
    r = range(*args)
    try:
        if len(r) <= MAX_RANGE:
            return r
    except OverflowError:
        pass
    raise ResourceLimitError(f"range() is limited to {MAX_RANGE} items")


class _Budget:
    """Per-evaluation allowance, so many individually legal steps cannot add up without
    bound -- e.g. ``['a' * 10**6 for i in range(10**5)]``."""

    def __init__(self):
        self.iterations, self.built = MAX_ITERATIONS, MAX_BUILT

    def _spend(self, size):
        self.built -= size
        if self.built < 0:
            raise ResourceLimitError(f"the script built more than {MAX_BUILT} items in total")

    def loop(self, iterable):
        for item in iterable:
            self.iterations -= 1
            if self.iterations < 0:
                raise ResourceLimitError(f"more than {MAX_ITERATIONS} loop iterations")
            yield item

    def op(self, sym, a, b, inplace=False):
        result = _checked_op(sym, a, b, inplace)
        if result is a:  # in-place growth (x += [i]) only pays for the new items, not for x again
            self._spend(_size(result) - _size(a) + _deep_size(b, self.built + 1))
        else:  # [[0] * 10**6] * 30 holds one row thirty times, but is stored (and sent) as thirty
            self._spend(_deep_size(result, self.built + 1))
        return result

    def result(self, value):
        """What a call returned (str(x), list(x), s.split()) costs what it holds."""
        self._spend(_deep_size(value, self.built + 1))
        return value

    def range(self, *args):
        r = _capped_range(*args)
        self._spend(len(r))
        return r


def _numeric_sum(iterable, start=0):
    if not isinstance(start, (int, float)):  # sum(lists, []) is quadratic concatenation
        raise TypeError("sum() only adds numbers")
    return sum(iterable, start)


# --- date helpers ---------------------------------------------------------------------------

def district_zone(name: str = "Asia/Shanghai"):
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # slim images without tzdata: China has kept UTC+8 without DST since 1991
        if name != "Asia/Shanghai":
            raise
        return timezone(timedelta(hours=8), "Asia/Shanghai")


def _make_day_shifts(zone):
    """days_after/days_before for scripts; a time written without an offset is the district's local
    time (the configured zone), never the server's own."""
    def shift(iso, n, sign):
        if not isinstance(iso, str):
            raise TypeError(f"expected an ISO-8601 string, got {type(iso).__name__}")
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError("the number of days must be an integer")
        moment = datetime.fromisoformat(iso)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
        return (moment + timedelta(days=sign * n)).isoformat()

    def days_after(iso: str, n: int) -> str:
        return shift(iso, n, 1)

    def days_before(iso: str, n: int) -> str:
        return shift(iso, n, -1)

    return {"days_after": days_after, "days_before": days_before}


def _make_now(clock):
    def now() -> str:
        current = clock()
        if current.tzinfo is None:  # a naive clock is read as UTC, never as server-local
            current = current.replace(tzinfo=UTC)
        return current.astimezone(UTC).isoformat()
    return now


_utc_clock = functools.partial(datetime.now, UTC)

SAFE_FUNCTIONS = {
    "len": len, "min": min, "max": max, "sum": _numeric_sum, "abs": abs, "round": round,
    "int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict,
    "sorted": sorted, "any": any, "all": all, "range": _capped_range, "enumerate": enumerate,
    "zip": zip, **_make_day_shifts(district_zone()), "now": _make_now(_utc_clock),
}


# --- static check and rewrite ---------------------------------------------------------------

def _problems_in(tree, mode, callables):
    allowed = _EXPR_NODES if mode == "eval" else _EXPR_NODES + _STMT_NODES
    methods = PURE_METHODS if mode == "eval" else PURE_METHODS | MUTATING_METHODS
    found, pending = [], [(tree, False)]
    while pending:
        node, is_callee = pending.pop()
        line = getattr(node, "lineno", 0)
        if not isinstance(node, allowed):
            found.append((line, f"{_NODE_NAMES.get(type(node), type(node).__name__)} not allowed"))
            continue  # one message per construct, not one per child
        if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_NAMES):
            found.append((line, f"name '{node.id}' not allowed"))
        elif isinstance(node, ast.keyword) and (node.arg or "").startswith("_"):
            found.append((line, f"keyword '{node.arg}' not allowed"))
        elif isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr not in methods):
            found.append((line, f"attribute '.{node.attr}' not allowed"))
        elif isinstance(node, ast.Attribute) and not is_callee:
            found.append((line, f"'.{node.attr}' may only be called, not used as a value"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name not in callables and not name.startswith("_") and name not in FORBIDDEN_NAMES:
                found.append((line, f"calling '{name}' not allowed"))
        elif isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute):
            found.append((line, "only named functions and allowed methods may be called"))
        callee = node.func if isinstance(node, ast.Call) else None
        pending.extend((child, child is callee) for child in ast.iter_child_nodes(node))
    return [f"line {line}: {message}" for line, message in sorted(found)]


def _call(name, *args):
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


class _Guard(ast.NodeTransformer):
    _OPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}

    def visit_BinOp(self, node):
        self.generic_visit(node)
        sym = self._OPS.get(type(node.op))
        return node if sym is None else _call("_rf_op", ast.Constant(sym), node.left, node.right)

    def visit_AugAssign(self, node):
        # x[k] *= v becomes x[k] = _rf_op('*', x[k], v, True); evaluating the target twice
        # is harmless in this side-effect-free subset, and iadd keeps list aliasing intact.
        self.generic_visit(node)
        sym = self._OPS.get(type(node.op))
        if sym is None:
            return node
        current = copy.deepcopy(node.target)
        current.ctx = ast.Load()
        value = _call("_rf_op", ast.Constant(sym), current, node.value, ast.Constant(True))
        return ast.Assign(targets=[node.target], value=value)

    # Calls that make a new value the size of their input (str(x), sorted(x), s.split(',')) pay
    # for it; lookups such as d.get(k) return what already exists and cost nothing.
    _BUILDERS = frozenset({"str", "list", "dict", "sorted", "zip", "enumerate", "split", "copy"})

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        return _call("_rf_result", node) if name in self._BUILDERS else node

    def visit_For(self, node):
        self.generic_visit(node)
        node.iter = _call("_rf_loop", node.iter)
        return node

    visit_comprehension = visit_For


@functools.lru_cache(maxsize=2048)
def _compile(source, mode, callables):
    """Return (problems, code); cached because conditions are re-evaluated constantly."""
    if not isinstance(source, str):
        return (f"source must be a string, not {type(source).__name__}",), None
    if len(source) > MAX_SOURCE_CHARS:
        return (f"source is longer than {MAX_SOURCE_CHARS} characters",), None
    try:
        tree = ast.parse(source, mode=mode)
        problems = _problems_in(tree, mode, callables)
        if problems:
            return tuple(problems), None
        tree = ast.fix_missing_locations(_Guard().visit(tree))
        return (), compile(tree, "<string>", mode)  # '<string>' lets Spiff find the error line
    except SyntaxError as err:
        return (f"syntax error on line {err.lineno}: {err.msg}",), None
    except (ValueError, RecursionError, MemoryError) as err:
        return (f"source could not be parsed ({err.__class__.__name__})",), None


def check_expression(source: str, *, functions=()) -> list[str]:
    return list(_compile(source, "eval", frozenset(SAFE_FUNCTIONS) | frozenset(functions))[0])


def check_script(source: str, *, functions=()) -> list[str]:
    return list(_compile(source, "exec", frozenset(SAFE_FUNCTIONS) | frozenset(functions))[0])


# --- SpiffWorkflow integration --------------------------------------------------------------

_HELPER_NAMES = frozenset({"__builtins__", "_rf_op", "_rf_loop", "_rf_result"})


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, clock=None, functions=None, zone=None):
        super().__init__({**SAFE_FUNCTIONS, "now": _make_now(clock or _utc_clock),
                          **_make_day_shifts(zone or district_zone()), **(functions or {})})
        self._callables = frozenset(self.globals)

    def _code(self, source, mode):
        problems, code = _compile(source, mode, self._callables)
        if problems:
            raise UnsafeScriptError("; ".join(problems))
        return code

    def _namespace(self, context, external_context):
        budget = _Budget()
        # Task data may shadow a helper function (as in plain Python) but never the guards.
        return {**self.globals, "range": budget.range, **(external_context or {}), **context,
                "__builtins__": {}, "_rf_op": budget.op, "_rf_loop": budget.loop, "_rf_result": budget.result}

    def evaluate(self, expression, context, external_context=None):
        # No copy needed: the expression subset can neither assign nor call mutating methods.
        return eval(self._code(expression, "eval"), self._namespace(context, external_context))

    def execute(self, script, context, external_context=None):
        code = self._code(script, "exec")
        # Spiff 3.2 gives each branch only a shallow copy of its parent's data, so nested
        # dicts/lists are shared with sibling branches. Run on a deep copy and swap the result
        # in, so a script never mutates shared objects (and a failing script changes nothing).
        memo: dict = {}  # one copy of both, as a deep copy of the pair makes it
        data = datacopy.deepcopy(context, memo)
        external = datacopy.deepcopy(external_context or {}, memo)
        namespace = self._namespace(data, external)
        exec(code, namespace)
        result = {
            key: value for key, value in namespace.items()
            if key not in _HELPER_NAMES and not (key in external and key not in context)
            and not callable(value) and not isinstance(value, types.GeneratorType)
        }
        context.clear()
        context.update(result)
        return True

    def call_service(self, context, **kwargs):
        raise NotImplementedError("service tasks are not supported by the rectiflow script environment")


class SafeScriptEngine(PythonScriptEngine):
    """Works around two error-path bugs in SpiffWorkflow 3.2's PythonScriptEngine."""

    def call_service(self, task, **kwargs):
        # 3.2 refers to an undefined name here, turning every service error into a NameError.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(f"{err.__class__.__name__}: {err}", task=task, exception=err) from err

    def create_task_exec_exception(self, task, script, err):
        # 3.2 computes `name + ":" + err.args[0]`, so e.g. KeyError(1) escapes as a TypeError.
        if isinstance(err, SpiffWorkflowException) or not err.args or isinstance(err.args[0], str):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(f"{err.__class__.__name__}:{err.args[0]!r}", task=task,
                                     exception=err, line_number=line_number, error_line=error_line)


def make_script_engine(clock=None, zone=None) -> PythonScriptEngine:
    return SafeScriptEngine(environment=SafeEnvironment(clock, zone=zone))
