"""Counting the Python bytecode instructions of one call, inside the candidate's process.

Why instructions and why here: efficiency must not depend on machine load (a busy machine
must give the same score as a quiet one), hardware counters are often unavailable
(perf_event_open is refused in containers), and this interpreter is 3.11 (no
sys.monitoring). `sys.settrace` with `frame.f_trace_opcodes = True` reports one "opcode"
event per executed instruction of every Python frame the call enters (comprehensions,
generators and callbacks from builtins included), which is exact and repeatable: the same
program on the same input executes the same instructions (hash seed fixed by the worker,
collector off during the call). Cost: about 0.1 microsecond per instruction.

What it does not see: work inside C builtins (`x in some_list`, `list.index`, slicing,
`sorted`) counts as the one instruction that calls it. docs/schemas.md says so.

Tampering: this runs in the candidate's process, so the call is watched for what would
turn the count off: a profile hook flags any call of a C function named in
`FORBIDDEN_CALLS` (tracing, frames, threads, processes), and after the call the hooks must
still be ours and no thread may have been started. The parent also refuses to measure a
program that names any of `efficiency.RISKY_NAMES`. A flagged call has no score.
"""

from __future__ import annotations

import _thread
import gc
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

    def entry(frame, event, arg):  # every new Python frame: count its instructions
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
    if not over:
        if not tampered and not hooks_kept:
            tampered = "the tracer or profiler was replaced or removed"
        if not tampered and _thread_count() != threads:
            tampered = "started a thread"
    return {"instructions": count, "over_budget": over, "tampered": tampered}, value, error
