"""Deterministic efficiency of a passing answer: executed instructions at growing input sizes.

Why: a correct O(n^2) answer should earn less than an O(n) one, and the measure must give
the same number on a busy and a quiet machine (wall time does not; loop nesting is easy to
fool). A task's `metadata.scale_inputs` (docs/schemas.md) lists argument tuples at growing
sizes. With `ExecutionConfig.efficiency`, the child that ran a passing answer's tests then
imports the answer again (rewritten for builtin charges) and calls its entry point on each
of them under the meter (meter.py: Python bytecode instructions executed by the call); the
task's reference solution is measured the same way, in a child of its own, once per task
(cached, on disk too: efficiency_run.py). The record on the result:

    {"status": "ok", "score": R / C at the largest size n, clipped to [0, 1], where C is the
     answer's instructions and R = max(the reference's instructions, n),
     "exponent": log-log least-squares slope of the answer's instructions against size,
     "reference_exponent": the same for the reference, "sizes": [...], "instructions": [...],
     "reference_instructions": [...], "cost_model": COST_MODEL}

Other statuses carry no score (and a `reason`): "failed" (the answer raised, timed out or
returned a value other than the reference's at some size), "tampered" (it touched the
tracer, frames, threads or processes while measured), "refused" (it names something that
could reach the meter, so it is not measured), "unavailable" (the task has no scale inputs,
or its reference could not be measured). "over_budget" (more than MAX_INSTRUCTIONS at some
size) has score 0.0. `score_of` is what a reward component reads.
"""

from __future__ import annotations

import ast
import hashlib
import json
import marshal
import math
from dataclasses import dataclass
from typing import Any

from codeself.datasets.task import Task
from codeself.execution import codec, meter
from codeself.execution.protocol import Job

COST_MODEL = "python-bytecode-instructions+builtin-charges/3"
MAX_INSTRUCTIONS = 10_000_000  # per call; about 1-3 s under the tracer
MEASURE_TIMEOUT_S = 60.0  # per call: far above the budget's time, so the budget decides, not the load
STATUSES = ("ok", "over_budget", "failed", "tampered", "refused", "unavailable")
# Identifiers (names, attributes, string constants) that could reach the meter, its hooks, the
# harness or other threads; a program naming any is refused (status "refused"), not measured.
RISKY_NAMES = frozenset({
    "settrace", "setprofile", "gettrace", "getprofile", "_getframe", "_current_frames", "currentframe",
    "f_trace", "f_trace_opcodes", "f_trace_lines", "f_back", "f_globals", "f_locals", "tb_frame", "gi_frame",
    "cr_frame", "ag_frame", "__traceback__", "__globals__", "__closure__", "__code__", "__builtins__",
    "__dict__", "__getattribute__", "__subclasses__", "__import__", "modules", "monitoring", "threading",
    "_thread", "multiprocessing", "concurrent", "asyncio", "fork", "gc", "inspect", "codeself", "importlib",
    "builtins", "eval", "exec", "FunctionType", "CodeType", "getattr", "setattr", "delattr", "vars", "globals",
    "signal",
})


@dataclass(frozen=True)
class ScaleInput:
    size: int
    args: tuple


def scale_inputs(task: Task) -> list[ScaleInput]:
    """The task's `metadata.scale_inputs`, sizes increasing; [] when it has none. A malformed
    list is a ValueError naming the task (one line)."""
    raw = (task.metadata or {}).get("scale_inputs")
    if raw is None:
        return []
    where = f"task {task.task_id}: metadata.scale_inputs"
    if not isinstance(raw, list) or len(raw) < 2:
        raise ValueError(f"{where} must be a list of at least two {{size, args}} objects")
    parsed = []
    for entry in raw:
        if not isinstance(entry, dict) or set(entry) != {"size", "args"}:
            raise ValueError(f"{where}: every entry is an object with exactly the keys size and args")
        size, text = entry["size"], entry["args"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"{where}: size must be an integer >= 1, got {size!r}")
        try:
            args = ast.literal_eval(text) if isinstance(text, str) else None
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            args = None
        if not isinstance(args, (tuple, list)):
            raise ValueError(f"{where}: args must be the Python literal of a tuple of arguments, e.g. \"([1, 2],)\"")
        parsed.append(ScaleInput(size, tuple(args)))
    sizes = [item.size for item in parsed]
    if sizes != sorted(set(sizes)):
        raise ValueError(f"{where}: sizes must be distinct and increasing, got {sizes}")
    return parsed


def risky_name(code: bytes) -> str | None:
    """The first RISKY_NAMES identifier the compiled program (marshalled, as `programs.check`
    returns it) uses as a name, attribute or string constant, in any nested function."""
    if not code:
        return "program not compiled by the parent"
    pending = [marshal.loads(code)]
    while pending:
        current = pending.pop()
        for name in current.co_names:  # globals, attributes, imports (local names reach nothing)
            if name in RISKY_NAMES:
                return name
        for constant in current.co_consts:
            # identifier-like strings ("settrace", "sys.modules"): what getattr or an import would take;
            # prose (docstrings) is left alone, and building a name needs getattr, eval or an import
            if isinstance(constant, str) and len(constant) < 100:
                parts = constant.split(".")
                found = next((part for part in parts if part in RISKY_NAMES), None)
                if found is not None and all(part.isidentifier() for part in parts):
                    return found
            if hasattr(constant, "co_names"):
                pending.append(constant)
    return None


def measure_job(task: Task, program: str, code: bytes, inputs: list[ScaleInput], import_timeout_s: float) -> Job:
    """The worker job that imports the program (`code`: charged_code's) and calls its entry
    point under the meter on each scale input (one step for all, smallest first)."""
    held = held_measurement(task, code, inputs, import_timeout_s)
    return Job(program="" if code else program, code=code, entry_point=task.entry_point, setup=held["setup"],
               steps=tuple(held["steps"]), step_timeouts_s=tuple(held["step_timeouts_s"]),
               import_timeout_s=import_timeout_s, program_timeout_s=held["program_timeout_s"], sizes=held["sizes"])


def measured_arguments(inputs) -> list:
    """Each scale input's arguments as its measurement step carries them: the literals
    themselves, which the worker marshals to the child (the trusted direction; decoding the
    closed encoding there cost a tenth of a measurement)."""
    return [list(item.args) for item in inputs]


def held_measurement(task: Task, code: bytes, inputs: list[ScaleInput], import_timeout_s: float,
                     arguments: list | None = None) -> dict:
    """The measurement step (`arguments`: measured_arguments(inputs), when already known): every
    size in one step, which the child answers once (not a frame and a worker select round
    per size), with its limits; as a job's "measure", held by the worker until every test is
    answered, then sent to the same child after a {"load": code} step (the parent stops them
    when a test failed: supervise.py)."""
    arguments = measured_arguments(inputs) if arguments is None else arguments
    measure_s = MEASURE_TIMEOUT_S * len(arguments)
    return {"load": code, "setup": task.setup_code, "steps": [{"measure": list(arguments), "budget": MAX_INSTRUCTIONS}],
            "step_timeouts_s": [measure_s, measure_s], "import_timeout_s": import_timeout_s,
            "program_timeout_s": import_timeout_s + measure_s, "sizes": len(arguments)}


@dataclass(frozen=True)
class Costs:
    """One program's measurement: instructions and decoded return value per size, or why not."""

    status: str  # "ok", "over_budget", "failed", "tampered"
    instructions: tuple[int, ...] = ()
    values: tuple = ()
    reason: str = ""


def read_costs(reply: dict, count: int) -> Costs:
    """The worker's reply to `measure_job`, read as untrusted data (the answers come from the
    candidate's process)."""
    answers = reply.get("answers") or []
    if not answers:
        return Costs("failed", reason=f"the program did not import ({reply.get('outcome')})")
    imported = _parse(answers[0])
    if imported.get("ok") is not True:
        error = imported.get("error") if isinstance(imported.get("error"), dict) else {}
        return Costs("failed", reason=f"the program did not import (raised {str(error.get('type', '?'))[:80]})")
    measured = _parse(answers[1]) if len(answers) > 1 else {}
    # one answer for every size (the child's "measured" list), or one error for all of them
    sizes = measured.get("measured") if isinstance(measured.get("measured"), list) else [measured]
    instructions, values = [], []
    for position in range(count):
        if len(answers) < 2 or position >= len(sizes):
            outcome = reply.get("outcome")
            return Costs("failed", reason="timed out" if outcome == "timeout" else f"stopped ({outcome})")
        answer = sizes[position] if isinstance(sizes[position], dict) else {}
        cost = answer.get("cost")
        if not isinstance(cost, dict):
            error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
            return Costs("failed", reason=f"raised {str(error.get('type', 'an error'))[:80]}")
        if cost.get("tampered"):
            return Costs("tampered", reason=str(cost["tampered"])[:200])
        if cost.get("over_budget") is True:
            return Costs("over_budget", reason=f"more than {MAX_INSTRUCTIONS} instructions at scale input "
                                               f"{position}")
        if isinstance(cost.get("error"), dict):
            return Costs("failed", reason=f"raised {str(cost['error'].get('type'))[:80]} at scale input {position}")
        count_seen = cost.get("instructions")
        encoded = answer.get("values")
        if not isinstance(count_seen, int) or isinstance(count_seen, bool) or count_seen < 0 \
                or not isinstance(encoded, list) or len(encoded) != 1:
            return Costs("failed", reason="malformed measurement")
        try:
            values.append(codec.decode(encoded[0]))
        except (codec.MalformedValue, ValueError, TypeError, RecursionError):
            return Costs("failed", reason="malformed value")
        instructions.append(count_seen)
    return Costs("ok", tuple(instructions), tuple(values))


def _parse(text: Any) -> dict:
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def growth_exponent(sizes: list[int], costs: list[int]) -> float:
    """Least-squares slope of log(cost) on log(size): about 1 for linear work, 2 for quadratic.
    Costs of 0 count as 1."""
    xs = [math.log(size) for size in sizes]
    ys = [math.log(max(1, cost)) for cost in costs]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return round(sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread, 4) if spread else 0.0


def compare(reference: Costs, candidate: Costs, inputs: list[ScaleInput], atol: float = 0.0) -> dict:
    """The `efficiency` record of a passing answer, from both measurements."""
    from codeself.execution.judge import tolerant_equal

    base = {"cost_model": COST_MODEL}
    if reference.status != "ok":
        return {**base, "status": "unavailable", "reason": f"the reference could not be measured: {reference.reason}"}
    if candidate.status == "over_budget":
        return {**base, "status": "over_budget", "score": 0.0, "reason": candidate.reason}
    if candidate.status != "ok":
        return {**base, "status": candidate.status, "reason": candidate.reason}
    for position, (got, wanted) in enumerate(zip(candidate.values, reference.values)):
        if not tolerant_equal(got, wanted, atol):
            return {**base, "status": "failed", "reason": f"a value other than the reference's at scale input {position}"}
    sizes = [item.size for item in inputs]
    # the reference's count is floored at one instruction per unit of size: work done inside a
    # builtin (sum, max, slicing) is invisible to the counter, yet any answer reads its input
    largest_ref, largest = max(reference.instructions[-1], sizes[-1]), candidate.instructions[-1]
    score = 1.0 if largest <= largest_ref else round(largest_ref / largest, 6)
    return {**base, "status": "ok", "score": score, "exponent": growth_exponent(sizes, list(candidate.instructions)),
            "reference_exponent": growth_exponent(sizes, list(reference.instructions)), "sizes": sizes,
            "instructions": list(candidate.instructions), "reference_instructions": list(reference.instructions)}


def unavailable(reason: str, status: str = "unavailable") -> dict:
    return {"cost_model": COST_MODEL, "status": status, "reason": reason}


def reference_key(task: Task) -> tuple[str, str]:
    """Cache key of a task's reference measurement: what it depends on."""
    parts = [task.reference_solution or "", task.setup_code, task.entry_point or "",
             (task.metadata or {}).get("scale_inputs"), COST_MODEL, MAX_INSTRUCTIONS]
    return task.task_id, hashlib.sha256(json.dumps(parts, ensure_ascii=True, default=repr).encode()).hexdigest()


def score_of(result: Any) -> float | None:
    """The efficiency score in [0, 1] of an ExecutionResult (or its JSON record), for a reward
    component: None unless the answer passed and was measured (status ok or over_budget)."""
    if isinstance(result, dict):
        passed, efficiency = result.get("passed"), result.get("efficiency")
    else:  # the record's two fields, without building the whole record (a step of the environment reads it)
        passed, efficiency = getattr(result, "passed", None), getattr(result, "efficiency", None)
    if not passed or not isinstance(efficiency, dict):
        return None
    if efficiency.get("status") not in ("ok", "over_budget"):
        return None
    score = efficiency.get("score")
    return float(score) if isinstance(score, (int, float)) and 0.0 <= score <= 1.0 else None
