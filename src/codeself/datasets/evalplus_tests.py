"""Turn an EvalPlus problem plus its reference outputs into a canonical `Task`.

Each input becomes one snippet `assert f(<args>) == <expected>` written with
`python_source`, so values whose repr is not valid Python (inf, nan, the empty set) still
evaluate correctly. EvalPlus judges a few tasks with special oracles instead of equality;
those are reproduced as snippets (facts from evalplus/eval/_special_oracle.py and
evalplus/eval/__init__.py), and the oracle used is recorded in metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from codeself.datasets.evalplus import NOT_NONE_ENTRY_POINTS, EvalPlusProblem
from codeself.datasets.snippets import contains_nan, python_source
from codeself.datasets.task import Task

MAX_TEST_CHARS = 20_000  # a longer snippet (e.g. Mbpp/255's huge lists) is recorded, not written
FLOAT_DEFAULT_ATOL = 1e-6  # EvalPlus compares float outputs with atol 1e-6 when the task's atol is 0

# Oracles by dataset and entry point.
_MBPP_ORACLES = {
    "are_equivalent": "any_output",  # Mbpp/164: any returned value is accepted
    "sum_div": "equal_or_zero",  # Mbpp/295
    **{name: "not_none" for name in NOT_NONE_ENTRY_POINTS},
    **{name: "set_equal" for name in ("similar_elements", "find_char_long", "common_in_nested_lists",
                                      "extract_singly", "larg_nnum", "intersection_array",
                                      "find_dissimilar", "Diff")},
}
_HUMANEVAL_ORACLES = {"find_zero": "zero_of_poly"}  # HumanEval/32: any root is accepted

_HELPERS = {
    "not_none": ("def _evalplus_not_none(value):\n"
                 "    return value if isinstance(value, bool) else value is not None\n"),
    "zero_of_poly": ("import math\n\n\ndef _evalplus_poly(xs, x):\n"
                     "    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))\n"),
    "nan": "import math\n",
}


class UnmaterialisedTask(ValueError):
    """No test of a problem could be built; conversion may record this and go on."""


def oracle_of(problem: EvalPlusProblem) -> str:
    table = _MBPP_ORACLES if problem.dataset == "mbpp" else _HUMANEVAL_ORACLES
    return table.get(problem.entry_point, "equal")


def build_task(problem: EvalPlusProblem, outcomes: list, *, public_count: int = 1) -> Task:
    """The Task for `problem` given one outcome per input (`ok`, `value`, `error_type`, `message`)."""
    oracle = oracle_of(problem)
    atol = _effective_atol(problem, outcomes)
    base_tests, plus_tests, skipped, helpers = [], [], [], set()
    labelled = [("base", i, a) for i, a in enumerate(problem.base_inputs)]
    labelled += [("plus", i, a) for i, a in enumerate(problem.plus_inputs)]
    for (input_set, index, args), outcome in zip(labelled, outcomes):
        reason, snippet, helper = _test_for(problem, oracle, args, outcome, atol)
        if snippet is None:
            skipped.append({"input_set": input_set, "index": index, "reason": reason})
            continue
        (base_tests if input_set == "base" else plus_tests).append(snippet)
        helpers.update(helper)
    tests = base_tests + plus_tests
    if not tests:
        first = skipped[0]["reason"] if skipped else "the problem has no inputs"
        raise UnmaterialisedTask(f"{problem.task_id}: no input gave a usable expected value ({first})")
    public = min(public_count, len(base_tests), len(tests) - 1)
    return Task(
        task_id=f"{problem.dataset}plus/{problem.number}", source=f"{problem.dataset}plus",
        prompt=_statement(problem), entry_point=problem.entry_point,
        starter_code=problem.prompt if problem.dataset == "humaneval" else "",
        public_tests=tuple(tests[:max(public, 0)]), hidden_tests=tuple(tests[max(public, 0):]),
        setup_code="\n\n".join(_HELPERS[name] for name in sorted(helpers)),
        reference_solution=problem.reference_program, split=None,
        metadata=_metadata(problem, oracle, atol, outcomes, len(base_tests), len(plus_tests), skipped),
    )


def _statement(problem: EvalPlusProblem) -> str:
    """MBPP+ wraps the statement in a docstring; HumanEval+ prompts are code, kept as is."""
    if problem.dataset == "humaneval":
        return problem.prompt
    text = problem.prompt.strip()
    for quote in ('"""', "'''"):
        if text.startswith(quote) and text.endswith(quote) and len(text) >= 6:
            text = text[3:-3]
    return text.strip()


def _effective_atol(problem: EvalPlusProblem, outcomes: list) -> float:
    if problem.atol > 0:
        return problem.atol
    floats = any(outcome.ok and _is_floats(outcome.value) for outcome in outcomes)
    return FLOAT_DEFAULT_ATOL if floats else 0.0


def _is_floats(value: Any) -> bool:
    if type(value) is float:
        return True
    return type(value) in (list, tuple) and bool(value) and all(type(item) is float for item in value)


def _test_for(problem: EvalPlusProblem, oracle: str, args: Any, outcome: Any,
              atol: float) -> tuple[str | None, str | None, set[str]]:
    """(reason it cannot be a test, snippet, helper names the snippet needs)."""
    if not outcome.ok:
        return f"reference failed: {outcome.error_type}: {str(outcome.message)[:200]}", None, set()
    try:
        args_source = ", ".join(python_source(arg) for arg in args)
        call = f"{problem.entry_point}({args_source})"
        value = outcome.value
        helper = {oracle} if oracle in _HELPERS else set()
        if oracle == "any_output":
            snippet = call
        elif oracle == "not_none":
            if type(value) is not bool:
                return f"not-None oracle expects a bool from {problem.expected_program[1]}", None, set()
            snippet = f"assert _evalplus_not_none({call}) == {value}"
        elif oracle == "zero_of_poly":
            snippet = f"assert abs(_evalplus_poly({args_source}, {call})) <= {atol or FLOAT_DEFAULT_ATOL!r}"
        elif contains_nan(value):
            if type(value) is not float:
                return "expected value holds NaN inside a container", None, set()
            snippet, helper = f"assert math.isnan({call})", {"nan"}
        elif oracle == "set_equal":
            snippet = f"assert set({call}) == {_set_source(value)}"
        elif oracle == "equal_or_zero":
            snippet = f"assert {call} in ({python_source(value)}, 0)"
        else:
            snippet = f"assert {call} == {python_source(value)}"
    except ValueError as error:
        return str(error), None, set()
    if len(snippet) > MAX_TEST_CHARS:
        return f"test would be {len(snippet)} characters (limit {MAX_TEST_CHARS})", None, set()
    return None, snippet, helper


def _set_source(value: Any) -> str:
    """`set(value)` as source with sorted elements, so the text does not depend on the
    reference's string-hash iteration order (which changes between processes)."""
    try:
        return python_source(set(value))
    except TypeError:  # unhashable items: let the test's own set() call decide
        return f"set({python_source(value)})"


def _metadata(problem: EvalPlusProblem, oracle: str, atol: float, outcomes: list,
              base_count: int, plus_count: int, skipped: list) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "original_task_id": problem.task_id,
        "atol": atol,
        "oracle": oracle,
        "base_tests": base_count,
        "plus_tests": plus_count,
        # positions of each input set's tests (public then hidden); conversion keeps them in
        # step when it moves or drops tests, so base/plus verdicts stay exact (peer_formats)
        "test_sets": {"base": list(range(base_count)), "plus": list(range(base_count, base_count + plus_count))},
        "unmaterialised_inputs": skipped,
        "contract": problem.contract,
        "assertion": problem.assertion,
    }
    if problem.atol == 0 and atol > 0:
        metadata["atol_from"] = "EvalPlus default for float outputs (file atol is 0)"
    plus_outcomes = outcomes[len(problem.base_inputs):]
    none_value = False if problem.output_not_none else None
    if plus_outcomes and all(o.ok and o.value is none_value for o in plus_outcomes):
        metadata["all_plus_outputs_none"] = True  # e.g. Mbpp/787: every plus output is None
    if problem.notes:
        metadata["input_notes"] = list(problem.notes)
    if problem.extra_fields:
        metadata["extra_fields"] = problem.extra_fields
    return metadata


ComputeExpected = Callable[[EvalPlusProblem], list]


def convert_evalplus(problems, compute_expected: ComputeExpected, *, public_count: int = 1,
                     on_skip: Callable[[str, str], None] | None = None) -> Iterator:
    """Yield one Task per problem, tests built from the reference's outputs.

    `compute_expected(problem)` runs `problem.expected_program` on each input of
    `problem.all_inputs` and returns one outcome per input with attributes `ok`, `value`,
    `error_type`, `message` (the sandbox's CallOutcome).
    A problem none of whose inputs gives a usable expected value cannot become a task:
    `on_skip(task_id, reason)` is told (it must record it); without `on_skip` it is an error.
    """
    for problem in problems:
        outcomes = compute_expected(problem)
        if len(outcomes) != len(problem.all_inputs):
            raise ValueError(f"{problem.task_id}: got {len(outcomes)} outcomes for {len(problem.all_inputs)} inputs")
        try:
            yield build_task(problem, outcomes, public_count=public_count)
        except UnmaterialisedTask as error:
            if on_skip is None:
                raise
            on_skip(f"{problem.dataset}plus/{problem.number}", str(error))
