"""EvalPlus (HumanEval+ / MBPP+, Liu et al. 2023) -> canonical `Task`.

EvalPlus files hold test *inputs* only; expected outputs come from running the reference
solution, which needs the sandbox. So conversion has two halves: `parse_evalplus` (pure:
re-types inputs exactly as EvalPlus's own MBPP loader does, because JSON cannot hold tuples,
sets or complex numbers and the reference must see the same values as the candidate) and
`evalplus_tests.convert_evalplus`, which takes the expected-output function as a
parameter (it lives there so this module never imports that one: no import cycle). Inputs
whose expected value cannot be materialised (reference error, timeout, value too large) are
listed in metadata, never dropped silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from codeself.jsonl import iter_jsonl_lines

NOT_NONE_ENTRY_POINTS = ("check_str", "text_match_three", "text_starta_endb")
NOT_NONE_WRAPPER = "_codeself_output_is_not_none"
_FIELDS = ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input")
_KNOWN = set(_FIELDS) | {"atol", "contract", "assertion"}

# EvalPlus's MBPP loader re-types the inputs of these task numbers (facts from
# evalplus/data/mbpp.py, `mbpp_deserialize_inputs`); names say what each conversion does.
_EACH_ARG_TO_TUPLE = {2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579,
                      596, 616, 630, 726, 740, 744, 809}
_EACH_ARG_ITEMS_TO_TUPLES = {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}
_FIRST_ARG_ITEMS_TO_TUPLES = {75, 413, 444, 753}
_SECOND_ARG_TO_TUPLE = {106, 750}
_FIRST_ARG_TO_TUPLE = {250, 405, 446, 617, 720, 763, 808}
_EACH_ARG_TO_NESTED_TUPLE = {259, 401, 445}
_ALL_LISTS_TO_TUPLES = {580, 615, 791}


def _deep_tuple(value: Any) -> Any:
    return tuple(_deep_tuple(item) for item in value) if isinstance(value, list) else value


def retype_mbpp_args(number: int, args: list) -> Any:
    """One argument list of MBPP+ task `number`, re-typed as EvalPlus does."""
    if number in _EACH_ARG_TO_TUPLE:
        return [tuple(arg) for arg in args]
    if number in _EACH_ARG_ITEMS_TO_TUPLES:
        return [[tuple(item) for item in arg] for arg in args]
    if number in _FIRST_ARG_ITEMS_TO_TUPLES:
        return [[tuple(item) for item in args[0]], args[1]]
    if number in _SECOND_ARG_TO_TUPLE:
        return [args[0], tuple(args[1])]
    if number == 115:  # EvalPlus turns each non-empty list into a set and anything else into {} (a dict)
        return [[set(item) if isinstance(item, list) and item else {} for item in args[0]]]
    if number == 124:
        return (float(args[0]), complex(args[1]))
    if number in _FIRST_ARG_TO_TUPLE:
        return [tuple(args[0]), args[1]]
    if number in _EACH_ARG_TO_NESTED_TUPLE:
        return [tuple(tuple(item) for item in arg) for arg in args]
    if number == 278:  # only the first argument survives, as EvalPlus's conversion keeps it
        return [tuple(tuple(item) if isinstance(item, list) else item for item in args[0])]
    if number == 307:
        return [tuple(args[0]), args[1], args[2]]
    if number == 722:
        return [{key: tuple(value) for key, value in args[0].items()}] + list(args[1:])
    if number == 252:
        return [complex(args[0])]
    if number in _ALL_LISTS_TO_TUPLES:
        return _deep_tuple(args)
    return args


@dataclass(frozen=True)
class EvalPlusProblem:
    """One EvalPlus problem with inputs already re-typed (in memory only; not a JSONL record)."""

    task_id: str  # EvalPlus id, "Mbpp/2" or "HumanEval/0"
    dataset: str  # "mbpp" or "humaneval"
    prompt: str
    entry_point: str
    canonical_solution: str
    base_inputs: tuple  # argument lists (list or tuple each)
    plus_inputs: tuple
    atol: float
    contract: str = ""
    assertion: str = ""
    notes: tuple[str, ...] = ()  # input quirks met while parsing
    extra_fields: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> str:
        return self.task_id.rsplit("/", 1)[-1]

    @property
    def reference_program(self) -> str:
        """The complete program whose outputs define the expected values."""
        if self.dataset == "humaneval":
            return self.prompt + self.canonical_solution
        return self.canonical_solution

    @property
    def output_not_none(self) -> bool:
        """EvalPlus judges only `output is not None` for these MBPP tasks (its MBPP_OUTPUT_NOT_NONE_TASKS)."""
        return self.dataset == "mbpp" and self.entry_point in NOT_NONE_ENTRY_POINTS

    @property
    def expected_program(self) -> tuple[str, str]:
        """(program, function) to run for expected values.

        For not-None tasks a wrapper returns `result is not None`, as EvalPlus's ground
        truth does, so an unencodable return value (a `re.Match`) never has to leave the
        sandbox.
        """
        if not self.output_not_none:
            return self.reference_program, self.entry_point
        wrapper = (f"\n\n\ndef {NOT_NONE_WRAPPER}(*args):\n"
                   f"    return {self.entry_point}(*args) is not None\n")
        return self.reference_program + wrapper, NOT_NONE_WRAPPER

    @property
    def all_inputs(self) -> tuple:
        return self.base_inputs + self.plus_inputs


def run_reference(executor: Any, problem: EvalPlusProblem, *, per_call_timeout_s: float) -> list:
    """Run the problem's expected-value program on every input, all calls in one sandboxed
    child (`Executor.call_function`); one outcome per input, in input order."""
    program, function = problem.expected_program
    arg_lists = [list(args) for args in problem.all_inputs]
    return executor.call_function(program, function, arg_lists, per_call_timeout_s=per_call_timeout_s)


def parse_evalplus(path: str | os.PathLike) -> Iterator[EvalPlusProblem]:
    """Stream EvalPlus problems from a JSONL file; errors name the file and line."""
    for line_number, record in iter_jsonl_lines(path):
        try:
            yield evalplus_problem(record)
        except (ValueError, TypeError, KeyError, IndexError) as error:
            raise ValueError(f"{path}:{line_number}: {record.get('task_id', '?')}: {error}") from None


def evalplus_problem(record: dict[str, Any]) -> EvalPlusProblem:
    """Validate one EvalPlus record and re-type its inputs."""
    missing = [name for name in _FIELDS if name not in record]
    if missing:
        raise ValueError(f"not an EvalPlus record: missing {', '.join(missing)}")
    task_id = record["task_id"]
    prefix, _, number = str(task_id).partition("/")
    dataset = {"Mbpp": "mbpp", "HumanEval": "humaneval"}.get(prefix)
    if dataset is None or not number.isdigit():
        raise ValueError(f"EvalPlus task_id must look like Mbpp/<n> or HumanEval/<n>, got {task_id!r}")
    notes = []
    inputs = {}
    for name in ("base_input", "plus_input"):
        value = record[name]
        if value == {}:  # Mbpp/793 stores an empty object for "no plus inputs"
            notes.append(f"{name} is an empty object; read as no inputs")
            value = []
        if not isinstance(value, list) or not all(isinstance(args, list) for args in value):
            raise ValueError(f"{name} must be a list of argument lists")
        if dataset == "mbpp":
            value = [retype_mbpp_args(int(number), args) for args in value]
        inputs[name] = tuple(value)
    atol = record.get("atol") or 0
    if not isinstance(atol, (int, float)) or isinstance(atol, bool) or atol < 0:
        raise ValueError(f"atol must be a non-negative number, got {atol!r}")
    for name in ("prompt", "entry_point", "canonical_solution"):
        if not isinstance(record[name], str):
            raise ValueError(f"field {name!r} must be a string")
    return EvalPlusProblem(
        task_id=task_id, dataset=dataset, prompt=record["prompt"], entry_point=record["entry_point"],
        canonical_solution=record["canonical_solution"], base_inputs=inputs["base_input"],
        plus_inputs=inputs["plus_input"], atol=float(atol), contract=record.get("contract") or "",
        assertion=record.get("assertion") or "", notes=tuple(notes),
        extra_fields={k: v for k, v in record.items() if k not in _KNOWN},
    )
