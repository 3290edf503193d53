"""The efficiency benchmark (`bench_agentic.py --efficiency`): linear against quadratic answers
on every generated family with scale inputs, measured alone and beside CPU-burning processes.

Why these answers: the target is that a quadratic answer scores strictly below a linear one
on every such family, and that load changes nothing. For each family one task is drawn
(generator version 2, scale inputs on) and three correct answers are measured: the
reference itself, a linear answer (the reference behind one pass over the input) and a
quadratic one (the reference behind a pass over every prefix of the input). A few natural
quadratic answers follow (`NATURAL`), including ones whose inner loop is a builtin
(`list.count`, `not in` a list, `sum` of slices): the meter charges that work
(docs/schemas.md, "Efficiency"), so they too must score below the linear answer.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
from collections.abc import Iterator
from string import Template

from codeself.datasets import generated
from codeself.datasets.generated_scale import SCALE_MAKERS
from codeself.datasets.task import Task

# how an answer finds its size from its first argument (default: len)
SIZE_OF = {"digit_sum": "len(str(args[0]))", "digits_of": "len(str(args[0]))", "factorial": "args[0]",
           "first_multiples": "args[0]", "is_prime": "args[0]"}
PASS = {"linear": "    for _ in range(n):\n        steps += 1\n",
        "quadratic": "    for end in range(n):\n        for _ in range(end):\n            steps += 1\n"}
# natural quadratic answers: (family, template); $name and $a0 as in the family's templates
NATURAL = (
    ("is_sorted", "def $name($a0):\n    return all($a0[i] <= $a0[j] for i in range(len($a0)) "
                  "for j in range(i + 1, len($a0)))\n"),
    ("running_sum", "def $name($a0):\n    return [sum($a0[:i + 1]) for i in range(len($a0))]\n"),
    ("remove_duplicates", "def $name($a0):\n    result = []\n    for item in $a0:\n        if item not in result:\n"
                          "            result.append(item)\n    return result\n"),
    ("count_occurrences", "def $name($a0):\n    return {item: $a0.count(item) for item in $a0}\n"),
)


def family_tasks(seed: int = 0) -> list[Task]:
    """One task of every generated family (version 2) that has scale inputs, by family name."""
    dist = generated.distribution(2)
    tasks = []
    for family in sorted(dist.families, key=lambda item: item.name):
        if family.name not in SCALE_MAKERS:
            continue
        templates = next(iter(generated.template_partition(family, seed, family.name in dist.heldout_names).values()))
        for attempt in range(generated.MAX_ATTEMPTS):
            task = generated.make_task(family, "test", templates, random.Random(f"{seed}:bench:{attempt}"), seed,
                                       dist=dist, scale=True)
            if task is not None:
                tasks.append(Task.from_json({**task.to_json(), "task_id": f"bench/{family.name}"}))
                break
    return tasks


def wrapped(task: Task, kind: str) -> str:
    """A correct answer: the reference renamed, behind a linear or quadratic pass over the input."""
    name = task.entry_point
    inner = task.reference_solution.replace(f"def {name}(", "def _reference(", 1)
    size = SIZE_OF.get(task.metadata["family"], "len(args[0])")
    return (f"{inner}\n\ndef {name}(*args):\n    n = {size}\n    steps = 0\n{PASS[kind]}"
            f"    return _reference(*args)\n")


def natural(task: Task) -> str | None:
    for family, template in NATURAL:
        if family == task.metadata["family"]:
            return Template(template).substitute(name=task.entry_point, a0=task.metadata["argument_names"][0])
    return None


def answers(task: Task) -> dict[str, str]:
    programs = {"reference": task.reference_solution, "linear": wrapped(task, "linear"),
                "quadratic": wrapped(task, "quadratic")}
    found = natural(task)
    if found is not None:
        programs["natural quadratic"] = found
    return programs


def measure(executor, tasks: list[Task]) -> dict[tuple[str, str], dict]:
    """(family, answer kind) -> the efficiency record of that answer (None if it did not pass)."""
    jobs = [(task, kind, program) for task in tasks for kind, program in answers(task).items()]
    results = executor.run_many((task, program) for task, _, program in jobs)
    return {(task.metadata["family"], kind): result.efficiency if result.passed else {"status": result.status}
            for (task, kind, _), result in zip(jobs, results)}


@contextlib.contextmanager
def cpu_burners(count: int, limit_s: float) -> Iterator[list[int]]:
    """`count` processes spinning on a CPU each (ending by themselves after `limit_s`); stopped
    by their process ids on exit.

    Each burner is the leader of a session of its own. Where the kernel groups the CPU by
    session (autogroup, sched_autogroup_enabled=1, the default of many distributions), the
    Executor's workers, which start sessions of their own, would otherwise share the CPU with
    all the burners *as one group*: a program then gets a whole CPU beside any number of them
    and never waits (measured: 0.204 s of CPU in 0.206 s beside three burners on two CPUs)."""
    code = f"import time\nend = time.monotonic() + {float(limit_s)}\nwhile time.monotonic() < end:\n    pass\n"
    started = [subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
    try:
        yield [process.pid for process in started]
    finally:
        for process in started:
            process.kill()
            process.wait()


def report(quiet: dict, busy: dict, tasks: list[Task]) -> tuple[list[str], bool]:
    """Lines to print and whether both targets hold (quadratic and natural quadratic < linear
    everywhere; quiet == busy)."""
    lines = [f"{'family':<22} {'reference':>9} {'linear':>9} {'quadratic':>10}  exponents (lin / quad)  quiet == busy"]
    ok = True
    for task in tasks:
        family = task.metadata["family"]
        records = {kind: quiet.get((family, kind)) or {} for kind in ("reference", "linear", "quadratic")}
        same = all(quiet.get(key) == busy.get(key) for key in quiet if key[0] == family)
        below = _score(records["quadratic"]) < _score(records["linear"])
        ok = ok and same and below
        lines.append(f"{family:<22} {_text(records['reference']):>9} {_text(records['linear']):>9} "
                     f"{_text(records['quadratic']):>10}  {records['linear'].get('exponent', '-')} / "
                     f"{records['quadratic'].get('exponent', '-')}  {'yes' if same else 'NO'}"
                     f"{'' if below else '  (quadratic NOT below linear)'}")
    lines.append("natural quadratic answers (inner loops written by hand, some inside builtins, which are charged):")
    for (family, kind), record in sorted(quiet.items()):
        if kind == "natural quadratic":
            linear = quiet.get((family, "linear")) or {}
            below = _score(record) < _score(linear)
            ok = ok and below
            lines.append(f"  {family:<20} score {_text(record)}, exponent {record.get('exponent', '-')}, "
                         f"linear answer {_text(linear)}{'' if below else '  (NOT below linear)'}")
    return lines, ok


def _score(record: dict) -> float:
    score = record.get("score")
    return float(score) if isinstance(score, (int, float)) else float("nan")


def _text(record: dict) -> str:
    return f"{record['score']:.4f}" if isinstance(record.get("score"), (int, float)) else str(record.get("status"))
