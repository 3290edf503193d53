"""Counting the Python bytecode instructions of one call, inside the candidate's process.

Why instructions and why here: efficiency must not depend on machine load (a busy machine
must give the same score as a quiet one), hardware counters are often unavailable
(perf_event_open is refused in containers), and this interpreter is 3.11 (no
sys.monitoring). `sys.settrace` with `frame.f_trace_opcodes = True` reports one "opcode"
event per executed instruction of every Python frame the call enters (comprehensions,
generators and callbacks from builtins included), which is exact and repeatable: the same
program on the same input executes the same instructions (hash seed fixed by the worker,
collector off during the call). Cost: about 0.1 microsecond per instruction.

Work inside C builtins is invisible to the tracer (`x in a_list`, `a.count(x)`, `a[:i]` and
`sum(...)` are one instruction each), so a quadratic answer whose inner loop is a builtin
would look linear. The parent therefore measures a rewritten copy of the program
(charged.charged_code: the reference gets the same rewrite): containment, slicing,
sequence and set operators and calls to the builtins in CHARGED_FUNCTIONS / the methods in
CHARGED_METHODS go through the helpers below, which do the real operation and charge the
size of the sized operands it scans or copies (`_charge`). The helpers' own frames are not
traced (a constant overhead would blur the counts) but what they call back into (a
candidate's `__eq__`, a key function) is. Sizes are read with the base type's `__len__`
slot, never a Python override, so the charge is exact and repeatable.

Tampering: this runs in the candidate's process, so the call is watched for what would
turn the count off: a profile hook flags any call of a C function named in
`FORBIDDEN_CALLS` (tracing, frames, threads, processes), and after the call the hooks must
still be ours and no thread may have been started. The parent also refuses to measure a
program that names any of `efficiency.RISKY_NAMES`. A flagged call has no score.
"""

from __future__ import annotations

import _thread
import collections
import gc
import operator
import sys

_settrace, _gettrace, _setprofile, _getprofile = sys.settrace, sys.gettrace, sys.setprofile, sys.getprofile
_thread_count = _thread._count
_gc_isenabled, _gc_disable, _gc_enable = gc.isenabled, gc.disable, gc.enable
_type, _str = type, str

# C functions whose call during a measured call marks it as tampered (matched by the name
# CPython gives the builtin, which a program cannot change)
FORBIDDEN_CALLS = frozenset({
    "settrace", "setprofile", "gettrace", "getprofile", "_getframe", "_current_frames", "settrace_all_threads",
    "setprofile_all_threads", "start_new_thread", "start_new", "start_joinable_thread", "fork", "forkpty",
    "fork_exec", "posix_spawn", "posix_spawnp", "system", "register_at_fork", "get_objects", "get_referrers",
    "get_referents", "setswitchinterval",
})


class OverBudget(BaseException):
    """Raised by the tracer when the call executes more than its budget of instructions."""


# ---- charges for work done inside builtins (child side; the rewrite is charged.charged_code)
HELPER_PREFIX = "__codeself_"  # a program containing this text is refused: it could shadow a helper
_len, _issubclass, _id, _slice = len, issubclass, id, slice
_charged, _limit = [0], [0]  # units charged during the current measured call, and its budget
_dict_keys, _dict_values, _dict_items = type({}.keys()), type({}.values()), type({}.items())
COPIED = (list, tuple, str, bytes, bytearray, collections.deque)  # copied by slicing, + and *
SCANNED = COPIED + (_dict_values,)  # `x in c` compares x with every item
HASHED = (set, frozenset, dict, _dict_keys, _dict_items)  # |, &, -, ^ visit every item of each side
GROWN = (list, bytearray, collections.deque, set, dict)  # `+=` etc. update these in place
SIZED = SCANNED + HASHED + (range,)  # an argument a builtin reads whole
# exact type -> kind; builtin types that are none of them map to None (a heap type is looked up
# each time: the cache stays small and only types that cannot change are in it)
_KINDS = {**{kind: kind for kind in SIZED}, **{kind: None for kind in (int, float, complex, bool, type(None))}}
_NUMBERS = frozenset((int, float, complex, bool))  # exact types: an operation on two costs no charge
# builtins that read their one positional argument whole: charged its size
CHARGED_FUNCTIONS = ("sum", "min", "max", "sorted", "any", "all", "list", "tuple", "set", "frozenset", "dict",
                     "bytes", "bytearray")
_FUNCTIONS = {_id(function): function for function in (sum, min, max, sorted, any, all, list, tuple, set, frozenset,
                                                        dict, bytes, bytearray)}
_SCANS = ("count", "index", "find", "rfind", "rindex", "replace", "split", "rsplit", "splitlines", "strip", "lstrip",
          "rstrip", "lower", "upper", "casefold", "swapcase", "title", "capitalize", "translate", "encode", "decode",
          "partition", "rpartition", "expandtabs", "zfill", "center", "ljust", "rjust", "isdigit", "isalpha",
          "isalnum", "isspace", "islower", "isupper", "isdecimal", "isnumeric")
# (receiver kind, method) -> what is charged: "receiver" (its size), "argument" (the sized
# positional arguments' sizes), "both", or "shift" (list.insert/pop(i): the items after i)
_METHODS = {
    **{(kind, name): "receiver" for kind in (str, bytes, bytearray) for name in _SCANS},
    **{(kind, "join"): "argument" for kind in (str, bytes, bytearray)},
    **{(list, name): "receiver" for name in ("count", "index", "remove", "copy", "reverse", "sort")},
    (list, "extend"): "argument", (list, "insert"): "shift", (list, "pop"): "shift",
    (tuple, "count"): "receiver", (tuple, "index"): "receiver",
    **{(bytearray, name): rule for name, rule in (("extend", "argument"), ("insert", "shift"), ("pop", "shift"),
                                                   ("remove", "receiver"), ("copy", "receiver"))},
    **{(collections.deque, name): "receiver" for name in ("count", "index", "remove", "copy", "reverse")},
    (collections.deque, "extend"): "argument", (collections.deque, "extendleft"): "argument",
    (collections.deque, "insert"): "shift",
    (dict, "copy"): "receiver", (dict, "update"): "argument",
    **{(kind, name): "receiver" for kind in (set, frozenset) for name in ("copy",)},
    **{(set, name): "argument" for name in ("update", "difference_update", "intersection_update",
                                            "symmetric_difference_update")},
    **{(kind, name): "both" for kind in (set, frozenset) for name in (
        "union", "intersection", "difference", "symmetric_difference", "issubset", "issuperset", "isdisjoint")},
}
CHARGED_METHODS = tuple(sorted({name for _, name in _METHODS}))
_BuiltinMethod = type(len)


# Speed matters here: while a call is measured, the profile hook runs for every Python frame
# and builtin function call, even in these helpers, so they avoid both where they can
# (`type()` and `in` on a dict raise no profile event; a builtin function call raises two).
def _kind(value):
    """The builtin sized type `value` is an instance of (exact types first), or None."""
    kind_of = _type(value)
    if kind_of in _KINDS:
        return _KINDS[kind_of]
    for candidate in SIZED:
        if _issubclass(kind_of, candidate):
            return candidate
    return None


def _size(value, kinds) -> int:
    kind_of = _type(value)
    kind = _KINDS[kind_of] if kind_of in _KINDS else _kind(value)
    if kind is None or kind not in kinds:
        return 0
    try:
        return kind.__len__(value)  # the base slot: a subclass's __len__ cannot lie about it
    except OverflowError:  # a range longer than sys.maxsize
        return _limit[0] + 1


def _charge(units: int) -> None:
    total = _charged[0] + units
    _charged[0] = total
    if total > _limit[0]:
        raise OverBudget()


def __codeself_in__(item, container):
    _charge(_size(container, SCANNED))
    return item in container


def __codeself_slice__(sequence, lower, upper, step):
    result = sequence[_slice(lower, upper, step)]
    _charge(_size(result, COPIED))
    return result


# The operator helpers, one per operator and form, compiled from this template: on exact number
# types the operator is written out rather than `function(left, right)` (a builtin call raises
# two profile events) and takes as few instructions as it can (while a call is measured, every
# instruction of an untraced frame still costs a tracing check): about a third of the cost of a
# measured `total += x`. Same operation, same errors (the in-place form keeps its message).
_OPERATION = """
def make(function, inplace):
    def operation(left, right):
        if _type(left) in _NUMBERS and _type(right) in _NUMBERS:  # arithmetic: sizes 0, nothing charged
            {arithmetic}
        if inplace and _kind(left) in GROWN:  # updated in place: charged what is added (or the result of *=)
            result = function(left, right)
            _charge(_size(result, COPIED) if function is operator.imul else _size(right, SIZED))
            return result
        result = function(left, right)
        _charge(_size(result, COPIED) + _size(left, HASHED) + _size(right, HASHED))
        return result
    return operation
"""
_SYMBOLS = {"add": "+", "mul": "*", "sub": "-", "or": "|", "and": "&", "xor": "^"}


def _binary(name, inplace):
    symbol = _SYMBOLS[name]
    arithmetic = f"left {symbol}= right\n            return left" if inplace else f"return left {symbol} right"
    scope = {}
    exec(compile(_OPERATION.format(arithmetic=arithmetic), "<meter operators>", "exec"), globals(), scope)  # noqa: S102
    return scope["make"](getattr(operator, f"i{name}") if inplace else _OPERATORS[name], inplace)


BINARY = {"Add": "add", "Mult": "mul", "Sub": "sub", "BitOr": "or", "BitAnd": "and", "BitXor": "xor"}
_OPERATORS = {"add": operator.add, "mul": operator.mul, "sub": operator.sub, "or": operator.or_,
              "and": operator.and_, "xor": operator.xor}
HELPERS = {"__codeself_in__": __codeself_in__, "__codeself_slice__": __codeself_slice__,
           **{f"__codeself_{name}__": _binary(name, False) for name in _OPERATORS},
           **{f"__codeself_i{name}__": _binary(name, True) for name in _OPERATORS}}


def __codeself_call__(function, /, *args, **kwargs):
    _charge(_call_units(function, args))
    return function(*args, **kwargs)


def _call_units(function, args: tuple) -> int:
    if _FUNCTIONS.get(_id(function)) is function:
        return _size(args[0], SIZED) if _len(args) == 1 else 0
    if _type(function) is not _BuiltinMethod:
        return 0
    receiver = function.__self__
    rule = _METHODS.get((_kind(receiver), function.__name__))
    if rule is None:
        return 0
    if rule == "shift":
        length = _size(receiver, SIZED)
        if not args or _type(args[0]) is not int:
            return 0
        index = args[0] + length if args[0] < 0 else args[0]
        return length - min(max(index, 0), length)
    units = _size(receiver, SIZED) if rule in ("receiver", "both") else 0
    if rule in ("argument", "both"):
        for argument in args:
            units += _size(argument, SIZED)
    return units


HELPERS["__codeself_call__"] = __codeself_call__
globals().update(HELPERS)  # `from codeself.execution.meter import __codeself_add__, ...` in the rewritten program
# by identity (id), not by value: hashing and comparing code objects by value at every frame
# entry was a tenth of a measurement, and only these very objects may go uncounted
_UNTRACED_CODES = tuple(helper.__code__ for helper in (*HELPERS.values(), _kind, _size, _charge, _call_units))
_UNTRACED = frozenset(_id(code) for code in _UNTRACED_CODES)


def _builtin_name(function) -> str:
    try:
        name = function.__name__
    except BaseException:  # noqa: BLE001 - never expected for a builtin; treated as suspicious
        return "?"
    return name if _type(name) is _str else "?"


def measure(function, args: list, budget: int) -> tuple[dict, object, BaseException | None]:
    """Call `function(*args)` under the tracer: ({"instructions": n, "over_budget": bool,
    "tampered": reason or ""}, return value, exception raised or None)."""
    count = 0
    over = False
    armed = False  # the profile hook judges only the candidate's calls, not the harness's own
    tampered = ""

    def local(frame, event, arg):
        nonlocal count, over
        if event == "opcode":
            count += 1
            if count > budget:
                over = True
                raise OverBudget()
        return local

    untraced, identity = _UNTRACED, _id

    def entry(frame, event, arg):  # every new Python frame: count its instructions
        if identity(frame.f_code) in untraced:  # a charging helper: charged, not counted
            return None
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True
        return local

    def profile(frame, event, arg):
        nonlocal tampered
        if event == "c_call" and armed and not tampered:
            name = _builtin_name(arg)
            if name in FORBIDDEN_CALLS or name == "?":
                tampered = f"called {name}"

    threads = _thread_count()
    collecting = _gc_isenabled()
    _gc_disable()
    value, error = None, None
    _charged[0], _limit[0] = 0, budget
    _setprofile(profile)
    _settrace(entry)
    try:
        armed = True
        value = function(*args)
    except BaseException as raised:  # noqa: BLE001 - reported, never re-raised
        error = raised
    finally:
        armed = False
        hooks_kept = _gettrace() is entry and _getprofile() is profile
        _settrace(None)
        _setprofile(None)
        if collecting:
            _gc_enable()
    count += _charged[0]
    over = over or count > budget
    if not over:
        if not tampered and not hooks_kept:
            tampered = "the tracer or profiler was replaced or removed"
        if not tampered and _thread_count() != threads:
            tampered = "started a thread"
    return {"instructions": count, "over_budget": over, "tampered": tampered}, value, error
