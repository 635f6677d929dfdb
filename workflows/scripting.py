"""Sandboxed scripts and expressions for uploaded BPMN/DMN models.

SpiffWorkflow's default environment hands every scriptTask, gateway condition and DMN
cell to plain ``eval``/``exec`` with full builtins, so uploading a model would be the
same as uploading Python. Here every source is first checked against an AST allow-list:
no imports, no names or attributes starting with ``_`` (the road to
``().__class__.__subclasses__()``), no introspection builtins, and no calls except to
named helpers and a few harmless str/list/dict methods.

The tree is then rewritten so everything whose cost grows with the data goes through checked
helpers: operators, calls (builtins and methods, charged for the items they go through and the
values they build), comparisons, slices, spreads (``*x``, ``**d``), displays and comprehensions,
and every loop. Each evaluation has three budgets: items handled (loop iterations plus items
that builtins go through), items built (a rough count of 8-byte words allocated), and time (the
evaluating thread's CPU time, looked at every few hundred items). All evaluations of one engine
call (and of the calls it sets off, such as publication starting a case per unit) also share a
time account and a data account, see `script_account`. At the end of a script its data must be storable: no cycles, no deeper than
`MAX_DEPTH` levels, only JSON-like values, at most `MAX_DATA` items. A model author gets a clear,
coded error (`ResourceLimitError.code`), not a worker stuck building ``'a' * 10**10``. This is
defence in depth, not an OS sandbox, so workers should also run under process limits.
"""
from __future__ import annotations

import ast
import copy
import functools
import operator
import time
import types
import uuid
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import datacopy
from .refusals import Refusal

MAX_SOURCE_CHARS = 20_000   # therefore also the longest possible string literal
MAX_ITEMS = 1_000_000       # longest str/bytes/list/tuple that + or * may build
MAX_INT_BITS = 100_000      # ~30k decimal digits
MAX_RANGE = 100_000
MAX_ITERATIONS = 1_000_000  # per evaluation: loop iterations plus items that builtins, comparisons, slices go through
MAX_BUILT = 4_000_000       # per evaluation: items built (~8-byte words: a list item, a char, an int's 64 bits)
# Time is the evaluating thread's CPU time: what the script itself spent, whatever else the server (or the
# machine) is doing meanwhile, so a busy worker does not fail ordinary scripts.
MAX_SECONDS = 1.0           # per evaluation; far below the engine's 5 s per call
MAX_DATA = 500_000          # items (and characters) a script may leave in task data
MAX_DEPTH = 100             # nesting levels of task data a script may leave
CALL_SECONDS = 2.0          # script time per engine call, with the calls it sets off (`script_account`)
CALL_DATA = 5 * MAX_DATA    # data left by all scripts of one engine call: every task keeps a copy
CONTAINER_COST = 8          # what a new list/dict/str costs besides its items (its header)

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
# The same constructs as Python spells them, for a refusal worded in another language.
_NODE_SYNTAX = {
    ast.Import: "import", ast.ImportFrom: "from … import", ast.Lambda: "lambda", ast.While: "while",
    ast.FunctionDef: "def", ast.AsyncFunctionDef: "async def", ast.ClassDef: "class", ast.Try: "try",
    ast.JoinedStr: "f\"…\"", ast.NamedExpr: ":=", ast.With: "with", ast.Delete: "del", ast.Raise: "raise",
    ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Yield: "yield", ast.YieldFrom: "yield from",
    ast.Await: "await", ast.Return: "return",
}


class UnsafeScriptError(ValueError):
    """A script or expression was refused; the message is meant for the model author."""

    code = "workflow_failed"


class ResourceLimitError(UnsafeScriptError):
    """A script tried to build something beyond the limits above."""

    code = "script_too_large"


class ScriptTooSlow(ResourceLimitError):
    """A script went through more items, or ran longer, than its budget allows."""

    code = "script_too_slow"


class ScriptDataError(UnsafeScriptError):
    """A script left data that cannot be stored: a cycle, too deep, or not JSON-like."""

    code = "script_data_invalid"


# --- runtime guards, reachable from scripts only through the rewritten tree ---------------

_OPERATORS = {"+": (operator.add, operator.iadd), "*": (operator.mul, operator.imul),
              "**": (operator.pow, operator.ipow), "<<": (operator.lshift, operator.ilshift),
              "%": (operator.mod, operator.imod), "-": (operator.sub, operator.isub),
              "|": (operator.or_, operator.ior), "&": (operator.and_, operator.iand),
              "^": (operator.xor, operator.ixor)}


def _length(x):
    return len(x) if isinstance(x, (str, bytes, list, tuple)) else None


def _size(x):
    return x.bit_length() // 64 if isinstance(x, int) else _length(x) or 0


_NESTED = (str, bytes, list, tuple, dict, set, frozenset)
_NESTED_TYPES = frozenset(_NESTED)


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
                               or isinstance(children[-1], _NESTED)) \
                and not _NESTED_TYPES.isdisjoint(map(type, children)):  # a flat list is not walked item by item
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


_SCALARS = frozenset({int, float, bool, type(None)})
_VIEWS = (KeysView, ValuesView, ItemsView)


def _weight(x, limit):
    """The items an operation on x goes through: its deep size (aliases in full), stopping past limit."""
    cls = type(x)
    if cls in _SCALARS:
        return x.bit_length() // 64 if cls is int else 0
    if cls is str or cls is bytes:
        return len(x)
    if cls in (list, tuple, dict, set, frozenset):
        if len(x) <= 4 and cls is not dict:  # [i], (a, b): the common small case, without the walk
            total = len(x)
            for item in x:
                if type(item) is str:
                    total += len(item)
                elif type(item) not in _SCALARS:
                    return _deep_size(x, limit)
            return total
        return _deep_size(x, limit)
    if isinstance(x, _VIEWS):
        return _deep_size(getattr(x, "mapping", ()), limit)
    if cls is range:
        return len(x)
    return 0  # iterators were paid for when they were made (zip, enumerate) or pay as they go (generators)


def _stored_size(name, value, limit):
    """Items `value` holds, as `_deep_size` counts them; refuses what task data cannot hold: a value
    that contains itself, nesting deeper than MAX_DEPTH, or anything but JSON-like values."""
    total, path = 0, set()
    stack: list = [(None, iter((value,)))]
    end = object()
    while stack:
        item: Any = next(stack[-1][1], end)
        if item is end:
            path.discard(stack.pop()[0])
            continue
        cls = type(item)
        if cls is str:
            total += len(item)
        elif cls in _SCALARS or cls in _STORABLE_OBJECTS:
            total += 1
        elif cls in (list, tuple, dict, set, frozenset):
            key = id(item)
            if key in path:
                raise ScriptDataError(f"the script left {name!r} containing itself; task data cannot refer to itself")
            if len(stack) > MAX_DEPTH:
                raise ScriptDataError(f"the script left {name!r} nested more than {MAX_DEPTH} levels deep")
            total += len(item)
            if cls is dict:
                for k in item:
                    if type(k) is not str and type(k) not in _SCALARS:
                        raise ScriptDataError(f"the script left {name!r} with a {type(k).__name__} as a key; "
                                              "keys are text or numbers")
                total += sum(len(k) for k in item if type(k) is str)
                children = iter(item.values())
            else:
                children = iter(item)
            path.add(key)
            stack.append((key, children))
        else:
            raise ScriptDataError(f"the script left {name!r} holding a {cls.__name__}, which task data cannot "
                                  "hold; use list(), dict() or str()")
        if total > limit:
            break  # the caller refuses it; no need to walk the rest
    return total


_STORABLE_OBJECTS = frozenset({date, datetime, timedelta, uuid.UUID})  # what the serializer converts


class ScriptAccount:
    """What all evaluations in one engine call (and the calls it sets off) may spend together."""

    def __init__(self, seconds: float = CALL_SECONDS, data: int = CALL_DATA):
        self.seconds, self.data = seconds, data
        self.seconds_left, self.data_left = seconds, data


_account: ContextVar[ScriptAccount | None] = ContextVar("rectiflow_script_account", default=None)


@contextmanager
def script_account(seconds: float = CALL_SECONDS, data: int = CALL_DATA):
    """Share one time and data account among the evaluations inside; inside another one, join it."""
    current = _account.get()
    if current is not None:
        yield current
        return
    account = ScriptAccount(seconds, data)
    token = _account.set(account)
    try:
        yield account
    finally:
        _account.reset(token)


_CLOCK_EVERY = 256  # units of work between two looks at the clock


class _Budget:
    """Per-evaluation allowance, so many individually legal steps cannot add up without
    bound -- e.g. ``['a' * 10**6 for i in range(10**5)]`` or ``max(x)`` a thousand times."""

    def __init__(self):
        self.iterations, self.built = MAX_ITERATIONS, MAX_BUILT
        self.account = _account.get()
        self.started = time.thread_time()
        self.seconds = MAX_SECONDS
        if self.account is not None and self.account.seconds_left < MAX_SECONDS:
            self.seconds = max(self.account.seconds_left, 0.0)
        self.deadline = self.started + self.seconds
        self._until_clock = _CLOCK_EVERY

    def close(self):
        if self.account is not None:
            self.account.seconds_left -= time.thread_time() - self.started

    def _late(self):
        if self.account is not None and self.seconds < MAX_SECONDS:
            return ScriptTooSlow(f"the scripts of this step ran longer than {self.account.seconds:g} s in all")
        return ScriptTooSlow(f"the script ran longer than {MAX_SECONDS:g} s")

    def work(self, n=1):
        """Charge n items gone through; every so often, look at the clock."""
        self.iterations -= n
        if self.iterations < 0:
            raise ScriptTooSlow(f"more than {MAX_ITERATIONS:,} loop iterations and items gone through")
        self._until_clock -= n + 1
        if self._until_clock <= 0:
            self._until_clock = _CLOCK_EVERY
            if time.thread_time() > self.deadline:
                raise self._late()

    def _spend(self, size):
        self.built -= size
        if self.built < 0:
            raise ResourceLimitError(f"the script built more than {MAX_BUILT:,} items in total")

    def _weigh(self, x):
        return _weight(x, self.iterations + 1)

    def loop(self, iterable):
        for item in iterable:
            self.work()
            yield item

    def op(self, sym, a, b, inplace=False):
        if type(a) in _SCALARS and type(b) in _SCALARS and sym in _NUMERIC_SAFE:
            self.work()
            return _OPERATORS[sym][inplace](a, b)
        if inplace and sym == "+" and type(a) is list and type(b) is list:  # x += [i], the common case
            if len(a) + len(b) > MAX_ITEMS:
                raise ResourceLimitError("the result of '+' would exceed the size limit")
            self.work()
            self._spend(_weight(b, self.built + 1))
            a += b
            return a
        # Building costs CPU in proportion to what it builds, so the size is charged once, as memory.
        self.work()
        result = _checked_op(sym, a, b, inplace)
        if result is a:  # in-place growth (x += [i]) only pays for the new items, not for x again
            self._spend(_size(result) - _size(a) + _deep_size(b, self.built + 1))
        else:  # [[0] * 10**6] * 30 holds one row thirty times, but is stored (and sent) as thirty
            self._spend(_deep_size(result, self.built + 1) + (CONTAINER_COST if type(result) in _BUILT_TYPES else 0))
        return result

    def new(self, value):
        """A display or comprehension just built: its header and items (values as well as keys)."""
        self._spend(CONTAINER_COST + len(value) * (3 if type(value) is dict else 2))
        self.work()
        return value

    def spread(self, value):
        """*x and **d copy every item of x (or d) into what they build."""
        self.work()
        if hasattr(value, "__len__"):
            self._spend(len(value))
        return value

    def key(self, k):
        """Hashing a tuple goes through all it holds (str caches its hash, numbers cost nothing)."""
        if type(k) is tuple:
            self.work(self._weigh(k))
        return k

    def slice(self, seq, lower=None, upper=None, step=None):
        cut = slice(lower, upper, step)
        if hasattr(seq, "__len__"):
            self._spend(len(range(*cut.indices(len(seq)))) + CONTAINER_COST)
        self.work()
        return seq[cut]

    def compare(self, op, a, b):
        if op in ("in", "not in"):
            if isinstance(b, (dict, set, frozenset, range, KeysView)):  # a hash lookup
                cost = self._weigh(a)
            else:  # a scan comparing a with every item
                cost = self._weigh(a) + self._weigh(b)
        else:  # equal or ordered: stops at the shorter side
            cost = min(self._weigh(a), self._weigh(b))
        self.work(cost)
        return _COMPARE[op](a, b)

    def cost(self, x):
        """An operand of a chained comparison, charged in full."""
        self.work(self._weigh(x))
        return x

    def call(self, func, *args, **kwargs):
        """Any call: pays for the items it goes through before, and for what it builds after."""
        weigh, method, receiver = self._weigh, None, None
        if type(func) is types.BuiltinMethodType and type(func.__self__) is not types.ModuleType:
            method, receiver = func.__name__, func.__self__
        if method is None:
            cost = 1 if func is len else 1 + len(args) + sum(map(weigh, args))
        elif method in _O1_METHODS and not (args and method == "pop" and type(receiver) is list):
            cost = 1 + (weigh(args[0]) if args and type(args[0]) is tuple else 0)  # a tuple key is hashed
        else:
            cost = 1 + len(args) + sum(map(weigh, args))
            if method in _SCANNING_METHODS or (type(receiver) is list and method in ("pop", "insert")):
                cost += weigh(receiver)  # goes through the whole object, or shifts what follows
        if kwargs:
            cost += len(kwargs) + sum(map(weigh, kwargs.values()))
            if callable(kwargs.get("key")):  # sorted(x, key=str) calls str from C: meter it too
                key = kwargs["key"]
                kwargs["key"] = lambda item: self.call(key, item)
        self.work(cost)
        if func is str and args and type(args[0]) is not str:
            self._spend(4 * _weight(args[0], self.built + 1))  # before: str() of a value held many times is huge
        if method in _GROWING_METHODS:
            grown = len(args)
            for value in (*args, *kwargs.values()):
                grown += _weight(value, self.built + 1)
            self._spend(grown)
        result = func(*args, **kwargs)
        if method in _RETURNS_EXISTING_METHODS if method is not None else func in _RETURNS_EXISTING:
            return result
        if type(result) in _BUILT_TYPES:
            self._spend(_weight(result, self.built + 1) + CONTAINER_COST)
        elif isinstance(result, Iterator) and not isinstance(result, types.GeneratorType):
            self._spend(CONTAINER_COST)  # zip(), enumerate(): their items were paid for above
        return result

    def range(self, *args):
        r = _capped_range(*args)
        self._spend(len(r))
        return r


_NUMERIC_SAFE = frozenset({"+", "-", "%", "|", "&", "^"})  # on numbers, results no bigger than the operands
_BUILT_TYPES = frozenset({str, bytes, list, tuple, dict, set, frozenset})
# Methods that cost the same whatever the size of their object (pop(i) of a list shifts what follows).
_O1_METHODS = frozenset({"get", "keys", "values", "items", "append", "setdefault", "pop"})
# Methods that go through their whole object (a str, or a list comparing each item).
_SCANNING_METHODS = frozenset({"count", "index", "remove", "split", "strip", "lstrip", "rstrip", "lower", "upper",
                               "copy"})
_GROWING_METHODS = frozenset({"append", "insert", "setdefault", "update"})
_RETURNS_EXISTING = frozenset({len, max, min, any, all, bool})
_RETURNS_EXISTING_METHODS = frozenset({"get", "pop", "setdefault", "index", "count", "keys", "values", "items",
                                       "startswith", "endswith", "append", "insert", "remove", "update"})
_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge, "in": lambda a, b: a in b, "not in": lambda a, b: a not in b}


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

def _at(line: int, code: str, text: str, **params) -> Refusal:
    return Refusal(code, f"line {line}: {text}", {"line": line, **params})


def _problems_in(tree, mode, callables) -> list[Refusal]:
    allowed = _EXPR_NODES if mode == "eval" else _EXPR_NODES + _STMT_NODES
    methods = PURE_METHODS if mode == "eval" else PURE_METHODS | MUTATING_METHODS
    found: list[Refusal] = []
    pending = [(tree, False)]
    while pending:
        node, is_callee = pending.pop()
        line = getattr(node, "lineno", 0)
        if not isinstance(node, allowed):
            kind = type(node)
            found.append(_at(line, "script_construct_refused", f"{_NODE_NAMES.get(kind, kind.__name__)} not allowed",
                             syntax=_NODE_SYNTAX.get(kind, kind.__name__)))
            continue  # one message per construct, not one per child
        if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_NAMES):
            found.append(_at(line, "script_name_refused", f"name '{node.id}' not allowed", name=node.id))
        elif isinstance(node, ast.keyword) and (node.arg or "").startswith("_"):
            found.append(_at(line, "script_keyword_refused", f"keyword '{node.arg}' not allowed", name=node.arg))
        elif isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr not in methods):
            found.append(_at(line, "script_attribute_refused", f"attribute '.{node.attr}' not allowed",
                             name=node.attr))
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) \
                and not isinstance(node.ctx, ast.Load):
            found.append(_at(line, "script_slice_assignment_refused", "assigning to a slice not allowed"))
        elif isinstance(node, ast.Attribute) and not is_callee:
            found.append(_at(line, "script_method_as_value", f"'.{node.attr}' may only be called, not used as a value",
                             name=node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name not in callables and not name.startswith("_") and name not in FORBIDDEN_NAMES:
                found.append(_at(line, "script_call_refused", f"calling '{name}' not allowed", name=name))
        elif isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute):
            found.append(_at(line, "script_callee_refused", "only named functions and allowed methods may be called"))
        callee = node.func if isinstance(node, ast.Call) else None
        pending.extend((child, child is callee) for child in ast.iter_child_nodes(node))
    return sorted(found, key=lambda r: (r.params["line"], r.text))


def _call(name, *args):
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _is_constant(node):
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))


class _Guard(ast.NodeTransformer):
    """Routes everything whose cost grows with the data through the budget's helpers."""

    _OPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%", ast.Sub: "-",
            ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}
    _CMPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
             ast.In: "in", ast.NotIn: "not in"}

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

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in self._CMPS:
            return _call("_rf_compare", ast.Constant(self._CMPS[type(node.ops[0])]), node.left, node.comparators[0])
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node
        node.left = _call("_rf_cost", node.left)
        node.comparators = [_call("_rf_cost", c) for c in node.comparators]
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        for keyword in node.keywords:
            if keyword.arg is None:  # f(**d)
                keyword.value = _call("_rf_spread", keyword.value)
        return ast.Call(func=ast.Name(id="_rf_call", ctx=ast.Load()), args=[node.func, *node.args],
                        keywords=node.keywords)

    def visit_Starred(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_rf_spread", node.value)
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        if any(isinstance(t, ast.Starred) for target in node.targets for t in ast.walk(target)):
            node.value = _call("_rf_spread", node.value)  # a, *rest = x copies x into rest
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.slice, ast.Slice):
            if not isinstance(node.ctx, ast.Load):
                return node  # refused by the static check
            part = node.slice
            return _call("_rf_slice", node.value, *(p or ast.Constant(None) for p in (part.lower, part.upper,
                                                                                        part.step)))
        if not _is_constant(node.slice):
            node.slice = _call("_rf_key", node.slice)
        return node

    def _display(self, node):
        self.generic_visit(node)
        return _call("_rf_new", node) if isinstance(getattr(node, "ctx", ast.Load()), ast.Load) else node

    visit_List = visit_Tuple = visit_ListComp = visit_SetComp = visit_DictComp = _display

    def visit_Set(self, node):
        self.generic_visit(node)
        node.elts = [e if _is_constant(e) or isinstance(e, ast.Starred) else _call("_rf_key", e)
                     for e in node.elts]
        return _call("_rf_new", node)

    def visit_Dict(self, node):
        self.generic_visit(node)
        node.keys = [k if k is None or _is_constant(k) else _call("_rf_key", k) for k in node.keys]
        node.values = [_call("_rf_spread", v) if k is None else v for k, v in zip(node.keys, node.values, strict=True)]
        return _call("_rf_new", node)

    def visit_For(self, node):
        self.generic_visit(node)
        node.iter = _call("_rf_loop", node.iter)
        return node

    visit_comprehension = visit_For


@functools.lru_cache(maxsize=2048)
def _compile(source, mode, callables):
    """Return (refusals, code); cached because conditions are re-evaluated constantly."""
    if not isinstance(source, str):
        return (Refusal("script_not_text", f"source must be a string, not {type(source).__name__}"),), None
    if len(source) > MAX_SOURCE_CHARS:
        return (Refusal("script_too_long", f"source is longer than {MAX_SOURCE_CHARS} characters",
                        {"limit": MAX_SOURCE_CHARS}),), None
    try:
        tree = ast.parse(source, mode=mode)
        problems = _problems_in(tree, mode, callables)
        if problems:
            return tuple(problems), None
        tree = ast.fix_missing_locations(_Guard().visit(tree))
        return (), compile(tree, "<string>", mode)  # '<string>' lets Spiff find the error line
    except SyntaxError as err:
        return (Refusal("script_syntax_error", f"syntax error on line {err.lineno}: {err.msg}",
                        {"line": err.lineno}),), None
    except (ValueError, RecursionError, MemoryError) as err:
        return (Refusal("script_unparsable", f"source could not be parsed ({err.__class__.__name__})"),), None


def expression_refusals(source: str, *, functions=()) -> list[Refusal]:
    """Why an expression is refused, each reason by code (see `Refusal`); empty when it may run."""
    return list(_compile(source, "eval", frozenset(SAFE_FUNCTIONS) | frozenset(functions))[0])


def script_refusals(source: str, *, functions=()) -> list[Refusal]:
    return list(_compile(source, "exec", frozenset(SAFE_FUNCTIONS) | frozenset(functions))[0])


def check_expression(source: str, *, functions=()) -> list[str]:
    return [r.text for r in expression_refusals(source, functions=functions)]


def check_script(source: str, *, functions=()) -> list[str]:
    return [r.text for r in script_refusals(source, functions=functions)]


# --- SpiffWorkflow integration --------------------------------------------------------------

_HELPERS = {"_rf_op": "op", "_rf_loop": "loop", "_rf_call": "call", "_rf_new": "new", "_rf_spread": "spread",
            "_rf_key": "key", "_rf_slice": "slice", "_rf_compare": "compare", "_rf_cost": "cost"}
_HELPER_NAMES = frozenset({"__builtins__", *_HELPERS})


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, clock=None, functions=None, zone=None):
        super().__init__({**SAFE_FUNCTIONS, "now": _make_now(clock or _utc_clock),
                          **_make_day_shifts(zone or district_zone()), **(functions or {})})
        self._callables = frozenset(self.globals)

    def _code(self, source, mode):
        problems, code = _compile(source, mode, self._callables)
        if problems:
            raise UnsafeScriptError("; ".join(r.text for r in problems))
        return code

    def _namespace(self, budget, context, external_context):
        # Task data may shadow a helper function (as in plain Python) but never the guards.
        return {**self.globals, "range": budget.range, **(external_context or {}), **context,
                "__builtins__": {}, **{name: getattr(budget, method) for name, method in _HELPERS.items()}}

    def evaluate(self, expression, context, external_context=None):
        # No copy needed: the expression subset can neither assign nor call mutating methods.
        code = self._code(expression, "eval")
        budget = _Budget()
        try:
            return eval(code, self._namespace(budget, context, external_context))
        finally:
            budget.close()

    def execute(self, script, context, external_context=None):
        code = self._code(script, "exec")
        budget = _Budget()
        try:
            # Spiff 3.2 gives each branch only a shallow copy of its parent's data, so nested
            # dicts/lists are shared with sibling branches. Run on a deep copy and swap the result
            # in, so a script never mutates shared objects (and a failing script changes nothing).
            memo: dict = {}  # one copy of both, as a deep copy of the pair makes it
            data = datacopy.deepcopy(context, memo)
            external = datacopy.deepcopy(external_context or {}, memo)
            namespace = self._namespace(budget, data, external)
            exec(code, namespace)
            result = {
                key: value for key, value in namespace.items()
                if key not in _HELPER_NAMES and not (key in external and key not in context)
                and not callable(value) and not isinstance(value, types.GeneratorType)
            }
            self._check_data(result, budget.account)
        finally:
            budget.close()
        context.clear()
        context.update(result)
        return True

    @staticmethod
    def _check_data(result, account):
        """What the script leaves must be storable, and small enough to be copied into the next tasks."""
        shared = account is not None and account.data_left < MAX_DATA
        limit = max(account.data_left, 0) if shared else MAX_DATA
        used = 0
        for name, value in result.items():
            used += _stored_size(name, value, limit - used) + len(name)
            if used > limit:
                if shared:
                    raise ResourceLimitError(f"the scripts of this step left more than {account.data:,} "
                                             f"items of data in all (the last one in {name!r})")
                raise ResourceLimitError(f"the script left more than {MAX_DATA:,} items of data (in {name!r})")
        if account is not None:
            account.data_left -= used

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
    engine = SafeScriptEngine(environment=SafeEnvironment(clock, zone=zone))
    engine.clock = clock  # what the timers compare against (spiff_patches)
    engine.zone = zone  # and the zone their times without an offset are in
    return engine
