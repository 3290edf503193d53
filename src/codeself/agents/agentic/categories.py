"""Repair categories: what kind of defect a repair episode starts from, made with provenance.

    env.reset(seed=0, options={"category": "security"})   # or EnvConfig(repair_categories=(...))

| category      | the starting program                                          | screened in the sandbox to       |
|---------------|---------------------------------------------------------------|----------------------------------|
| `syntax`      | the reference one text edit away from compiling (start_programs) | fail to compile (phase syntax) |
| `logic`       | an operator/constant mutation of the reference (off by one, wrong condition, dropped statement; mutations.py) | fail a public test |
| `type_error`  | the reference one AST edit away from a TypeError (start_programs) | fail a public test, with a TypeError on some test |
| `algorithmic` | the reference behind a quadratic-time copy of its input (start_programs) | pass every test and score below EFFICIENT_SCORE on efficiency |
| `security`    | a vulnerable variant of a security family's reference (datasets/generated_security) | fail a public test (an attack) |

Which tasks can have which category (`supports`): syntax, logic and type_error need a Python
reference; algorithmic also needs `metadata.scale_inputs` with a list, tuple, string or dict
first argument (and the executor must measure efficiency, `--efficiency`); security needs a
task of a security family. Without a category (`repair_categories` empty, no reset option) a
repair start is exactly the older one: a logic start drawn with the older seed.

Provenance (in the trace's `start` record and in reset's info under `repair`): the family
(`metadata.family`, else the task source), the reference it was derived from (task id and
sha256 of the reference text), the transformation (its name; the trace's `start.mutation` has
the full description with the line) and the seed of the draw, so a start can be rebuilt. The
reference text itself is never in the info (it is the answer).

Episode reward: an `algorithmic` episode adds, to the episode reward R, the improvement of the
`measured_efficiency` reward component (codeself.rewards.measured, through the registry) from
the start to the submission, weighted by `EnvConfig.algorithmic_weight`: w x (s_final − s_start)
when the submission passes every test, else 0 (R already falls when tests start failing).
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codeself.agents.agentic.start_programs import quadratic_variants, syntax_candidates, type_error_candidates
from codeself.agents.backends.base import derive_seed
from codeself.agents.backends.mock import MAX_SCREENED_MUTANTS, _executed_program, pick_mutant
from codeself.agents.backends.mutations import Mutation, mutation_candidates
from codeself.datasets.generated_security import SECURITY_FAMILY_NAMES, vulnerable_programs
from codeself.datasets.task import Task

REPAIR_CATEGORIES = ("syntax", "logic", "type_error", "algorithmic", "security")
EFFICIENT_SCORE = 0.5  # algorithmic: a start scores below it; a fix (report.py) reaches it
MAX_CANDIDATES = 24  # candidate starts screened per episode before giving up on the task
MAX_TASK_TRIES = 8  # drawn tasks tried per reset before giving up on the category
SCALE_TYPES = (list, tuple, str, dict)


@dataclass(frozen=True)
class RepairStart:
    category: str
    code: str  # the program as emitted (the parser's view of it is what runs)
    description: str  # e.g. "missing_colon at line 3" (trace only: it names the bug)
    provenance: dict[str, Any]

    def info(self) -> dict[str, Any]:
        """What reset's info carries: no line, no reference text, no test."""
        return {"category": self.category, "provenance": dict(self.provenance)}


def check_categories(names: Sequence[str], where: str = "repair_categories") -> tuple[str, ...]:
    unknown = [name for name in names if name not in REPAIR_CATEGORIES]
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"{where}: {', '.join(map(repr, unknown)) or 'a repeated category'} — choose distinct "
                         f"ones of {', '.join(REPAIR_CATEGORIES)}")
    return tuple(names)


def _first_scale_argument(task: Task) -> Any:
    from codeself.execution.efficiency import scale_inputs

    try:
        inputs = scale_inputs(task)
    except ValueError:
        return None
    return inputs[-1].args[0] if inputs and inputs[-1].args else None


def supports(task: Task, category: str) -> bool:
    """Whether `task` can start a repair episode of `category` (module docstring)."""
    if not task.reference_solution or task.language != "python":
        return False
    if category == "security":
        return (task.metadata or {}).get("family") in SECURITY_FAMILY_NAMES
    if category == "algorithmic":
        return isinstance(_first_scale_argument(task), SCALE_TYPES)
    return True


def choose(tasks: Mapping[str, Task], task_id: Any, category: Any, configured: Sequence[str],
           seed: int) -> tuple[Task, str]:
    """(task, category) of a repair episode: the given ones, else seeded choices (a category
    from `configured`, all five when empty, that the task supports; then a task supporting it)."""
    if category is not None and category not in REPAIR_CATEGORIES:
        raise ValueError(f"unknown category {category!r}; choose one of {', '.join(REPAIR_CATEGORIES)}")
    rng = random.Random(derive_seed(seed, "env-category"))
    if task_id is not None:
        if not isinstance(task_id, str) or task_id not in tasks:
            raise ValueError(f"unknown task_id {task_id!r} ({len(tasks)} task(s) loaded)")
        task = tasks[task_id]
        allowed = [category] if category is not None else [c for c in configured or REPAIR_CATEGORIES
                                                            if supports(task, c)]
        if not allowed or not supports(task, allowed[0]):
            raise ValueError(f"task {task_id}: no repair start of category {category or ' or '.join(configured)} "
                             "for it (categories.supports: a security family for security, scale inputs for "
                             "algorithmic)")
        return task, rng.choice(allowed)
    category = category if category is not None else rng.choice(list(configured or REPAIR_CATEGORIES))
    ids = [name for name in sorted(tasks) if supports(tasks[name], category)]
    if not ids:
        raise ValueError(f"no loaded task can start a repair episode of category {category!r}"
                         + (" (security needs tasks of prepare_datasets.py --security-tasks)"
                            if category == "security" else ""))
    return tasks[random.Random(derive_seed(seed, "env-task")).choice(ids)], category


def select(env: Any, options: Mapping[str, Any], seed: int, sample_index: int) -> tuple[Task, str, RepairStart | None]:
    """(task, mode, repair start or None) of `env.reset`: a `category` option implies repair mode;
    in repair mode with a category given or configured, `choose` picks what is missing (an
    adaptive curriculum, when on, picks the task first) and the start is made here — when the
    task was drawn, not given, tasks the category cannot start from are passed over (seeded
    order, at most MAX_TASK_TRIES); otherwise (None) the environment's own choice and start."""
    category, configured = options.get("category"), env.config.repair_categories
    mode = options.get("mode", "repair" if category is not None else env.config.mode)
    if mode not in ("solve", "repair"):
        raise ValueError(f"unknown mode {mode!r}; choose one of solve, repair")
    if mode != "repair" or (category is None and not configured):
        if category is not None:
            raise ValueError(f"a repair category needs mode repair, not {mode!r}")
        return env._choose_task(options.get("task_id"), seed), mode, None
    task_id = options.get("task_id")
    if task_id is None and category is None and getattr(getattr(env, "practice", None), "curriculum", None):
        category = env.practice.choose_category(seed)  # a curriculum over repair categories (curriculum.py)
        if category is None:  # a curriculum over the tasks' own categories picks the task
            task_id = env._choose_task(None, seed).task_id
    task, category = choose(env.tasks, task_id, category, configured, seed)
    if task_id is not None:
        return task, mode, repair_start(task, category, seed, sample_index, env.executor, env.screen)
    others = sorted(name for name in env.tasks if name != task.task_id and supports(env.tasks[name], category))
    random.Random(derive_seed(seed, "env-task-retry", category)).shuffle(others)
    for name in [task.task_id, *others][:MAX_TASK_TRIES]:
        try:
            return env.tasks[name], mode, repair_start(env.tasks[name], category, seed, sample_index, env.executor,
                                                       env.screen)
        except ValueError as error:
            if "no repair start" not in str(error):
                raise
    raise ValueError(f"no repair start of category {category} in the first {MAX_TASK_TRIES} tasks drawn")


def _candidates(task: Task, category: str, reference: str, rng: random.Random) -> Iterator[Mutation]:
    if category == "syntax":
        return syntax_candidates(reference, rng)
    if category == "logic":
        return mutation_candidates(reference, rng)
    if category == "type_error":
        return type_error_candidates(reference, rng)
    if category == "algorithmic":
        return quadratic_variants(reference, task.entry_point, _first_scale_argument(task), rng)
    variants = vulnerable_programs(task)
    rng.shuffle(variants)
    return (Mutation(code, f"{variant}: a vulnerable variant of the reference") for variant, code in variants)


def _shows_defect(category: str, result: Any) -> bool:
    """Whether a candidate's execution shows its category's defect (module docstring's table)."""
    if category == "syntax":
        return result.phase == "syntax"
    if category == "algorithmic":
        if not result.passed:
            return False
        record = result.efficiency
        if record is None:
            raise ValueError("the algorithmic category needs efficiency measurement: run with --efficiency "
                             "(ExecutionConfig.efficiency)")
        return record.get("status") in ("ok", "over_budget") and record["score"] < EFFICIENT_SCORE
    public_failed = result.phase in ("syntax", "import") or result.public["passed"] < result.public["total"]
    if category == "type_error":
        raised = [result.error_type] + [test.error_type for test in result.tests]
        return result.phase != "syntax" and public_failed and "TypeError" in raised
    return public_failed


def repair_start(task: Task, category: str | None, seed: int, sample_index: int, executor: Any,
                 screen: Any) -> RepairStart:
    """The screened starting program of a repair episode (category None: the older logic start,
    drawn with the older seed; `screen` is the environment's PublicFailureScreen)."""
    if not task.reference_solution:
        raise ValueError(f"task {task.task_id}: repair mode mutates the reference solution, and it has none")
    reference = task.reference_solution.replace("\r\n", "\n").rstrip("\n") + "\n"
    names = ("repair-start", task.task_id, sample_index) if category in (None, "logic") else (
        "repair-start", category, task.task_id, sample_index)
    draw_seed = derive_seed(seed, *names)
    rng = random.Random(draw_seed)
    if category in (None, "logic"):
        found = pick_mutant(task, reference, rng, screen)
    else:
        found = next((candidate for candidate in itertools.islice(_candidates(task, category, reference, rng),
                                                                   MAX_CANDIDATES)
                      if _shows_defect(category, executor.run(task, _executed_program(task, candidate)))), None)
    if found is None and category is None:
        raise ValueError(f"task {task.task_id}: none of the first {MAX_SCREENED_MUTANTS} mutants of its reference "
                         "fails a public test, so there is no repair start for it; use mode solve")
    if found is None:
        screened = MAX_SCREENED_MUTANTS if category == "logic" else MAX_CANDIDATES
        raise ValueError(f"task {task.task_id}: none of the first {screened} candidate starts of category "
                         f"{category} shows its defect, so there is no repair start of that category for it")
    provenance = {"family": (task.metadata or {}).get("family", task.source),
                  "reference": {"task_id": task.task_id,
                                "sha256": hashlib.sha256(reference.encode("utf-8")).hexdigest()},
                  "transformation": _transformation(found.description), "seed": draw_seed}
    return RepairStart(category or "logic", found.code, found.description, provenance)


def _transformation(description: str) -> str:
    """The transformation's name from its description ("off_by_one 1->2 at line 2" -> off_by_one)."""
    word = description.split(":")[0].split(" ")[0]
    return {"no": "return_none", "dropped": "dropped_statement"}.get(word, word)


def efficiency_gain(weight: float, task: Task, start_result: Any, final_code: str | None,
                    final_result: Any) -> dict[str, float] | None:
    """An algorithmic episode's extra reward (module docstring) with its parts; None when the
    submission does not pass every test (no gain counted)."""
    from codeself.rewards import Answer, component_terms
    from codeself.rewards.registry import component_config

    configs = (component_config("measured_efficiency", {"weight": 1.0}, "the algorithmic category"),)
    final = component_terms(configs, Answer(task, final_code, "ok", final_result))[0]["measured_efficiency"]
    start = component_terms(configs, Answer(task, "", "ok", start_result))[0]["measured_efficiency"]
    if final_result is None or not final_result.passed:
        return None
    return {"start": start, "final": final, "term": weight * (final - start)}
